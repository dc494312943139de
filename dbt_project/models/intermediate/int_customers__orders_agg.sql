-- Intermediate: one row per customer who placed at least one revenue order on or before
-- the `as_of_date` variable, with the summary of those orders.
--
-- Two filters define what "an order" means for customer analytics:
-- 1. revenue statuses only: a cancelled or returned order earned us nothing, so it must not
--    make a customer look more frequent or more valuable;
-- 2. ordered on or before as_of_date: the analysis is "as of" that day. Orders loaded later
--    (e.g. the next-day batch, when dbt runs with the default as_of_date) wait for the next
--    as_of_date instead of producing a negative "days since last order".
-- Customers without any such order are absent here; dim_customers keeps them (left join).

with

orders as (
    select * from {{ ref('stg_ecommerce__orders') }}
),

revenue_orders as (
    select *
    from orders
    where {{ is_revenue_order('order_status') }}
        and order_date <= {{ as_of_date() }}
),

customer_orders as (
    select
        customer_id,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        count(*) as total_orders,
        sum(order_total) as total_order_value,
        -- rounded to cents: an average in fractions of a cent means nothing to the business
        round(avg(order_total), 2) as average_order_value

    from revenue_orders
    group by 1
),

final as (
    select
        *,
        -- recency is measured from as_of_date, never from today: results must not change
        -- just because the course is run on a different day
        {{ calculate_days_between('last_order_date', as_of_date()) }}
            as days_since_last_order

    from customer_orders
)

select * from final
