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
    where date_key <= cast('{{ var("as_of_date") }}' as date)
    group by 1
),

monthly_orders as (
    select
        calendar.month_start_date,
        count(*) as order_count,
        sum(orders.recognized_revenue) as revenue,
        -- sum() of a bigint is a numeric in PostgreSQL: cast back, units are whole numbers
        cast(sum(orders.units) as bigint) as units_sold,
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
        coalesce(monthly_orders.order_count, 0) as order_count,
        coalesce(monthly_orders.revenue, 0.00) as revenue,
        coalesce(monthly_orders.units_sold, 0) as units_sold,
        coalesce(monthly_orders.unique_customers, 0) as unique_customers,
        round(monthly_orders.revenue / nullif(monthly_orders.order_count, 0), 2) as average_order_value

    from months
    left join monthly_orders
        on months.month_start_date = monthly_orders.month_start_date
),

with_previous as (
    select
        *,
        lag(revenue, 1) over (order by month_start_date) as previous_month_revenue,
        lag(revenue, 12) over (order by month_start_date) as revenue_same_month_last_year

    from joined
),

final as (
    select
        *,
        -- percent; null when the reference month is missing (start of the data) or had no revenue
        round(100.0 * (revenue - previous_month_revenue) / nullif(previous_month_revenue, 0), 2)
            as mom_growth_pct,
        round(
            100.0 * (revenue - revenue_same_month_last_year) / nullif(revenue_same_month_last_year, 0),
            2
        ) as yoy_growth_pct

    from with_previous
)

select * from final
