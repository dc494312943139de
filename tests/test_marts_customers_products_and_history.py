"""The marts on one build and the next day: customer analytics, product performance, snapshots,
the incremental fact.

One real database (on the 127.0.0.1:5432 server, in server mode: the Docker users' path), one
story, asserted from many angles (build once, assert a lot), dbt run through ecom_tutorial.run_dbt:
1. load the mock data and `dbt build` (seeds, models, snapshots, data and unit tests);
2. apply the next-day batch and `dbt build` again: fact_order_items runs incrementally and the
   snapshots record the changes;
3. rebuild fact_order_items with `--full-refresh` into a second schema, to compare.
Every mart figure checked here is recomputed independently with pandas from the raw tables.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from conftest import (
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

pytestmark = pytest.mark.slow  # dbt builds (see conftest.SLOW_FIXTURES)

DATABASE = "ecom_test_part1"
SCHEMA = "analytics_dev"
FULL_REFRESH_SCHEMA = "analytics_part1_full_refresh"
REVENUE_EXCLUDED = {"cancelled", "returned"}


@dataclass
class Story:
    """Everything the module's tests look at, collected once by the fixture."""

    first_build: DbtResult
    second_build: DbtResult
    full_refresh: DbtResult
    as_of_before: date
    as_of_after: date
    new_lines_expected: int
    customers_before: pd.DataFrame
    products_before: pd.DataFrame
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)


def _rows_affected(result: DbtResult, model: str) -> int:
    (rows,) = result.table.loc[result.table["node"] == model, "rows"]
    return int(rows)


