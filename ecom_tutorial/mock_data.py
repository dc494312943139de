"""Load the raw e-commerce data from docker/postgres/mock-data/*.sql, the data's one source.

Docker's init script runs the same files, so the embedded server, the Docker server and any other
server hold identical raw tables for the same scale factor.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2.extensions
from psycopg2 import sql

from .database import fetch_value
from .errors import DatabasePermissionError, DataNotLoadedError, SettingsError
from .settings import SHARED_RAW_SCHEMA, Settings, load_settings

# Each raw table and its primary key, in load order. The shop's database exports the first four;
# product_reviews (the review widget) and returns (the returns desk) came with version 2 of the data.
RAW_TABLES = {
    "products": "product_id",
    "customers": "customer_id",
    "orders": "order_id",
    "order_items": "order_item_id",
    "product_reviews": "review_id",
    "returns": "return_id",
}
FIRST_VERSION_TABLES = ("products", "customers", "orders", "order_items")  # all an earlier load has
CUSTOMERS_PER_SCALE = 10_000  # scale factor 1 gives exactly this many customers
MAX_SCALE = 1_000  # 10 million customers, 50 million orders: more than a course machine can hold
NEXT_DAY_BATCH_DATE = "2025-01-01"
NEXT_DAY_BATCH_FILE = "next_day_batch.sql"


class RawDataOutdatedError(DataNotLoadedError):
    """The raw data was loaded by an earlier version of the course: some raw tables are missing.

    `scale` is the scale it was loaded at, so that `ecom-tutorial up` reloads it at the same scale.
    """

    def __init__(self, missing: list[str], scale: int) -> None:
        self.missing = missing
        self.scale = scale
        tables = ", ".join(f"raw_data.{table}" for table in missing)
        super().__init__(
            f"The raw data was loaded by an earlier version of the course: {tables} "
            f"{'is' if len(missing) == 1 else 'are'} missing. Run `ecom-tutorial up` to reload it at the same "
            f"scale ({scale}); it also drops the warehouse built on the old data, which `ecom-tutorial build` "
            "(or the next lesson's setup) rebuilds."
        )


@dataclass(frozen=True)
class RawDataState:
    """What the raw schema holds right now, read from the data itself."""

    row_counts: dict[str, int]
    scale: int
    last_order_date: str
    next_day_batch_applied: bool


def load_files(settings: Settings | None = None) -> list[Path]:
    """The numbered mock-data scripts, in the order Docker's init runs them."""
    settings = settings or load_settings()
    files = sorted(settings.mock_data_dir.glob("[0-9]*.sql"))
    if not files:
        raise SettingsError(f"No mock-data SQL files in {settings.mock_data_dir}: is the checkout complete?")
    return files


def load_raw_data(
    conn: psycopg2.extensions.connection, scale: int = 1, settings: Settings | None = None, progress: bool = False
) -> None:
    """(Re)create and fill the raw_data tables at `scale` (1 = 10,000 customers, 50,000 orders).

    `progress`: a bar of the files loaded, naming the one loading now (at scale 100 a load takes minutes).
    """
    if not 1 <= scale <= MAX_SCALE:
        raise SettingsError(f"The scale factor must be a whole number from 1 to {MAX_SCALE}, not {scale}.")
    from tqdm.auto import tqdm

    files = load_files(settings)
    # TQDM_DISABLE: tqdm's own switch, which executed notebook copies set (runner._Progress says why)
    shown = progress and not os.environ.get("TQDM_DISABLE")
    bar = tqdm(total=len(files), desc=f"raw data, scale {scale}", unit="file", disable=not shown)
    with conn.cursor() as cur, bar:
        # The SQL reads the scale from this custom setting, as Docker's init sets it through PGOPTIONS.
        cur.execute("select set_config('ecom.scale', %s, false)", (str(scale),))
        for path in files:
            bar.set_postfix_str(path.stem.partition("_")[2])  # 05_order_items.sql: order_items
            cur.execute(path.read_text())
            bar.update(1)
    conn.commit()


def apply_next_day_batch(conn: psycopg2.extensions.connection, settings: Settings | None = None) -> None:
    """Apply the deterministic, idempotent next-day batch (orders of 2025-01-01, changed customers and products)
    to the raw data the sources read: raw_data, or in a class the learner's own copy of it."""
    settings = settings or load_settings()
    state = raw_data_state(conn, settings)
    with conn.cursor() as cur:
        cur.execute("select set_config('ecom.scale', %s, false)", (str(state.scale),))
        cur.execute(settings.in_raw_schema((settings.mock_data_dir / NEXT_DAY_BATCH_FILE).read_text()))
    conn.commit()


