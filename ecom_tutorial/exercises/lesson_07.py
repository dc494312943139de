"""Exercises of lesson 07, time series: zero-sale days on a calendar, and the growth of a year."""

from __future__ import annotations

from . import Exercise, Mistake, register

REVENUE_STATUS = "lower(trim(orders.status)) not in ('cancelled', 'returned')"

# The lines of revenue orders of 2024, straight from the raw tables, and the product with the
# fewest days with a sale (ties: lowest product_id), as the lesson picks it from the fact table.
SLOWEST_PRODUCT_2024 = f"""
    revenue_lines as (
        select items.product_id, cast(orders.order_date as date) as order_date, items.quantity
        from raw_data.order_items as items
        inner join raw_data.orders as orders
            on items.order_id = orders.order_id
        where {REVENUE_STATUS}
            and orders.order_date >= date '2024-01-01'
            and orders.order_date < date '2025-01-01'
    ),

    slowest as (
        select product_id
        from revenue_lines
        group by 1
        order by count(distinct order_date), product_id
        limit 1
    ),

    calendar as (
        select cast(day as date) as day
        from generate_series(date '2024-01-01', date '2024-12-31', interval '1 day') as day
    )
"""

YEAR_REVENUE = """
    with yearly as (
        select extract(year from order_date) as year, {measure} as revenue
        from raw_data.orders as orders
        where {status}
        group by 1
    )
    select round(100.0 * (this_year.revenue - last_year.revenue) / last_year.revenue, 2) as yoy_growth_pct
    from yearly as this_year
    inner join yearly as last_year
        on this_year.year = 2024 and last_year.year = 2023
"""

register(
    Exercise(
        id="07.1",
        title="Days of 2024 without a sale of the slowest-selling product",
        expected=f"""
            with {SLOWEST_PRODUCT_2024}
            select count(*) as zero_sale_days
            from calendar
            where not exists (
                select 1
                from revenue_lines
                inner join slowest on revenue_lines.product_id = slowest.product_id
                where revenue_lines.order_date = calendar.day
            )
        """,
        atol=0,
        mistakes=(
            Mistake(
                "0: grouping the order lines by day only produces days WITH sales, so no day can have "
                "zero. Start from the calendar (dim_date) and left join the sales, or count the calendar "
                "days for which no sale exists.",
                "select 0 as zero_sale_days",
            ),
            Mistake(
                "That is the number of days WITH a sale. The exercise asks for the days without one.",
                f"""
                with {SLOWEST_PRODUCT_2024}
                select count(distinct order_date) as zero_sale_days
                from revenue_lines
                inner join slowest on revenue_lines.product_id = slowest.product_id
                """,
            ),
            Mistake(
                "You counted the days without a sale over the whole calendar (2022 to today); the exercise "
                "asks for the days of 2024 only.",
                f"""
                with {SLOWEST_PRODUCT_2024},
                whole_calendar as (
                    select date_key as day
                    from {{target}}.dim_date
                ),
                all_revenue_lines as (
                    select items.product_id, cast(orders.order_date as date) as order_date
                    from raw_data.order_items as items
                    inner join raw_data.orders as orders on items.order_id = orders.order_id
                    where {REVENUE_STATUS}
                )
                select count(*) as zero_sale_days
                from whole_calendar
                where not exists (
                    select 1
                    from all_revenue_lines
                    inner join slowest on all_revenue_lines.product_id = slowest.product_id
                    where all_revenue_lines.order_date = whole_calendar.day
                )
                """,
            ),
        ),
        hint="Count the days of dim_date in 2024 for which no revenue line of the product exists (`not exists`).",
    ),
    Exercise(
        id="07.2",
        title="Revenue growth of 2024 over 2023",
        expected=YEAR_REVENUE.format(measure="sum(total_amount)", status=REVENUE_STATUS),
        mistakes=(
            Mistake(
                "That is the average of the twelve monthly year-over-year growth rates: an average of ratios "
                "weighs a small month like a big one. Compare the two years' total revenues instead.",
                """
                select round(avg(yoy_growth_pct), 2) as yoy_growth_pct
                from {target}.orders_monthly
                where year = 2024
                """,
            ),
            Mistake(
                "You included cancelled and returned orders: they are not revenue.",
                YEAR_REVENUE.format(measure="sum(total_amount)", status="true"),
            ),
            Mistake(
                "That is the growth of the number of orders, not of revenue.",
                YEAR_REVENUE.format(measure="count(*)", status=REVENUE_STATUS),
            ),
            Mistake(
                "You divided by 2024's revenue: growth is (2024 - 2023) / 2023.",
                YEAR_REVENUE.format(measure="sum(total_amount)", status=REVENUE_STATUS).replace(
                    "/ last_year.revenue", "/ this_year.revenue"
                ),
            ),
        ),
        hint="Sum total_revenue for each year (orders_monthly has a `year` column), then 100 * (2024 - 2023) / 2023.",
    ),
)
