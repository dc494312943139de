-- Singular test: an order's total must equal the sum of its line totals in fact_order_items,
-- and its discount the sum of the line discounts. Returns one row per order that disagrees,
-- or that has no lines at all. A failure means lines are missing from the incremental fact
-- (or duplicated), or the source system is inconsistent. Both facts stop at the same as-of day,
-- so the orders come from fact_orders.

with

orders as (
    select * from {{ ref('fact_orders') }}
),

order_items as (
    select * from {{ ref('fact_order_items') }}
),

line_totals as (
    select
        order_id,
        count(*) as line_count,
        sum(line_total) as sum_line_total,
        sum(discount_amount) as sum_line_discount

    from order_items
    group by 1
),

compared as (
    select
        orders.order_id,
        orders.order_total,
        orders.discount_amount,
        line_totals.line_count,
        line_totals.sum_line_total,
        line_totals.sum_line_discount

    from orders
    left join line_totals
        on orders.order_id = line_totals.order_id
)

select *
from compared
where line_count is null
    or order_total <> sum_line_total
    or discount_amount <> sum_line_discount