def change_raw_data(statement: str, params: Sequence[Any] | None = None, settings: Settings | None = None) -> int:
    """Run one statement that changes the raw data, as a lesson does on purpose, and commit; the rows it changed.

    The statement names raw_data, as the lessons do; in a class it changes the learner's own copy
    (Settings.in_raw_schema).
    """
    from .database import connection, connection_info

    settings = settings or load_settings()
    with connection(connection_info(settings)) as conn, conn.cursor() as cur:
        cur.execute(settings.in_raw_schema(statement), params)
        return cur.rowcount


def copy_raw_data(cur: psycopg2.extensions.cursor, schema: str, owner: str) -> None:
    """Copy every raw table into `schema` (which exists), with its keys and indexes but no foreign keys, owned by
    `owner`: a class learner's own raw data, which a lesson may change (the next-day batch, a broken order) for
    them alone."""
    for table in RAW_TABLES:
        copy = sql.Identifier(schema, table)
        cur.execute(
            sql.SQL("create table {} (like {} including all)").format(copy, sql.Identifier(SHARED_RAW_SCHEMA, table))
        )
        cur.execute(sql.SQL("insert into {} select * from {}").format(copy, sql.Identifier(SHARED_RAW_SCHEMA, table)))
        cur.execute(sql.SQL("alter table {} owner to {}").format(copy, sql.Identifier(owner)))
        cur.execute(sql.SQL("analyze {}").format(copy))


def may_write_raw_data(conn: psycopg2.extensions.connection) -> bool:
    """Whether the user may (re)load the shared raw data: in a class, learners only read it (classroom.py)."""
    with conn.cursor() as cur:
        cur.execute("select coalesce(has_table_privilege(to_regclass('raw_data.orders'), 'INSERT'), true)")
        return bool(fetch_value(cur))


def shared_raw_data_error(what: str, command: str, then: str) -> DatabasePermissionError:
    """The message for a learner of a class who asks for a change of the shared raw data."""
    return DatabasePermissionError(
        f"The raw data here is shared and read-only for you (a class): {what} is your teacher's to do, for "
        f"everyone (`{command}`). Ask them, {then}."
    )


def raw_data_state(conn: psycopg2.extensions.connection, settings: Settings | None = None) -> RawDataState:
    """Row counts, scale and last order date of the raw data the sources read (Settings.raw_schema); raises
    DataNotLoadedError if a raw table is missing (RawDataOutdatedError, a subclass, if only the tables of a
    later version of the data are)."""
    schema = (settings or load_settings()).raw_schema
    with conn.cursor() as cur:
        cur.execute(
            "select table_name from information_schema.tables where table_schema = %s and table_name = any(%s)",
            (schema, list(RAW_TABLES)),
        )
        present = {row[0] for row in cur.fetchall()}
        missing = [table for table in RAW_TABLES if table not in present]
        if not present.issuperset(FIRST_VERSION_TABLES):
            raise DataNotLoadedError("The raw data is not loaded yet: run `ecom-tutorial up` first.")
        if missing:
            cur.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(schema, "customers")))
            raise RawDataOutdatedError(missing, max(1, round(fetch_value(cur) / CUSTOMERS_PER_SCALE)))
        counts = {}
        for table in RAW_TABLES:
            cur.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(schema, table)))
            counts[table] = fetch_value(cur)
        cur.execute(
            sql.SQL("select coalesce(max(order_date)::date::text, '') from {}").format(sql.Identifier(schema, "orders"))
        )
        last_order_date = fetch_value(cur)
    return RawDataState(
        row_counts=counts,
        scale=max(1, round(counts["customers"] / CUSTOMERS_PER_SCALE)),
        last_order_date=last_order_date,
        next_day_batch_applied=last_order_date >= NEXT_DAY_BATCH_DATE,
    )


def table_checksums(conn: psycopg2.extensions.connection) -> dict[str, str]:
    """An md5 per raw table over all rows in key order, leaving out the load timestamp.

    Equal checksums on two servers mean identical data: the proof that the SQL is deterministic.
    """
    checksums = {}
    with conn.cursor() as cur:
        for table, key in RAW_TABLES.items():
            cur.execute(
                f"""
                select md5(coalesce(string_agg(row_text, E'\\n' order by {key}), ''))
                from (
                    select {key}, (to_jsonb(t) - '_loaded_at')::text as row_text
                    from raw_data.{table} as t
                ) as rows
                """
            )
            checksums[table] = fetch_value(cur)
    return checksums
