"""Shared fixtures: one embedded PostgreSQL for the whole session, built once through the CLI.

Every test runs against real servers and real dbt. The session uses its own data folder, so a
developer's own warehouse (.pgdata/) is never touched.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import psycopg2
import psycopg2.extensions
import pytest

import ecom_tutorial
from ecom_tutorial import queries

REPO = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "ecom_tutorial.cli"]
LOCAL_PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
SOLUTIONS = REPO / "notebooks" / "solutions"
CHECK_CALL = re.compile(r"""check\(\s*["']([\d.]+)["']\s*,\s*(\w+)\s*\)""")
DBT_OK_STATUSES = {"pass", "success", "no-op"}  # no-op: exposures, which `dbt build` only lists
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="ecom-tests-"))
RUN_ID = uuid.uuid4().hex[:8]  # in every name this run creates on the shared 127.0.0.1:5432 server


def pytest_configure(config: pytest.Config) -> None:
    """Point every test, subprocess and notebook kernel at the session's embedded server."""
    for name in [n for n in os.environ if n.startswith(("ECOM_DB_", "ECOM_REPORTER_ROLE"))]:
        del os.environ[name]
    os.environ.update(
        {
            "ECOM_DB_MODE": "embedded",
            "ECOM_PGDATA": str(_SESSION_DIR / "pgdata"),
            "ECOM_DB_NAME": "ecommerce_dw",
            "ECOM_DB_SCHEMA": "analytics_dev",
            "ECOM_PROJECT_DIR": str(REPO),
            # lesson 11's Spark cluster (test_spark.py, the notebook): one per session too, stopped at its end
            "ECOM_SPARK_DIR": str(_SESSION_DIR / "spark"),
            # dbt's output and logs are the session's own too: a parallel worker (pytest -n) or a developer's
            # dbt in the checkout writes its own dbt_project/target/
            "DBT_TARGET_PATH": str(_SESSION_DIR / "target"),
            "DBT_LOG_PATH": str(_SESSION_DIR / "logs"),
        }
    )


# A test that needs one of these is `slow` (it builds with dbt, runs notebooks or uses a second server);
# `python -m pytest -m "not slow"` runs the rest in under a minute. Modules that run dbt themselves say so
# with `pytestmark = pytest.mark.slow`.
SLOW_FIXTURES = {"built_warehouse", "local_pg", "notebook_database", "learner_project"}


LONGEST_FIRST = "test_notebooks.py"  # the notebook series: one file, 10+ minutes, on one worker


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    # with `pytest -n 2 --dist loadfile`, a worker starts on the series while the other takes the rest
    items.sort(key=lambda item: item.path.name != LONGEST_FIRST)


def pytest_unconfigure(config: pytest.Config) -> None:
    subprocess.run([*CLI, "down"], capture_output=True, timeout=120)
    shutil.rmtree(_SESSION_DIR, ignore_errors=True)


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    """Run `ecom-tutorial ARGS` the way a learner does, in a subprocess. With other connection settings in
    `env` (another database), dbt's target folder is that database's own (`target_for`)."""
    environment = {**os.environ, **(env or {})}
    changed = {key for key in env or {} if key.startswith("ECOM_")}
    if changed and "DBT_TARGET_PATH" not in (env or {}):
        # started parsed only where the parse cannot touch what the test looks at (another server, its folders)
        parsed = changed <= {"ECOM_DB_NAME", "ECOM_DB_SCHEMA"}
        environment["DBT_TARGET_PATH"] = str(target_for(environment, parsed=parsed))
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, env=environment)


@pytest.fixture(scope="session")
def built_warehouse() -> dict[str, object]:
    """`ecom-tutorial build` on a fresh database, once per session; the CLI's output and timing."""
    started = time.perf_counter()
    # the session's database, whatever database a module's fixture points the package at right now
    session = {"ECOM_DB_NAME": "ecommerce_dw", "DBT_TARGET_PATH": str(_SESSION_DIR / "target")}
    result = run_cli("build", "--no-progress", env=session)
    assert result.returncode == 0, f"ecom-tutorial build failed:\n{result.stdout}\n{result.stderr}"
    return {"stdout": result.stdout, "stderr": result.stderr, "seconds": time.perf_counter() - started}


