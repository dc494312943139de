"""The marts on one build: time series, marketing attribution, hooks, contracts, analyses, docs.

One real database, one `dbt build`, asserted from many angles (build once, assert a lot):
the fixture loads the mock data into its own database on 127.0.0.1:5432 (server mode: the Docker
users' path), builds the project in-process with ecom_tutorial.run_dbt, generates the docs and
compiles the analyses. Every mart figure checked here is recomputed independently with
pandas/Python from the raw tables and the seed CSV files.
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg2.errors
import pytest
from conftest import (
    REPO,
    assert_green_without_warnings,
    dbt_problems,
    dbt_statuses,
    frame,
    last_order_date,
    run_dbt_in,
    server_database,
)

import ecom_tutorial
from ecom_tutorial import DbtResult

PROJECT = REPO / "dbt_project"
DATABASE = "ecom_test_part2"
SCHEMA = "analytics_dev"
PROJECT_NAME = "ecom_dbt_tutorial"
REVENUE_EXCLUDED = {"cancelled", "returned"}
CALENDAR_START = date(2022, 1, 1)
MY_MARTS = ("dim_date", "fact_orders", "orders_daily", "orders_weekly", "orders_monthly", "marketing_attribution")
ANALYSES = ("top_customers_by_ltv", "product_sales_trends", "campaign_roi_analysis")
STAGING_MODELS = (
    "stg_ecommerce__customers",
    "stg_ecommerce__orders",
    "stg_ecommerce__order_items",
    "stg_ecommerce__products",
    "stg_ecommerce__campaigns",
)

pytestmark = pytest.mark.slow  # dbt builds (see conftest.SLOW_FIXTURES)


@dataclass
class Warehouse:
    """Everything the tests look at, collected once by the module fixture."""

    work: Path
    as_of: date
    build: DbtResult
    docs: DbtResult
    analyses: DbtResult
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    def target(self, run: str) -> Path:
        """The target folder of the fixture's dbt run `run` ("build", "docs", "analyses")."""
        return self.work / run / "target"


# --- helpers ------------------------------------------------------------------------------------


def _node_result(run: DbtResult, name: str) -> Any:
    """dbt's own result of node `name` (it has the failing row count of a test)."""
    (found,) = [r for r in run.raw.results if r.node.name == name]
    return found


def _f(values: Any) -> np.ndarray:
    """Decimals (or None) to floats (NaN), for tolerant comparisons."""
    return pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").astype(float).to_numpy()


def _growth(current: Any, previous: Any) -> np.ndarray:
    """100 * (current - previous) / previous, NaN where previous is missing or 0, rounded like SQL."""
    current, previous = _f(current), _f(previous)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where((previous == 0) | np.isnan(previous), np.nan, 100.0 * (current - previous) / previous)
    return np.round(growth, 2)


def _assert_close(actual: Any, expected: Any, atol: float = 0.006, what: str = "") -> None:
    np.testing.assert_allclose(_f(actual), _f(expected), atol=atol, rtol=0, equal_nan=True, err_msg=what)


def _reference_frames(conn: Any, as_of: date) -> dict[str, pd.DataFrame]:
    """The raw data, and the revenue orders with their units, as the business defines them."""
    orders = frame(conn, "select * from raw_data.orders")
    items = frame(conn, "select * from raw_data.order_items")
    orders["day"] = pd.to_datetime(orders["order_date"]).dt.normalize()
    units = items.groupby("order_id")["quantity"].sum().rename("units")
    orders = orders.join(units, on="order_id")
    revenue = orders[(~orders["status"].isin(REVENUE_EXCLUDED)) & (orders["day"] <= pd.Timestamp(as_of))].copy()
    revenue["amount"] = _f(revenue["total_amount"])
    return {"raw_orders": orders, "raw_items": items, "revenue_orders": revenue}


# --- the fixture ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wh(local_pg: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    work = tmp_path_factory.mktemp("dbt_part2")
    with server_database(DATABASE, local_pg) as conn:
        # dbt derives as_of_date from the data (the last raw order date); the tests check it did
        as_of = last_order_date(conn)
        deps = run_dbt_in(work / "deps", ["deps"])
        assert deps.success, dbt_problems(deps)
        build = run_dbt_in(work / "build", ["build"])
        docs = run_dbt_in(work / "docs", ["docs", "generate"])
        analyses = run_dbt_in(work / "analyses", ["compile", "--select", "resource_type:analysis"])

        frames = _reference_frames(conn, as_of)
        for model in (*MY_MARTS, "dim_customers", "customer_analytics", "product_performance"):
            frames[model] = frame(conn, f"select * from {SCHEMA}.{model}")
        yield Warehouse(work, as_of, build, docs, analyses, frames)


