-- Singular test: lifetime value in customer_analytics must equal the sum of the customer's
-- revenue orders, recomputed here straight from the staging orders. It fails (returns rows)
-- for every customer whose two numbers differ, including customers missing on either side.
-- It guards the whole chain stg -> int_customers__orders_agg -> dim_customers ->
-- customer_analytics against a lost filter or a fan-out join.

with

orders as (
    select * from {{ ref('stg_ecommerce__orders') }}
),

customer_analytics as (
    select * from {{ ref('customer_analytics') }}
),

-- the definition of lifetime value, written out independently of the models: the revenue
-- rule is spelled out here rather than taken from the macro is_revenue_order(), so that a
-- mistake in the macro makes this test fail instead of agreeing with it
expected as (
    select
        customer_id,
        sum(order_total) as expected_lifetime_value

    from orders
    where order_status not in ('cancelled', 'returned')
        and order_date <= {{ as_of_date() }}
    group by 1
),

compared as (
    select
        customer_analytics.customer_id,
        expected.customer_id as expected_customer_id,
        customer_analytics.lifetime_value,
        coalesce(expected.expected_lifetime_value, 0) as expected_lifetime_value

    from customer_analytics
    full outer join expected
        on customer_analytics.customer_id = expected.customer_id
)

select *
from compared
where customer_id is null  -- a customer with orders is missing from customer_analytics
    or lifetime_value <> expected_lifetime_value
