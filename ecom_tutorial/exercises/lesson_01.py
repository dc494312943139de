"""Exercises of lesson 01 (sources): questions asked straight of the raw tables, then a source of
the learner's own (01.4: the review system's table, with tests and freshness)."""

from __future__ import annotations

from . import Exercise, Mistake, register
from .build_checks import BuildExercise, SourceCheck

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
        next_step="The whole answer is three lines after `select`: the column `status`, `count(*) as order_count`, "
        "`from raw_data.orders`, then `group by 1` (1 is the first column of the select list). No join, no filter.",
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
        next_step="Build it in steps: first `select cast(extract(year from order_date) as integer) as order_year, "
        "count(*) as orders from raw_data.orders group by 1` and check the years; then add "
        "`where status not in ('cancelled', 'returned')` before the `group by`, and `sum(total_amount) as revenue`.",
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
        next_step="Without `group by`, aggregates collapse the whole table into one row: `select min(order_date) as "
        "first_ordered_at, ...` from raw_data.orders. `count(customer_id)` counts orders; `count(distinct ...)` "
        "counts each customer once.",
    ),
)

register(
    BuildExercise(
        id="01.4",
        title="Build it: a new source with tests and freshness",
        models=(
            SourceCheck(
                source="reviews",
                table="product_reviews",
                freshness=True,
                tests=(("review_id", "unique"), ("review_id", "not_null"), ("rating", "accepted_values")),
            ),
        ),
        build='run_dbt(["source", "freshness", "--select", "source:reviews"]), then '
        'run_dbt(["test", "--select", "source:reviews"])',
        hint="Copy the shape of models/staging/_stg_ecommerce__sources.yml: `sources:` → `- name: reviews`, "
        "`schema: raw_data`, `tables:` → `- name: product_reviews`, with `config:` (loaded_at_field, freshness) "
        "and `columns:` (description, data_tests).",
        next_step="Under the table: `config:` with `loaded_at_field: _loaded_at` and `freshness:` holding "
        "`warn_after: {count: 24, period: hour}` and an `error_after` with a larger count. Under `columns:`, "
        "review_id gets `data_tests: [unique, not_null]`; rating gets `accepted_values` with "
        "`arguments: {values: [...]}`, every number of stars a review may have.",
    ),
)
