"""The command line as a learner uses it: build, status, env (plain dbt), reset, errors."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess

import psycopg2
import pytest
from conftest import REPO, drop_the_clone, isolated_database, run_cli, unique_name

from ecom_tutorial import (
    DbtRunError,
    cli,
    connection,
    run_dbt,
    table_checksums,
)
from ecom_tutorial.cli import build_parser
from ecom_tutorial.ownership import SCHEMA_MARKER

pytestmark = pytest.mark.slow  # dbt builds (see conftest.SLOW_FIXTURES)

COMMANDS = ["up", "build", "status", "env", "reset", "down", "docs", "notebooks", "exercises", "dbt"]


def test_console_script_and_help_for_every_command():
    assert shutil.which("ecom-tutorial"), "the README's `ecom-tutorial` command must be installed"
    top = subprocess.run(["ecom-tutorial", "--help"], capture_output=True, text=True)
    assert top.returncode == 0
    for command in COMMANDS:
        assert command in top.stdout
        with pytest.raises(SystemExit) as exit_info:
            build_parser().parse_args([command, "--help"])
        assert exit_info.value.code == 0


def test_build_on_a_fresh_database_is_green_without_warnings(built_warehouse):
    out = built_warehouse["stdout"]
    assert "ERROR=0" in out and "WARN=0" in out and "SKIP=0" in out, out
    assert "warning(s)" not in out, out
    with connection() as conn, conn.cursor() as cur:
        cur.execute("select count(*) from analytics_dev.customer_analytics")
        assert cur.fetchone()[0] == 10_000


def test_up_again_is_a_no_op(built_warehouse):
    result = run_cli("up")
    assert result.returncode == 0, result.stderr
    assert "Already loaded" in result.stdout and "scale 1" in result.stdout


def test_status_reports_server_data_and_warehouse(built_warehouse):
    result = run_cli("status")
    assert result.returncode == 0, result.stderr
    lines = dict(line.strip().split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
    assert lines["mode"] == "embedded" and lines["server"].startswith("running")
    assert lines["scale"] == "1" and lines["warehouse built"] == "True"
    assert "customers=10,000" in lines["raw data"]


def test_env_lets_plain_dbt_reach_the_same_database(built_warehouse):
    exports = run_cli("env")
    assert exports.returncode == 0, exports.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ECOM_", "DBT_"))}
    for line in exports.stdout.splitlines():
        name, value = line.removeprefix("export ").split("=", 1)
        env[name] = shlex.split(value)[0] if value != "''" else ""
    debug = subprocess.run(["dbt", "debug"], cwd=REPO / "dbt_project", env=env, capture_output=True, text=True)
    assert debug.returncode == 0, debug.stdout
    assert "All checks passed" in debug.stdout


def test_a_typo_in_a_model_name_gets_a_suggestion(built_warehouse):
    with pytest.raises(DbtRunError, match="Did you mean customer_analytics"):
        run_dbt(["run", "--select", "customer_analytcs"], progress=False)


def test_a_failing_data_test_names_the_test(built_warehouse):
    with connection() as conn, conn.cursor() as cur:
        cur.execute("select segment from raw_data.customers where customer_id = 1")
        original_segment = cur.fetchone()[0]
        cur.execute("update raw_data.customers set segment = 'platinum' where customer_id = 1")
    try:
        with pytest.raises(DbtRunError) as failure:
            run_dbt(["test", "--select", "stg_ecommerce__customers"], progress=False)
        failing = [node for node, _ in failure.value.failures]
        assert any("accepted_values" in node and "segment" in node for node in failing), failing
        assert "A failing data test found rows that break its rule" in str(failure.value)
        assert "ecom-tutorial build" not in str(failure.value)  # rebuilding would not fix the data
    finally:
        with connection() as conn, conn.cursor() as cur:
            cur.execute("update raw_data.customers set segment = %s where customer_id = 1", (original_segment,))


def test_reset_asks_first_and_drops_only_owned_schemas(built_warehouse):
    env = {"ECOM_DB_NAME": "ecom_reset_test"}
    assert run_cli("up", env=env).returncode == 0
    # a real dbt relation (and the schema dbt creates for it), and a learner's own table
    built = run_cli("dbt", "--", "run", "--select", "stg_ecommerce__orders", env=env)
    assert built.returncode == 0, built.stdout + built.stderr
    staging_view = "select to_regclass('analytics_dev_staging.stg_ecommerce__orders') is not null"
    with isolated_database("ecom_reset_test"), connection() as conn, conn.cursor() as cur:
        cur.execute("create schema if not exists learner_notes; create table if not exists learner_notes.t (x int)")
        cur.execute(staging_view)
        assert cur.fetchone() == (True,)
    refused = run_cli("reset", env=env)
    assert refused.returncode == 1 and "--yes" in refused.stdout
    done = run_cli("reset", "--yes", env=env)
    assert done.returncode == 0, done.stderr
    assert "analytics_dev_staging" in done.stdout and "raw_data" in done.stdout
    with isolated_database("ecom_reset_test"), connection() as conn, conn.cursor() as cur:
        cur.execute(staging_view)
        assert cur.fetchone() == (False,), "reset must drop what dbt built"
        cur.execute("select nspname from pg_namespace where nspname in ('analytics_dev_staging', 'learner_notes')")
        assert [row[0] for row in cur.fetchall()] == ["learner_notes"]
        cur.execute("select to_regclass('learner_notes.t') is not null")
        assert cur.fetchone() == (True,)
        cur.execute("select count(*) from raw_data.customers")
        assert cur.fetchone()[0] == 10_000


def test_up_in_a_terminal_shows_which_raw_file_loads_and_how_far(
    built_warehouse, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A load takes minutes at scale 100: in a terminal, `up` and `reset` show a bar of the raw data's files, naming
    the one loading; in a log (no terminal) they stay quiet."""
    name = unique_name("ecom_up_progress")
    monkeypatch.setenv("ECOM_DB_NAME", name)
    try:
        monkeypatch.setattr(cli, "interactive", lambda: True)  # as in a terminal
        assert cli.main(["up"]) == 0
        shown = capfd.readouterr().err
        for part in ("raw data, scale 1", "order_items", "8/8"):
            assert part in shown, shown
        monkeypatch.setattr(cli, "interactive", lambda: False)  # as in a log
        assert cli.main(["reset", "--yes"]) == 0
        assert "raw data, scale" not in capfd.readouterr().err
    finally:
        drop_the_clone(name)


