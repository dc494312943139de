"""Exercises of lesson 02 (staging): querying the staging views, and using a macro."""

from __future__ import annotations

from . import Exercise, Mistake, register

register(
    Exercise(
        id="02.1",
        title="Average order value per customer segment",
        expected="""
            select
                lower(trim(customers.segment)) as customer_segment,
                count(*) as orders,
                round(avg(orders.total_amount), 2) as average_order_value
            from raw_data.orders
            inner join raw_data.customers on customers.customer_id = orders.customer_id
            where orders.status not in ('cancelled', 'returned')
            group by 1
        """,
        key=("customer_segment",),
        mistakes=(
            Mistake(
                "Your averages include cancelled and returned orders: keep only "
                "`order_status not in ('cancelled', 'returned')`.",
                """
                select lower(trim(customers.segment)) as customer_segment, count(*) as orders,
                       round(avg(orders.total_amount), 2) as average_order_value
                from raw_data.orders
                inner join raw_data.customers on customers.customer_id = orders.customer_id
                group by 1
                """,
            ),
            Mistake(
                "You joined order lines: each order then counts once per line (a fan-out), so big orders weigh "
                "more. Join stg_ecommerce__orders with stg_ecommerce__customers only.",
                """
                select lower(trim(customers.segment)) as customer_segment, count(*) as orders,
                       round(avg(orders.total_amount), 2) as average_order_value
                from raw_data.orders
                inner join raw_data.customers on customers.customer_id = orders.customer_id
                inner join raw_data.order_items on order_items.order_id = orders.order_id
                where orders.status not in ('cancelled', 'returned')
                group by 1
                """,
            ),
        ),
        hint="Join the staging orders to the staging customers on customer_id, filter the statuses, group by segment.",
    ),
    Exercise(
        id="02.2",
        title="Days from sign-up to first purchase, with the calculate_days_between macro",
        expected="""
            with first_orders as (
                select customer_id, min(cast(order_date as date)) as first_order_date
                from raw_data.orders
                where status not in ('cancelled', 'returned')
                group by 1
            )
            select
                lower(trim(customers.segment)) as customer_segment,
                count(*) as customers,
                round(avg(first_orders.first_order_date - cast(customers.created_at as date)), 1)
                    as avg_days_to_first_order
            from first_orders
            inner join raw_data.customers on customers.customer_id = first_orders.customer_id
            group by 1
        """,
        key=("customer_segment",),
        atol=0.05,
        mistakes=(
            Mistake(
                "You counted a cancelled or returned order as the first purchase: use revenue orders only.",
                """
                with first_orders as (
                    select customer_id, min(cast(order_date as date)) as first_order_date
                    from raw_data.orders group by 1
                )
                select lower(trim(customers.segment)) as customer_segment, count(*) as customers,
                       round(avg(first_orders.first_order_date - cast(customers.created_at as date)), 1)
                           as avg_days_to_first_order
                from first_orders
                inner join raw_data.customers on customers.customer_id = first_orders.customer_id
                group by 1
                """,
            ),
            Mistake(
                "You measured to the LAST order (max), not the first (min).",
                """
                with first_orders as (
                    select customer_id, max(cast(order_date as date)) as first_order_date
                    from raw_data.orders where status not in ('cancelled', 'returned') group by 1
                )
                select lower(trim(customers.segment)) as customer_segment, count(*) as customers,
                       round(avg(first_orders.first_order_date - cast(customers.created_at as date)), 1)
                           as avg_days_to_first_order
                from first_orders
                inner join raw_data.customers on customers.customer_id = first_orders.customer_id
                group by 1
                """,
            ),
            Mistake(
                "The days are negative: the macro's arguments are (start, end); put signup_date first.",
                """
                with first_orders as (
                    select customer_id, min(cast(order_date as date)) as first_order_date
                    from raw_data.orders where status not in ('cancelled', 'returned') group by 1
                )
                select lower(trim(customers.segment)) as customer_segment, count(*) as customers,
                       round(avg(cast(customers.created_at as date) - first_orders.first_order_date), 1)
                           as avg_days_to_first_order
                from first_orders
                inner join raw_data.customers on customers.customer_id = first_orders.customer_id
                group by 1
                """,
            ),
        ),
        hint="First find each customer's first revenue order date (min), then "
        "{{ calculate_days_between('signup_date', 'first_order_date') }} and average it per segment.",
    ),
)
