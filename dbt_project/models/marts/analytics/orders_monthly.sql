-- Monthly order analytics: one row per calendar month of the calendar (up to as_of_date), with
-- the month's orders, revenue, units and customers, and the growth over the previous month and
-- over the same month one year earlier.
--
-- Like orders_weekly, this counts from fact_orders: a customer who orders twice in a month is
-- one customer of the month, so monthly customers cannot be added up from orders_daily.
--
-- Growth: every month is present (the calendar has no gaps), so the previous ROW is the previous
-- month and the 12th row back is the same month last year; lag() is exact at the month grain,
-- leap years included (unlike a 365-row lag on days: see orders_daily).

with

calendar as (
    select * from {{ ref('dim_date') }}
),

orders as (
    select * from {{ ref('fact_orders') }}
),

months as (
    select
        month_start_date,
        min(year) as year,
        min(month) as month,
        min(month_name) as month_name,
        -- fewer than the month's length for a month cut by as_of_date: compare with care
        count(*) as days_in_month

    from calendar
    where date_key <= {{ as_of_date() }}
    group by 1
),

monthly_orders as (
    {{ aggregate_orders_by_period('month_start_date') }}
),

joined as (
    select
        months.month_start_date,
        months.year,
        months.month,
        months.month_name,
        months.days_in_month,
        {{ period_order_measures('monthly_orders') }}

    from months
    left join monthly_orders
        on months.month_start_date = monthly_orders.month_start_date
),

with_previous as (
    select
        *,
        {{ to_decimal('lag(total_revenue, 1) over (order by month_start_date)') }}
            as previous_month_revenue,
        {{ to_decimal('lag(total_revenue, 12) over (order by month_start_date)') }}
            as revenue_same_month_last_year

    from joined
),

final as (
    select
        *,
        -- percent; null when the reference month is missing (start of the data) or had no revenue
        {{ growth_pct('total_revenue', 'previous_month_revenue') }} as mom_growth_pct,
        {{ growth_pct('total_revenue', 'revenue_same_month_last_year') }} as yoy_growth_pct

    from with_previous
)

select * from final
