-- Mart: one row per customer with a revenue order: how many, since when, for how much. The finance
-- dashboard reads it: its columns and types are a contract (_customer_revenue_summary.yml).

{{ config(materialized='table') }}

with

orders as (
    select * from {{ ref('fact_orders') }}
),

customer_revenue as (
    select
        customer_id,
        count(*) as revenue_orders,
        min(date_key) as first_order_date,
        sum(recognized_revenue) as lifetime_revenue

    from orders
    where is_revenue
    group by 1
)

select * from customer_revenue
