-- Staging: one row per order that a marketing campaign brought in, renamed and typed.

with

source as (
    select * from {{ source('ecommerce', 'orders') }}
),

campaign_orders as (
    select
        cast(order_id as integer) as order_id,
        cast(customer_id as integer) as customer_id,
        cast(campaign_id as integer) as campaign_id,
        cast(order_date as date) as order_date,
        lower(trim(status)) as order_status,
        cast(total_amount as numeric(12, 2)) as order_total

    from source
    where campaign_id is not null
)

select * from campaign_orders
