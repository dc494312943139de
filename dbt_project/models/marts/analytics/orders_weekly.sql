-- Weekly order analytics: one row per ISO week (Monday to Sunday) that overlaps the calendar,
-- with the week's orders, revenue, units and customers and the growth over the previous week.
--
-- Why not add up orders_daily? Orders, revenue and units add up, but customers do not: someone
-- who orders on Monday and on Friday is one customer of the week, not two. Distinct counts must
-- be computed at the grain of the report, so this model counts from fact_orders directly.
--
-- The first and last weeks can be partial: 2022-01-01 is a Saturday, so the first week (ISO
-- week 52 of 2021, starting Monday 2021-12-27) only holds two days of data. `days_in_week` says
-- how many of its days are in the calendar; compare growth only between complete weeks.

with

calendar as (
    select * from {{ ref('dim_date') }}
),

orders as (
    select * from {{ ref('fact_orders') }}
),

-- one row per week, from the calendar (up to as_of_date), so a week without orders still exists
weeks as (
    select
        week_start_date,
        -- ISO week-numbering year and week: 2021-12-27 is week 52 of ISO year 2021
        min(iso_year) as iso_year,
        min(week_of_year) as week_number,
        count(*) as days_in_week

    from calendar
    where date_key <= {{ as_of_date() }}
    group by 1
),

weekly_orders as (
    {{ aggregate_orders_by_period('week_start_date') }}
),

joined as (
    select
        weeks.week_start_date,
        cast(weeks.week_start_date + 6 as date) as week_end_date,
        weeks.iso_year,
        weeks.week_number,
        weeks.days_in_week,
        {{ period_order_measures('weekly_orders') }}

    from weeks
    left join weekly_orders
        on weeks.week_start_date = weekly_orders.week_start_date
),

-- every week is present (the calendar has no gaps), so the previous ROW is the previous week
-- and lag() is safe here
with_previous as (
    select
        *,
        {{ to_decimal('lag(total_revenue) over (order by week_start_date)') }}
            as previous_week_revenue

    from joined
),

final as (
    select
        *,
        -- percent; null for the first week and after a week without revenue
        {{ growth_pct('total_revenue', 'previous_week_revenue') }} as wow_growth_pct

    from with_previous
)

select * from final
