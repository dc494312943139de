"""dbt project, part 1: customer analytics, product performance, snapshots, the incremental fact.

One real database, one story, asserted from many angles (build once, assert a lot):
1. load the mock data and `dbt build` (seeds, models, snapshots, data and unit tests);
2. apply the next-day batch and `dbt build` again: fact_order_items runs incrementally and the
   snapshots record the changes;
3. rebuild fact_order_items with `--full-refresh` into a second schema, to compare.
Every mart figure checked here is recomputed independently with pandas from the raw tables.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
import psycopg2
import pytest

REPO = Path(__file__).resolve().parent.parent
PROJECT = REPO / "dbt_project"
MOCK_DATA = REPO / "docker" / "postgres" / "mock-data"
NEXT_DAY_BATCH = MOCK_DATA / "next_day_batch.sql"
DATABASE = "ecom_test_part1"
SCHEMA = "analytics_dev"
FULL_REFRESH_SCHEMA = "analytics_part1_full_refresh"
REVENUE_EXCLUDED = {"cancelled", "returned"}


@dataclass
class Invocation:
    """What one in-process dbt command did."""

    args: list[str]
    success: bool
    seconds: float
    warnings: list[str]
    results: list[Any]
    exception: BaseException | None

    def statuses(self, resource_type: str) -> dict[str, str]:
        return {r.node.name: str(r.status) for r in self.results if r.node.resource_type == resource_type}

    def failures(self) -> list[str]:
        ok = {"pass", "success", "no-op"}  # no-op: exposures, which dbt build only lists
        return [f"{r.node.unique_id}: {r.status} {r.message}" for r in self.results if str(r.status) not in ok]

    def rows_affected(self, model: str) -> int:
        (result,) = [r for r in self.results if r.node.name == model]
        return int(result.adapter_response["rows_affected"])


@dataclass
class Story:
    """Everything the module's tests look at, collected once by the fixture."""

    first_build: Invocation
    second_build: Invocation
    full_refresh: Invocation
    as_of_before: date
    as_of_after: date
    new_lines_expected: int
    customers_before: pd.DataFrame
    products_before: pd.DataFrame
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)


def _query(conn: Any, sql: str) -> pd.DataFrame:
    """A query's result as a DataFrame (numeric columns stay exact Decimals)."""
    with conn.cursor() as cur:
        cur.execute(sql)
        columns = [c.name for c in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=columns)


def _connect(dbname: str) -> Any:
    conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname=dbname)
    conn.autocommit = True
    return conn


def _dbt(args: list[str], work: Path, name: str, schema: str = SCHEMA) -> Invocation:
    """Run one dbt command in-process, with its own target folder; collect warnings too."""
    from dbt.cli.main import dbtRunner

    warnings: list[str] = []

    def on_event(event: Any) -> None:
        if event.info.level == "warn":
            warnings.append(f"{event.info.name}: {event.info.msg}")

    os.environ["ECOM_DB_SCHEMA"] = schema
    full_args = [
        *args,
        "--project-dir", str(PROJECT),
        "--profiles-dir", str(REPO),
        "--log-path", str(work / name / "logs"),
    ]
    if args[0] != "deps":
        full_args += ["--target-path", str(work / name / "target")]
    started = time.perf_counter()
    result = dbtRunner(callbacks=[on_event]).invoke(full_args)
    seconds = time.perf_counter() - started
    results = list(result.result.results) if result.result is not None and hasattr(result.result, "results") else []
    return Invocation(full_args, result.success, seconds, warnings, results, result.exception)


def _last_order_date(conn: Any) -> date:
    """What the Python runner passes as as_of_date: the date of the last raw order."""
    return _query(conn, "select max(order_date)::date as d from raw_data.orders")["d"][0]