def test_server_mode_loads_identical_data_into_postgres_15(built_warehouse, local_pg):
    """The Docker path: any server chosen by ECOM_DB_* variables; the data must match the embedded one."""
    dbname = unique_name("ecom_cli_server_mode")
    admin = psycopg2.connect(**local_pg)
    admin.autocommit = True
    reporter = unique_name("ecom_cli_reporter")  # `up` creates the read-only role: ours, not a shared one
    env = {
        "ECOM_DB_MODE": "server",
        "ECOM_DB_HOST": "127.0.0.1",
        "ECOM_DB_PORT": "5432",
        "ECOM_DB_USER": local_pg["user"],
        "ECOM_DB_PASSWORD": "",
        "ECOM_DB_NAME": dbname,
        "ECOM_REPORTER_ROLE": reporter,
    }
    try:
        result = run_cli("up", env=env)
        assert result.returncode == 0, result.stderr
        assert "127.0.0.1:5432" in result.stdout
        with psycopg2.connect(**{**local_pg, "dbname": dbname}) as conn, conn.cursor() as cur:
            cur.execute("show server_version_num")
            server_version = int(cur.fetchone()[0])
            external = table_checksums(conn)
        with connection() as conn:
            embedded = table_checksums(conn)
        assert server_version < 180000, "the comparison needs two PostgreSQL major versions"
        assert external == embedded
    finally:
        with admin.cursor() as cur:
            cur.execute(f"drop database if exists {dbname} with (force)")
            cur.execute(f"drop role if exists {reporter}")
        admin.close()


def test_dbt_passthrough_runs_any_dbt_command(built_warehouse):
    listed = run_cli("dbt", "--", "ls", "--select", "dim_date", "--output", "name")
    assert listed.returncode == 0, listed.stderr
    assert "dim_date" in listed.stdout.split()
    assert run_cli("dbt").returncode == 2


def test_changing_the_scale_replaces_the_data_and_the_warehouse_built_on_it(built_warehouse):
    """An incremental fact or a snapshot would keep rows of the old data: they go with it."""
    env = {"ECOM_DB_NAME": "ecom_scale_change"}
    assert run_cli("up", env=env).returncode == 0
    with isolated_database("ecom_scale_change"), connection() as conn, conn.cursor() as cur:
        # the snapshot schema as dbt creates it (marked as the project's), and a learner's own schema
        cur.execute("create schema analytics_dev_snapshots; create schema if not exists learner_notes")
        cur.execute("comment on schema analytics_dev_snapshots is %s", (SCHEMA_MARKER,))
    changed = run_cli("up", "--scale", "2", env=env)
    assert changed.returncode == 0, changed.stderr
    assert "analytics_dev_snapshots" in changed.stdout and "scale 2" in changed.stdout
    with isolated_database("ecom_scale_change"), connection() as conn, conn.cursor() as cur:
        cur.execute("select count(*) from raw_data.customers")
        assert cur.fetchone()[0] == 20_000
        cur.execute("select nspname from pg_namespace where nspname in ('analytics_dev_snapshots', 'learner_notes')")
        assert [row[0] for row in cur.fetchall()] == ["learner_notes"]
    again = run_cli("up", "--scale", "2", env=env)
    assert "Already loaded" in again.stdout and "dropped" not in again.stdout
