-- Singular test: no order is dated in the future. "Future" has two meanings, both checked:
-- 1. after the current time (the clock of the database server): impossible data, a loader or
--    time-zone bug upstream;
-- 2. after the `as_of_date` variable in the marts: every mart is "as of" that day, so a later
--    order in fact_orders or a later day in orders_daily means a filter was lost.
-- Plus the variable itself: an as_of_date after today is a typo in --vars.
-- Each returned row is one problem, with a sentence saying which.
--
-- Orders AFTER as_of_date in the raw data are fine: they only exist when --vars chose an
-- earlier day, and wait for it (by default the as-of day is the last order's date: macro as_of_date).

with

orders as (
    select * from {{ ref('stg_ecommerce__orders') }}
),

fact_orders as (
    select * from {{ ref('fact_orders') }}
),

orders_daily as (
    select * from {{ ref('orders_daily') }}
),

problems as (
    select
        cast(order_id as {{ dbt.type_string() }}) as record_id,
        'stg_ecommerce__orders: ordered_at ' || ordered_at || ' is after the current time' as problem
    from orders
    where ordered_at > {{ local_now() }}

    union all

    select
        cast(order_id as {{ dbt.type_string() }}) as record_id,
        'fact_orders: date_key ' || date_key || ' is after as_of_date' as problem
    from fact_orders
    where date_key > {{ as_of_date() }}

    union all

    select
        cast(date_key as {{ dbt.type_string() }}) as record_id,
        'orders_daily: day ' || date_key || ' is after as_of_date' as problem
    from orders_daily
    where date_key > {{ as_of_date() }}

    union all

    select
        'as_of_date' as record_id,
        'the as-of day ({{ as_of_date_value() }}) is after the current date' as problem
    where {{ as_of_date() }} > current_date
)

select * from problems
