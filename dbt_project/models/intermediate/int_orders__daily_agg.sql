-- Intermediate: one row per day with at least one revenue order (placed on or before the
-- `as_of_date` variable): how many orders, how much revenue, how many units, how many customers.
-- Days without orders are absent here; orders_daily adds them from dim_date with zeros.
--
-- Same definition of a sale as everywhere else: cancelled and returned orders are excluded.
-- Units come from the order lines, so the lines are rolled up per order first: joining lines
-- to orders and then summing order_total would count an order's total once per line.
--
-- A view (the folder's default is ephemeral): lesson 07 queries it on its own, before the
-- calendar turns it into orders_daily.

{{ config(materialized='view') }}

with

orders as (
    select * from {{ ref('stg_ecommerce__orders') }}
),

order_items as (
    select * from {{ ref('stg_ecommerce__order_items') }}
),

revenue_orders as (
    select *
    from orders
    where {{ is_revenue_order('order_status') }}
        and order_date <= {{ as_of_date() }}
),

order_units as (
    select
        order_id,
        sum(quantity) as units

    from order_items
    group by 1
),

final as (
    select
        revenue_orders.order_date,
        count(*) as total_orders,
        sum(revenue_orders.order_total) as total_revenue,
        -- sum() of a bigint is a numeric in PostgreSQL: cast back, units are whole numbers
        cast(coalesce(sum(order_units.units), 0) as bigint) as total_units,
        count(distinct revenue_orders.customer_id) as unique_customers

    from revenue_orders
    left join order_units
        on revenue_orders.order_id = order_units.order_id
    group by 1
)

select * from final
