"""Exercises of lesson 03 (customer analytics): lifetime value and RFM segments."""

from __future__ import annotations

import pandas as pd

from . import Exercise, Mistake, register
from .build_checks import BuildExercise, ModelCheck


def _top_customers(status_filter: str, direction: str) -> str:
    return f"""
        with lifetime as (
            select customer_id, count(*) as total_orders, sum(total_amount) as lifetime_value
            from raw_data.orders
            {status_filter}
            group by 1
        )
        select
            lifetime.customer_id,
            trim(customers.first_name) || ' ' || trim(customers.last_name) as customer_name,
            lifetime.total_orders,
            lifetime.lifetime_value
        from lifetime
        inner join raw_data.customers on customers.customer_id = lifetime.customer_id
        order by lifetime.lifetime_value {direction}, lifetime.customer_id
        limit 10
    """


def _ascending_and_below(attempt: pd.DataFrame, expected: pd.DataFrame) -> bool:
    """The attempt's lifetime values rise and stay below the expected ones: sorted the wrong way."""
    if "lifetime_value" not in attempt or len(attempt) < 2:
        return False
    values = attempt["lifetime_value"].astype(float)
    return bool(values.is_monotonic_increasing and values.max() < expected["lifetime_value"].astype(float).min())


def _segment_shares(measure: str) -> str:
    return f"""
        select
            rfm_segment,
            count(*) as customers,
            round(100.0 * {measure} / sum({measure}) over (), 1) as revenue_share_pct
        from {{target}}.customer_analytics
        group by 1
    """


register(
    Exercise(
        id="03.1",
        title="The ten most valuable customers",
        expected=_top_customers("where status not in ('cancelled', 'returned')", "desc"),
        key=("customer_id",),
        ordered=True,
        mistakes=(
            Mistake(
                "Your lifetime values include cancelled and returned orders. dim_customers already "
                "leaves them out: read lifetime_value from it instead of re-computing it.",
                _top_customers("", "desc"),
            ),
            Mistake(
                "Those are the LEAST valuable customers: sort with `order by lifetime_value desc`.",
                detect=lambda attempt, expected: _ascending_and_below(attempt, expected),
                example="select customer_id, customer_name, total_orders, lifetime_value "
                "from {target}.dim_customers order by lifetime_value limit 10",
            ),
        ),
        hint="select from dim_customers (or customer_analytics), order by lifetime_value desc, limit 10.",
    ),
    Exercise(
        id="03.2",
        title="Share of revenue per RFM segment",
        # The segment rules belong to the model; the exercise is the aggregation, computed here
        # from the warehouse table itself.
        expected=_segment_shares("sum(lifetime_value)"),
        key=("rfm_segment",),
        atol=0.051,
        mistakes=(
            Mistake(
                "That is each segment's share of CUSTOMERS. The exercise asks for the share of revenue: "
                "100 * sum(lifetime_value) / the total lifetime value of all customers.",
                _segment_shares("count(*)"),
            ),
        ),
        hint="A window over the grouped rows gives the total: sum(sum(lifetime_value)) over ().",
    ),
)


def _segment_order_dates(status_filter: str) -> str:
    return f"""
        with first_and_last as (
            select customer_id, min(cast(order_date as date)) as first_order_date,
                   max(cast(order_date as date)) as last_order_date
            from raw_data.orders
            {status_filter}
            group by 1
        )
        select
            lower(trim(customers.segment)) as customer_segment,
            count(*) as customers,
            min(first_and_last.first_order_date) as first_order_date,
            max(first_and_last.last_order_date) as last_order_date,
            round(avg(first_and_last.last_order_date - first_and_last.first_order_date), 1) as avg_days_first_to_last
        from first_and_last
        inner join raw_data.customers on customers.customer_id = first_and_last.customer_id
        group by 1
    """


register(
    BuildExercise(
        id="03.3",
        title="Build it: an ephemeral intermediate and a mart on it",
        models=(
            ModelCheck(
                name="int_customers__order_dates",
                materialized="ephemeral",
                reads=("ref('stg_ecommerce__orders')",),
            ),
            ModelCheck(
                name="segment_order_dates",
                materialized="table",
                reads=("ref('int_customers__order_dates')", "ref('stg_ecommerce__customers')"),
                tests=(("customer_segment", "unique"), ("customer_segment", "not_null")),
                expected=_segment_order_dates("where status not in ('cancelled', 'returned')"),
                key=("customer_segment",),
                atol=0.05,
                mistakes=(
                    Mistake(
                        "Your dates and counts include cancelled and returned orders: the intermediate model "
                        "should keep revenue orders only ({{ is_revenue_order() }}).",
                        _segment_order_dates(""),
                    ),
                ),
            ),
        ),
        build='run_dbt(["build", "--select", "int_customers__order_dates", "segment_order_dates"])',
        hint="The intermediate groups the revenue orders by customer (min and max of order_date); the mart joins "
        "it to stg_ecommerce__customers and groups by customer_segment.",
    ),
)
