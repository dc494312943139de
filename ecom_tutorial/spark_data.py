"""The raw data on Spark: the PostgreSQL raw tables copied to Parquet files, which Spark reads as its raw tables.

Both engines then hold the same rows, generated once by the mock-data scripts (mock_data.py): the
comparison of lesson 11 compares the engines, not two draws of random data. The files live in the
cluster's folder (<spark dir>/raw/<table>/), one folder per table; `raw.json` there records which
data they hold (the scale and a checksum per table), so a second `up --engine spark` copies nothing.
Talking to Spark goes through its Thrift server, the connection dbt-spark uses too.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg2.extensions
from psycopg2 import sql

from . import database
from .errors import SparkUnavailableError
from .mock_data import RAW_TABLES
from .settings import Settings, load_settings
from .spark_cluster import Cluster

# PostgreSQL's column types as Arrow (the Parquet files) and Spark SQL (the tables) spell them.


def _types(data_type: str, precision: int | None, scale: int | None) -> tuple[Any, str]:
    import pyarrow as pa

    if data_type == "integer":
        return pa.int32(), "int"
    if data_type == "bigint":
        return pa.int64(), "bigint"
    if data_type == "numeric":
        return pa.decimal128(precision or 38, scale or 0), f"decimal({precision or 38},{scale or 0})"
    if data_type == "boolean":
        return pa.bool_(), "boolean"
    if data_type.startswith("timestamp"):
        return pa.timestamp("us"), "timestamp"
    if data_type == "date":
        return pa.date32(), "date"
    return pa.string(), "string"


def _columns(cur: psycopg2.extensions.cursor, schema: str, table: str) -> list[tuple[str, str, int | None, int | None]]:
    cur.execute(
        "select column_name, data_type, numeric_precision, numeric_scale from information_schema.columns "
        "where table_schema = %s and table_name = %s order by ordinal_position",
        (schema, table),
    )
    return list(cur.fetchall())


def _export_table(cur: psycopg2.extensions.cursor, schema: str, table: str, target: Path) -> list[str]:
    """Write one raw table as a Parquet file in `target`; its Spark column definitions."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    columns = _columns(cur, schema, table)
    arrow_types = {name: _types(kind, precision, scale)[0] for name, kind, precision, scale in columns}
    # A timestamp with time zone is written as UTC: Spark's sessions here run in UTC too (spark_cluster.py).
    selected = sql.SQL(", ").join(
        sql.SQL("{} at time zone 'UTC'").format(sql.Identifier(name))
        if kind == "timestamp with time zone"
        else sql.Identifier(name)
        for name, kind, _, _ in columns
    )
    query = sql.SQL("copy (select {} from {} order by 1) to stdout with (format csv, header false)").format(
        selected, sql.Identifier(schema, table)
    )
    target.mkdir(parents=True)
    with tempfile.TemporaryFile() as csv_file:
        cur.copy_expert(query.as_string(cur), csv_file)
        csv_file.seek(0)
        reader = pa_csv.open_csv(
            csv_file,
            read_options=pa_csv.ReadOptions(column_names=list(arrow_types), block_size=16 << 20),
            convert_options=pa_csv.ConvertOptions(
                column_types=arrow_types,
                true_values=["t"],
                false_values=["f"],
                strings_can_be_null=True,  # an unquoted empty field is PostgreSQL's null; "" stays ""
            ),
        )
        with pq.ParquetWriter(target / "part-0.parquet", pa.schema(list(arrow_types.items()))) as writer:
            for batch in reader:
                writer.write_batch(batch)
    return [f"`{name}` {_types(kind, precision, scale)[1]}" for name, kind, precision, scale in columns]


def _fingerprint(conn: psycopg2.extensions.connection, settings: Settings) -> dict[str, list[str]]:
    """Per raw table, its row count and latest load time: a reload at any scale and the next-day batch each
    change them. (A row changed in place without a new load time is not seen: delete <spark dir>/raw.)"""
    fingerprint = {}
    with conn.cursor() as cur:
        for table in RAW_TABLES:
            cur.execute(
                sql.SQL("select count(*)::text, coalesce(max(_loaded_at)::text, '') from {}").format(
                    sql.Identifier(settings.raw_schema, table)
                )
            )
            fingerprint[table] = list(cur.fetchone() or ())
    return fingerprint


