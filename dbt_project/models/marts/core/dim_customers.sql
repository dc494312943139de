-- Dimension: one row per customer (every registered customer, with or without orders), with
-- their profile and the summary of their revenue orders up to the as-of day (macro as_of_date).
--
-- A type 1 slowly changing dimension (SCD1): each rebuild holds the customer's CURRENT state,
-- and a changed attribute simply overwrites the old one. Which city did they live in last year?
-- This table cannot say; the type 2 history is customer_snapshot's job (lesson 06).
-- Marts read like the business talks: "an active customer", "lifetime value", so nobody has to
-- re-derive them (differently) in every dashboard.

with

customers as (
    select * from {{ ref('stg_ecommerce__customers') }}
),

customer_orders as (
    select * from {{ ref('int_customers__orders_agg') }}
),

joined as (
    select
        customers.*,
        customer_orders.first_order_date,
        customer_orders.last_order_date,
        -- a left join leaves null for customers without revenue orders: for counts and sums
        -- the business answer is 0, not "unknown"
        coalesce(customer_orders.total_orders, 0) as total_orders,
        coalesce(customer_orders.total_order_value, 0) as lifetime_value,
        customer_orders.average_order_value,
        customer_orders.days_since_last_order

    from customers
    left join customer_orders
        on customers.customer_id = customer_orders.customer_id
),

final as (
    select
        -- the surrogate key joins facts to this dimension; hashing the natural key keeps it
        -- stable across rebuilds (a row_number() would change whenever rows are added)
        {{ ecom_utils.generate_surrogate_key(['customer_id']) }} as customer_key,
        customer_id,
        first_name,
        last_name,
        customer_name,
        email,
        city,
        state,
        country,
        customer_segment,
        signed_up_at,
        signup_date,
        first_order_date,
        last_order_date,
        total_orders,
        -- to_decimal() pins the type the contract declares (why: macros/to_decimal.sql)
        {{ to_decimal('lifetime_value') }} as lifetime_value,
        {{ to_decimal('average_order_value') }} as average_order_value,
        days_since_last_order,
        -- active = at least one revenue order in the 90 days up to as_of_date (inclusive);
        -- customers without orders have a null recency, which coalesce() makes "not active"
        coalesce(days_since_last_order <= 90, false) as is_active,
        updated_at,
        -- when this build ran: "how fresh is this row?" (the same for every row of a build)
        dbt_updated_at

    from joined
)

select * from final
