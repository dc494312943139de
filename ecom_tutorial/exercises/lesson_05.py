"""Exercises of lesson 05, incremental models: the high-water mark, the new day's revenue, and an
incremental model of your own, proven equal to its full refresh (05.3)."""

from __future__ import annotations

import pandas as pd

from ..mock_data import NEXT_DAY_BATCH_DATE
from . import Exercise, Mistake, compare, register
from .build_checks import BuildExercise, ModelCheck

# What counts as revenue, written out here so that the expected results do not reuse the models.
REVENUE_FILTER = "lower(trim(orders.status)) not in ('cancelled', 'returned')"

register(
    Exercise(
        id="05.1",
        title="The next high-water mark of fact_order_items",
        # the definition itself: the model's filter compares with max(source_loaded_at) of {{ this }}
        expected="select max(source_loaded_at) as high_water_mark from {target}.fact_order_items",
        mistakes=(
            Mistake(
                "That is the date of the last order. The model filters on the load timestamp "
                "(source_loaded_at), so that an order placed earlier but loaded later is not missed.",
                "select max(order_date) as high_water_mark from {target}.fact_order_items",
            ),
            Mistake(
                "That is the time of the last order (ordered_at). The model filters on when rows were "
                "loaded (source_loaded_at), not on when the customer ordered.",
                "select max(ordered_at) as high_water_mark from {target}.fact_order_items",
            ),
            Mistake(
                "min() gives the oldest load time; the filter keeps rows newer than the NEWEST row "
                "already in the table: max().",
                "select min(source_loaded_at) as high_water_mark from {target}.fact_order_items",
            ),
        ),
        hint="Read the `where` of the is_incremental() block: it compares with a max() over {{ this }}.",
        next_step="In the compiled SQL of section 1, `{{ this }}` became fact_order_items itself: the filter's "
        "subquery reads the table as it is now. Which column does it take the max() of? Run that subquery on "
        "its own and name the column high_water_mark.",
    ),
    Exercise(
        id="05.2",
        title=f"Revenue of the orders placed on {NEXT_DAY_BATCH_DATE}",
        expected=f"""
            select sum(items.line_total) as revenue
            from raw_data.order_items as items
            inner join raw_data.orders as orders
                on items.order_id = orders.order_id
            where cast(orders.order_date as date) = date '{NEXT_DAY_BATCH_DATE}'
                and {REVENUE_FILTER}
        """,
        reads=("fact_order_items",),  # "Using fact_order_items": the table the incremental run just filled
        mistakes=(
            Mistake(
                "You seem to have counted every line of the day, cancelled and returned orders too: "
                "keep only the lines where is_revenue is true.",
                f"""
                select sum(line_total) as revenue
                from {{target}}.fact_order_items
                where order_date = date '{NEXT_DAY_BATCH_DATE}'
                """,
            ),
            Mistake(
                "That is the revenue including sales tax (line_total_with_tax); the exercise asks for "
                "the amounts before tax: line_total.",
                f"""
                select sum(line_total_with_tax) as revenue
                from {{target}}.fact_order_items
                where order_date = date '{NEXT_DAY_BATCH_DATE}' and is_revenue
                """,
            ),
            Mistake(
                "line_total is already after the line's discount: subtracting discount_amount again "
                "counts the discount twice.",
                f"""
                select sum(line_total - discount_amount) as revenue
                from {{target}}.fact_order_items
                where order_date = date '{NEXT_DAY_BATCH_DATE}' and is_revenue
                """,
            ),
            Mistake(
                f"Your query found no line of {NEXT_DAY_BATCH_DATE}: did you run the cells above that apply "
                "the next-day batch and run fact_order_items incrementally?",
                # what the query returns before the batch: the sum of no line at all
                "select sum(line_total) as revenue from {target}.fact_order_items where false",
            ),
        ),
        hint="Filter fact_order_items on order_date and is_revenue, and sum line_total.",
        next_step="Three conditions make the answer: the lines of one day (`order_date = '...'`, a date column), "
        "only the lines that count as revenue (the boolean column is_revenue), and the amount before tax "
        "(line_total, which is already after the line's discount). One sum(), no group by.",
    ),
)


# --------------------------------------------------------------------------- 05.3, build it

MODEL = "product_weekly_sales"
KEY = ("week_start", "product_id")


def _weekly_sales(last_day: str = "") -> str:
    """Each week's (Monday to Sunday) units and revenue per product, from the raw revenue lines (up to
    and including `last_day`, if given: the table as the first, as-of build made it)."""
    up_to = f"and cast(orders.order_date as date) <= date '{last_day}'" if last_day else ""
    return f"""
        select
            cast(date_trunc('week', orders.order_date) as date) as week_start,
            items.product_id,
            sum(items.quantity) as units_sold,
            sum(items.line_total) as revenue
        from raw_data.order_items as items
        inner join raw_data.orders as orders
            on items.order_id = orders.order_id
        where {REVENUE_FILTER}
            {up_to}
        group by 1, 2
    """


def _day_before_the_batch() -> str:
    return str((pd.Timestamp(NEXT_DAY_BATCH_DATE) - pd.Timedelta(days=1)).date())


def _rows_repeated(attempt: pd.DataFrame, expected: pd.DataFrame) -> bool:
    """Some (week, product) appears twice: the incremental run appended rows the table already had."""
    return set(KEY) <= set(attempt.columns) and bool(attempt.duplicated(list(KEY)).any())


