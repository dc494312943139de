"""Exercises of lesson 07, time series: zero-sale days on a calendar, the growth of a year, and a
weekly series on the calendar spine that you build (07.3)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from ..compiling import compiled_code
from ..settings import load_settings
from . import Exercise, Mistake, register
from .build_checks import PROJECT, BuildExercise, ModelCheck
from .sql_answers import parse, relations_read

REVENUE_STATUS = "lower(trim(orders.status)) not in ('cancelled', 'returned')"

# The lines of revenue orders of 2024, straight from the raw tables, and the product with the
# fewest days with a sale (ties: lowest product_id), as the lesson picks it from the fact table.
LINES_OF_THE_SLOWEST_PRODUCT = f"""
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
    )
"""
SLOWEST_PRODUCT_2024 = (
    LINES_OF_THE_SLOWEST_PRODUCT
    + """,

    calendar as (
        select cast(day as date) as day
        from generate_series(date '2024-01-01', date '2024-12-31', interval '1 day') as day
    )
"""
)


# --------------------------------------------------------------------------- causes, seen in the SQL


def reads_the_calendar(tree: Any) -> bool:
    """The SQL starts from a date spine: it reads dim_date, or makes its days with generate_series()."""
    from sqlglot import exp

    if any(relation.rpartition(".")[2] == "dim_date" for relation in relations_read(tree)):
        return True
    # sqlglot reads PostgreSQL's generate_series() as a GenerateSeries node (ExplodingGenerateSeries in FROM)
    return any(True for _ in tree.find_all(exp.GenerateSeries, exp.ExplodingGenerateSeries)) or any(
        function.name.lower() == "generate_series" for function in tree.find_all(exp.Anonymous)
    )


def _left_joined(select: Any) -> set[str]:
    """The names (aliases) of the relations a SELECT joins with a LEFT JOIN."""
    return {
        join.this.alias_or_name.lower()
        for join in select.args.get("joins") or []
        if (join.side or "").upper() == "LEFT"
    }


def filters_the_left_joined_side(tree: Any) -> bool:
    """A SELECT filters, in its `where`, a column of a relation it LEFT JOINs (other than `is null`): that
    drops the rows the join filled with nulls, so the left join works as an inner join."""
    from sqlglot import exp

    for select in tree.find_all(exp.Select):
        where, joined = select.args.get("where"), _left_joined(select)
        if where is None or not joined:
            continue
        for column in where.find_all(exp.Column):
            if column.table.lower() in joined and not isinstance(column.parent, exp.Is):
                return True
    return False


def _has_left_join(tree: Any) -> bool:
    from sqlglot import exp

    return any(_left_joined(select) for select in tree.find_all(exp.Select))


def loses_the_calendars_empty_rows(tree: Any) -> bool:
    """The SQL reads the calendar, left joins the facts to it, then drops the rows without facts with a
    condition on them in the `where`."""
    return reads_the_calendar(tree) and filters_the_left_joined_side(tree)


def keeps_no_empty_period(tree: Any) -> bool:
    """The SQL reads the calendar but cannot keep its periods without facts: no left join at all (the
    calendar only names the week of each fact), or a condition on the left-joined facts in the `where`."""
    return reads_the_calendar(tree) and (filters_the_left_joined_side(tree) or not _has_left_join(tree))


def no_calendar(tree: Any) -> bool:
    return not reads_the_calendar(tree)


def _returns_a_distinct_count(tree: Any) -> bool:
    """The query's own result (its outermost select, not a CTE) is a count(distinct ...)."""
    from sqlglot import exp

    outermost = tree if isinstance(tree, exp.Select) else tree.find(exp.Select)
    return outermost is not None and any(
        isinstance(count.this, exp.Distinct) for column in outermost.expressions for count in column.find_all(exp.Count)
    )


def counts_the_days_with_a_sale(tree: Any) -> bool:
    """Without a calendar, the answer is a count(distinct <day>): the days that had a sale."""
    return no_calendar(tree) and _returns_a_distinct_count(tree)


