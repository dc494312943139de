-- Staging: one row per marketing campaign. The campaigns are not in the shop's database: the
-- marketing team maintains them in a spreadsheet, versioned here as the seed campaign_metadata.
-- Staging a seed like a source means downstream models never care where the data came from.

with

source as (
    select * from {{ ref('campaign_metadata') }}
),

renamed as (
    select
        cast(campaign_id as integer) as campaign_id,
        trim(campaign_name) as campaign_name,
        lower(trim(channel)) as channel,
        -- seeds are typed by guessing from the CSV; cast explicitly so the types are a contract
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,
        cast(budget as numeric(12, 2)) as budget

    from source
)

select * from renamed
