"""Exercises of lesson 10, the capstone: returns by product category, from the raw table to an exposure.

Each step is checked on what the learner built (build_checks.py): the source with its freshness (10.1), the
staging view (10.2), the intermediate view (10.3), the mart (10.4) and the exposure (10.5); 10.6 is a query
on the mart. Every expected result is computed from raw_data, never from the learner's models.
"""

from __future__ import annotations

import pandas as pd

from . import Exercise, Mistake, register
from .build_checks import BuildExercise, ExposureCheck, ModelCheck, SourceCheck

REASONS = ("damaged", "wrong size", "not as described", "changed mind", "arrived late")
# The orders whose lines reached the customer: kept (completed) or sent back (returned).
DELIVERED = "('completed', 'returned')"
STAGING = "stg_returns__returns"
INTERMEDIATE = "int_returns__by_order_line"
MART = "category_returns"


def _staging(returned_at: str = "returned_at") -> str:
    return f"""
        select
            return_id, order_id, order_item_id, product_id,
            {returned_at} as returned_at,
            lower(trim(return_reason)) as return_reason,
            refund_amount,
            _loaded_at as loaded_at
        from raw_data.returns
    """


def _intermediate() -> str:
    return """
        select
            returns.return_id,
            returns.order_id,
            returns.order_item_id,
            order_items.product_id,
            trim(products.category) as category,
            returns.returned_at,
            lower(trim(returns.return_reason)) as return_reason,
            order_items.line_total,
            returns.refund_amount
        from raw_data.returns
        inner join raw_data.order_items on order_items.order_item_id = returns.order_item_id
        inner join raw_data.products on products.product_id = order_items.product_id
    """


def _category_returns(line_filter: str = f"where lower(trim(orders.status)) in {DELIVERED}") -> str:
    """The mart, from the raw tables; `line_filter` decides which orders' lines are the denominator."""
    return f"""
        with lines as (
            select trim(products.category) as category, count(*) as order_lines
            from raw_data.order_items
            inner join raw_data.orders on orders.order_id = order_items.order_id
            inner join raw_data.products on products.product_id = order_items.product_id
            {line_filter}
            group by 1
        ),
        refunds as (
            select
                category,
                count(*) as returned_lines,
                sum(refund_amount) as total_refunds,
                mode() within group (order by return_reason) as top_return_reason
            from ({_intermediate()}) as returned
            group by 1
        )
        select
            lines.category,
            lines.order_lines,
            coalesce(refunds.returned_lines, 0) as returned_lines,
            round(100.0 * coalesce(refunds.returned_lines, 0) / lines.order_lines, 2) as return_rate_pct,
            coalesce(refunds.total_refunds, 0) as total_refunds,
            refunds.top_return_reason
        from lines
        left join refunds on refunds.category = lines.category
    """


def _column(frame: pd.DataFrame, column: str) -> pd.Series | None:
    return frame[column].astype(float) if column in frame else None


def _date_only(attempt: pd.DataFrame, expected: pd.DataFrame) -> bool:
    """returned_at holds midnights only (cast to a date) where the export has times of day."""
    if "returned_at" not in attempt or attempt.empty:
        return False
    times = pd.to_datetime(attempt["returned_at"])
    return bool((times == times.dt.normalize()).all() and (pd.to_datetime(expected["returned_at"]).dt.hour > 0).any())


def _duplicated_returns(attempt: pd.DataFrame, expected: pd.DataFrame) -> bool:
    return "return_id" in attempt and bool(attempt["return_id"].duplicated().any())


def _multiplied_refunds(attempt: pd.DataFrame, expected: pd.DataFrame) -> bool:
    """More refunds (or returned lines) in all than the returns add up to: a join repeated them."""
    for column in ("total_refunds", "returned_lines"):
        mine, theirs = _column(attempt, column), _column(expected, column)
        if mine is not None and theirs is not None and mine.sum() > 1.01 * theirs.sum():
            return True
    return False


def _integer_division(attempt: pd.DataFrame, expected: pd.DataFrame) -> bool:
    """Every return rate is a whole number where the right ones are not: integers divided as integers."""
    mine, theirs = _column(attempt, "return_rate_pct"), _column(expected, "return_rate_pct")
    if mine is None or theirs is None or mine.empty:
        return False
    return bool((mine == mine.round()).all() and (theirs != theirs.round()).any())


