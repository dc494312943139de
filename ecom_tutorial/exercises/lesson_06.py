"""Exercises of lesson 06, snapshots: the data as of a date, who changed segment, and a snapshot of your own.

06.1 and 06.2 are answered from `customer_snapshot` (the only relation that remembers a customer's
past versions); 06.3 builds a snapshot with the check strategy and proves, with the next-day batch,
that it records a change. Its first run must see the catalogue as it was before the batch, which lesson
05 loaded already: `products_before_the_batch()` puts the products the batch changed back as the
course's own `product_snapshot` recorded them, and the batch, deterministic, changes them again identically.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from psycopg2 import sql as pgsql

from ..database import fetch_value
from . import Exercise, Mistake, reads_relation, register
from .build_checks import BuildExercise, ModelCheck

SNAPSHOT = "{target}_snapshots.customer_snapshot"
# The instant the exercises ask about: the end of the base data, before the next-day batch.
AS_OF = "timestamp '2024-12-31 23:59:59'"
VALID_AT = f"dbt_valid_from <= {AS_OF} and (dbt_valid_to > {AS_OF} or dbt_valid_to is null)"
# Relations that keep only each customer's latest version: they cannot say what was true at a past instant.
LATEST_ONLY = ("dim_customers", "customer_analytics", "stg_ecommerce__customers", "customers")


def _segments(where: str) -> str:
    return f"select customer_segment, count(*) as customers from {SNAPSHOT} where {where} group by 1"


def _reads_latest_only(tree: Any) -> bool:
    """The answer counts from a table of current customers, not from the snapshot's versions."""
    return not reads_relation("customer_snapshot")(tree) and any(reads_relation(name)(tree) for name in LATEST_ONLY)


SEGMENT_CHANGED = "old.customer_segment <> current_versions.customer_segment"
# What a new version says without the segment filter: the customer changed something (a city, maybe).
VERSION_CHANGED = "old.dbt_scd_id <> current_versions.dbt_scd_id"


def _changes(old_where: str, changed: str = SEGMENT_CHANGED, swap: bool = False) -> str:
    old, new = ("current_versions", "old") if swap else ("old", "current_versions")
    columns = "customer_id, customer_segment, dbt_scd_id"
    return f"""
        with
        old as (select {columns} from {SNAPSHOT} where {old_where}),
        current_versions as (select {columns} from {SNAPSHOT} where dbt_valid_to is null)
        select
            old.customer_id,
            {old}.customer_segment as old_segment,
            {new}.customer_segment as new_segment
        from old
        inner join current_versions on old.customer_id = current_versions.customer_id
        where {changed}
    """


def _same_segment_kept(attempt: pd.DataFrame, expected: pd.DataFrame) -> bool:
    """Some rows of the attempt have the same old and new segment: customers who changed something else."""
    if not {"old_segment", "new_segment"} <= set(attempt.columns):
        return False
    return bool((attempt["old_segment"].astype(str) == attempt["new_segment"].astype(str)).any())


