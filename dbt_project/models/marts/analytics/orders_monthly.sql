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
    select
        calendar.month_start_date,
        count(*) as total_orders,
        sum(orders.recognized_revenue) as total_revenue,
        -- sum() of a bigint is a numeric in PostgreSQL: cast back, units are whole numbers
        cast(sum(orders.units) as bigint) as total_units,
        count(distinct orders.customer_id) as unique_customers

    from orders
    inner join calendar
        on orders.date_key = calendar.date_key
    where orders.is_revenue
    group by 1
),

joined as (
    select
        months.month_start_date,
        months.year,
        months.month,
        months.month_name,
        months.days_in_month,
        coalesce(monthly_orders.total_orders, 0) as total_orders,
        -- the casts in this model pin the types its contract declares (_analytics__models.yml):
        -- sum(), round(), lag(), coalesce() with a literal and arithmetic return a plain
        -- `numeric`. dbt's contract check only compares type NAMES (numeric = numeric), but the
        -- table is created with the declared numeric(14, 2): without a cast, a value with more
        -- decimals would be rounded on insert, silently
        cast(coalesce(monthly_orders.total_revenue, 0.00) as numeric(14, 2)) as total_revenue,
        coalesce(monthly_orders.total_units, 0) as total_units,
        coalesce(monthly_orders.unique_customers, 0) as unique_customers,
        cast(
            round(monthly_orders.total_revenue / nullif(monthly_orders.total_orders, 0), 2)
            as numeric(14, 2)
        ) as average_order_value

    from months
    left join monthly_orders
        on months.month_start_date = monthly_orders.month_start_date
),

with_previous as (
    select
        *,
        cast(lag(total_revenue, 1) over (order by month_start_date) as numeric(14, 2))
            as previous_month_revenue,
        cast(lag(total_revenue, 12) over (order by month_start_date) as numeric(14, 2))
            as revenue_same_month_last_year

    from joined
),

final as (
    select
        *,
        -- percent; null when the reference month is missing (start of the data) or had no revenue
        cast(
            round(100.0 * (total_revenue - previous_month_revenue) / nullif(previous_month_revenue, 0), 2)
            as numeric(14, 2)
        ) as mom_growth_pct,
        cast(
            round(
                100.0 * (total_revenue - revenue_same_month_last_year)
                / nullif(revenue_same_month_last_year, 0),
                2
            )
            as numeric(14, 2)
        ) as yoy_growth_pct

    from with_previous
)

select * from final
