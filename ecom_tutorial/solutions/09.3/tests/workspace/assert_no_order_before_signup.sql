-- Singular test: no customer ordered before they signed up. Returns one row per order placed before
-- its customer's signup: impossible in the business, so a loader that shifted a time zone, or orders
-- attached to the wrong customer. Two marts are involved, so no generic test on one column can say it.

with

orders as (
    select * from {{ ref('fact_orders') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

orders_before_signup as (
    select
        orders.order_id,
        orders.customer_id,
        orders.ordered_at,
        customers.signed_up_at

    from orders
    inner join customers
        on orders.customer_id = customers.customer_id
    where orders.ordered_at < customers.signed_up_at
)

select * from orders_before_signup