register(
    Exercise(
        id="06.1",
        title="Customers per segment as of 2024-12-31 23:59:59",
        expected=_segments(VALID_AT),
        key=("customer_segment",),
        atol=0,
        reads=("customer_snapshot",),
        mistakes=(
            Mistake(
                "dim_customers (like every table of current customers) keeps one row per customer with the LATEST "
                "segment only: yesterday's segment is overwritten, so it cannot say what was true at a past "
                "instant. It matches the end of 2024 only until the next build picks up the batch's changes, a "
                "right answer by accident. customer_snapshot keeps every version with the period it was true: "
                "count the versions valid at that instant.",
                in_sql=_reads_latest_only,
                # recognised by its cause (in_sql) only; the result is what such an answer returns
                result="select customer_segment, count(*) as customers from dim_customers group by 1",
            ),
            Mistake(
                "These are today's segments (dbt_valid_to is null keeps the current versions). As of a past "
                "instant t, keep the version valid at t: "
                "dbt_valid_from <= t and (dbt_valid_to > t or dbt_valid_to is null).",
                _segments("dbt_valid_to is null"),
            ),
            Mistake(
                "You counted every version, so a customer who changed counts twice. Keep one version per "
                "customer: the one valid at the instant asked.",
                _segments("true"),
            ),
            Mistake(
                "`dbt_valid_to > t` alone drops every current version: its dbt_valid_to is null, and "
                "null > t is not true. Add `or dbt_valid_to is null`.",
                _segments(f"dbt_valid_from <= {AS_OF} and dbt_valid_to > {AS_OF}"),
            ),
        ),
        hint="The version valid at t: dbt_valid_from <= t and (dbt_valid_to > t or dbt_valid_to is null).",
        next_step="Read customer_snapshot, not dim_customers. Write the filter first and look at it: "
        "`select customer_id, customer_segment, dbt_valid_from, dbt_valid_to from customer_snapshot where <filter>` "
        "must return exactly one row per customer (compare count(*) with count(distinct customer_id)). Then "
        "group those rows by customer_segment and count them.",
    ),
    Exercise(
        id="06.2",
        title="Customers whose segment changed since the end of 2024",
        expected=_changes(VALID_AT),
        key=("customer_id",),
        reads=("customer_snapshot",),
        mistakes=(
            Mistake(
                "Some of your customers have the same old and new segment: they have a new version because "
                "something else changed (the next-day batch moved a few customers to another city). A new "
                "version is not a new segment: keep only the customers whose two segments differ.",
                result=_changes(VALID_AT, changed=VERSION_CHANGED),
                detect=_same_segment_kept,
            ),
            Mistake(
                "Old and new segments are swapped: the old one comes from the version valid at the end of "
                "2024, the new one from the current version (dbt_valid_to is null).",
                _changes(VALID_AT, swap=True),
            ),
        ),
        hint="Join the version valid at the end of 2024 with the current version of the same customer, and keep "
        "the customers whose segment differs.",
        next_step="Two CTEs on customer_snapshot: `old` with the filter of exercise 06.1 (the version valid at "
        "2024-12-31 23:59:59), `current_versions` with `dbt_valid_to is null`. Join them on customer_id: one row per "
        "customer, with both segments side by side. A customer can have a new version and the same segment (a new "
        "city): the `where` compares the two segments, not the two versions.",
    ),
)


# --------------------------------------------------------------------------- 06.3: a snapshot with the check strategy

PRICES_SNAPSHOT = "product_prices_snapshot"
PRICES_INPUT = "int_products__prices"
TRACKED = ("list_price", "unit_cost", "category")
NEXT_DAY = "timestamp '2025-01-01 00:00:00'"

# Every version a right snapshot holds after "snapshot, next-day batch, snapshot": the catalogue as the
# source has it now, plus the versions the batch replaced. Those are the versions the course's own
# check snapshot (product_snapshot, on the same columns, first taken by the course's first build) closed.
_PRICE_HISTORY = """
    select product_id, trim(category) as category, list_price, unit_cost
    from raw_data.products
    union
    select product_id, category, list_price, unit_cost
    from {target}_snapshots.product_snapshot
    where dbt_valid_to is not null
"""


def _one_version_each(attempt: pd.DataFrame, expected: pd.DataFrame) -> bool:
    """The snapshot holds one version per product, where the history has two for the changed ones."""
    if "product_id" not in attempt.columns or "product_id" not in expected.columns:
        return False
    return bool(not attempt["product_id"].duplicated().any() and expected["product_id"].duplicated().any())