@pytest.fixture(scope="module")
def story(local_pg: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    work = tmp_path_factory.mktemp("dbt_part1")
    with server_database(DATABASE, local_pg) as conn:
        deps = run_dbt_in(work / "deps", ["deps"])
        assert deps.success, dbt_problems(deps)

        # dbt derives as_of_date from the data (the last raw order date); the tests check it did
        as_of_before = last_order_date(conn)
        first = run_dbt_in(work / "first", ["build"])

        customers_before = frame(conn, "select customer_id, updated_at from raw_data.customers")
        products_before = frame(conn, "select product_id, list_price, unit_cost, category from raw_data.products")
        high_water_mark = frame(conn, f"select max(source_loaded_at) as m from {SCHEMA}.fact_order_items")["m"][0]

        ecom_tutorial.apply_next_day_batch(conn)

        # the lines the incremental run should pick up, counted straight from the raw tables
        new_lines = frame(
            conn,
            f"""
            select count(*) as n
            from raw_data.order_items as i
            join raw_data.orders as o on o.order_id = i.order_id
            where greatest(i._loaded_at, o._loaded_at) > '{high_water_mark.isoformat()}'::timestamptz
            """,
        )["n"][0]

        as_of_after = last_order_date(conn)
        second = run_dbt_in(work / "second", ["build"])
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("ECOM_DB_SCHEMA", FULL_REFRESH_SCHEMA)
            full_refresh = run_dbt_in(work / "full_refresh", ["run", "--full-refresh", "--select", "+fact_order_items"])

        frames = {
            "customers": frame(conn, "select * from raw_data.customers"),
            "orders": frame(conn, "select * from raw_data.orders"),
            "order_items": frame(conn, "select * from raw_data.order_items"),
            "products": frame(conn, "select * from raw_data.products"),
            "customer_analytics": frame(conn, f"select * from {SCHEMA}.customer_analytics"),
            "dim_customers": frame(conn, f"select * from {SCHEMA}.dim_customers"),
            "product_performance": frame(conn, f"select * from {SCHEMA}.product_performance"),
            "fact_incremental": frame(conn, f"select * from {SCHEMA}.fact_order_items order by order_item_id"),
            "fact_full_refresh": frame(
                conn, f"select * from {FULL_REFRESH_SCHEMA}.fact_order_items order by order_item_id"
            ),
            "customer_snapshot": frame(conn, f"select * from {SCHEMA}_snapshots.customer_snapshot"),
            "product_snapshot": frame(conn, f"select * from {SCHEMA}_snapshots.product_snapshot"),
        }
        yield Story(
            first,
            second,
            full_refresh,
            as_of_before,
            as_of_after,
            int(new_lines),
            customers_before,
            products_before,
            frames,
        )


# --- the builds ---------------------------------------------------------------------------------


def test_build_from_scratch_is_green_without_warnings(story: Story) -> None:
    build = story.first_build
    assert_green_without_warnings(build)
    data_tests = dbt_statuses(build, "test")
    unit_tests = dbt_statuses(build, "unit_test")
    print(f"\nfirst build: {len(data_tests)} data tests, {len(unit_tests)} unit tests at scale 1")
    # part 1's own tests are there and ran
    for name in ("assert_customer_ltv_matches_orders", "assert_order_totals_match_line_items"):
        assert data_tests[name] == "pass"
    for name in (
        "customer_analytics_rfm_score_boundaries",
        "customer_analytics_rfm_segments",
        "fact_order_items_incremental_selects_only_newer_rows",
    ):
        assert unit_tests[name] == "pass"
    assert set(dbt_statuses(build, "snapshot")) >= {"customer_snapshot", "product_snapshot"}


def test_build_after_next_day_batch_is_green_without_warnings(story: Story) -> None:
    build = story.second_build
    assert_green_without_warnings(build)
    assert story.as_of_after > story.as_of_before, "the next-day batch should add orders after the base data"


# --- the incremental fact ------------------------------------------------------------------------


def test_incremental_run_processes_only_the_new_rows(story: Story) -> None:
    assert story.new_lines_expected > 0, "the next-day batch should bring new order lines"
    assert _rows_affected(story.second_build, "fact_order_items") == story.new_lines_expected
    # the full refresh, by contrast, inserts every line
    assert _rows_affected(story.full_refresh, "fact_order_items") == len(story.frames["order_items"])


def test_incremental_table_equals_full_refresh(story: Story) -> None:
    assert story.full_refresh.success, dbt_problems(story.full_refresh)
    incremental = story.frames["fact_incremental"].reset_index(drop=True)
    rebuilt = story.frames["fact_full_refresh"].reset_index(drop=True)
    # every column is compared: the model has no build timestamp that could legitimately differ
    assert list(incremental.columns) == list(rebuilt.columns)
    assert len(incremental) == len(story.frames["order_items"])
    pd.testing.assert_frame_equal(incremental, rebuilt)


# --- the snapshots -------------------------------------------------------------------------------


def _assert_versions(snapshot: pd.DataFrame, key: str, ids: pd.Index, changed: set[int]) -> None:
    """One version of every id, two of each changed one."""
    versions = snapshot.groupby(key).size()
    assert set(versions.index) == set(ids)
    assert (versions[list(changed)] == 2).all()
    assert (versions.drop(list(changed)) == 1).all()


def test_customer_snapshot_has_two_versions_for_each_changed_customer(story: Story) -> None:
    before = story.customers_before.set_index("customer_id")["updated_at"]
    after = story.frames["customers"].set_index("customer_id")["updated_at"]
    common = after.index.intersection(before.index)
    changed = set(common[(after.loc[common] != before.loc[common]).to_numpy()])
    assert changed, "the next-day batch should update some customers"

    snapshot = story.frames["customer_snapshot"]
    _assert_versions(snapshot, "customer_id", after.index, changed)

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
    _assert_versions(snapshot, "product_id", after.index, changed)
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
    days = customers["last_order_date"].map(lambda d: (story.as_of_after - d).days if isinstance(d, date) else np.nan)
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
        "Champions",
        "Loyal",
        "New",
        "Promising",
        "At risk",
        "Hibernating",
        "Needs attention",
        "No purchases",
    }