register(
    BuildExercise(
        id="10.1",
        title="Build it: the returns desk's export as a source, with freshness and tests",
        models=(SourceCheck("returns", "returns", tests=(("return_id", "unique"), ("return_id", "not_null"))),),
        build='run_dbt(["source", "freshness", "--select", "source:returns"]), then '
        'run_dbt(["build", "--select", "source:returns"])',
        hint="A YAML file in models/workspace/ with `sources:` → `- name: returns`, `schema: raw_data`, a `config:` "
        "with `loaded_at_field` and `freshness`, and `tables:` → `- name: returns` with its columns.",
        next_step="Copy the shape of the project's models/staging/_stg_ecommerce__sources.yml (lesson 01): "
        "the freshness "
        "rule sits under the source's `config:` (`warn_after: {count: 7, period: day}`), the tests under the column "
        "return_id's `data_tests:`. Then run freshness first and the build second: the check reads both results.",
    ),
    BuildExercise(
        id="10.2",
        title="Build it: the staging view of the returns",
        models=(
            ModelCheck(
                name=STAGING,
                materialized="view",
                reads=("source('returns', 'returns')",),
                tests=(("return_id", "unique"), ("return_id", "not_null"), ("return_reason", "accepted_values")),
                expected=_staging(),
                key=("return_id",),
                mistakes=(
                    Mistake(
                        "returned_at lost its time of day: it is a timestamp (the `_at` says so). Cast it to "
                        "`timestamp`; a date column would be named `returned_date`.",
                        detect=_date_only,
                        example=_staging("cast(returned_at as date)"),
                    ),
                ),
            ),
        ),
        build=f'run_dbt(["build", "--select", "{STAGING}"])',
        hint="Read the source with {{ source('returns', 'returns') }}, cast each column to its type, normalise the "
        "reason with lower(trim()), rename _loaded_at; the YAML declares the three tests.",
        next_step="Start from models/staging/stg_ecommerce__orders.sql "
        '(`display.show_model("stg_ecommerce__orders")`): '
        "a `source` CTE, a `renamed` CTE of casts and renames, `select * from renamed`. accepted_values takes the five "
        "reasons under `arguments: values: [...]`.",
    ),
    BuildExercise(
        id="10.3",
        title="Build it: each return with its category and the line's revenue",
        models=(
            ModelCheck(
                name=INTERMEDIATE,
                materialized="view",
                reads=(f"ref('{STAGING}')", "ref('stg_ecommerce__order_items')", "ref('stg_ecommerce__products')"),
                tests=(("return_id", "unique"), ("return_id", "not_null")),
                expected=_intermediate(),
                key=("return_id",),
                mistakes=(
                    Mistake(
                        "Each return appears once per line of its order: you joined the order lines on order_id. A "
                        "return names its own line: join on order_item_id.",
                        detect=_duplicated_returns,
                        example=_intermediate().replace(
                            "order_items.order_item_id = returns.order_item_id",
                            "order_items.order_id = returns.order_id",
                        ),
                    ),
                ),
            ),
        ),
        build=f'run_dbt(["build", "--select", "{INTERMEDIATE}"])',
        hint=f"Start from {{{{ ref('{STAGING}') }}}}, join the order lines on the line's key and the products on "
        "product_id; keep one row per return.",
        next_step="Three import CTEs (returns, order_items, products), one CTE with the two inner joins, "
        "`select * from` it. The line's revenue is the order line's line_total, the category the product's. Leave "
        "out config(): the workspace builds views by default. Query it afterwards: one row per return_id?",
    ),
    BuildExercise(
        id="10.4",
        title="Build it: the mart category_returns",
        models=(
            ModelCheck(
                name=MART,
                materialized="table",
                reads=(
                    f"ref('{INTERMEDIATE}')",
                    "ref('stg_ecommerce__order_items')",
                    "ref('stg_ecommerce__orders')",
                    "ref('stg_ecommerce__products')",
                ),
                tests=(("category", "unique"), ("category", "not_null"), ("return_rate_pct", "accepted_range")),
                expected=_category_returns(),
                key=("category",),
                mistakes=(
                    Mistake(
                        "Your order_lines count every line, cancelled, pending and shipped orders included: "
                        "a cancelled "
                        "order never left the warehouse and cannot come back. Count the lines of the orders that "
                        "reached the customer: status completed or returned.",
                        _category_returns(""),
                    ),
                    Mistake(
                        "Your order_lines leave out the returned orders (is_revenue_order() does that): the lines that "
                        "came back are delivered lines too, so the rate's denominator must include them. Count the "
                        "lines of orders with status completed or returned.",
                        _category_returns("where lower(trim(orders.status)) not in ('cancelled', 'returned')"),
                    ),
                    Mistake(
                        "Your order_lines count completed orders only: the returned orders' lines were delivered too "
                        "(and they are the ones that came back). Count status completed or returned.",
                        _category_returns("where lower(trim(orders.status)) = 'completed'"),
                    ),
                    Mistake(
                        "Your refunds or returned lines add up to more than the returns themselves: a join repeated "
                        "the return rows before you summed them. Sum the returns per category first, then join those "
                        "totals to the line counts.",
                        detect=_multiplied_refunds,
                        example=f"""
                            select category, order_lines, returned_lines * 3 as returned_lines, return_rate_pct,
                                   total_refunds * 3 as total_refunds, top_return_reason
                            from ({_category_returns()}) as right_answer
                        """,
                    ),
                    Mistake(
                        "Every return rate is a whole number: two integers divide as integers in SQL (7 / 100 = 0). "
                        "Multiply by 100.0, not 100, before dividing.",
                        detect=_integer_division,
                        example=f"""
                            select category, order_lines, returned_lines,
                                   100 * returned_lines / order_lines as return_rate_pct,
                                   total_refunds, top_return_reason
                            from ({_category_returns()}) as right_answer
                        """,
                    ),
                ),
            ),
        ),
        build=f'run_dbt(["build", "--select", "{MART}"])',
        hint="Two aggregations per category, joined at the end: the delivered lines (order lines of completed or "
        f"returned orders, with their product's category) and the returns (from {INTERMEDIATE}: count, sum of "
        "refunds, most frequent reason).",
        next_step="One CTE counts the lines: stg_ecommerce__order_items joined to stg_ecommerce__orders (for the "
        "status) and stg_ecommerce__products (for the category), `where order_status in (...)`, `group by 1`. Another "
        "groups the intermediate by category: count(*), sum(refund_amount), `mode() within group (order by "
        "return_reason)`. A left join of the second onto the first, coalesce() for categories without returns, "
        "100.0 * returned / lines. `{{ config(materialized='table') }}` on top.",
    ),
    BuildExercise(
        id="10.5",
        title="Build it: the exposure that reads the mart",
        models=(ExposureCheck("returns_review", depends_on=(f"ref('{MART}')",), type="analysis"),),
        build='run_dbt(["docs", "generate"]) (or run_dbt(["parse"]))',
        hint="A YAML file in models/workspace/ with `exposures:` → `- name: returns_review`, `type: analysis`, an "
        f"`owner:` (name and email), a `description:` and `depends_on: [ref('{MART}')]`.",
        next_step="models/marts/analytics/_analytics__exposures.yml declares the marketing dashboard the same way: "
        "copy its shape. An exposure is read when dbt parses the project, so any dbt command (docs generate, parse, "
        "build) puts it in the manifest.",
    ),
)