@contextmanager
def isolated_database(name: str) -> Iterator[None]:
    """Point the package at another database on the session server while the block runs.

    For tests that change data (next-day batch, failing rows) without disturbing the shared warehouse. dbt
    writes to that database's own target folder (`target_for`), so the session's stays parsed for its own.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ECOM_DB_NAME", name)
        patch.setenv("DBT_TARGET_PATH", str(target_for(os.environ)))
        yield


def _on_the_maintenance_database(sql: str) -> None:
    """Run `sql` (create/drop database) on the session server's `postgres` database, the pool released first:
    pooled connections to a database block its copy and its drop."""
    queries.engine().dispose()
    conn = ecom_tutorial.connect(dbname="postgres", autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def clone_the_warehouse(name: str) -> None:
    """Database `name` on the session server: a copy of the session's built warehouse, made anew (seconds, with
    PostgreSQL's `create database ... template`) for tests that change data. Raises if PostgreSQL refuses."""
    drop_the_clone(name)
    _on_the_maintenance_database(f'create database "{name}" template "{ecom_tutorial.load_settings().db_name}"')


def drop_the_clone(name: str) -> None:
    """Drop the database `clone_the_warehouse` made, if it is there."""
    _on_the_maintenance_database(f'drop database if exists "{name}" with (force)')


def local_server_available() -> str | None:
    """None if the PostgreSQL at 127.0.0.1:5432 answers, else why not."""
    try:
        psycopg2.connect(connect_timeout=3, **LOCAL_PG).close()
        return None
    except psycopg2.Error as exc:
        return str(exc).strip()


@pytest.fixture(scope="session")
def local_pg() -> dict[str, object]:
    """Connection settings of the server at 127.0.0.1:5432 (the "external server" path).

    Skips, with the reason, where there is none; fails instead when ECOM_REQUIRE_LOCAL_PG=1 (.ci/run).
    """
    problem = local_server_available()
    if problem:
        message = f"no PostgreSQL at 127.0.0.1:5432 ({problem})"
        if os.environ.get("ECOM_REQUIRE_LOCAL_PG") == "1":
            pytest.fail(message + " but ECOM_REQUIRE_LOCAL_PG=1 requires it")
        pytest.skip(message)
    return dict(LOCAL_PG)


def unique_name(prefix: str) -> str:
    """`prefix` plus this run's id: a database or role name on the shared server that no other run uses."""
    return f"{prefix}_{RUN_ID}"


_SERVER_VARIABLES = ("ECOM_DB", "ECOM_REPORTER_ROLE")  # what server_database points elsewhere


def server_settings(local_pg: Mapping[str, object], database: str) -> dict[str, str]:
    """The package's variables for `database` on the 127.0.0.1:5432 server, as its admin; its read-only role is
    its own (roles are cluster-wide: one per database, `<database>_reporter`)."""
    return {
        "ECOM_DB_MODE": "server",
        "ECOM_DB_HOST": str(local_pg["host"]),
        "ECOM_DB_PORT": str(local_pg["port"]),
        "ECOM_DB_USER": str(local_pg["user"]),
        "ECOM_DB_PASSWORD": "",
        "ECOM_DB_NAME": database,
        "ECOM_REPORTER_ROLE": f"{database}_reporter",
    }


def drop_database_and_roles(local_pg: Mapping[str, object], database: str) -> None:
    """Drop `database` on the 127.0.0.1:5432 server and every role named `<database>_...` (its reporter, a
    class's learners and group): names unique to this run, so never another run's."""
    admin = psycopg2.connect(**{**LOCAL_PG, **local_pg})  # type: ignore[arg-type]
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'drop database if exists "{database}" with (force)')
            cur.execute("select rolname from pg_roles where rolname like %s", (database.replace("_", "\\_") + "\\_%",))
            for (role,) in cur.fetchall():
                cur.execute(f'drop role "{role}"')
    finally:
        admin.close()


