-- Revenue per product category and month. On Spark the table is partitioned by month: a folder
-- per month, so a query for one month reads one folder. PostgreSQL ignores partition_by.

{{ config(materialized='table', partition_by=['order_month']) }}

with

order_items as (
    select * from {{ ref('fact_order_items') }}
),

products as (
    select * from {{ ref('dim_products') }}
),

final as (
    select
        products.category,
        sum(order_items.line_total) as revenue,
        cast({{ dbt.date_trunc('month', 'order_items.order_date') }} as date) as order_month

    from order_items
    inner join products
        on order_items.product_id = products.product_id
    where order_items.is_revenue
    group by 1, 3
)

select * from final