register(
    BuildExercise(
        id="06.3",
        title="Build it: a snapshot of product prices with the check strategy",
        models=(
            ModelCheck(
                name=PRICES_INPUT,
                materialized="ephemeral",
                reads=("ref('stg_ecommerce__products')",),
            ),
            ModelCheck(
                name=PRICES_SNAPSHOT,
                resource="snapshot",
                materialized="snapshot",
                reads=(f"ref('{PRICES_INPUT}')",),
                config=(("strategy", "check"), ("unique_key", "product_id"), ("check_cols", list(TRACKED))),
                tests=(("product_id", "not_null"), ("product_id", "unique")),
                expected=_PRICE_HISTORY,
                key=("product_id", "category", "list_price", "unit_cost"),
                mistakes=(
                    Mistake(
                        "Your snapshot holds one version per product: it has seen the catalogue only once (taken "
                        "once, or taken first after the batch was loaded again). A snapshot records a change only "
                        "if a run saw the row before it and another run after it: put the products back as they "
                        "were before the batch, take your snapshot, load the batch, take it again. To start over, "
                        f"drop your snapshot first (`%sql drop table {PRICES_SNAPSHOT}`): it keeps what it saw.",
                        detect=_one_version_each,
                    ),
                ),
            ),
        ),
        build=f'run_dbt(["build", "--select", "{PRICES_SNAPSHOT}"])',
        hint="The ephemeral model selects product_id, product_name, category, list_price and unit_cost from "
        "stg_ecommerce__products; the snapshot's YAML names it as `relation: ref(...)`, with `strategy: check`, "
        "`check_cols` and `unique_key` under `config:`.",
        next_step="Read snapshots/_snapshots.yml: product_snapshot is the pattern (a YAML entry under `snapshots:` "
        "with name, relation, description, config, columns). A snapshot repeats a product once per version, so "
        '`unique` on product_id holds for the current versions only: give it `config: {where: "dbt_valid_to is '
        'null"}`. Then the order matters: products_before_the_batch(), `dbt snapshot`, apply_next_day_batch(), '
        "`dbt build` (it snapshots again and runs the tests). Look at one changed product: "
        f"`select * from {PRICES_SNAPSHOT} where product_id in (select product_id from {PRICES_SNAPSHOT} "
        "where dbt_valid_to is not null)` must show two versions each.",
    ),
)


def products_before_the_batch() -> int:
    """Put the products the next-day batch changed back as they were before it; the number put back.

    Their old values are the versions the course's `product_snapshot` closed when it saw the batch. Only
    while your `product_prices_snapshot` does not exist yet (it would record the old values as a third
    version); `apply_next_day_batch()` then changes the same products again, to the same values.
    """
    from ..database import connection
    from ..settings import load_settings

    settings = load_settings()
    workspace_schema = f"{settings.db_schema}_workspace"
    with connection() as conn, conn.cursor() as cur:
        cur.execute("select to_regclass(%s) is not null", (f'"{workspace_schema}"."{PRICES_SNAPSHOT}"',))
        if fetch_value(cur):
            print(f"Your {PRICES_SNAPSHOT} exists already: the products stay as they are (it keeps what it saw).")
            return 0
        cur.execute(
            pgsql.SQL(
                settings.in_raw_schema("""
                update raw_data.products as products
                set list_price = before.list_price, unit_cost = before.unit_cost,
                    category = before.category, updated_at = before.updated_at
                from (
                    select distinct on (product_id) product_id, list_price, unit_cost, category, updated_at
                    from {snapshot}
                    where dbt_valid_to is not null and updated_at < {next_day}
                    order by product_id, dbt_valid_to desc
                ) as before
                where products.product_id = before.product_id
                    and products.updated_at >= {next_day}
                """)
            ).format(
                snapshot=pgsql.Identifier(f"{settings.db_schema}_snapshots", "product_snapshot"),
                next_day=pgsql.SQL(NEXT_DAY),
            )
        )
        count = cur.rowcount
    print(
        f"Put {count} product(s) back as they were before the next-day batch."
        if count
        else "No product to put back: the raw products are as they were before the batch already."
    )
    return count