@contextmanager
def server_database(
    prefix: str, local_pg: dict[str, object], scale: int = 1
) -> Iterator[psycopg2.extensions.connection]:
    """A fresh database `unique_name(prefix)` on the 127.0.0.1:5432 server, raw data loaded at `scale`,
    with the package (and so dbt) pointed at it in server mode while the block runs: the Docker users' path.

    Yields an autocommit connection to it. Its read-only role is its own too (ECOM_REPORTER_ROLE, the
    database's name + `_reporter`). Afterwards the variables are restored, the database and the role
    dropped. Other runs share that server, hence names unique to this run, never someone else's dropped.
    """
    name = unique_name(prefix)
    reporter = f"{name}_reporter"
    admin = psycopg2.connect(**local_pg)  # type: ignore[arg-type]
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'create database "{name}"')
            # the read-only role the marts' hooks grant to (roles are cluster-wide: one per database)
            cur.execute(f'create role "{reporter}" nologin')
    finally:
        admin.close()

    saved = {key: value for key, value in os.environ.items() if key.startswith(_SERVER_VARIABLES)}
    os.environ.update({**server_settings(local_pg, name), "ECOM_DB_SCHEMA": "analytics_dev"})
    try:
        with ecom_tutorial.connection() as loading:  # one transaction, like `ecom-tutorial up`
            ecom_tutorial.load_raw_data(loading, scale)
        conn = ecom_tutorial.connect(autocommit=True)
        try:
            yield conn
        finally:
            conn.close()
    finally:
        for key in [key for key in os.environ if key.startswith(_SERVER_VARIABLES)]:
            del os.environ[key]
        os.environ.update(saved)
        drop_database_and_roles(local_pg, name)


def frame(conn: psycopg2.extensions.connection, sql: str) -> pd.DataFrame:
    """A query's result as a DataFrame, values exact (numerics stay Decimals, unlike pandas.read_sql)."""
    with conn.cursor() as cur:
        cur.execute(sql)
        return pd.DataFrame(cur.fetchall(), columns=[column.name for column in cur.description])


def last_order_date(conn: psycopg2.extensions.connection) -> date:
    """The date of the last raw order: what the runner should pass dbt as `as_of_date`."""
    return frame(conn, "select max(order_date)::date as d from raw_data.orders")["d"][0]


@contextmanager
def dbt_target(target: Path, parsed: bool = True) -> Iterator[Path]:
    """dbt writes its target folder to `target` (and its logs next to it) while the block runs, never
    to the dbt_project/target/ a concurrent run may be using. A new folder starts from a parsed project
    (`start_parsed`) unless `parsed` is False (where no dbt runs: the first parse state costs a parse)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBT_TARGET_PATH", str(target))
        patch.setenv("DBT_LOG_PATH", str(target.with_name(target.name + "-logs")))
        if parsed:
            start_parsed(target)
        yield target


Settings = tuple[tuple[str, str], ...]
_PARSED: dict[Settings, Path] = {}  # connection settings -> dbt's partial-parse state
_TARGETS: dict[Settings, Path] = {}  # connection settings -> the target folder `target_for` gives them


def _connection_settings(environ: Mapping[str, str]) -> Settings:
    """What dbt's partial parsing compares besides the files: the profile's values (ECOM_DB_*, ECOM_PGDATA's
    socket) and the project's env_var()s. Different values, a whole new parse."""
    return tuple(sorted((k, v) for k, v in environ.items() if k.startswith("ECOM_") and k != "ECOM_PROJECT_DIR"))


