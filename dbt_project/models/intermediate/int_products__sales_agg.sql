-- Intermediate: one row per product sold at least once (in a revenue order placed on or before
-- the `as_of_date` variable), with its sales totals.
-- Same definition of a sale as for customers: cancelled and returned orders are excluded, and
-- so are orders after as_of_date. Products never sold are absent; dim_products and
-- product_performance keep them (left join).
--
-- A view, not ephemeral like the other intermediates (the folder's default): a learner can
-- query it directly (`select * from int_products__sales_agg`) to see the step between the order
-- lines and product_performance. An ephemeral model only exists inlined as a CTE in the models
-- that ref() it: compare int_customers__orders_agg, which no query can read on its own.

{{ config(materialized='view') }}

with

order_items as (
    select * from {{ ref('stg_ecommerce__order_items') }}
),

orders as (
    select * from {{ ref('stg_ecommerce__orders') }}
),

-- the status and the date live on the order, not on the line: join to filter
revenue_order_items as (
    select
        order_items.*,
        orders.order_date

    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
    where {{ is_revenue_order('orders.order_status') }}
        and orders.order_date <= {{ as_of_date() }}
),

final as (
    select
        product_id,
        sum(quantity) as total_units_sold,
        sum(line_total) as total_revenue,
        sum(line_cost) as total_cost,
        sum(line_profit) as total_profit,
        -- a product appears at most once per order in the mock data, but count distinct
        -- keeps "orders" right even if an order had two lines of the same product
        count(distinct order_id) as total_orders,
        -- the average price actually paid per unit, after discounts (weighted by quantity);
        -- a plain avg(unit_price) would weigh a 1-unit line like a 10-unit line
        round(sum(line_total) / nullif(sum(quantity), 0), 2) as average_unit_price,
        min(order_date) as first_sold_date,
        max(order_date) as last_sold_date

    from revenue_order_items
    group by 1
)

select * from final