@pytest.fixture
def conn(wh: Warehouse) -> Iterator[Any]:
    connection = ecom_tutorial.connect(autocommit=True)
    yield connection
    connection.close()


# --- the build ------------------------------------------------------------------------------------


def test_build_is_green_without_warnings_and_has_enough_tests(wh: Warehouse) -> None:
    build = wh.build
    assert_green_without_warnings(build)
    data_tests, unit_tests = dbt_statuses(build, "test"), dbt_statuses(build, "unit_test")
    print(
        f"\ndbt build at scale 1: {len(data_tests)} data tests, {len(unit_tests)} unit tests, "
        f"{len(dbt_statuses(build, 'model'))} models"
    )
    assert len(data_tests) >= 84, "the specification asks for at least 84 data tests"
    for name in ("assert_no_future_order_dates", "assert_campaign_dates_valid", "assert_no_negative_revenue"):
        assert data_tests[name] == "pass"
    for name in (
        "orders_daily_compares_with_the_same_calendar_day_last_year",
        "marketing_attribution_credits_the_first_revenue_order",
        "orders_monthly_growth_and_distinct_customers",
    ):
        assert unit_tests[name] == "pass"
    for model in MY_MARTS:
        assert dbt_statuses(build, "model")[model] == "success"


def test_project_parses_without_deprecations(wh: Warehouse) -> None:
    parse = run_dbt_in(wh.work / "parse", ["parse", "--no-partial-parse", "--show-all-deprecations"])
    assert_green_without_warnings(parse)


# --- dim_date -------------------------------------------------------------------------------------


