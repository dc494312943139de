"""The "build it" and "debug it" exercises of lessons 04 and 07 (04.3, 04.4, 07.3, 07.4): each accepts its solution,
built with dbt in a copy of the project, and rejects a wrong build of each kind with feedback that names the
cause and never shows the solution."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import build_in_the_workspace, solution_changed, verdict_of

import ecom_tutorial
from ecom_tutorial import workspace
from ecom_tutorial.exercises import check
from ecom_tutorial.exercises.lesson_07 import (
    filters_the_left_joined_side,
    keeps_no_empty_period,
    reads_the_calendar,
)
from ecom_tutorial.exercises.sql_answers import parse
from ecom_tutorial.solutions import solution_files, starting_files

Files = dict[str, str]
Wrong = dict[str, tuple[Callable[[], Files], list[str]]]
SELECTIONS = {
    "04.3": ["category_price_ranks"],
    "04.4": ["product_sales_last_90_days"],
    "07.3": ["weekly_campaign_orders"],
    "07.4": ["monthly_order_statuses"],
}


def build(exercise_id: str, files: Files) -> ecom_tutorial.DbtResult:
    """An empty workspace, then these files, then `dbt build` of the exercise's models (a failure is kept)."""
    return build_in_the_workspace(files, SELECTIONS[exercise_id])


def checked(exercise_id: str, files: Files, capsys: pytest.CaptureFixture[str]) -> tuple[bool, str]:
    build(exercise_id, files)
    return verdict_of(exercise_id, capsys)


def replaced(exercise_id: str, file_name: str, text: str) -> Files:
    """The solution with one of its files replaced by `text`."""
    files = solution_files(exercise_id)
    (path,) = [path for path in files if path.endswith(file_name)]
    return {**files, path: text}


def assert_no_solution_in(exercise_id: str, feedback: str) -> None:
    """No line of the solution's SQL that says something (30 characters or more; not a comment, not the
    config() the exercise's text gives) is in the feedback."""
    for path, text in solution_files(exercise_id).items():
        if path.endswith(".sql"):
            for line in text.splitlines():
                if len(line.strip()) >= 30 and not line.strip().startswith(("--", "{{ config(")):
                    assert line.strip() not in feedback, f"the feedback shows the solution's line {line.strip()!r}"