def start_parsed(target: Path, environ: Mapping[str, str] | None = None) -> None:
    """Give an empty dbt target folder the partial-parse state of this project with an empty workspace,
    for the connection settings of `environ` (os.environ by default).

    dbt parses the whole project (10-15 s) in a target folder without `partial_parse.msgpack`, and every
    copy of the project gets a new one; with the state of a parse made with the same connection settings,
    dbt re-reads only the files that differ (the workspace a test writes): under a second. The state is
    made once per settings in the session (one whole parse, of a copy of the project)."""
    state = target / "partial_parse.msgpack"
    if state.exists():
        return
    key = _connection_settings(environ if environ is not None else os.environ)
    if key not in _PARSED:
        folder = Path(tempfile.mkdtemp(dir=_SESSION_DIR, prefix="parsed-"))
        copy_of_the_project(folder)
        with pytest.MonkeyPatch.context() as patch:
            for name in [name for name in os.environ if name.startswith("ECOM_")]:
                patch.delenv(name)
            for name, value in key:
                patch.setenv(name, value)
            patch.setenv("ECOM_PROJECT_DIR", str(folder))
            patch.setenv("DBT_TARGET_PATH", str(folder / "target"))
            patch.setenv("DBT_LOG_PATH", str(folder / "logs"))
            # settings a test gets wrong on purpose: no state, and the test sees the error itself
            with contextlib.suppress(ecom_tutorial.EcomTutorialError):
                ecom_tutorial.run_dbt(["parse"], progress=False, check=False)
        _PARSED[key] = folder / "target" / "partial_parse.msgpack"
    target.mkdir(parents=True, exist_ok=True)
    if _PARSED[key].exists():
        shutil.copy2(_PARSED[key], state)


def target_for(environ: Mapping[str, str], parsed: bool = True) -> Path:
    """A dbt target folder of the session for these connection settings, started parsed (`start_parsed`)
    unless `parsed` is False.

    dbt keeps one partial-parse state per target folder and parses everything again when the connection
    changes: tests that switch databases in one folder would pay that at every switch."""
    key = _connection_settings(environ)
    if key not in _TARGETS:
        _TARGETS[key] = _SESSION_DIR / "targets" / f"connection-{len(_TARGETS)}"
        _TARGETS[key].mkdir(parents=True)
    if parsed:
        start_parsed(_TARGETS[key], environ)
    return _TARGETS[key]


def run_dbt_in(folder: Path, args: list[str], **kwargs: Any) -> ecom_tutorial.DbtResult:
    """`ecom_tutorial.run_dbt(args)`, quiet and not raising, with dbt's target in `folder`/target;
    prints (pytest -s) what it did and how long it took."""
    started = time.perf_counter()
    with dbt_target(folder / "target"):
        result = ecom_tutorial.run_dbt(args, progress=False, check=False, **kwargs)
    print(f"\ndbt {' '.join(args)}: {result.summary()} in {time.perf_counter() - started:.1f} s")
    return result


def dbt_statuses(result: ecom_tutorial.DbtResult, node_type: str) -> dict[str, str]:
    """node name -> status, for the nodes of one type ("model", "test", "unit_test", "snapshot")."""
    nodes = result.table[result.table["type"] == node_type]
    return dict(zip(nodes["node"], nodes["status"], strict=False))


def dbt_problems(result: ecom_tutorial.DbtResult) -> list[str]:
    """Every node that did not pass, with dbt's message: [] for a clean run."""
    table = result.table
    failed = table[~table["status"].isin(DBT_OK_STATUSES)]
    return [f"{row.type} {row.node}: {row.status} {row.message}" for row in failed.itertuples()]


def assert_green_without_warnings(result: ecom_tutorial.DbtResult) -> None:
    """dbt succeeded, every node passed, and dbt logged no warning (deprecations included)."""
    assert result.success, dbt_problems(result)
    assert dbt_problems(result) == []
    assert result.warnings == [], result.warnings


def notebook_solutions(lessons: Collection[str] | None = None) -> dict[str, str]:
    """exercise id -> the source of its solution cell, read from the solution notebooks (of `lessons`, e.g. "05")."""
    found = {}
    for path in sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb")):
        if lessons is not None and path.stem[:2] not in lessons:
            continue
        cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        for cell, following in zip(cells, cells[1:], strict=False):
            if "solution" in cell.metadata.get("tags", []):
                match = CHECK_CALL.search(following.source)
                assert match, f"{path.name}: the cell after a solution cell must call check(id, answer)"
                found[match.group(1)] = cell.source
    return found


