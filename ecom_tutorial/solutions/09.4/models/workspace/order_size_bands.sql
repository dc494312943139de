-- Mart: one row per order with its size band, from the number of units it holds: the warehouse
-- plans packing and shipping by band.

{{ config(materialized='table') }}

with

orders as (
    select * from {{ ref('fact_orders') }}
),

final as (
    select
        order_id,
        units,
        order_total,
        -- the limits between bands are the business rule: the unit test pins each one from both sides
        case
            when units = 0 then 'empty'
            when units = 1 then 'single'
            when units <= 5 then 'small'
            else 'bulk'
        end as size_band

    from orders
)

select * from final
