"""Exercises of lesson 02 (staging): querying the staging views, using a macro, building a staging model
of your own and repairing a broken one."""

from __future__ import annotations

import pandas as pd

from . import Exercise, Mistake, register
from .build_checks import BuildExercise, ModelCheck

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


# --------------------------------------------------------------------------- build it, and debug it

_CAMPAIGN_ORDERS = """
    select
        order_id,
        customer_id,
        campaign_id,
        cast(order_date as date) as order_date,
        lower(trim(status)) as order_status,
        total_amount as order_total
    from raw_data.orders
    {where}
"""


def _has_time_of_day(attempt: pd.DataFrame, expected: pd.DataFrame) -> bool:
    """order_date kept the raw timestamp's time of day instead of being cast to a date."""
    if "order_date" not in attempt:
        return False
    dates = pd.to_datetime(attempt["order_date"])
    return bool((dates != dates.dt.normalize()).any())


register(
    BuildExercise(
        id="02.3",
        title="Build it: a staging model of the orders that campaigns brought in",
        models=(
            ModelCheck(
                name="stg_ecommerce__campaign_orders",
                materialized="view",
                reads=("source('ecommerce', 'orders')",),
                tests=(("order_id", "unique"), ("order_id", "not_null")),
                expected=_CAMPAIGN_ORDERS.format(where="where campaign_id is not null"),
                key=("order_id",),
                mistakes=(
                    Mistake(
                        "Your model keeps the orders that came from no campaign: keep only the rows that have "
                        "a campaign_id.",
                        _CAMPAIGN_ORDERS.format(where=""),
                    ),
                    Mistake(
                        "order_date still has the time of day: the raw column is a timestamp; cast it to a date.",
                        detect=_has_time_of_day,
                        example="select order_id, customer_id, campaign_id, order_date, status as order_status, "
                        "total_amount as order_total from raw_data.orders where campaign_id is not null",
                    ),
                ),
            ),
        ),
        build='run_dbt(["build", "--select", "stg_ecommerce__campaign_orders"])',
        hint="Start from stg_ecommerce__orders.sql: a `source` CTE on {{ source('ecommerce', 'orders') }}, a CTE that "
        "renames, casts and keeps the campaign orders, then `select * from` it. The YAML goes next to it.",
    ),
    BuildExercise(
        id="02.4",
        title="Debug it: a ref() to a model that does not exist",
        models=(
            ModelCheck(
                name="campaign_order_counts",
                materialized="view",
                reads=("ref('stg_ecommerce__orders')",),
                described=False,
                expected="select campaign_id, count(*) as orders from raw_data.orders "
                "where campaign_id is not null group by 1",
                key=("campaign_id",),
            ),
        ),
        build='run_dbt(["build", "--select", "campaign_order_counts"])',
        debugging=True,
        hint="dbt's message names the model it could not find: compare that name with the staging models' names.",
    ),
)