def test_customer_analytics_carries_the_customer_attributes_of_dim_customers(story: Story) -> None:
    attributes = [
        "customer_name",
        "first_name",
        "last_name",
        "email",
        "city",
        "state",
        "country",
        "customer_segment",
        "signed_up_at",
        "signup_date",
    ]
    analytics = story.frames["customer_analytics"].set_index("customer_id").sort_index()
    dim = story.frames["dim_customers"].set_index("customer_id").sort_index()
    pd.testing.assert_frame_equal(analytics[attributes], dim[attributes])
    raw = story.frames["customers"].set_index("customer_id").loc[dim.index]
    full_names = raw["first_name"].str.strip() + " " + raw["last_name"].str.strip()
    assert (dim["customer_name"] == full_names).all()


def test_dim_customers_records_when_dbt_built_it(story: Story) -> None:
    built_at = story.frames["dim_customers"]["dbt_updated_at"]
    assert built_at.notna().all() and built_at.nunique() == 1, "one build, one timestamp for every row"


def test_dim_customers_surrogate_key_matches_the_dbt_utils_formula(story: Story) -> None:
    dim = story.frames["dim_customers"]
    assert dim["customer_key"].is_unique
    assert dim["customer_key"].str.fullmatch(r"[0-9a-f]{32}").all()
    # same key as dbt_utils would give: md5 of the id as text (no null, no separator for one field)
    sample = dim.head(20)
    for customer_id, key in zip(sample["customer_id"], sample["customer_key"], strict=False):
        assert key == hashlib.md5(str(customer_id).encode()).hexdigest()


# --- product performance against pandas ----------------------------------------------------------


def test_product_ranks_and_margins_match_pandas(story: Story) -> None:
    revenue_orders = _revenue_orders(story)[["order_id", "order_day"]]
    lines = story.frames["order_items"].merge(revenue_orders, on="order_id")
    lines["line_profit"] = lines["line_total"] - lines["quantity"] * lines["unit_cost"]
    per_product = lines.groupby("product_id").agg(
        total_units_sold=("quantity", "sum"),
        total_revenue=("line_total", "sum"),
        total_profit=("line_profit", "sum"),
        first_sold_date=("order_day", "min"),
    )
    products = story.frames["products"].set_index("product_id")[["category", "sku"]].join(per_product)
    products["total_units_sold"] = products["total_units_sold"].fillna(0)
    products["total_revenue"] = products["total_revenue"].fillna(Decimal("0"))
    revenue = products["total_revenue"].astype(float)
    products["overall_rank"] = revenue.rank(method="min", ascending=False).astype(int)
    products["category_rank"] = revenue.groupby(products["category"]).rank(method="min", ascending=False).astype(int)
    products["margin"] = 100 * products["total_profit"].astype(float) / revenue.replace(0, np.nan)
    days_on_sale = products["first_sold_date"].map(
        lambda d: (story.as_of_after - d).days + 1 if isinstance(d, date) else np.nan
    )
    products["turnover"] = products["total_units_sold"].astype(float) / days_on_sale

    actual = story.frames["product_performance"].set_index("product_id").sort_index()
    expected = products.loc[actual.index]
    assert len(actual) == len(story.frames["products"])
    assert (actual["total_revenue"] == expected["total_revenue"]).all()
    assert (actual["total_units_sold"] == expected["total_units_sold"]).all()
    assert (actual["sku"] == expected["sku"]).all() and actual["sku"].is_unique, "each product keeps its own sku"
    assert (actual["overall_rank"] == expected["overall_rank"]).all()
    assert (actual["category_rank"] == expected["category_rank"]).all()
    np.testing.assert_allclose(actual["profit_margin_pct"].astype(float), expected["margin"], atol=0.006)
    np.testing.assert_allclose(actual["turnover_rate"].astype(float), expected["turnover"], atol=0.00006)
    np.testing.assert_allclose(actual["revenue_share_pct"].astype(float).sum(), 100, atol=0.01)
    assert (actual.groupby("category")["category_rank"].min() == 1).all()