def _days_without_a_sale(calendar: str, lines: str) -> str:
    """Count the days of `calendar` (a `day` column) on which `lines` has no revenue line of `slowest`."""
    return f"""
        select count(*) as zero_sale_days
        from {calendar}
        where not exists (
            select 1
            from {lines}
            inner join slowest on {lines}.product_id = slowest.product_id
            where {lines}.order_date = {calendar}.day
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
        expected=f"with {SLOWEST_PRODUCT_2024} {_days_without_a_sale('calendar', 'revenue_lines')}",
        atol=0,
        mistakes=(
            # Told on their cause (the answer's SQL, compiled), checked in this order.
            Mistake(
                "That is the number of days WITH a sale. The exercise asks for the days without one.",
                f"""
                with {LINES_OF_THE_SLOWEST_PRODUCT}
                select count(distinct order_date) as zero_sale_days
                from revenue_lines
                inner join slowest on revenue_lines.product_id = slowest.product_id
                """,
                in_sql=counts_the_days_with_a_sale,
            ),
            Mistake(
                "Your SQL does not start from the calendar: grouping the order lines by day only produces days "
                "WITH sales, so a day without a sale never appears and cannot be counted. Start from the calendar "
                "(dim_date) and left join the sales, or count the calendar days for which no sale exists.",
                "select 0 as zero_sale_days",
                example=f"""
                with {LINES_OF_THE_SLOWEST_PRODUCT},
                daily_units as (
                    select order_date, sum(quantity) as units
                    from revenue_lines
                    where product_id in (select product_id from slowest)
                    group by 1
                )
                select count(*) as zero_sale_days
                from daily_units
                where units = 0
                """,
                in_sql=no_calendar,
            ),
            Mistake(
                "You did start from the calendar, but its days without a sale got lost on the way: a condition on "
                "the sales (the product, is_revenue) in the `where` after a left join removes the rows the join "
                "filled with nulls, which are exactly the days without a sale (and an inner join keeps none of "
                "them). Put those conditions in the join's `on` (or in a CTE of the sales before the join), "
                "or count with `not exists`.",
                "select 0 as zero_sale_days",
                example=f"""
                with {LINES_OF_THE_SLOWEST_PRODUCT}
                select count(*) filter (where revenue_lines.order_date is null) as zero_sale_days
                from dim_date as calendar
                left join revenue_lines
                    on revenue_lines.order_date = calendar.date_key
                where calendar.date_key between '2024-01-01' and '2024-12-31'
                    and revenue_lines.product_id in (select product_id from slowest)
                """,
                in_sql=loses_the_calendars_empty_rows,
            ),
            Mistake(
                "You counted the days without a sale over the whole calendar (2022 to today); the exercise "
                "asks for the days of 2024 only.",
                f"""
                with {LINES_OF_THE_SLOWEST_PRODUCT},
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
                {_days_without_a_sale("whole_calendar", "all_revenue_lines")}
                """,
            ),
        ),
        hint="Count the days of dim_date in 2024 for which no revenue line of the product exists (`not exists`).",
        next_step="Two shapes work. `select count(*) from dim_date where date_key between ... and not exists "
        "(select 1 from fact_order_items where product_id = ... and is_revenue and order_date = dim_date.date_key)`; "
        "or a left join from dim_date to the product's revenue lines, with every condition on the lines in the "
        "join's `on`, counting the days where the joined line is null. "
        "Only the calendar can produce a day that has no sale.",
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
        next_step="Compute the two yearly totals first (a CTE grouped by year, or `sum(total_revenue) filter "
        "(where year = 2024)`), then the growth from those two numbers: a growth of totals, never an average of "
        "the monthly growth rates. Round the result with round(..., 2).",
        decimals=2,
    ),
)


# --------------------------------------------------------------------------- 07.3: build it

# One row per ISO week (Monday to Sunday) of the calendar up to the as-of day, with the revenue orders a
# campaign brought in, from the raw tables. The calendar starts on dim_date's first day, 2022-01-01;
# the as-of day is the models' default: the date of the last raw order.
WEEKLY_CAMPAIGN_ORDERS = """
    with

    as_of as (
        select max(order_date)::date as day from raw_data.orders
    ),

    weeks as (
        select distinct cast(date_trunc('week', calendar.date_key) as date) as week_start_date
        from as_of
        cross join generate_series(date '2022-01-01', as_of.day, interval '1 day') as calendar (date_key)
    ),

    campaign_weeks as (
        select
            cast(date_trunc('week', orders.order_date) as date) as week_start_date,
            count(*) as campaign_orders,
            sum(orders.total_amount) as campaign_revenue
        from raw_data.orders as orders
        cross join as_of
        where {status}
            and {campaigns}
            and orders.order_date::date <= as_of.day
        group by 1
    )

    select
        weeks.week_start_date,
        {orders} as campaign_orders,
        {revenue} as campaign_revenue
    from weeks
    left join campaign_weeks
        on campaign_weeks.week_start_date = weeks.week_start_date
