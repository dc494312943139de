-- Staging: one row per order, renamed and typed.

with

source as (
    select * from {{ source('ecommerce', 'orders') }}
),

renamed as (
    select
        -- keys
        cast(order_id as integer) as order_id,
        cast(customer_id as integer) as customer_id,

        -- the raw `order_date` is really a timestamp: keep both grains, each named for its
        -- type, so nobody has to remember which one it is
        cast(order_date as timestamp) as ordered_at,
        cast(order_date as date) as order_date,

        -- statuses are compared as strings all over the project: normalise them once
        lower(trim(status)) as order_status,

        -- null = the order came from no campaign
        cast(campaign_id as integer) as campaign_id,

        -- amounts
        cast(discount_amount as numeric(12, 2)) as discount_amount,
        cast(total_amount as numeric(12, 2)) as order_total,

        -- metadata
        cast(updated_at as timestamp) as updated_at,
        _loaded_at as loaded_at,
        -- when dbt built this model (the invocation's start time, fixed at build time)
        cast('{{ run_started_at }}' as {{ timestamp_tz() }}) as dbt_updated_at

    from source
)

select * from renamed
