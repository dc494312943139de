"""One as-of day: plain `dbt build` in a terminal and `ecom-tutorial build` give the same warehouse,
before and after the next-day batch, and a lesson's first cell rebuilds a stale warehouse.

The as-of day is defined once, in the macro as_of_date (dbt_project/macros/as_of_date.sql): the
`as_of_date` variable when --vars sets it, else the date of the last raw order.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2.extensions
import pytest
from conftest import REPO, dbt_target, frame, isolated_database, run_cli

import ecom_tutorial
from ecom_tutorial import warehouse

pytestmark = pytest.mark.slow  # dbt builds (see conftest.SLOW_FIXTURES)

PLAIN_SCHEMA = "plain_dbt"  # where the terminal's `dbt build` writes, next to the CLI's analytics_dev
RUN_METADATA = {"dbt_updated_at"}  # the build's own start time: differs between any two builds


def _plain_dbt(args: list[str], target: Path) -> subprocess.CompletedProcess[str]:
    """`eval "$(ecom-tutorial env)"; cd dbt_project; dbt ARGS`, as the README teaches, into PLAIN_SCHEMA."""
    exported = run_cli("env")
    assert exported.returncode == 0, exported.stderr
    env = dict(os.environ)
    for line in exported.stdout.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = shlex.split(value)[0] if value else ""
    env.update(ECOM_DB_SCHEMA=PLAIN_SCHEMA, DBT_TARGET_PATH=str(target), DBT_LOG_PATH=str(target) + "-logs")
    dbt = Path(sys.executable).parent / "dbt"
    return subprocess.run(
        [str(dbt), *args], cwd=REPO / "dbt_project", env=env, capture_output=True, text=True, timeout=600
    )


def _relations(conn: psycopg2.extensions.connection, schema: str) -> set[str]:
    rows = frame(conn, f"select table_name from information_schema.tables where table_schema = '{schema}'")
    return set(rows["table_name"])


def _differences(conn: psycopg2.extensions.connection, left: str, right: str) -> dict[str, int]:
    """relation -> number of rows found on one side only (run metadata left out); {} when identical."""
    differing = {}
    for relation in sorted(_relations(conn, left)):
        columns = frame(
            conn,
            "select column_name from information_schema.columns "
            f"where table_schema = '{left}' and table_name = '{relation}' order by ordinal_position",
        )["column_name"]
        listed = ", ".join(f'"{c}"' for c in columns if c not in RUN_METADATA)
        a, b = f'"{left}"."{relation}"', f'"{right}"."{relation}"'
        count = frame(
            conn,
            f"select count(*) as n from ((select {listed} from {a} except all select {listed} from {b}) "
            f"union all (select {listed} from {b} except all select {listed} from {a})) as d",
        )["n"][0]
        if count:
            differing[relation] = int(count)
    return differing


def _plain_build_matches(conn: psycopg2.extensions.connection, tmp_path: Path) -> None:
    """A terminal's `dbt build` into PLAIN_SCHEMA gives what the package built in analytics_dev."""
    plain = _plain_dbt(["build"], tmp_path / "target")
    assert plain.returncode == 0, f"dbt build:\n{plain.stdout[-5000:]}"
    assert _relations(conn, "analytics_dev") == _relations(conn, PLAIN_SCHEMA)
    assert _differences(conn, "analytics_dev", PLAIN_SCHEMA) == {}


@pytest.fixture(scope="module")
def as_of_database() -> Iterator[psycopg2.extensions.connection]:
    """A database of its own, built by `ecom-tutorial build` on the base data."""
    with isolated_database(f"ecom_as_of_{uuid.uuid4().hex[:8]}"):
        cli = run_cli("build", "--no-progress")
        assert cli.returncode == 0, f"ecom-tutorial build:\n{cli.stdout[-3000:]}\n{cli.stderr[-3000:]}"
        conn = ecom_tutorial.connect(autocommit=True)
        try:
            yield conn
        finally:
            conn.close()


def _last_day(conn: psycopg2.extensions.connection, relation: str) -> str:
    return str(frame(conn, f"select max(date_key) as d from analytics_dev.{relation}")["d"][0])