def copy_of_the_project(destination: Path) -> Path:
    """A copy of the checkout's dbt project (and profiles.yml) in `destination`, with an empty learner's
    workspace (workspace.py): point ECOM_PROJECT_DIR at it to write workspace files without touching the
    checkout's, which are a developer's own."""
    from ecom_tutorial import workspace

    skipped = shutil.ignore_patterns("target", "logs", "dbt_packages", "*.set-aside*")
    shutil.copytree(REPO / "dbt_project", destination / "dbt_project", ignore=skipped)
    for folder in workspace.FOLDERS:
        copied = destination / "dbt_project" / folder
        for item in copied.iterdir():
            if item.name != workspace.README:
                shutil.rmtree(item) if item.is_dir() else item.unlink()
    packages = destination / "dbt_project" / "dbt_packages"  # what `dbt deps` makes of the local package
    packages.mkdir()
    (packages / "ecom_utils").symlink_to(destination / "dbt_project" / "packages" / "ecom_utils")
    shutil.copy2(REPO / "profiles.yml", destination / "profiles.yml")
    (destination / "docker").symlink_to(REPO / "docker")
    (destination / "benchmarks").symlink_to(REPO / "benchmarks")  # the course's records (lesson 11's chart)
    return destination


@contextmanager
def package_on_a_project_copy(folder: Path) -> Iterator[Path]:
    """The package (and dbt) pointed at a copy of the project in `folder` (`copy_of_the_project`), with its own
    dbt target folder and lenient exercise checks, while the block runs; yields the copy's dbt_project/."""
    from ecom_tutorial import exercises

    copy_of_the_project(folder / "checkout")
    with pytest.MonkeyPatch.context() as patch, dbt_target(folder / "target"):
        patch.setenv("ECOM_PROJECT_DIR", str(folder / "checkout"))
        exercises.configure(strict=False)
        try:
            yield folder / "checkout" / "dbt_project"
        finally:
            exercises.configure(None)


@pytest.fixture(scope="module")
def project(
    built_warehouse: object, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Path]:
    """The package pointed at a copy of the dbt project (its own workspace and dbt target folder) for the
    module's tests (`package_on_a_project_copy`); yields the copy's dbt_project/."""
    with package_on_a_project_copy(tmp_path_factory.mktemp(request.module.__name__)) as dbt_project:
        yield dbt_project


def verdict_of(exercise_id: str, capsys: pytest.CaptureFixture[str]) -> tuple[Any, str]:
    """`check(exercise_id)` on what is built now: its verdict, and what it printed (only that)."""
    from ecom_tutorial.exercises import check

    capsys.readouterr()
    verdict = check(exercise_id, None)
    return verdict, capsys.readouterr().out


def only_in_the_workspace(files: dict[str, str]) -> None:
    """Empty the learner's workspace, then write these files (path relative to dbt_project/ -> text) into it."""
    from ecom_tutorial import workspace

    for item in workspace.files():
        workspace.path(item).unlink()
    for path, text in files.items():
        workspace.write(path, text)


def build_in_the_workspace(files: dict[str, str], select: list[str]) -> ecom_tutorial.DbtResult:
    """`only_in_the_workspace(files)`, then `dbt build --select ...` (a failure is kept in the result, not raised)."""
    only_in_the_workspace(files)
    return ecom_tutorial.run_dbt(["build", "--select", *select], progress=False, check=False)


def solution_changed(exercise_id: str, file_name: str, *replacements: tuple[str, str]) -> dict[str, str]:
    """An exercise's solution files with each (old, new) replaced in the one file whose path ends with
    `file_name`; `old` must be there (else the test no longer tests what it says)."""
    from ecom_tutorial.solutions import solution_files

    files = solution_files(exercise_id)
    (path,) = [path for path in files if path.endswith(file_name)]
    text = files[path]
    for old, new in replacements:
        assert old in text, f"{old!r} is no longer in the solution's {file_name}: update this test"
        text = text.replace(old, new)
    return {**files, path: text}
