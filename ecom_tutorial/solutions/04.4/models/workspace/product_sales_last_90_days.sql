-- Mart: one row per product of the catalogue, with what it sold in the 90 days up to as_of_date.

{{ config(materialized='table') }}

with

products as (
    select * from {{ ref('stg_ecommerce__products') }}
),

order_items as (
    select * from {{ ref('stg_ecommerce__order_items') }}
),

orders as (
    select * from {{ ref('stg_ecommerce__orders') }}
),

recent_sales as (
    select
        order_items.product_id,
        sum(order_items.quantity) as units_sold,
        sum(order_items.line_total) as revenue

    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
    where {{ is_revenue_order('orders.order_status') }}
        and orders.order_date > {{ as_of_date() }} - 90
        and orders.order_date <= {{ as_of_date() }}
    group by 1
),

-- every product of the catalogue, sold recently or not
final as (
    select
        products.product_id,
        products.product_name,
        products.category,
        products.is_active,
        -- no sale in the period is 0 units, not an unknown number: the left join gives null
        coalesce(recent_sales.units_sold, 0) as units_sold,
        coalesce(recent_sales.revenue, 0) as revenue

    from products
    left join recent_sales
        on products.product_id = recent_sales.product_id
)

select * from final