@pytest.fixture(scope="module")
def story(local_pg: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    work = tmp_path_factory.mktemp("dbt_part1")
    admin = _connect("postgres")
    try:
        with admin.cursor() as cur:
            cur.execute(f"drop database if exists {DATABASE} with (force)")
            cur.execute(f"create database {DATABASE}")
    finally:
        admin.close()

    saved = {k: v for k, v in os.environ.items() if k.startswith("ECOM_DB")}
    os.environ.update(
        {
            "ECOM_DB_HOST": "127.0.0.1",
            "ECOM_DB_PORT": "5432",
            "ECOM_DB_USER": "postgres",
            "ECOM_DB_PASSWORD": "",
            "ECOM_DB_NAME": DATABASE,
        }
    )
    conn = _connect(DATABASE)
    try:
        with conn.cursor() as cur:
            cur.execute("set ecom.scale = 1")
            for script in sorted(MOCK_DATA.glob("0*.sql")):
                cur.execute(script.read_text())

        deps = _dbt(["deps"], work, "deps")
        assert deps.success, deps.exception

        as_of_before = _last_order_date(conn)
        vars_before = f"{{as_of_date: '{as_of_before}'}}"
        first = _dbt(["build", "--vars", vars_before], work, "first")

        customers_before = _query(conn, "select customer_id, updated_at from raw_data.customers")
        products_before = _query(
            conn, "select product_id, list_price, unit_cost, category from raw_data.products"
        )
        high_water_mark = _query(conn, f"select max(source_loaded_at) as m from {SCHEMA}.fact_order_items")["m"][0]

        with conn.cursor() as cur:
            cur.execute(NEXT_DAY_BATCH.read_text())

        # the lines the incremental run should pick up, counted straight from the raw tables
        new_lines = _query(
            conn,
            f"""
            select count(*) as n
            from raw_data.order_items as i
            join raw_data.orders as o on o.order_id = i.order_id
            where greatest(i._loaded_at, o._loaded_at) > '{high_water_mark.isoformat()}'::timestamptz
            """,
        )["n"][0]

        as_of_after = _last_order_date(conn)
        vars_after = f"{{as_of_date: '{as_of_after}'}}"
        second = _dbt(["build", "--vars", vars_after], work, "second")
        full_refresh = _dbt(
            ["run", "--full-refresh", "--select", "+fact_order_items", "--vars", vars_after],
            work,
            "full_refresh",
            schema=FULL_REFRESH_SCHEMA,
        )

        frames = {
            "customers": _query(conn, "select * from raw_data.customers"),
            "orders": _query(conn, "select * from raw_data.orders"),
            "order_items": _query(conn, "select * from raw_data.order_items"),
            "products": _query(conn, "select * from raw_data.products"),
            "customer_analytics": _query(conn, f"select * from {SCHEMA}.customer_analytics"),
            "dim_customers": _query(conn, f"select * from {SCHEMA}.dim_customers"),
            "product_performance": _query(conn, f"select * from {SCHEMA}.product_performance"),
            "fact_incremental": _query(conn, f"select * from {SCHEMA}.fact_order_items order by order_item_id"),
            "fact_full_refresh": _query(
                conn, f"select * from {FULL_REFRESH_SCHEMA}.fact_order_items order by order_item_id"
            ),
            "customer_snapshot": _query(conn, f"select * from {SCHEMA}_snapshots.customer_snapshot"),
            "product_snapshot": _query(conn, f"select * from {SCHEMA}_snapshots.product_snapshot"),
        }
        yield Story(
            first, second, full_refresh, as_of_before, as_of_after, int(new_lines),
            customers_before, products_before, frames,
        )
    finally:
        conn.close()
        for name in [n for n in os.environ if n.startswith("ECOM_DB")]:
            del os.environ[name]
        os.environ.update(saved)


# --- the builds ---------------------------------------------------------------------------------


def test_build_from_scratch_is_green_without_warnings(story: Story) -> None:
    build = story.first_build
    assert build.success, build.exception or build.failures()
    assert build.failures() == []
    assert build.warnings == [], build.warnings
    data_tests = build.statuses("test")
    unit_tests = build.statuses("unit_test")
    print(
        f"\nfirst build: {len(data_tests)} data tests, {len(unit_tests)} unit tests, "
        f"{build.seconds:.1f} s at scale 1"
    )
    # part 1's own tests are there and ran
    for name in ("assert_customer_ltv_matches_orders", "assert_order_totals_match_line_items"):
        assert data_tests[name] == "pass"
    for name in (
        "customer_analytics_rfm_score_boundaries",
        "customer_analytics_rfm_segments",
        "fact_order_items_incremental_selects_only_newer_rows",
    ):
        assert unit_tests[name] == "pass"
    assert set(build.statuses("snapshot")) >= {"customer_snapshot", "product_snapshot"}


def test_build_after_next_day_batch_is_green_without_warnings(story: Story) -> None:
    build = story.second_build
    assert build.success, build.exception or build.failures()
    assert build.failures() == []
    assert build.warnings == [], build.warnings
    assert story.as_of_after > story.as_of_before, "the next-day batch should add orders after the base data"
    print(f"\nincremental build after the batch: {build.seconds:.1f} s")


# --- the incremental fact ------------------------------------------------------------------------


def test_incremental_run_processes_only_the_new_rows(story: Story) -> None:
    assert story.new_lines_expected > 0, "the next-day batch should bring new order lines"
    assert story.second_build.rows_affected("fact_order_items") == story.new_lines_expected
    # the full refresh, by contrast, inserts every line
    assert story.full_refresh.rows_affected("fact_order_items") == len(story.frames["order_items"])


def test_incremental_table_equals_full_refresh(story: Story) -> None:
    assert story.full_refresh.success, story.full_refresh.exception or story.full_refresh.failures()
    incremental = story.frames["fact_incremental"].reset_index(drop=True)
    rebuilt = story.frames["fact_full_refresh"].reset_index(drop=True)
    # every column is compared: the model has no build timestamp that could legitimately differ
    assert list(incremental.columns) == list(rebuilt.columns)
    assert len(incremental) == len(story.frames["order_items"])
    pd.testing.assert_frame_equal(incremental, rebuilt)


# --- the snapshots -------------------------------------------------------------------------------


def _versions(snapshot: pd.DataFrame, key: str) -> pd.Series:
    return snapshot.groupby(key).size()


def test_customer_snapshot_has_two_versions_for_each_changed_customer(story: Story) -> None:
    before = story.customers_before.set_index("customer_id")["updated_at"]
    after = story.frames["customers"].set_index("customer_id")["updated_at"]
    common = after.index.intersection(before.index)
    changed = set(common[(after.loc[common] != before.loc[common]).to_numpy()])
    assert changed, "the next-day batch should update some customers"

    snapshot = story.frames["customer_snapshot"]
    versions = _versions(snapshot, "customer_id")
    assert set(versions.index) == set(after.index)
    assert (versions[list(changed)] == 2).all()
    assert (versions.drop(list(changed)) == 1).all()

    # the old version is closed exactly when the new one starts (the new updated_at)
    for customer_id in sorted(changed)[:50]:
        rows = snapshot[snapshot.customer_id == customer_id].sort_values("dbt_valid_from")
        old, new = rows.iloc[0], rows.iloc[1]
        assert old.dbt_valid_to == new.dbt_valid_from == after[customer_id]
        assert pd.isna(new.dbt_valid_to)
    assert snapshot.dbt_valid_to.isna().sum() == len(after)


def test_product_snapshot_tracks_price_and_category_changes(story: Story) -> None:
    tracked = ["list_price", "unit_cost", "category"]
    before = story.products_before.set_index("product_id")[tracked]
    after = story.frames["products"].set_index("product_id")[tracked]
    common = after.index.intersection(before.index)
    changed = set(common[(after.loc[common] != before.loc[common]).any(axis=1).to_numpy()])
    assert changed, "the next-day batch should change some prices or categories"

    snapshot = story.frames["product_snapshot"]
    versions = _versions(snapshot, "product_id")
    assert set(versions.index) == set(after.index)
    assert (versions[list(changed)] == 2).all()
    assert (versions.drop(list(changed)) == 1).all()
    current = snapshot[snapshot.dbt_valid_to.isna()].set_index("product_id")[tracked].sort_index()
    pd.testing.assert_frame_equal(current, after.sort_index(), check_dtype=False)
    previous = snapshot[snapshot.dbt_valid_to.notna()].set_index("product_id")[tracked].sort_index()
    pd.testing.assert_frame_equal(previous, before.loc[sorted(changed)], check_dtype=False)


# --- customer analytics against pandas -----------------------------------------------------------


def _revenue_orders(story: Story) -> pd.DataFrame:
    orders = story.frames["orders"].copy()
    orders["order_day"] = pd.to_datetime(orders["order_date"]).dt.date
    keep = ~orders["status"].str.lower().isin(REVENUE_EXCLUDED) & (orders["order_day"] <= story.as_of_after)
    return orders[keep]


def _expected_customers(story: Story) -> pd.DataFrame:
    """RFM as documented in the rfm_scoring docs block, re-implemented with pandas."""
    orders = _revenue_orders(story)
    per_customer = orders.groupby("customer_id").agg(
        total_orders=("order_id", "count"),
        lifetime_value=("total_amount", "sum"),
        last_order_date=("order_day", "max"),
    )
    customers = story.frames["customers"][["customer_id"]].set_index("customer_id").join(per_customer)
    customers["total_orders"] = customers["total_orders"].fillna(0).astype(int)
    customers["lifetime_value"] = customers["lifetime_value"].fillna(Decimal("0"))
    days = customers["last_order_date"].map(
        lambda d: (story.as_of_after - d).days if isinstance(d, date) else np.nan
    )
    buyers = customers["total_orders"] > 0
    ltv = customers["lifetime_value"].astype(float)

    def score(values: pd.Series, edges: list[float], higher_is_better: bool) -> pd.Series:
        # edges are the lower bounds of scores 2..5 (or the upper bounds of 5..2 for recency)
        if higher_is_better:
            result = 1 + sum((values >= edge).astype(int) for edge in edges)
        else:
            result = 5 - sum((values > edge).astype(int) for edge in edges)
        return result.where(buyers)

    customers["days_since_last_order"] = days
    customers["recency_score"] = score(days, [30, 90, 180, 365], higher_is_better=False)
    customers["frequency_score"] = score(customers["total_orders"], [2, 4, 6, 10], higher_is_better=True)
    customers["monetary_score"] = score(ltv, [200, 500, 1000, 2000], higher_is_better=True)
    total = customers[["recency_score", "frequency_score", "monetary_score"]].sum(axis=1, min_count=3)
    customers["rfm_score"] = np.floor(total / 3 + 0.5)

    def segment(row: pd.Series) -> str:
        r, f = row.recency_score, row.frequency_score
        if row.total_orders == 0:
            return "No purchases"
        if r >= 4 and f >= 4:
            return "Champions"
        if r >= 3 and f >= 3:
            return "Loyal"
        if r >= 4 and f == 1:
            return "New"
        if r >= 4:
            return "Promising"
        if r <= 2 and f >= 3:
            return "At risk"
        if r <= 2:
            return "Hibernating"
        return "Needs attention"

    customers["rfm_segment"] = customers.apply(segment, axis=1)
    customers["is_active"] = days <= 90
    return customers


def test_lifetime_value_matches_pandas(story: Story) -> None:
    expected = _expected_customers(story)
    actual = story.frames["customer_analytics"].set_index("customer_id")
    assert len(actual) == len(story.frames["customers"])
    assert actual.index.is_unique
    joined = actual.join(expected.add_suffix("_expected"))
    # exact decimal arithmetic on both sides: no tolerance needed
    assert (joined["lifetime_value"] == joined["lifetime_value_expected"]).all()
    assert (joined["total_orders"] == joined["total_orders_expected"]).all()
    assert joined["lifetime_value"].sum() == _revenue_orders(story)["total_amount"].sum()


def test_rfm_scores_and_segments_match_pandas(story: Story) -> None:
    expected = _expected_customers(story)
    actual = story.frames["customer_analytics"].set_index("customer_id").sort_index()
    expected = expected.loc[actual.index]
    for column in ["days_since_last_order", "recency_score", "frequency_score", "monetary_score", "rfm_score"]:
        pd.testing.assert_series_equal(
            actual[column].astype(float), expected[column].astype(float), check_names=False, obj=column
        )
    assert (actual["rfm_segment"] == expected["rfm_segment"]).all()
    assert (actual["is_active"] == expected["is_active"]).all()
    # the data tells a story: every segment is populated
    assert set(actual["rfm_segment"]) == {
        "Champions", "Loyal", "New", "Promising", "At risk", "Hibernating", "Needs attention", "No purchases",
    }


def test_dim_customers_surrogate_key_matches_the_dbt_utils_formula(story: Story) -> None:
    dim = story.frames["dim_customers"]
    assert dim["customer_key"].is_unique
    assert dim["customer_key"].str.fullmatch(r"[0-9a-f]{32}").all()
    # same key as dbt_utils would give: md5 of the id as text (no null, no separator for one field)
    sample = dim.head(20)
    for customer_id, key in zip(sample["customer_id"], sample["customer_key"]):
        assert key == hashlib.md5(str(customer_id).encode()).hexdigest()


# --- product performance against pandas ----------------------------------------------------------


def test_product_ranks_and_margins_match_pandas(story: Story) -> None:
    revenue_orders = _revenue_orders(story)[["order_id", "order_day"]]
    lines = story.frames["order_items"].merge(revenue_orders, on="order_id")
    lines["line_profit"] = lines["line_total"] - lines["quantity"] * lines["unit_cost"]
    per_product = lines.groupby("product_id").agg(
        units_sold=("quantity", "sum"),
        total_revenue=("line_total", "sum"),
        total_profit=("line_profit", "sum"),
        first_sold_date=("order_day", "min"),
    )
    products = story.frames["products"].set_index("product_id")[["category"]].join(per_product)
    products["units_sold"] = products["units_sold"].fillna(0)
    products["total_revenue"] = products["total_revenue"].fillna(Decimal("0"))
    revenue = products["total_revenue"].astype(float)
    products["overall_rank"] = revenue.rank(method="min", ascending=False).astype(int)
    products["category_rank"] = (
        revenue.groupby(products["category"]).rank(method="min", ascending=False).astype(int)
    )
    products["margin"] = 100 * products["total_profit"].astype(float) / revenue.replace(0, np.nan)
    days_on_sale = products["first_sold_date"].map(
        lambda d: (story.as_of_after - d).days + 1 if isinstance(d, date) else np.nan
    )
    products["turnover"] = products["units_sold"].astype(float) / days_on_sale

    actual = story.frames["product_performance"].set_index("product_id").sort_index()
    expected = products.loc[actual.index]
    assert len(actual) == len(story.frames["products"])
    assert (actual["total_revenue"] == expected["total_revenue"]).all()
    assert (actual["overall_rank"] == expected["overall_rank"]).all()
    assert (actual["category_rank"] == expected["category_rank"]).all()
    np.testing.assert_allclose(actual["profit_margin_pct"].astype(float), expected["margin"], atol=0.006)
    np.testing.assert_allclose(actual["turnover_rate"].astype(float), expected["turnover"], atol=0.00006)
    np.testing.assert_allclose(actual["revenue_share_pct"].astype(float).sum(), 100, atol=0.01)
    assert (actual.groupby("category")["category_rank"].min() == 1).all()
