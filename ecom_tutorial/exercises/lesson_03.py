"""Exercises of lesson 03 (customer analytics): lifetime value and RFM segments, and an ephemeral
intermediate with a table mart built on it."""

from __future__ import annotations

import pandas as pd
from sqlglot import exp

from . import Exercise, Mistake, SqlPredicate, register
from .build_checks import BuildExercise, ModelCheck
from .lesson_02 import aggregates, column_names, filters_revenue
from .sql_answers import reads_relation


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


def _sums_orders_without_revenue_filter(tree: exp.Expression) -> bool:
    """Lifetime value re-computed as a sum of order totals, with every status counted."""
    reads_orders = any(reads_relation(name)(tree) for name in ("orders", "stg_ecommerce__orders", "fact_orders"))
    sums_totals = aggregates(tree, exp.Sum, "total_amount") or aggregates(tree, exp.Sum, "order_total")
    return reads_orders and sums_totals and not filters_revenue(tree)


def _sorted_first_by(column: str) -> SqlPredicate:
    """The answer's `order by` starts with `column` (so it ranks on that, not on lifetime value)."""

    def predicate(tree: exp.Expression) -> bool:
        return any(
            bool(order.expressions) and column_names(order.expressions[0]) == {column}
            for order in tree.find_all(exp.Order)
        )

    return predicate


def _is_a_fraction(attempt: pd.DataFrame, expected: pd.DataFrame) -> bool:
    """The shares are fractions of 1 (0.5) where the exercise asks for percent (53.5)."""
    if "revenue_share_pct" not in attempt:
        return False
    shares = attempt["revenue_share_pct"].astype(float)
    return bool(shares.max() <= 1.0 < expected["revenue_share_pct"].astype(float).max())


def _segment_shares(share: str) -> str:
    """Each segment's customers and a share of `share` on customer_analytics (the exercise's or a mistake's)."""
    return f"""
        select
            rfm_segment,
            count(*) as customers,
            {share} as revenue_share_pct
        from customer_analytics
        group by 1
    """


REVENUE_SHARE = "round(100.0 * sum(lifetime_value) / sum(sum(lifetime_value)) over (), 1)"

register(
    Exercise(
        id="03.1",
        title="The ten most valuable customers",
        expected=_top_customers("where status not in ('cancelled', 'returned')", "desc"),
        key=("customer_id",),
        ordered=True,
        mistakes=(
            Mistake(
                "You re-computed lifetime value from the orders and counted cancelled and returned ones too. "
                "dim_customers already has lifetime_value, over revenue orders only: read it from there.",
                in_sql=_sums_orders_without_revenue_filter,
                example=_top_customers("", "desc"),
            ),
            Mistake(
                "You ranked the customers by their number of orders: the most valuable are those with the highest "
                "lifetime_value. Sort on it first.",
                in_sql=_sorted_first_by("total_orders"),
                example="select customer_id, customer_name, total_orders, lifetime_value from dim_customers "
                "order by total_orders desc, lifetime_value desc limit 10",
            ),
            Mistake(
                "Those are the LEAST valuable customers: sort with `order by lifetime_value desc`.",
                detect=lambda attempt, expected: _ascending_and_below(attempt, expected),
                example="select customer_id, customer_name, total_orders, lifetime_value "
                "from dim_customers order by lifetime_value limit 10",
            ),
        ),
        hint="select from dim_customers (or customer_analytics), order by lifetime_value desc, limit 10.",
        next_step="dim_customers has one row per customer with customer_name, total_orders and lifetime_value "
        "(revenue orders only): select those four columns with customer_id, `order by lifetime_value desc` "
        "(most valuable first: row order is checked), then `limit 10`.",
    ),
    Exercise(
        id="03.2",
        title="Share of revenue per RFM segment",
        # The segment rules belong to the model; the exercise is the aggregation, computed here
        # from the warehouse table itself.
        expected=_segment_shares(REVENUE_SHARE),
        key=("rfm_segment",),
        atol=0.051,
        reads=("customer_analytics",),
        decimals=1,
        mistakes=(
            Mistake(
                "That is each segment's share of CUSTOMERS. The exercise asks for the share of revenue: "
                "100 * sum(lifetime_value) / the total lifetime value of all customers.",
                _segment_shares("round(100.0 * count(*) / sum(count(*)) over (), 1)"),
            ),
            Mistake(
                "Your shares are fractions of 1: the exercise asks for percent, so multiply by 100 (before rounding).",
                detect=_is_a_fraction,
                example=_segment_shares("round(sum(lifetime_value) / sum(sum(lifetime_value)) over (), 1)"),
            ),
            Mistake(
                "Every share is a multiple of 10: you rounded the fraction to one decimal before multiplying it by "
                "100. Multiply first, round last.",
                _segment_shares("100 * round(sum(lifetime_value) / sum(sum(lifetime_value)) over (), 1)"),
            ),
        ),
        hint="A window over the grouped rows gives the total: sum(sum(lifetime_value)) over ().",
        next_step="Group customer_analytics by rfm_segment: `count(*)` is the customers; the share is "
        "`100.0 * sum(lifetime_value) / <the total>`, where the total is the window `sum(sum(lifetime_value)) "
        "over ()` (the sum of the segments' sums); wrap it all in `round(..., 1)`.",
    ),
)