"""


def _weekly_campaign_orders(
    *,
    status: str = REVENUE_STATUS,
    campaigns: str = "orders.campaign_id is not null",
    orders: str = "coalesce(campaign_weeks.campaign_orders, 0)",
    revenue: str = "coalesce(campaign_weeks.campaign_revenue, 0)",
) -> str:
    return WEEKLY_CAMPAIGN_ORDERS.format(status=status, campaigns=campaigns, orders=orders, revenue=revenue)


def _empty_weeks_count_rows(attempt: pd.DataFrame, expected: pd.DataFrame) -> bool:
    """The weeks without a campaign order count more than 0: count(*) after the left join counts the calendar's
    own rows (1 per week, or 7 when the days are joined)."""
    if not {"week_start_date", "campaign_orders"} <= set(attempt.columns):
        return False
    empty = expected.loc[expected["campaign_orders"] == 0, ["week_start_date"]].merge(attempt, on="week_start_date")
    return not empty.empty and bool((empty["campaign_orders"] > 0).all())


def _empty_weeks_missing(attempt: pd.DataFrame, expected: pd.DataFrame) -> bool:
    """Every week with a campaign order is there, and every week without one is missing."""
    if "week_start_date" not in attempt.columns:
        return False
    weeks = set(pd.to_datetime(attempt["week_start_date"]))
    busy = expected["campaign_orders"] > 0
    return weeks == set(pd.to_datetime(expected.loc[busy, "week_start_date"])) and bool((~busy).any())


def built_sql(model: str) -> Any:
    """sqlglot's tree of the SQL dbt compiled for a model at its last build (manifest.json), or None."""
    try:
        manifest = json.loads((load_settings().dbt_target_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    code = compiled_code((manifest.get("nodes") or {}).get(f"model.{PROJECT}.{model}") or {})
    return parse(code) if code else None


WEEKLY_MODEL = "weekly_campaign_orders"


def _weeks_missing_because(cause: Any) -> Any:
    """A `detect` for a built model: its empty weeks are missing, and its compiled SQL shows `cause`.

    (The build check judges `in_sql` on the model's SQL when it passes it to the diagnosis; until then
    this reads the SQL dbt compiled from the manifest, so the cause is told either way.)
    """

    def detect(attempt: pd.DataFrame, expected: pd.DataFrame) -> bool:
        tree = built_sql(WEEKLY_MODEL)
        return tree is not None and _empty_weeks_missing(attempt, expected) and bool(cause(tree))

    return detect


register(
    BuildExercise(
        id="07.3",
        title="Build it: a weekly series on the calendar spine",
        models=(
            ModelCheck(
                name=WEEKLY_MODEL,
                materialized="table",
                reads=("ref('dim_date')", "ref('fact_orders')"),
                tests=(
                    ("week_start_date", "unique"),
                    ("week_start_date", "not_null"),
                    ("campaign_orders", "not_null"),
                ),
                expected=_weekly_campaign_orders(),
                key=("week_start_date",),
                mistakes=(
                    Mistake(
                        "The weeks without a campaign order are missing: grouping the orders only produces weeks that "
                        "have one, so no week can show 0. Start from the calendar, {{ ref('dim_date') }}: one row per "
                        "week, then left join the weekly counts to it.",
                        detect=_weeks_missing_because(no_calendar),
                        in_sql=no_calendar,
                    ),
                    Mistake(
                        "The weeks without a campaign order are missing, although your model reads the calendar: the "
                        "weeks must be the left side of a LEFT join (an inner join keeps only the weeks with orders), "
                        "and a condition on the orders (campaign_id, is_revenue) in the `where` after that join "
                        "removes the weeks the join filled with nulls. Filter the orders before the join, in their "
                        "own CTE, and keep every week of the calendar.",
                        detect=_weeks_missing_because(keeps_no_empty_period),
                        in_sql=keeps_no_empty_period,
                    ),
                    Mistake(
                        "Your weeks without a campaign order have null, not 0: the left join fills them with nulls. "
                        "A week without an order had 0 orders and 0 revenue; say so in the model.",
                        _weekly_campaign_orders(
                            orders="campaign_weeks.campaign_orders", revenue="campaign_weeks.campaign_revenue"
                        ),
                    ),
                    Mistake(
                        "Your weeks without a campaign order do not show 0: after a left join, count(*) counts the "
                        "calendar's own rows too (one per week, or one per day if you join the days). Count a column "
                        "of the orders (count(order_id) ignores nulls), or count the orders before the join.",
                        detect=_empty_weeks_count_rows,
                    ),
                    Mistake(
                        "You counted every order, not only those a campaign brought in (campaign_id is set).",
                        _weekly_campaign_orders(campaigns="true"),
                    ),
                    Mistake(
                        "Your counts include cancelled and returned orders: only revenue orders count (is_revenue).",
                        _weekly_campaign_orders(status="true"),
                    ),
                ),
            ),
        ),
        build='run_dbt(["build", "--select", "weekly_campaign_orders"])',
        hint="Two CTEs: the weeks of the calendar (dim_date's week_start_date, up to {{ as_of_date() }}) and the "
        "revenue campaign orders counted per week; then the weeks LEFT JOIN the counts.",
        next_step="The calendar has one row per day: `select distinct week_start_date from dim_date where date_key <= "
        "{{ as_of_date() }}` is the spine. fact_orders' date_key joins dim_date, which gives each order its "
        "week_start_date; filter is_revenue and campaign_id in that CTE, before the join. In the final select, "
        "a week the join did not find gets 0 for both measures. orders_weekly does the same for all orders: "
        '`display.show_file("orders_weekly")`.',
    ),
)


# 07.4: the same monthly counts as a materialized view, which dbt refreshes and whose config changes it applies.
MONTHLY_STATUSES = "monthly_order_statuses"


def _monthly_statuses(count: str = "count(*)", where: str = "true") -> str:
    return f"""
        select date_trunc('month', date_key)::date as month_start_date, order_status, {count} as orders
        from {{target}}.fact_orders
        where {where}
        group by 1, 2
    """


register(
    BuildExercise(
        id="07.4",
        title="Build it: a materialized view of the orders by month and status",
        models=(
            ModelCheck(
                name=MONTHLY_STATUSES,
                materialized="materialized_view",
                reads=("ref('fact_orders')",),
                config=(("on_configuration_change", "apply"),),
                expected=_monthly_statuses(),
                key=("month_start_date", "order_status"),
                mistakes=(
                    Mistake(
                        "Your counts leave out the cancelled and returned orders: this view counts every order by "
                        "its status (that is its point: how many were cancelled each month), so keep them all.",
                        _monthly_statuses(where="is_revenue"),
                    ),
                ),
            ),
        ),
        build=f'run_dbt(["build", "--select", "{MONTHLY_STATUSES}"])',
        hint="One select on {{ ref('fact_orders') }}, grouped by the month of date_key and order_status, with "
        "`{{ config(materialized='materialized_view', on_configuration_change='apply') }}` on top.",
        next_step="date_trunc('month', date_key)::date is the month's first day; count(*) the orders of each "
        "(month, status). The YAML describes the model and its three columns. Build it twice: the second build "
        "refreshes the view (`refresh materialized view`) instead of re-creating it.",
    ),
)
