-- Daily order analytics: one row per calendar day of dim_date, zero-sale days included, with
-- the day's orders, revenue, units and customers, the running revenue of the year, and the
-- growth over the same calendar day one year earlier.
--
-- Same day last year: a self-join on `date_key - interval '1 year'`, NOT a window
-- `lag(total_revenue, 365)`. A fixed lag of 365 rows is off by one day for every date after a
-- 29 February: 2025-03-01 minus 365 days is 2024-03-02. PostgreSQL's interval arithmetic is
-- calendar-aware: 2025-03-01 - 1 year = 2024-03-01, and 2025-02-28 - 1 year = 2024-02-28.
-- The one day without a twin is 2024-02-29: minus one year is 2023-02-28, so it is compared
-- with 28 February (the business convention; 2023-02-28 is then the reference of two days).
-- Retailers sometimes compare with the same WEEKDAY instead (364 days back); the calendar day
-- is easier to explain and is what "same day last year" means here.

with

calendar as (
    select * from {{ ref('dim_date') }}
),

daily_orders as (
    select * from {{ ref('int_orders__daily_agg') }}
),

-- the calendar drives: a left join keeps the days without orders. The calendar may run past
-- as_of_date (it ends no earlier than 2024-12-31); those days have not happened yet, so drop them
every_day as (
    select
        calendar.date_key,
        calendar.year,
        calendar.month,
        calendar.day_of_month,
        calendar.day_name,
        calendar.is_weekend,
        calendar.is_holiday,
        -- zero-sale days get zeros (macros/period_orders.sql); the casts of the macro to_decimal
        -- pin the types the contract declares
        {{ period_order_measures('daily_orders') }}

    from calendar
    left join daily_orders
        on calendar.date_key = daily_orders.order_date
    where calendar.date_key <= {{ as_of_date() }}
),

with_running_total as (
    select
        *,
        -- running sum within each calendar year, in date order: the year-to-date revenue
        {{ to_decimal('sum(total_revenue) over year_to_date') }} as cumulative_revenue_ytd

    from every_day
    -- a named window: the frame, spelled out once, that the running sum reads
    window year_to_date as (
        partition by year
        order by date_key
        rows between unbounded preceding and current row
    )
),

final as (
    select
        this_year.*,
        -- null for the first year of data: there is no "last year" to compare with
        last_year.total_revenue as revenue_same_day_last_year,
        -- growth in percent; null when last year's revenue is unknown or 0 (division by zero)
        {{ growth_pct('this_year.total_revenue', 'last_year.total_revenue') }} as yoy_growth_pct

    from with_running_total as this_year
    left join every_day as last_year
        on last_year.date_key = cast(this_year.date_key - interval '1 year' as date)
)

select * from final