def _only_the_newest_week_differs(attempt: pd.DataFrame, expected: pd.DataFrame) -> bool:
    """Every week before the newest one is right, the newest one is not: the incremental run did not
    re-aggregate that week whole (it was still open when the table was first built)."""
    if not set(expected.columns) <= set(attempt.columns) or _rows_repeated(attempt, expected) or expected.empty:
        return False
    newest = expected["week_start"].max()
    older = compare(attempt[attempt["week_start"] < newest], expected[expected["week_start"] < newest], key=KEY)
    latest = compare(attempt[attempt["week_start"] >= newest], expected[expected["week_start"] >= newest], key=KEY)
    return older.ok and not latest.ok


register(
    BuildExercise(
        id="05.3",
        title="Build it: an incremental model proven equal to its full refresh",
        models=(
            ModelCheck(
                name=MODEL,
                materialized="incremental",
                reads=("ref('fact_order_items')",),
                config=(("unique_key", list(KEY)),),
                incremental_run=True,
                tests=(("week_start", "not_null"), ("product_id", "not_null"), ("", "unique_combination_of_columns")),
                # what a full refresh builds, computed from the raw data: the incremental table must equal it
                expected=_weekly_sales(),
                key=KEY,
                mistakes=(
                    Mistake(
                        "Your incremental run added a second row for weeks and products the table already had. "
                        "Without a unique_key, dbt appends whatever the filter selects; with one, it first deletes "
                        "the rows whose key comes back. The week still open at the first build comes back: give "
                        "the model its unique_key (both columns) and build it again, from the first build on.",
                        detect=_rows_repeated,
                    ),
                    Mistake(
                        "The next-day batch's sales are missing from the newest week: your last build left that "
                        "week as the first build made it. Either its filter keeps only what is strictly after the "
                        "mark (`>`), which skips the week already in the table although its Wednesday is new, or "
                        "the second build still ran with the first one's --vars, as of the day before the batch.",
                        _weekly_sales(_day_before_the_batch()),
                    ),
                    Mistake(
                        "Every week is right except the newest one: your incremental run did not re-aggregate that "
                        "week whole. It was still open at the first build (its Monday and Tuesday were in), and the "
                        "batch's Wednesday belongs to the same rows: the filter must keep every line of that week, "
                        "from its first day on (`>=`, not `>`), "
                        "so that unique_key replaces its rows with complete ones.",
                        detect=_only_the_newest_week_differs,
                    ),
                    Mistake(
                        "Your units and revenue include cancelled and returned orders: "
                        "keep the lines where is_revenue is true.",
                        _weekly_sales().replace(f"where {REVENUE_FILTER}", "where true"),
                    ),
                ),
            ),
        ),
        build=f'run_dbt(["build", "--select", "{MODEL}"])',
        hint="Your last build must be the second, incremental one, and its is_incremental() filter decides which "
        "lines it re-aggregates: "
        "which ones must it keep so that the newest week already in the table comes out complete?",
        next_step="On an incremental run, `{{ this }}` is your table as the first build left it: its newest "
        "week_start is the Monday of a week that was still open. Filter the lines (not the weeks) on order_date, "
        "from that Monday on, with `>=`: those weeks are re-aggregated whole, and `unique_key=['week_start', "
        "'product_id']` makes dbt delete their old rows before it inserts the new ones. Compare the compiled SQL "
        "of both builds under target/compiled/: the filter only appears in the second.",
    ),
)


# 05.4: the same kind of job as a microbatch model: dbt splits it by month of order_date and upserts each month.
MICROBATCH = "daily_product_sales"
DAILY_KEY = ("order_date", "product_id")


def _daily_sales(where: str = "is_revenue") -> str:
    return f"""
        select order_date, product_id, sum(quantity) as units_sold, sum(line_total) as revenue
        from {{target}}.fact_order_items
        where {where}
        group by 1, 2
    """


register(
    BuildExercise(
        id="05.4",
        title="Build it: a microbatch model, backfilled by month",
        models=(
            ModelCheck(
                name=MICROBATCH,
                materialized="incremental",
                reads=("ref('fact_order_items')",),
                config=(
                    ("incremental_strategy", "microbatch"),
                    ("event_time", "order_date"),
                    ("batch_size", "month"),
                    ("unique_key", list(DAILY_KEY)),
                ),
                expected=_daily_sales(),
                key=DAILY_KEY,
                mistakes=(
                    Mistake(
                        "Your units and revenue include cancelled and returned orders: keep the lines where "
                        "is_revenue is true.",
                        _daily_sales("true"),
                    ),
                ),
            ),
        ),
        build=f'run_dbt(["build", "--select", "{MICROBATCH}"])',
        hint="A plain select of the day's units and revenue per product, with no is_incremental() block: the "
        "config (incremental_strategy='microbatch', event_time, batch_size, begin, unique_key) makes dbt run it "
        "month by month.",
        next_step="config(materialized='incremental', incremental_strategy='microbatch', event_time='order_date', "
        "batch_size='month', begin='2022-01-01', lookback=1, unique_key=['order_date', 'product_id']); the select "
        "groups fact_order_items' revenue lines by order_date and product_id. dbt adds the month's filter itself, "
        "because fact_order_items declares its event_time.",
    ),
)