@contextmanager
def connection(cluster: Cluster) -> Iterator[Any]:
    """A connection to the Thrift server (PyHive, as dbt-spark uses)."""
    from pyhive import hive
    from thrift.transport.TTransport import TTransportException

    try:
        conn = hive.connect(host="127.0.0.1", port=cluster.thrift_port, username="ecom")
    except (TTransportException, OSError) as exc:
        raise SparkUnavailableError(
            f"Cannot reach Spark's Thrift server on port {cluster.thrift_port} ({exc}): run `ecom-tutorial down` "
            "and then `ecom-tutorial up --engine spark`."
        ) from exc
    try:
        yield conn
    finally:
        conn.close()


def query(cluster: Cluster, statement: str) -> list[tuple[Any, ...]]:
    """Run one Spark SQL statement; its rows (none for DDL)."""
    with connection(cluster) as conn:
        cursor = conn.cursor()
        cursor.execute(statement)
        return list(cursor.fetchall()) if cursor.description else []


def read_table(cluster: Cluster, schema: str, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """A whole table as Spark's Thrift server returns it: its column names and its rows."""
    with connection(cluster) as conn:
        cursor = conn.cursor(arraysize=10_000)
        cursor.execute(f"select * from {schema}.{table}")
        columns = [column[0].split(".")[-1] for column in cursor.description]
        return columns, list(cursor.fetchall())


def load_raw_data(
    cluster: Cluster, settings: Settings | None = None, report: Callable[[str], None] = lambda table: None
) -> bool:
    """Copy the PostgreSQL raw tables to Spark, unless it holds them already; True if it copied.

    `report` is told each table as its copy begins.
    """
    settings = settings or load_settings()
    raw_dir = settings.spark_dir / "raw"
    record = raw_dir / "raw.json"
    with database.connection(database.connection_info(settings)) as conn:
        fingerprint = _fingerprint(conn, settings)
        try:
            before = json.loads(record.read_text())
        except (OSError, ValueError):
            before = None
        if before == fingerprint and _tables_present(cluster, settings):
            return False
        shutil.rmtree(raw_dir, ignore_errors=True)
        schema = settings.raw_schema
        statements = [f"create database if not exists {schema}"]
        if not _only_grew(before, fingerprint):
            # other data (another scale, another database): what dbt built on the old data goes, as `up` does
            # on PostgreSQL, or an incremental model would keep rows of the old data
            statements += [f"drop database if exists {name} cascade" for name in _dbt_schemas(settings)]
        with conn.cursor() as cur:
            for table in RAW_TABLES:
                report(table)
                columns = _export_table(cur, schema, table, raw_dir / table)
                statements += [
                    f"drop table if exists {schema}.{table}",
                    f"create table {schema}.{table} ({', '.join(columns)}) using parquet "
                    f"location '{(raw_dir / table).as_uri()}'",
                ]
    with connection(cluster) as spark:
        cursor = spark.cursor()
        for statement in statements:
            cursor.execute(statement)
    record.write_text(json.dumps(fingerprint))
    return True


def _only_grew(before: dict[str, list[str]] | None, after: dict[str, list[str]]) -> bool:
    """True if every raw table has at least as many rows and as late a load as before: the data was appended
    to (the next-day batch), not replaced."""
    if not before or set(before) != set(after):
        return False
    return all(int(after[t][0]) >= int(before[t][0]) and after[t][1] >= before[t][1] for t in after)


def _dbt_schemas(settings: Settings) -> list[str]:
    """The Spark databases dbt builds in (the target schema and its companions), not the raw data's."""
    return [schema for schema in settings.owned_schemas if schema != settings.raw_schema]


def _tables_present(cluster: Cluster, settings: Settings) -> bool:
    return tables_in(cluster, settings.raw_schema) >= set(RAW_TABLES)


def tables_in(cluster: Cluster, schema: str) -> set[str]:
    """The tables and views of a Spark database (schema), none if it does not exist."""
    if not any(row[0] == schema for row in query(cluster, "show databases")):
        return set()
    return {row[1] for row in query(cluster, f"show tables in {schema}")}
