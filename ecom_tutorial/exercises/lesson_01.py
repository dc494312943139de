"""Exercises of lesson 01 (sources): questions asked straight of the raw tables."""

from __future__ import annotations

from . import Exercise, Mistake, register

REVENUE_FILTER = "status not in ('cancelled', 'returned')"

register(
    Exercise(
        id="01.1",
        title="Orders per status",
        expected="""
            select status, count(*) as order_count
            from raw_data.orders
            group by 1
        """,
        key=("status",),
        mistakes=(
            Mistake(
                "You counted distinct customers per status, not orders: use count(*).",
                "select status, count(distinct customer_id) as order_count from raw_data.orders group by 1",
            ),
            Mistake(
                "You counted order lines: after a join with order_items each order counts once per line. "
                "Count from raw_data.orders alone.",
                """
                select orders.status, count(*) as order_count
                from raw_data.orders
                inner join raw_data.order_items on order_items.order_id = orders.order_id
                group by 1
                """,
            ),
        ),
        hint="group by status and count(*) the rows of raw_data.orders.",
    ),
    Exercise(
        id="01.2",
        title="Orders and revenue per year",
        expected=f"""
            select
                cast(extract(year from order_date) as integer) as order_year,
                count(*) as orders,
                sum(total_amount) as revenue
            from raw_data.orders
            where {REVENUE_FILTER}
            group by 1
        """,
        key=("order_year",),
        mistakes=(
            Mistake(
                "Your numbers include cancelled and returned orders: they earned nothing. "
                "Filter with `where status not in ('cancelled', 'returned')`.",
                """
                select cast(extract(year from order_date) as integer) as order_year,
                       count(*) as orders, sum(total_amount) as revenue
                from raw_data.orders group by 1
                """,
            ),
            Mistake(
                "You left out cancelled orders but kept returned ones: a returned order is refunded, "
                "so it is not revenue either.",
                """
                select cast(extract(year from order_date) as integer) as order_year,
                       count(*) as orders, sum(total_amount) as revenue
                from raw_data.orders where status <> 'cancelled' group by 1
                """,
            ),
            Mistake(
                "You kept only completed orders: shipped and pending orders are revenue too. "
                "Only cancelled and returned orders are excluded.",
                """
                select cast(extract(year from order_date) as integer) as order_year,
                       count(*) as orders, sum(total_amount) as revenue
                from raw_data.orders where status = 'completed' group by 1
                """,
            ),
        ),
        hint="extract(year from order_date), and keep only the revenue statuses (not cancelled, not returned).",
    ),
    Exercise(
        id="01.3",
        title="The time span of the raw orders",
        expected="""
            select
                min(order_date) as first_ordered_at,
                max(order_date) as last_ordered_at,
                count(distinct customer_id) as customers_with_orders
            from raw_data.orders
        """,
        mistakes=(
            Mistake(
                "customers_with_orders counts every order of a customer again: use count(distinct customer_id).",
                """
                select min(order_date) as first_ordered_at, max(order_date) as last_ordered_at,
                       count(customer_id) as customers_with_orders
                from raw_data.orders
                """,
            ),
            Mistake(
                "Your first and last dates are swapped: the first order has the smallest date (min).",
                """
                select max(order_date) as first_ordered_at, min(order_date) as last_ordered_at,
                       count(distinct customer_id) as customers_with_orders
                from raw_data.orders
                """,
            ),
        ),
        hint="One row: min() and max() of order_date, and count(distinct customer_id).",
    ),
)
