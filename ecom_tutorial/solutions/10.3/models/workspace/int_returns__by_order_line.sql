-- Intermediate: one row per return, with the category of the returned line's product and the
-- line's revenue. A view (the workspace's default, so no config()): small, and you can query it
-- to see what the mart will aggregate.

with

returns as (
    select * from {{ ref('stg_returns__returns') }}
),

order_items as (
    select * from {{ ref('stg_ecommerce__order_items') }}
),

products as (
    select * from {{ ref('stg_ecommerce__products') }}
),

-- a return names its order line: joining the lines on order_item_id keeps one row per return
-- (on order_id, each return would meet every line of its order)
returned_lines as (
    select
        returns.return_id,
        returns.order_id,
        returns.order_item_id,
        order_items.product_id,
        products.category,
        returns.returned_at,
        returns.return_reason,
        order_items.line_total,
        returns.refund_amount

    from returns
    inner join order_items on order_items.order_item_id = returns.order_item_id
    inner join products on products.product_id = order_items.product_id
)

select * from returned_lines
