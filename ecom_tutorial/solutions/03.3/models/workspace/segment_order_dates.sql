-- Mart: one row per customer segment: its buying customers, their first and last orders.

{{ config(materialized='table') }}

with

customers as (
    select * from {{ ref('stg_ecommerce__customers') }}
),

order_dates as (
    select * from {{ ref('int_customers__order_dates') }}
),

final as (
    select
        customers.customer_segment,
        count(*) as customers,
        min(order_dates.first_order_date) as first_order_date,
        max(order_dates.last_order_date) as last_order_date,
        round(avg(order_dates.last_order_date - order_dates.first_order_date), 1) as avg_days_first_to_last

    from order_dates
    inner join customers on customers.customer_id = order_dates.customer_id
    group by 1
)

select * from final
