-- Mart: one row per product category: how many of its delivered order lines came back, the most
-- frequent reason, and what the refunds cost.

{{ config(materialized='table') }}

with

order_items as (
    select * from {{ ref('stg_ecommerce__order_items') }}
),

orders as (
    select * from {{ ref('stg_ecommerce__orders') }}
),

products as (
    select * from {{ ref('stg_ecommerce__products') }}
),

returns as (
    select * from {{ ref('int_returns__by_order_line') }}
),

-- The lines that reached the customer: a completed order was kept, a returned one sent back.
-- Cancelled orders never shipped; pending and shipped ones may still come back. (Not
-- is_revenue_order(): it leaves out the returned orders, the very lines we count.)
delivered_lines as (
    select
        products.category,
        count(*) as order_lines

    from order_items
    inner join orders on orders.order_id = order_items.order_id
    inner join products on products.product_id = order_items.product_id
    where orders.order_status in ('completed', 'returned')
    group by 1
),

-- Aggregate the returns per category BEFORE joining them to the lines: joined first, each
-- refund would be summed once per line of its category.
category_refunds as (
    select
        category,
        count(*) as returned_lines,
        sum(refund_amount) as total_refunds,
        -- the most frequent reason; on a tie, the first in alphabetical order
        mode() within group (order by return_reason) as top_return_reason

    from returns
    group by 1
),

final as (
    select
        delivered_lines.category,
        delivered_lines.order_lines,
        coalesce(category_refunds.returned_lines, 0) as returned_lines,
        -- 100.0, not 100: two integers would divide as integers and drop the decimals
        round(100.0 * coalesce(category_refunds.returned_lines, 0) / delivered_lines.order_lines, 2) as return_rate_pct,
        coalesce(category_refunds.total_refunds, 0) as total_refunds,
        category_refunds.top_return_reason

    from delivered_lines
    left join category_refunds on category_refunds.category = delivered_lines.category
)

select * from final