def test_plain_dbt_and_the_package_build_the_same_warehouse(as_of_database, tmp_path: Path) -> None:
    with ecom_tutorial.connection() as conn:
        already_applied = ecom_tutorial.raw_data_state(conn).next_day_batch_applied
    if not already_applied:  # (run alone; in file order this comes first)
        assert _last_day(as_of_database, "orders_daily") == "2024-12-31"
        _plain_build_matches(as_of_database, tmp_path / "base")
    # the lesson's first cell: nothing to do while the data has not changed ...
    warehouse.ensure_built(progress=False)
    assert warehouse.ensure_built(progress=False) is False
    # ... and a rebuild after the next-day batch, which moves the as-of day for both ways to build
    ecom_tutorial.apply_next_day_batch(as_of_database)
    assert warehouse.ensure_built(progress=False) is True
    assert _last_day(as_of_database, "orders_daily") == _last_day(as_of_database, "dim_date") == "2025-01-01"
    lines = frame(
        as_of_database, "select count(*) as n from analytics_dev.fact_order_items where order_date = '2025-01-01'"
    )
    assert lines["n"][0] > 0
    _plain_build_matches(as_of_database, tmp_path / "after-batch")
    assert warehouse.ensure_built(progress=False) is False


def test_a_relation_dropped_by_a_partial_run_makes_the_warehouse_stale(as_of_database, tmp_path: Path) -> None:
    """Rebuilding a staging view drops the views built on it (`drop ... cascade`): a lesson notices."""
    warehouse.ensure_built(progress=False)
    with dbt_target(tmp_path / "target"):
        ecom_tutorial.run_dbt(["run", "--select", "stg_ecommerce__orders"], progress=False)
    assert "int_orders__daily_agg" not in _relations(as_of_database, "analytics_dev")
    assert warehouse.ensure_built(progress=False) is True
    assert "int_orders__daily_agg" in _relations(as_of_database, "analytics_dev")


def test_facts_with_different_as_of_days_fail_the_relationship_tests(as_of_database, tmp_path: Path) -> None:
    """The inconsistency two as-of days used to make (lines without their order or their day) fails the build."""
    ecom_tutorial.apply_next_day_batch(as_of_database)  # idempotent
    with dbt_target(tmp_path / "target"):
        ecom_tutorial.run_dbt(
            ["run", "--select", "dim_date", "fact_orders"], vars={"as_of_date": "2024-12-31"}, progress=False
        )
        ecom_tutorial.run_dbt(["run", "--select", "fact_order_items"], progress=False)  # the last order's day
        result = ecom_tutorial.run_dbt(["test", "--select", "fact_order_items"], progress=False, check=False)
        ecom_tutorial.run_dbt(["run", "--select", "dim_date", "fact_orders"], progress=False)  # consistent again
    failed = set(result.table.loc[result.table["status"] == "fail", "node"])
    assert not result.success
    assert any(name.startswith("relationships_fact_order_items_order_id") for name in failed), failed
    assert any(name.startswith("relationships_fact_order_items_order_date") for name in failed), failed


def test_editing_a_model_makes_the_warehouse_stale(as_of_database) -> None:
    settings = ecom_tutorial.load_settings()
    before = warehouse.build_fingerprint(settings)
    model = settings.dbt_project_dir / "models" / "marts" / "core" / "dim_date.sql"
    original = model.read_bytes()
    try:
        model.write_bytes(original + b"\n-- an edit\n")
        assert warehouse.build_fingerprint(settings) != before
    finally:
        model.write_bytes(original)
    assert warehouse.build_fingerprint(settings) == before


def test_the_as_of_rule_is_written_once() -> None:
    """Only the macro reads the variable, and no Python code passes dbt a default of its own."""
    readers = []
    for path in [*(REPO / "dbt_project").rglob("*.sql"), *(REPO / "dbt_project").rglob("*.yml")]:
        if {"target", "dbt_packages", "logs"} & set(path.parts):
            continue
        if re.search(r"""var\(\s*['"]as_of_date['"]""", path.read_text()):
            readers.append(str(path.relative_to(REPO)))
    assert readers == ["dbt_project/macros/as_of_date.sql"], readers
    for path in (REPO / "ecom_tutorial").rglob("*.py"):
        keys = [
            node
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Dict)
            and any(isinstance(k, ast.Constant) and k.value == "as_of_date" for k in node.keys)
        ]
        assert not keys, f"{path.relative_to(REPO)} builds its own as_of_date for dbt"