def test_dim_date_is_a_complete_iso_calendar(wh: Warehouse) -> None:
    dim = wh.frames["dim_date"].sort_values("date_key").reset_index(drop=True)
    last = max(wh.as_of, date(2024, 12, 31))
    days = [CALENDAR_START + timedelta(days=n) for n in range((last - CALENDAR_START).days + 1)]
    assert list(dim["date_key"]) == days, "one row per day, no gaps, from 2022-01-01 to max(as_of_date, 2024-12-31)"

    with (PROJECT / "seeds" / "us_holidays.csv").open() as handle:
        holidays = {date.fromisoformat(row["holiday_date"]): row["holiday_name"] for row in csv.DictReader(handle)}
    expected = pd.DataFrame(
        {
            "day_of_week": [d.isoweekday() for d in days],
            "day_name": [calendar.day_name[d.weekday()] for d in days],
            "day_of_month": [d.day for d in days],
            "day_of_year": [d.timetuple().tm_yday for d in days],
            "week_of_year": [d.isocalendar()[1] for d in days],
            "iso_year": [d.isocalendar()[0] for d in days],
            "week_start_date": [d - timedelta(days=d.weekday()) for d in days],
            "month": [d.month for d in days],
            "month_name": [calendar.month_name[d.month] for d in days],
            "month_start_date": [d.replace(day=1) for d in days],
            "quarter": [(d.month - 1) // 3 + 1 for d in days],
            "year": [d.year for d in days],
            "is_weekend": [d.isoweekday() >= 6 for d in days],
            "is_holiday": [d in holidays for d in days],
            "holiday_name": [holidays.get(d) for d in days],
        }
    )
    pd.testing.assert_frame_equal(dim[expected.columns], expected, check_dtype=False)
    # spot checks a reader can verify on a calendar
    by_day = dim.set_index("date_key")
    assert by_day.loc[date(2022, 1, 1), ["iso_year", "week_of_year"]].tolist() == [2021, 52]
    assert by_day.loc[date(2024, 11, 28), "holiday_name"] == "Thanksgiving Day"
    assert by_day.loc[date(2024, 2, 29), "day_of_year"] == 60


# --- fact_orders ----------------------------------------------------------------------------------


def test_fact_orders_has_one_row_per_order_up_to_as_of_date(wh: Warehouse) -> None:
    fact = wh.frames["fact_orders"]
    raw = wh.frames["raw_orders"]
    expected = raw[raw["day"] <= pd.Timestamp(wh.as_of)]
    assert fact["order_id"].is_unique
    assert set(fact["order_id"]) == set(expected["order_id"])

    merged = fact.merge(expected, on="order_id", suffixes=("", "_raw"))
    # customer_key: the same md5 of the natural key as dim_customers, computed here in Python
    md5 = merged["customer_id"].map(lambda i: hashlib.md5(str(i).encode()).hexdigest())
    assert (merged["customer_key"] == md5).all()
    assert set(fact["customer_key"]) <= set(wh.frames["dim_customers"]["customer_key"])
    assert (merged["date_key"] == merged["day"].dt.date).all()
    assert (merged["units"] == merged["units_raw"]).all()
    assert (merged["is_revenue"] == ~merged["status"].isin(REVENUE_EXCLUDED)).all()
    # recognized revenue sums to exactly the business definition of revenue
    assert sum(fact["recognized_revenue"]) == sum(wh.frames["revenue_orders"]["total_amount"])


# --- time series ----------------------------------------------------------------------------------


def _expected_daily(wh: Warehouse) -> pd.DataFrame:
    revenue = wh.frames["revenue_orders"]
    daily = revenue.groupby("day").agg(
        total_orders=("order_id", "size"),
        total_revenue=("amount", "sum"),
        total_units=("units", "sum"),
        unique_customers=("customer_id", "nunique"),
    )
    days = pd.date_range(CALENDAR_START, wh.as_of, freq="D")
    daily = daily.reindex(days, fill_value=0)
    daily.index.name = "day"
    daily["cumulative_revenue_ytd"] = daily.groupby(daily.index.year)["total_revenue"].cumsum()
    # same calendar day last year; pandas' DateOffset maps 2024-02-29 to 2023-02-28, like PostgreSQL
    last_year = [day - pd.DateOffset(years=1) for day in daily.index]
    daily["revenue_same_day_last_year"] = daily["total_revenue"].reindex(last_year).to_numpy()
    daily["yoy_growth_pct"] = _growth(daily["total_revenue"], daily["revenue_same_day_last_year"])
    return daily.reset_index()


def test_orders_daily_matches_an_independent_computation(wh: Warehouse) -> None:
    actual = wh.frames["orders_daily"].sort_values("date_key").reset_index(drop=True)
    expected = _expected_daily(wh)
    assert list(actual["date_key"]) == list(expected["day"].dt.date), "every day, zero-sale days included"
    for column in ("total_orders", "total_units", "unique_customers"):
        assert list(actual[column]) == list(expected[column]), column
    for column in ("total_revenue", "cumulative_revenue_ytd", "revenue_same_day_last_year", "yoy_growth_pct"):
        _assert_close(actual[column], expected[column], what=column)
    # the leap day is compared with 28 February of the year before
    by_day = actual.set_index("date_key")
    assert by_day.loc[date(2024, 2, 29), "revenue_same_day_last_year"] == by_day.loc[date(2023, 2, 28), "total_revenue"]


def test_orders_weekly_matches_an_independent_computation(wh: Warehouse) -> None:
    revenue = wh.frames["revenue_orders"]
    week_start = revenue["day"] - pd.to_timedelta(revenue["day"].dt.day_of_week, unit="D")
    weekly = revenue.groupby(week_start).agg(
        total_orders=("order_id", "size"),
        total_revenue=("amount", "sum"),
        total_units=("units", "sum"),
        unique_customers=("customer_id", "nunique"),  # distinct over the week, not a sum of days
    )
    days = pd.date_range(CALENDAR_START, wh.as_of, freq="D")
    starts = days - pd.to_timedelta(days.day_of_week, unit="D")
    weekly = weekly.reindex(starts.unique(), fill_value=0)
    weekly["days_in_week"] = pd.Series(starts).value_counts().reindex(weekly.index).to_numpy()
    weekly["wow_growth_pct"] = _growth(weekly["total_revenue"], weekly["total_revenue"].shift(1))

    actual = wh.frames["orders_weekly"].sort_values("week_start_date").reset_index(drop=True)
    assert list(actual["week_start_date"]) == [d.date() for d in weekly.index]
    assert list(actual["week_end_date"]) == [(d + timedelta(days=6)).date() for d in weekly.index]
    assert list(actual["week_number"]) == [d.isocalendar()[1] for d in weekly.index]
    assert list(actual["iso_year"]) == [d.isocalendar()[0] for d in weekly.index]
    for column in ("total_orders", "total_units", "unique_customers", "days_in_week"):
        assert list(actual[column]) == list(weekly[column]), column
    for column in ("total_revenue", "wow_growth_pct"):
        _assert_close(actual[column], weekly[column], what=column)
    assert actual["days_in_week"].iloc[0] == 2, "2022-01-01 is a Saturday: the first week holds two days"


def test_orders_monthly_matches_an_independent_computation(wh: Warehouse) -> None:
    revenue = wh.frames["revenue_orders"]
    monthly = revenue.groupby(revenue["day"].dt.to_period("M")).agg(
        total_orders=("order_id", "size"),
        total_revenue=("amount", "sum"),
        unique_customers=("customer_id", "nunique"),
    )
    months = pd.period_range(CALENDAR_START, wh.as_of, freq="M")
    monthly = monthly.reindex(months, fill_value=0)
    monthly["mom_growth_pct"] = _growth(monthly["total_revenue"], monthly["total_revenue"].shift(1))
    monthly["yoy_growth_pct"] = _growth(monthly["total_revenue"], monthly["total_revenue"].shift(12))

    actual = wh.frames["orders_monthly"].sort_values("month_start_date").reset_index(drop=True)
    assert list(actual["month_start_date"]) == [p.start_time.date() for p in months]
    assert list(actual["month"]) == [p.month for p in months]
    assert list(actual["year"]) == [p.year for p in months]
    assert list(actual["month_name"]) == [calendar.month_name[p.month] for p in months]
    for column in ("total_orders", "unique_customers"):
        assert list(actual[column]) == list(monthly[column]), column
    for column in ("total_revenue", "mom_growth_pct", "yoy_growth_pct"):
        _assert_close(actual[column], monthly[column], what=column)
    # the three grains tell the same story
    total = sum(wh.frames["orders_daily"]["total_revenue"])
    assert sum(actual["total_revenue"]) == total == sum(wh.frames["orders_weekly"]["total_revenue"])


# --- marketing attribution ------------------------------------------------------------------------


def test_marketing_attribution_matches_first_touch_recomputed(wh: Warehouse) -> None:
    with (PROJECT / "seeds" / "campaign_metadata.csv").open() as handle:
        campaigns = pd.DataFrame(list(csv.DictReader(handle)))
    campaigns["campaign_id"] = campaigns["campaign_id"].astype(int)
    # the seed's `budget` is the mart's campaign_budget
    campaigns["campaign_budget"] = campaigns.pop("budget").astype(float)

    revenue = wh.frames["revenue_orders"].sort_values(["order_date", "order_id"])
    first = revenue.drop_duplicates("customer_id", keep="first")
    acquired = first.dropna(subset=["campaign_id"])[["customer_id", "campaign_id"]]
    attributed = revenue.drop(columns="campaign_id").merge(acquired, on="customer_id")
    per_campaign = attributed.groupby("campaign_id").agg(
        customers_acquired=("customer_id", "nunique"),
        total_orders=("order_id", "size"),
        total_revenue=("amount", "sum"),
    )
    tagged = (
        revenue.dropna(subset=["campaign_id"])
        .groupby("campaign_id")
        .agg(campaign_tagged_orders=("order_id", "size"), campaign_tagged_revenue=("amount", "sum"))
    )
    expected = campaigns.set_index("campaign_id").join(per_campaign).join(tagged).fillna(0).sort_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        acquired_or_nan = expected["customers_acquired"].replace(0, np.nan)
        expected["cost_per_acquisition"] = np.round(expected["campaign_budget"] / acquired_or_nan, 2)
    expected["return_on_investment"] = _growth(expected["total_revenue"], expected["campaign_budget"])
    expected["is_active"] = [
        date.fromisoformat(start) <= wh.as_of <= date.fromisoformat(end)
        for start, end in zip(expected["start_date"], expected["end_date"], strict=False)
    ]

    actual = wh.frames["marketing_attribution"].set_index("campaign_id").sort_index()
    assert list(actual.index) == list(expected.index), "one row per campaign of the seed"
    for column in ("customers_acquired", "total_orders", "campaign_tagged_orders", "is_active"):
        assert list(actual[column]) == list(expected[column]), column
    for column in (
        "campaign_budget",
        "total_revenue",
        "campaign_tagged_revenue",
        "cost_per_acquisition",
        "return_on_investment",
    ):
        _assert_close(actual[column], expected[column], what=column)
    assert set(actual["channel"]) <= {"email", "social", "search", "display", "affiliate", "direct"}
    # first touch credits each acquired customer to exactly one campaign
    assert actual["customers_acquired"].sum() == len(acquired) < revenue["customer_id"].nunique()


# --- singular tests catch what they claim to catch -------------------------------------------------


def test_singular_tests_fail_on_bad_data(wh: Warehouse, conn: Any) -> None:
    """Break the data three ways at once; each singular test must fail, naming the problem."""
    with conn.cursor() as cur:
        # 1. an order tagged with campaign 1 (January 2022) but placed in June 2024
        cur.execute(
            "insert into raw_data.orders (order_id, customer_id, order_date, status, campaign_id, "
            "discount_amount, total_amount, updated_at) "
            "select 999999999, min(customer_id), '2024-06-01 12:00', 'completed', 1, 0, 10, now() "
            "from raw_data.customers"
        )
        # 2. a negative revenue in a mart
        cur.execute(f"update {SCHEMA}.orders_weekly set total_revenue = -1 where week_start_date = '2022-01-03'")
    try:
        # 3. as_of_date in the future (a typo in --vars)
        run = run_dbt_in(
            wh.work / "bad_data",
            [
                "test",
                "--select",
                "assert_campaign_dates_valid assert_no_negative_revenue assert_no_future_order_dates",
                "--store-failures",
            ],
            vars={"as_of_date": "2099-01-01"},
        )
    finally:
        with conn.cursor() as cur:
            cur.execute("delete from raw_data.orders where order_id = 999999999")
            cur.execute(
                f"update {SCHEMA}.orders_weekly w set total_revenue = d.total_revenue from ("
                f"  select sum(total_revenue) as total_revenue from {SCHEMA}.orders_daily"
                f"  where date_key between '2022-01-03' and '2022-01-09') d "
                f"where w.week_start_date = '2022-01-03'"
            )
    assert not run.success
    statuses = dbt_statuses(run, "test")
    assert statuses == {
        "assert_campaign_dates_valid": "fail",
        "assert_no_negative_revenue": "fail",
        "assert_no_future_order_dates": "fail",
    }
    assert _node_result(run, "assert_campaign_dates_valid").failures == 1
    assert _node_result(run, "assert_no_negative_revenue").failures == 1
    # the stored failures say what is wrong, in words
    stored = frame(conn, f"select * from {SCHEMA}_dbt_test__audit.assert_campaign_dates_valid")
    assert stored["problem"].str.contains("outside campaign 1").all()
    stored = frame(conn, f"select * from {SCHEMA}_dbt_test__audit.assert_no_negative_revenue")
    offending = stored[["model_name", "column_name", "row_key"]].values.tolist()
    assert offending == [["orders_weekly", "total_revenue", "2022-01-03"]]
    stored = frame(conn, f"select * from {SCHEMA}_dbt_test__audit.assert_no_future_order_dates")
    assert stored["problem"].str.contains("as-of day (2099-01-01) is after the current date", regex=False).any()


# --- hooks, grants, contracts, indexes ------------------------------------------------------------


def test_pre_hook_writes_the_audit_log(wh: Warehouse, conn: Any) -> None:
    invocation_id = json.loads((wh.target("build") / "run_results.json").read_text())["metadata"]["invocation_id"]
    log = frame(
        conn,
        f"select model_name, schema_name, event from {SCHEMA}_audit.dbt_model_runs "
        f"where invocation_id = '{invocation_id}' order by model_name",
    )
    assert sorted(log["model_name"]) == sorted(STAGING_MODELS), "one row per staging model built"
    assert set(log["schema_name"]) == {f"{SCHEMA}_staging"}
    assert set(log["event"]) == {"model_start"}


def test_reporter_role_can_read_marts_but_not_write(wh: Warehouse) -> None:
    role = ecom_tutorial.load_settings().reporter_role  # server_database's own, a group role without login
    reporter = ecom_tutorial.connect(autocommit=True)
    try:
        with reporter.cursor() as cur:
            cur.execute(f'set role "{role}"')  # its privileges only, as a login granted the role has them
        with reporter.cursor() as cur:
            for mart in (*MY_MARTS, "customer_analytics", "dim_customers"):
                cur.execute(f"select count(*) from {SCHEMA}.{mart}")
                assert cur.fetchone()[0] > 0, mart
        forbidden = [
            f"insert into {SCHEMA}.orders_daily (date_key) values ('1999-01-01')",
            f"delete from {SCHEMA}.marketing_attribution",
            f"create table {SCHEMA}.reporter_was_here (id integer)",
            # this test database never ran init-db.sql: only the hooks granted anything, and
            # they grant the marts, not the raw data
            "select count(*) from raw_data.orders",
        ]
        for sql in forbidden:
            with reporter.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(sql)
    finally:
        reporter.close()


def test_contracts_and_indexes_exist(wh: Warehouse, conn: Any) -> None:
    manifest = json.loads((wh.target("docs") / "manifest.json").read_text())
    for mart in MY_MARTS:
        node = manifest["nodes"][f"model.{PROJECT_NAME}.{mart}"]
        assert node["config"]["contract"]["enforced"], f"{mart} should have an enforced contract"
    primary_keys = frame(
        conn,
        f"""
        select rel.relname as table_name, att.attname as column_name
        from pg_constraint as con
        join pg_class as rel on rel.oid = con.conrelid
        join pg_namespace as nsp on nsp.oid = rel.relnamespace
        join pg_attribute as att on att.attrelid = rel.oid and att.attnum = any(con.conkey)
        where con.contype = 'p' and nsp.nspname = '{SCHEMA}'
        """,
    )
    assert (
        dict(zip(primary_keys["table_name"], primary_keys["column_name"], strict=False)).items()
        >= {
            "dim_date": "date_key",
            "fact_orders": "order_id",
            "orders_daily": "date_key",
            "orders_weekly": "week_start_date",
            "orders_monthly": "month_start_date",
            "marketing_attribution": "campaign_id",
        }.items()
    )
    indexes = frame(conn, f"select tablename, indexdef from pg_indexes where schemaname = '{SCHEMA}'")
    indexed = {
        (t, d.split("(")[-1].rstrip(")")) for t, d in zip(indexes["tablename"], indexes["indexdef"], strict=False)
    }
    assert {
        ("fact_orders", "customer_key"),
        ("fact_orders", "date_key"),
        ("dim_customers", "customer_id"),
        ("customer_analytics", "customer_id"),
        ("fact_order_items", "product_key"),
    } <= indexed
    # the post-hook also refreshed the planner statistics of every mart
    analyzed = frame(
        conn, f"select relname from pg_stat_user_tables where schemaname = '{SCHEMA}' and last_analyze is not null"
    )
    assert set(MY_MARTS) <= set(analyzed["relname"])


# --- analyses -------------------------------------------------------------------------------------


def _analysis(wh: Warehouse, conn: Any, name: str) -> pd.DataFrame:
    compiled = wh.target("analyses") / "compiled" / PROJECT_NAME / "analyses" / f"{name}.sql"
    return frame(conn, compiled.read_text())


def test_analyses_compile_and_run(wh: Warehouse, conn: Any) -> None:
    assert_green_without_warnings(wh.analyses)

    top = _analysis(wh, conn, "top_customers_by_ltv")
    expected = wh.frames["customer_analytics"].sort_values(["lifetime_value", "customer_id"], ascending=[False, True])
    assert list(top["customer_id"]) == list(expected["customer_id"].head(20))
    assert list(top["ltv_rank"]) == list(range(1, 21))

    trends = _analysis(wh, conn, "product_sales_trends")
    years = range(CALENDAR_START.year, wh.as_of.year + 1)
    assert len(trends) == len(wh.frames["product_performance"]) * len(years), "every product x every year"
    assert sum(trends["total_revenue"]) == sum(wh.frames["product_performance"]["total_revenue"])
    assert sum(trends["total_units_sold"]) == sum(wh.frames["product_performance"]["total_units_sold"])

    roi = _analysis(wh, conn, "campaign_roi_analysis")
    attribution = wh.frames["marketing_attribution"]
    assert set(roi["channel"]) == set(attribution["channel"])
    assert sum(roi["campaign_budget"]) == sum(attribution["campaign_budget"])
    assert sum(roi["total_revenue"]) == sum(attribution["total_revenue"])
    assert roi.sort_values("roi_rank")["return_on_investment"].is_monotonic_decreasing


# --- documentation --------------------------------------------------------------------------------


def test_everything_is_documented(wh: Warehouse) -> None:
    """Every model, column, seed, snapshot, source, analysis and macro has a description, and
    every column the warehouse has (catalog.json) is in the YAML."""
    assert wh.docs.success, dbt_problems(wh.docs)
    manifest = json.loads((wh.target("docs") / "manifest.json").read_text())
    catalog = json.loads((wh.target("docs") / "catalog.json").read_text())
    problems: list[str] = []

    documented = [
        node
        for node in [*manifest["nodes"].values(), *manifest["sources"].values()]
        if node["package_name"] == PROJECT_NAME
        and node["resource_type"] in ("model", "seed", "snapshot", "analysis", "source")
        and "workspace" not in node["fqn"]  # the learner's own files: their documentation is an exercise
    ]
    for node in documented:
        if not node["description"].strip():
            problems.append(f"{node['unique_id']} has no description")
        for column, spec in node["columns"].items():
            if not spec["description"].strip():
                problems.append(f"{node['unique_id']}.{column} has no description")
        if node["resource_type"] == "model" and not node["columns"]:
            problems.append(f"{node['unique_id']} documents no columns")

    for macro in manifest["macros"].values():
        if macro["package_name"] in (PROJECT_NAME, "ecom_utils") and not macro["description"].strip():
            problems.append(f"{macro['unique_id']} has no description")

    everything = {**manifest["nodes"], **manifest["sources"]}
    for unique_id, entry in [*catalog["nodes"].items(), *catalog["sources"].items()]:
        if everything[unique_id] not in documented:
            continue
        yaml_columns = {name.lower() for name in everything[unique_id]["columns"]}
        for column in entry["columns"]:
            if column.lower() not in yaml_columns:
                problems.append(f"{unique_id}: warehouse column {column} is not in the YAML")

    # every model that dbt materializes is in the catalog (ephemeral ones are not tables)
    materialized = {
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed", "snapshot") and node["config"]["materialized"] != "ephemeral"
    }
    assert materialized <= set(catalog["nodes"]), materialized - set(catalog["nodes"])
    assert problems == [], "\n".join(problems)


def test_docs_blocks_and_exposure_are_in_the_manifest(wh: Warehouse) -> None:
    manifest = json.loads((wh.target("docs") / "manifest.json").read_text())
    for block in ("attribution_rule", "same_day_last_year", "iso_calendar"):
        assert f"doc.{PROJECT_NAME}.{block}" in manifest["docs"]
    attribution = manifest["nodes"][f"model.{PROJECT_NAME}.marketing_attribution"]
    assert "First-touch attribution" in attribution["description"], "the docs block is rendered into the model"
    exposure = manifest["exposures"][f"exposure.{PROJECT_NAME}.marketing_dashboard"]
    assert exposure["owner"]["email"] and exposure["url"] and exposure["description"]
    assert f"model.{PROJECT_NAME}.marketing_attribution" in exposure["depends_on"]["nodes"]


# --- the next-day batch ---------------------------------------------------------------------------


def test_calendar_and_time_series_follow_as_of_date_after_the_next_day_batch(wh: Warehouse, conn: Any) -> None:
    """Runs last: it changes the raw data. dbt moves as_of_date to the new last order day by itself."""
    ecom_tutorial.apply_next_day_batch(conn)
    as_of = last_order_date(conn)
    assert as_of > wh.as_of, "the batch should add orders after the base data"
    # cautious: skip tests that also read models left out here (e.g. relationships to dim_customers).
    # fact_order_items: the lines of fact_orders' new orders (a singular test compares the two facts).
    # int_orders__daily_agg: rebuilding the staging views drops the views built on them (dbt drops the
    # old view with `cascade`), so the intermediate view orders_daily reads is rebuilt too.
    selection = "+dim_date+ +fact_orders+ fact_order_items int_orders__daily_agg"
    run = run_dbt_in(wh.work / "next_day", ["build", "--select", selection, "--indirect-selection", "cautious"])
    assert_green_without_warnings(run)

    assert frame(conn, f"select max(date_key) as d from {SCHEMA}.dim_date")["d"][0] == max(as_of, date(2024, 12, 31))
    daily = frame(conn, f"select * from {SCHEMA}.orders_daily order by date_key")
    assert daily["date_key"].iloc[-1] == as_of
    expected = _reference_frames(conn, as_of)["revenue_orders"]
    new_day = expected[expected["day"] == pd.Timestamp(as_of)]
    assert daily["total_orders"].iloc[-1] == len(new_day) > 0
    _assert_close([daily["total_revenue"].iloc[-1]], [new_day["amount"].sum()])
