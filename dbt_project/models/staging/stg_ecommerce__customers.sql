-- Staging: one row per customer, the raw table renamed and typed, nothing more.
-- Staging models are the only place that reads a source; everything downstream reads them,
-- so a rename in the raw system is fixed here once.

with

source as (
    select * from {{ source('ecommerce', 'customers') }}
),

renamed as (
    select
        -- keys
        cast(customer_id as integer) as customer_id,

        -- names: trimmed once here so every mart shows them the same way
        trim(first_name) as first_name,
        trim(last_name) as last_name,
        {{ dbt.concat(["trim(first_name)", "' '", "trim(last_name)"]) }} as customer_name,

        -- emails are case-insensitive: lower-case them so that joins and
        -- de-duplication downstream do not miss "Ana@x.com" = "ana@x.com"
        lower(trim(email)) as email,

        -- address
        city,
        state,
        country,

        -- the raw column is just `segment`; the prefix makes it unambiguous in wide marts
        lower(trim(segment)) as customer_segment,

        -- timestamps end in _at, dates in _date (naming convention of the whole project)
        cast(created_at as timestamp) as signed_up_at,
        cast(created_at as date) as signup_date,
        cast(updated_at as timestamp) as updated_at,
        _loaded_at as loaded_at,

        -- when dbt built this model (the invocation's start time, fixed at build time)
        cast('{{ run_started_at }}' as {{ timestamp_tz() }}) as dbt_updated_at

    from source
)

select * from renamed
