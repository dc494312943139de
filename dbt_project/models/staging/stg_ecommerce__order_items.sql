-- Staging: one row per order line, renamed and typed, plus the line's cost and profit.
-- Row-level arithmetic (no joins, no aggregation) belongs in staging: every model that needs
-- a line's profit then computes it the same way.

with

source as (
    select * from {{ source('ecommerce', 'order_items') }}
),

renamed as (
    select
        -- keys
        cast(order_item_id as integer) as order_item_id,
        cast(order_id as integer) as order_id,
        cast(product_id as integer) as product_id,

        -- quantities and prices at the time of the order (not today's catalogue price)
        cast(quantity as integer) as quantity,
        cast(unit_price as numeric(10, 2)) as unit_price,
        cast(unit_cost as numeric(10, 2)) as unit_cost,
        cast(discount_amount as numeric(10, 2)) as discount_amount,
        cast(line_total as numeric(12, 2)) as line_total,

        -- metadata: the load timestamp drives the incremental filter of fact_order_items
        _loaded_at as loaded_at,
        -- when dbt built this model (the invocation's start time, fixed at build time)
        cast('{{ run_started_at }}' as {{ timestamp_tz() }}) as dbt_updated_at

    from source
),

with_profit as (
    select
        *,
        cast(quantity * unit_cost as numeric(12, 2)) as line_cost,
        -- profit after the discount: what the shop actually earns on the line
        cast(line_total - quantity * unit_cost as numeric(12, 2)) as line_profit

    from renamed
),

final as (
    select
        order_item_id,
        order_id,
        product_id,
        quantity,
        unit_price,
        unit_cost,
        discount_amount,
        line_total,
        line_cost,
        line_profit,
        loaded_at,
        dbt_updated_at

    from with_profit
)

select * from final