def _refund_ranking(order_by: str) -> str:
    return f"""
        select
            category,
            total_refunds,
            round(100.0 * total_refunds / sum(total_refunds) over (), 1) as refund_share_pct
        from ({_category_returns()}) as category_returns
        order by {order_by}, category
    """


register(
    Exercise(
        id="10.6",
        title="Which categories' refunds cost the most?",
        expected=_refund_ranking("total_refunds desc"),
        key=("category",),
        ordered=True,
        atol=0.05,
        reads=(MART,),
        mistakes=(
            Mistake(
                "You ranked the categories by how often their lines come back; the question is what the refunds "
                "COST: order by total_refunds, highest first.",
                _refund_ranking("return_rate_pct desc"),
            ),
            Mistake(
                "You ranked by the number of returned lines; a returned book and a returned laptop cost very "
                "different refunds: order by total_refunds, highest first.",
                _refund_ranking("returned_lines desc"),
            ),
        ),
        hint=f"Read {MART}; the share is 100.0 * total_refunds / the sum over all categories (a window: "
        "sum(...) over ()).",
        next_step="Each row needs the total over all categories next to its own refunds: the window "
        "`sum(total_refunds) over ()` gives it without a second query. Then ask which column says what the "
        "returns cost, and sort by it.",
    ),
)
