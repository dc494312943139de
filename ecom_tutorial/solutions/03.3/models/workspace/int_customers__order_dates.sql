-- Intermediate: one row per customer with a revenue order, with the days of their first and last one.

{{ config(materialized='ephemeral') }}

with

orders as (
    select * from {{ ref('stg_ecommerce__orders') }}
),

order_dates as (
    select
        customer_id,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date

    from orders
    where {{ is_revenue_order() }}
    group by 1
)

select * from order_dates