def _segment_order_dates(*, revenue_only: bool = True, every_customer: bool = False) -> str:
    """The mart of 03.3 from the raw tables; each argument set otherwise makes one typical mistake."""
    where = "where status not in ('cancelled', 'returned')" if revenue_only else ""
    join = (
        "from raw_data.customers left join first_and_last on first_and_last.customer_id = customers.customer_id"
        if every_customer
        else "from first_and_last inner join raw_data.customers on customers.customer_id = first_and_last.customer_id"
    )
    return f"""
        with first_and_last as (
            select customer_id, min(cast(order_date as date)) as first_order_date,
                   max(cast(order_date as date)) as last_order_date
            from raw_data.orders
            {where}
            group by 1
        )
        select
            lower(trim(customers.segment)) as customer_segment,
            count(*) as customers,
            min(first_and_last.first_order_date) as first_order_date,
            max(first_and_last.last_order_date) as last_order_date,
            round(avg(first_and_last.last_order_date - first_and_last.first_order_date), 1) as avg_days_first_to_last
        {join}
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
                expected=_segment_order_dates(),
                key=("customer_segment",),
                atol=0.05,
                mistakes=(
                    Mistake(
                        "Your dates and counts include cancelled and returned orders: the intermediate model "
                        "should keep revenue orders only ({{ is_revenue_order() }}).",
                        _segment_order_dates(revenue_only=False),
                    ),
                    Mistake(
                        "`customers` counts the customers who never bought too: a left join from the customers keeps "
                        "them all, as dim_customers does on purpose. Here only buying customers count: start from "
                        "your intermediate and inner join the customers.",
                        _segment_order_dates(every_customer=True),
                    ),
                ),
            ),
        ),
        build='run_dbt(["build", "--select", "int_customers__order_dates", "segment_order_dates"])',
        hint="The intermediate groups the revenue orders by customer (min and max of order_date); the mart joins "
        "it to stg_ecommerce__customers and groups by customer_segment.",
        next_step="int_customers__order_dates.sql: `{{ config(materialized='ephemeral') }}`, an import CTE on "
        "{{ ref('stg_ecommerce__orders') }}, then a CTE that keeps `where {{ is_revenue_order() }}` and groups by "
        "customer_id with min and max of order_date. segment_order_dates.sql: `{{ config(materialized='table') }}`, "
        "import CTEs on {{ ref('stg_ecommerce__customers') }} and {{ ref('int_customers__order_dates') }}, a `final` "
        "CTE that inner joins them on customer_id and groups by customer_segment (count, min, max, and "
        "`round(avg(last_order_date - first_order_date), 1)`). The YAML lists both models, with `data_tests: "
        "[unique, not_null]` under customer_segment.",
    ),
)