def assert_rejected(exercise_id: str, files: Files, messages: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    verdict, out = checked(exercise_id, files, capsys)
    assert not verdict, out
    for message in messages:
        assert message in out, out
    assert_no_solution_in(exercise_id, out)
    return out


@pytest.mark.parametrize("exercise_id", sorted(SELECTIONS))
def test_the_solution_passes(project: Path, exercise_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    verdict, out = checked(exercise_id, solution_files(exercise_id), capsys)
    assert verdict, out
    assert "✅ Correct" in out


def test_the_solutions_parse_without_a_warning(project: Path) -> None:
    for item in workspace.files():
        workspace.path(item).unlink()
    for exercise_id in SELECTIONS:
        for path, text in solution_files(exercise_id).items():
            workspace.write(path, text)
    result = ecom_tutorial.run_dbt(
        ["parse", "--no-partial-parse", "--show-all-deprecations"], progress=False, check=False
    )
    assert result.success, ecom_tutorial.runner.failure_of(result)
    assert not result.warnings, result.warnings


# --------------------------------------------------------------------------- 04.3

RANKS = "category_price_ranks"
DENSE_RANK = "dense_rank() over (partition by category order by list_price desc)"
WRONG_RANKS: Wrong = {
    "materialization": (
        lambda: solution_changed("04.3", ".sql", ("{{ config(materialized='table') }}\n", "")),
        [f"{RANKS} is materialized as `view`; the exercise asks for `table`"],
    ),
    "missing generic test": (
        lambda: solution_changed(
            "04.3",
            ".yml",
            ("          - ecom_utils.accepted_range:\n              arguments:\n                min_value: 1\n", ""),
        ),
        [f"{RANKS} lacks the test(s) accepted_range on category_price_rank"],
    ),
    "hard-coded relation": (
        lambda: solution_changed(
            "04.3", ".sql", ("{{ ref('stg_ecommerce__products') }}", "analytics_dev_staging.stg_ecommerce__products")
        ),
        [
            "(line 8: analytics_dev_staging.stg_ecommerce__products)",
            "does not read {{ ref('stg_ecommerce__products') }}",
        ],
    ),
    "rank() instead of dense_rank()": (
        lambda: solution_changed(
            "04.3", ".sql", (DENSE_RANK, "rank() over (partition by category order by list_price desc)")
        ),
        [
            f"{RANKS}: Column category_price_rank differs",
            "💡 After a tie your ranks skip a number (1, 2, 2, 4): that is rank()",
        ],
    ),
    "row_number() instead of dense_rank()": (
        lambda: solution_changed(
            "04.3", ".sql", (DENSE_RANK, "row_number() over (partition by category order by list_price desc)")
        ),
        ["Column category_price_rank differs", "💡 Products with the same price got different ranks: row_number()"],
    ),
    "a window without partition by": (
        lambda: solution_changed("04.3", ".sql", (DENSE_RANK, "dense_rank() over (order by list_price desc)")),
        ["Column category_price_rank differs", "💡 Your ranks run over the whole catalogue, not within each category"],
    ),
    "the average of the whole catalogue": (
        lambda: solution_changed(
            "04.3", ".sql", ("avg(list_price) over (partition by category)", "avg(list_price) over ()")
        ),
        [
            "Column price_vs_category_avg differs",
            "💡 price_vs_category_avg compares each price with the average of the WHOLE catalogue",
        ],
    ),
}


@pytest.mark.parametrize("kind", list(WRONG_RANKS))
def test_a_wrong_window_mart_is_rejected_with_its_cause(
    project: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    files, messages = WRONG_RANKS[kind]
    assert_rejected("04.3", files(), messages, capsys)


# --------------------------------------------------------------------------- 04.4

SALES = "product_sales_last_90_days"
NOT_NULL_UNITS = "        data_tests:\n          - not_null\n      - name: revenue"


def test_the_failing_data_test_is_dbts_own_message_and_the_unchanged_start_is_not_attempted(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = build("04.4", starting_files("04.4"))
    error = ecom_tutorial.runner.failure_of(result)
    assert error is not None, "the starting model must fail its data tests"
    assert f"not_null_{SALES}_units_sold: Got" in str(error) and f"not_null_{SALES}_revenue: Got" in str(error)
    capsys.readouterr()
    assert not check("04.4", None)
    assert "⏳ Not attempted yet: fix the file as dbt's message says" in capsys.readouterr().out


def start_with(file_name: str, *replacements: tuple[str, str]) -> Callable[[], Files]:
    """The starting files with some replacements in one of them: a learner's attempt at a fix."""

    def files() -> Files:
        start = starting_files("04.4")
        (path,) = [path for path in start if path.endswith(file_name)]
        text = start[path]
        for old, new in replacements:
            assert old in text, f"{old!r} is no longer in the starting {file_name}: update this test"
            text = text.replace(old, new)
        return {**start, path: text}

    return files


WRONG_FIXES: Wrong = {
    "the failing tests deleted": (
        start_with(
            ".yml", (NOT_NULL_UNITS, "      - name: revenue"), ("        data_tests:\n          - not_null\n", "")
        ),
        [
            f"{SALES} lacks the test(s) not_null on units_sold, not_null on revenue",
            "Column units_sold differs",
            "💡 The products that sold nothing still have null units and revenue: the test was right",
        ],
    ),
    "the failing tests made warnings": (
        start_with(
            ".yml",
            (
                NOT_NULL_UNITS,
                "        data_tests:\n          - not_null:\n              config:\n                severity: "
                "warn\n      - name: revenue",
            ),
        ),
        [f"The test not_null_{SALES}_units_sold warns"],
    ),
    "the unsold products dropped": (
        start_with(".sql", ("    left join recent_sales", "    inner join recent_sales")),
        ["Rows missing from your result", "💡 Products that sold nothing in the 90 days are missing"],
    ),
}


@pytest.mark.parametrize("kind", list(WRONG_FIXES))
def test_a_fix_that_weakens_the_test_or_drops_the_rows_is_rejected(
    project: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    files, messages = WRONG_FIXES[kind]
    assert_rejected("04.4", files(), messages, capsys)


# --------------------------------------------------------------------------- 07.3

WEEKLY = "weekly_campaign_orders"
# The typical model without a spine: the orders grouped by week, so only weeks with an order exist.
FACTS_ONLY = """
{{ config(materialized='table') }}

with

orders as (
    select * from {{ ref('fact_orders') }}
),

final as (
    select
        cast(date_trunc('week', date_key) as date) as week_start_date,
        count(*) as campaign_orders,
        sum(recognized_revenue) as campaign_revenue

    from orders
    where is_revenue and campaign_id is not null
    group by 1
)

select * from final
"""
# From the calendar, but the conditions on the orders sit in the `where` after the left joins.
FILTER_AFTER_THE_JOIN = """
{{ config(materialized='table') }}

with

calendar as (
    select * from {{ ref('dim_date') }}
),

orders as (
    select * from {{ ref('fact_orders') }}
),

final as (
    select
        calendar.week_start_date,
        count(orders.order_id) as campaign_orders,
        coalesce(sum(orders.recognized_revenue), 0) as campaign_revenue

    from calendar
    left join orders
        on orders.date_key = calendar.date_key
    where calendar.date_key <= {{ as_of_date() }}
        and orders.is_revenue
        and orders.campaign_id is not null
    group by 1
)

select * from final
"""
WRONG_SERIES: Wrong = {
    "materialization": (
        lambda: solution_changed("07.3", ".sql", ("{{ config(materialized='table') }}\n", "")),
        [f"{WEEKLY} is materialized as `view`; the exercise asks for `table`"],
    ),
    "missing test": (
        lambda: solution_changed(
            "07.3", ".yml", ("        data_tests:\n          - unique\n", "        data_tests:\n")
        ),
        [f"{WEEKLY} lacks the test(s) unique on week_start_date"],
    ),
    "hard-coded relation": (
        lambda: solution_changed("07.3", ".sql", ("{{ ref('dim_date') }}", "analytics_dev.dim_date")),
        ["(line 9: analytics_dev.dim_date)", "does not read {{ ref('dim_date') }}"],
    ),
    "the facts grouped without a spine": (
        lambda: replaced("07.3", f"{WEEKLY}.sql", FACTS_ONLY),
        [
            "does not read {{ ref('dim_date') }}",
            "Rows missing from your result",
            "💡 The weeks without a campaign order are missing: grouping the orders only produces weeks that have one",
        ],
    ),
    "a filter after the left join": (
        lambda: replaced("07.3", f"{WEEKLY}.sql", FILTER_AFTER_THE_JOIN),
        [
            "Rows missing from your result",
            "💡 The weeks without a campaign order are missing, although your model reads the calendar",
        ],
    ),
    "no coalesce": (
        lambda: solution_changed(
            "07.3",
            ".sql",
            ("coalesce(campaign_weeks.campaign_orders, 0)", "campaign_weeks.campaign_orders"),
            ("coalesce(campaign_weeks.campaign_revenue, 0)", "campaign_weeks.campaign_revenue"),
        ),
        [f"The test not_null_{WEEKLY}_campaign_orders fails"],
    ),
    "count(*) after the left join": (
        lambda: replaced(
            "07.3",
            f"{WEEKLY}.sql",
            FILTER_AFTER_THE_JOIN.replace("count(orders.order_id)", "count(*)")
            .replace(
                "    where calendar.date_key <= {{ as_of_date() }}\n        and orders.is_revenue\n        and "
                "orders.campaign_id is not null\n",
                "    where calendar.date_key <= {{ as_of_date() }}\n",
            )
            .replace(
                "on orders.date_key = calendar.date_key",
                "on orders.date_key = calendar.date_key\n        and orders.is_revenue and orders.campaign_id is "
                "not null",
            ),
        ),
        [
            "Column campaign_orders differs",
            "💡 Your weeks without a campaign order do not show 0: after a left join, count(*)",
        ],
    ),
}


@pytest.mark.parametrize("kind", list(WRONG_SERIES))
def test_a_wrong_weekly_series_is_rejected_with_its_cause(
    project: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    files, messages = WRONG_SERIES[kind]
    assert_rejected("07.3", files(), messages, capsys)


def test_the_causes_are_recognised_in_the_sql() -> None:
    """07.1's and 07.3's mistakes are told on their cause: whether the answer starts from the date spine, and
    whether it then filters the left-joined facts in its `where`."""

    def tree(sql: str) -> object:
        parsed = parse(sql)
        assert parsed is not None, sql
        return parsed

    assert reads_the_calendar(tree("select count(*) from dim_date where date_key < '2024-02-01'"))
    assert reads_the_calendar(tree('select * from "ecommerce_dw"."analytics_dev"."dim_date" as calendar'))
    assert reads_the_calendar(
        tree("select day from generate_series(date '2024-01-01', date '2024-12-31', interval '1 day') as day")
    )
    assert not reads_the_calendar(tree("select order_date, count(*) from fact_order_items group by 1"))
    assert not reads_the_calendar(
        tree("with dim_date as (select 1 as x) select x from dim_date")
    )  # a CTE is no calendar

    joined = (
        "select c.date_key, count(i.order_id) from dim_date as c "
        "left join fact_order_items as i on i.order_date = c.date_key"
    )
    assert filters_the_left_joined_side(tree(f"{joined} where i.is_revenue group by 1"))
    assert not filters_the_left_joined_side(tree(f"{joined} and i.is_revenue where c.year = 2024 group by 1"))
    assert not filters_the_left_joined_side(tree(f"{joined} where i.order_id is null group by 1"))  # the days without
    assert keeps_no_empty_period(
        tree("select c.week_start_date, count(*) from fact_orders as o join dim_date as c using (date_key) group by 1")
    )


def test_07_4_wants_a_materialized_view_and_every_status(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    as_a_table = replaced(
        "07.4",
        "monthly_order_statuses.sql",
        solution_files("07.4")["models/workspace/monthly_order_statuses.sql"].replace(
            "materialized='materialized_view', on_configuration_change='apply'", "materialized='table'"
        ),
    )
    assert_rejected("07.4", as_a_table, ["materialized as `table`", "materialized='materialized_view'"], capsys)
    revenue_only = solution_changed(
        "07.4", "monthly_order_statuses.sql", ("    from orders\n", "    from orders\n    where is_revenue\n")
    )
    assert_rejected("07.4", revenue_only, ["leave out the cancelled and returned orders"], capsys)
