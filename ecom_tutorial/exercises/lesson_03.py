"""Exercises of lesson 03 (customer analytics): lifetime value and RFM segments."""

from __future__ import annotations

import pandas as pd

from . import Exercise, Mistake, register


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
            trim(customers.first_name) || ' ' || trim(customers.last_name) as full_name,
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
                example="select customer_id, full_name, total_orders, lifetime_value "
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
