"""Classroom mode on the PostgreSQL at 127.0.0.1:5432: `ecom-tutorial class setup` gives each learner a
login, schemas and a private settings file; learners are isolated from each other and from the raw data;
three build concurrently; every check is recorded and reported; grading reads what each one built."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg2
import psycopg2.errors
import pytest
from conftest import CLI, REPO, drop_database_and_roles, run_cli, server_settings, unique_name

from ecom_tutorial import class_report, classroom, database, mock_data, progress, workspace
from ecom_tutorial.compiling import compile_inline
from ecom_tutorial.errors import SettingsError
from ecom_tutorial.exercises import check
from ecom_tutorial.exercises.sql_answers import run_sql
from ecom_tutorial.queries import query
from ecom_tutorial.settings import load_settings
from ecom_tutorial.solutions import solution_files

LEARNERS = ["ann", "bob", "cat", "eve", "fay"]
LATE_LEARNER = "cy"  # added by a second setup, with a short statement timeout
SHORT_TIMEOUT = "2s"
# build-it exercises whose solutions a learner builds before being graded, and the models they select
BUILT = {
    "02.3": ["stg_ecommerce__campaign_orders"],
    "03.3": ["int_customers__order_dates", "segment_order_dates"],
    "04.3": ["category_price_ranks"],
}


def learner_env(class_dir: Path, name: str) -> dict[str, str]:
    """A learner's environment: their settings file, with dbt writing into their own copy of the course."""
    return classroom.learner(class_dir, name).environment()


def connect_as(env: dict[str, str]) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(
        host=env["ECOM_DB_HOST"],
        port=env["ECOM_DB_PORT"],
        user=env["ECOM_DB_USER"],
        password=env["ECOM_DB_PASSWORD"],
        dbname=env["ECOM_DB_NAME"],
    )
    conn.autocommit = True
    return conn


@contextmanager
def cursor_as(env: dict[str, str]) -> Iterator[psycopg2.extensions.cursor]:
    """A cursor on the course database as the learner of `env` (autocommit); closed afterwards: a learner's
    connection limit is small."""
    conn = connect_as(env)
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def as_learner(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """Point the package in this process at a learner, as their JupyterLab is."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def teacher_cli(teacher: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = run_cli("class", *args, env=teacher)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def a_class(local_pg: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A class in a course database of its own: five learners, then a second setup adding one more."""
    database = unique_name("class")
    class_dir = tmp_path_factory.mktemp("class")
    teacher = {**server_settings(local_pg, database), "ECOM_CLASS_DIR": str(class_dir)}
    roster = class_dir.parent / f"{class_dir.name}-roster.txt"
    roster.write_text("# the class\n" + "\n".join(LEARNERS) + "\nann  # twice: set up once\n")
    try:
        first = teacher_cli(teacher, "setup", "--roster", str(roster))
        before = {name: classroom.settings_file(class_dir, name).read_text() for name in LEARNERS}
        with cursor_as(learner_env(class_dir, "ann")) as cur:
            cur.execute("create table ann.notes as select 'mine' as note")
        roster.write_text(roster.read_text() + f"{LATE_LEARNER}\n")
        second = teacher_cli(teacher, "setup", "--roster", str(roster), "--statement-timeout", SHORT_TIMEOUT)
        yield {"teacher": teacher, "dir": class_dir, "before": before, "first": first, "second": second}
    finally:
        drop_database_and_roles(local_pg, database)


def test_setup_gives_each_learner_a_login_their_schemas_and_a_private_settings_file(a_class: dict[str, Any]) -> None:
    class_dir, database = a_class["dir"], a_class["teacher"]["ECOM_DB_NAME"]
    assert "Added 5 learner(s): ann, bob, cat, eve, fay." in a_class["first"].stdout
    assert "Each learner's copy of the raw data takes" in a_class["first"].stdout  # the disk the class needs
    for name in LEARNERS:
        path = classroom.settings_file(class_dir, name)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        env = learner_env(class_dir, name)
        assert env["ECOM_DB_SCHEMA"] == name and env["ECOM_DB_USER"] == f"{database}_{name}"
        assert (Path(env["ECOM_PROJECT_DIR"]) / "dbt_project" / "dbt_project.yml").exists()
        assert not (Path(env["ECOM_PROJECT_DIR"]) / "notebooks" / "solutions").exists()
    with cursor_as(learner_env(class_dir, "bob")) as cur:
        cur.execute("select nspname, pg_get_userbyid(nspowner) from pg_namespace where nspname like 'bob%%' order by 1")
        owned = dict(cur.fetchall())
        cur.execute("select rolconnlimit from pg_roles where rolname = current_user")
        (limit,) = cur.fetchone()
        cur.execute("show statement_timeout")
        (timeout,) = cur.fetchone()
    assert owned == {schema: f"{database}_bob" for schema in classroom.learner_schemas("bob")}
    assert (limit, timeout) == (8, "5min")


def test_setup_again_adds_the_new_learner_and_leaves_the_others_as_they_were(a_class: dict[str, Any]) -> None:
    class_dir = a_class["dir"]
    assert f"Added 1 learner(s): {LATE_LEARNER}." in a_class["second"].stdout
    assert "left as they are: ann, bob, cat, eve, fay" in a_class["second"].stdout
    for name in LEARNERS:  # same password, same everything
        assert classroom.settings_file(class_dir, name).read_text() == a_class["before"][name]
    with cursor_as(learner_env(class_dir, "ann")) as cur:
        cur.execute("select note from ann.notes")
        assert cur.fetchall() == [("mine",)]


# What another learner (bob) tries on ann's schemas, the raw data and the server: all refused.
FORBIDDEN = {
    "read another's table": "select * from ann.notes",
    "change another's raw data": "delete from ann_raw.orders",
    "write in another's schema": "create table ann.intruder (id int)",
    "change another's table": "insert into ann.notes values ('bob was here')",
    "drop another's schema": "drop schema ann cascade",
    "write the raw data": "delete from raw_data.orders",
    "change the raw tables": "alter table raw_data.orders add column x int",
    "create a schema": "create schema bobs_own",
    "create a role": "create role bob_friend",
    "create a database": "create database bobs_db",
}


@pytest.mark.parametrize("statement", FORBIDDEN.values(), ids=FORBIDDEN.keys())
def test_a_learner_cannot_touch_what_is_not_theirs(a_class: dict[str, Any], statement: str) -> None:
    with cursor_as(learner_env(a_class["dir"], "bob")) as cur:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute(statement)
        cur.execute("select count(*) from raw_data.orders")  # reading the raw data is what a learner does
        assert cur.fetchone()[0] > 0


@pytest.mark.parametrize(
    ("command", "teachers"),
    [(["reset", "--yes"], "ecom-tutorial class reset bob"), (["up", "--scale", "2"], "ecom-tutorial reset --scale N")],
)
def test_what_would_reload_the_shared_raw_data_tells_a_learner_to_ask(
    a_class: dict[str, Any], command: list[str], teachers: str
) -> None:
    env = learner_env(a_class["dir"], "bob")
    with cursor_as(env) as cur:
        cur.execute("create table if not exists bob.kept as select 1 as id")
    result = run_cli(*command, env=env)
    assert result.returncode == 1
    assert "shared and read-only for you" in result.stderr and teachers in result.stderr, result.stderr
    with cursor_as(env) as cur:
        cur.execute("select count(*) from bob.kept")  # nothing was dropped
        assert cur.fetchone() == (1,)
        cur.execute("select count(*) from raw_data.customers")
        assert cur.fetchone() == (10_000,)


def test_a_runaway_query_is_stopped_by_the_learners_timeout(a_class: dict[str, Any]) -> None:
    with cursor_as(learner_env(a_class["dir"], LATE_LEARNER)) as cur:
        cur.execute("show statement_timeout")
        assert cur.fetchone() == (SHORT_TIMEOUT,)
        with pytest.raises(psycopg2.errors.QueryCanceled, match="statement timeout"):
            cur.execute("select pg_sleep(30)")


def test_a_learners_up_never_writes_the_shared_raw_data_schema(a_class: dict[str, Any]) -> None:
    """`ecom-tutorial up` (a learner's first build runs it) grants on the schemas its user owns only: a grant
    on the shared raw_data, even one that changes nothing, rewrites its catalog row, and thirty learners
    doing it at once fail with "tuple concurrently updated"."""
    env = learner_env(a_class["dir"], "cat")
    with cursor_as(env) as cur:
        cur.execute("select xmin::text from pg_namespace where nspname = 'raw_data'")
        before = cur.fetchone()
    result = run_cli("up", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    with cursor_as(env) as cur:
        cur.execute("select xmin::text from pg_namespace where nspname = 'raw_data'")
        assert cur.fetchone() == before


def test_three_learners_build_at_once_each_in_their_own_schemas(a_class: dict[str, Any]) -> None:
    builders = ["ann", "bob", "cat"]
    processes = {
        name: subprocess.Popen(
            [*CLI, "build", "--no-progress"],
            env={**os.environ, **learner_env(a_class["dir"], name)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name in builders
    }
    outputs = {name: process.communicate(timeout=600)[0] for name, process in processes.items()}
    for name, process in processes.items():
        assert process.returncode == 0, outputs[name]
        assert "ERROR=0" in outputs[name]
    counts = set()
    for name in builders:
        with cursor_as(learner_env(a_class["dir"], name)) as cur:
            cur.execute(f"select count(*) from {name}.customer_analytics")
            counts.add(cur.fetchone()[0])
            cur.execute("select count(*) from pg_class where relnamespace = 'raw_data'::regnamespace")
            assert cur.fetchone()[0] > 0
    assert len(counts) == 1 and counts.pop() > 0  # the same warehouse, built three times


# Run by a learner's own kernel: the solution notebook, strict (every exercise must pass), into `out`.
RUN_LESSON = """
import sys
from pathlib import Path
from ecom_tutorial.notebooks import execute_notebook
execute_notebook(Path(sys.argv[1]), destination=Path(sys.argv[2]), parameters={"strict_exercises": True}, html=False)
"""


@pytest.mark.parametrize(
    ("lesson", "exercises"),
    [("06_snapshots", "06.%%"), ("09_testing_and_docs", "09.%%")],  # the two lessons that change the raw data
)
def test_a_lesson_runs_unchanged_for_a_learner_of_the_class(
    a_class: dict[str, Any], tmp_path: Path, lesson: str, exercises: str
) -> None:
    """A lesson as learner cat: in their schemas and their copy of the course and of the raw data, every exercise
    passing, every check recorded as theirs, the shared raw data untouched (no next-day batch, no broken order)."""
    env = learner_env(a_class["dir"], "cat")
    solution = REPO / "notebooks" / "solutions" / f"{lesson}.ipynb"
    result = subprocess.run(
        [sys.executable, "-c", RUN_LESSON, str(solution), str(tmp_path)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with cursor_as(env) as cur:
        cur.execute(
            "select count(*) from course_progress.exercise_attempts where passed and exercise_id like %s", (exercises,)
        )
        assert cur.fetchone()[0] >= 3
        cur.execute("select max(order_date) < '2025-01-01', min(order_id) > 0 from raw_data.orders")
        assert cur.fetchone() == (True, True)
        cur.execute("select max(order_date) >= '2025-01-01' from cat_raw.orders")
        assert cur.fetchone() == (True,)


def test_every_check_is_recorded_and_a_learner_reads_only_their_own(
    a_class: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class_dir = a_class["dir"]
    as_learner(monkeypatch, learner_env(class_dir, "eve"))
    before = len(progress.attempts())
    assert not check("01.1", "select status, count(*) as n from raw_data.orders group by 1")
    assert check("01.1", "select status, count(*) as order_count from raw_data.orders group by status")
    assert check("01.1", ...).attempted is False  # an untouched stub is no attempt
    mine = progress.attempts()
    assert len(mine) == before + 2 and set(mine["learner"]) == {"eve"}
    assert list(mine["attempt"].tail(2)) == [before + 1, before + 2]
    assert list(mine["passed"].tail(2)) == [False, True]

    as_learner(monkeypatch, learner_env(class_dir, "fay"))
    assert progress.attempts(everyone=True).query("learner == 'eve'").empty  # eve's rows are hers alone
    with cursor_as(learner_env(class_dir, "fay")) as cur:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="row-level security"):
            cur.execute(
                "insert into course_progress.exercise_attempts (learner, db_role, exercise_id, attempt, passed) "
                "values ('eve', %s, '01.1', 9, true)",
                (learner_env(class_dir, "eve")["ECOM_DB_USER"],),
            )
        cur.execute(
            "insert into course_progress.exercise_attempts (learner, exercise_id, attempt, passed) "
            "values ('eve', '01.1', 1, false)"  # her own login, another's name: reported as fay's
        )
    for name, value in a_class["teacher"].items():
        monkeypatch.setenv(name, value)
    grid = class_report.class_grid(class_dir)
    assert grid.loc["fay", "01.1"] == "✗1" and grid.loc["eve", "01.1"].startswith("✓")
    capsys.readouterr()


def test_the_teacher_reports_a_learner_by_exercise_grid(
    a_class: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    class_dir = a_class["dir"]
    as_learner(monkeypatch, learner_env(class_dir, "eve"))
    check("02.1", "select 1 as wrong from raw_data.orders")
    result = teacher_cli(
        a_class["teacher"], "report", "--csv", str(tmp_path / "r.csv"), "--png", str(tmp_path / "r.png")
    )
    grid = pd.read_csv(tmp_path / "r.csv", index_col="learner", keep_default_na=False)
    assert sorted(grid.index) == sorted([*LEARNERS, LATE_LEARNER])
    assert grid.loc["eve", "02.1"].startswith("✗")
    assert grid.loc["bob", "02.1"] == ""
    assert "02.1" in grid.loc["eve", "stuck longest"]
    assert (tmp_path / "r.png").stat().st_size > 1000
    assert "eve" in result.stdout


def test_grading_reads_what_each_learner_built(
    a_class: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    class_dir = a_class["dir"]
    ann = learner_env(class_dir, "ann")
    as_learner(monkeypatch, ann)
    for path, text in [item for exercise_id in BUILT for item in solution_files(exercise_id).items()]:
        workspace.write(path, text)
    # the warehouse (the exercises read its marts), then each exercise's models by a command of its own, as a
    # learner builds them lesson after lesson, and a last command that builds nothing else
    commands = [["build", "--no-progress"], *(["dbt", "--", "build", "--select", *models] for models in BUILT.values())]
    for command in [*commands, ["dbt", "--", "compile", "--select", "stg_ecommerce__orders"]]:
        result = subprocess.run(
            [*CLI, *command],
            env={**os.environ, **ann},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    attempts_before = len(progress.attempts())

    teacher_cli(
        a_class["teacher"], "grade", "--csv", str(tmp_path / "grades.csv"), "--details", str(tmp_path / "d.csv")
    )
    grades = pd.read_csv(tmp_path / "grades.csv", index_col="learner", dtype={"learner": str})
    for exercise_id in BUILT:
        assert grades.loc["ann", exercise_id] == 1, exercise_id
        assert grades.loc["bob", exercise_id] == 0, exercise_id
    assert grades.loc["ann", "passed"] >= len(BUILT)
    assert grades.loc["fay", "passed"] == 0  # built nothing
    assert len(progress.attempts()) == attempts_before  # grading is not the learner's attempt
    said = pd.read_csv(tmp_path / "d.csv", dtype=str).set_index(["learner", "exercise_id"])["said"]
    assert said[("ann", "02.3")].startswith("✅") and said[("bob", "02.3")].startswith("⏳ Not attempted")


def test_reset_gives_a_learner_a_fresh_start_and_keeps_their_old_copy(a_class: dict[str, Any]) -> None:
    class_dir = a_class["dir"]
    eve = learner_env(class_dir, "eve")
    mine = Path(eve["ECOM_PROJECT_DIR"]) / "dbt_project" / "models" / "workspace" / "mine.sql"
    mine.write_text("select 1 as id\n")
    with cursor_as(eve) as cur:
        cur.execute("create table eve.scratch as select 1 as id")
    teacher_cli(a_class["teacher"], "reset", "eve", "--yes")
    assert not mine.exists()
    assert [p.read_text() for p in (class_dir / "archive").glob("eve-*/dbt_project/models/workspace/mine.sql")]
    assert learner_env(class_dir, "eve") == eve  # same login and password
    with cursor_as(eve) as cur:
        cur.execute("select to_regclass('eve.scratch')")
        assert cur.fetchone() == (None,)
        cur.execute("create table eve.again as select 1 as id")  # the schema is theirs again


def test_remove_takes_a_learner_out_and_keeps_their_copy(a_class: dict[str, Any]) -> None:
    class_dir = a_class["dir"]
    fay = learner_env(class_dir, "fay")
    teacher_cli(a_class["teacher"], "remove", "fay", "--yes")
    assert not classroom.settings_file(class_dir, "fay").exists()
    assert list((class_dir / "archive").glob("fay-*/dbt_project"))
    with pytest.raises(psycopg2.OperationalError, match="fay"):
        connect_as(fay)
    with cursor_as(learner_env(class_dir, "bob")) as cur:
        cur.execute("select count(*) from pg_namespace where nspname like 'fay%%'")
        assert cur.fetchone() == (0,)


def test_a_lesson_changes_the_learners_own_raw_data_and_nobody_elses(
    a_class: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next-day batch (lesson 05) and a broken order (lesson 09) change ann's copy of the raw data, which her
    sources, queries and checks read as raw_data; the shared raw_data and bob's copy stay as they were."""
    class_dir = a_class["dir"]
    orders = "select count(*), max(order_date)::text from {}.orders"
    with cursor_as(learner_env(class_dir, "bob")) as cur:
        cur.execute(orders.format("raw_data"))
        shared_before = cur.fetchone()
        cur.execute(orders.format("bob_raw"))
        assert cur.fetchone() == shared_before  # a copy of the shared data
    as_learner(monkeypatch, learner_env(class_dir, "ann"))
    with database.connection() as conn:
        mock_data.apply_next_day_batch(conn)
        assert mock_data.raw_data_state(conn).next_day_batch_applied
    bad_order = (
        "insert into raw_data.orders select -1, 1, now(), 'lost', null, 0, 0, now() from raw_data.orders limit 1"
    )
    assert mock_data.change_raw_data(bad_order) == 1

    bad_orders = "select count(*) as n from raw_data.orders where order_id = -1"
    assert query(bad_orders).loc[0, "n"] == 1  # the notebooks' queries read ann's copy
    assert run_sql(bad_orders).loc[0, "n"] == 1  # and so do the exercises' expected results
    compiled = compile_inline("select * from {{ source('ecommerce', 'orders') }}")
    assert '"ann_raw"."orders"' in compiled  # and her sources
    with cursor_as(learner_env(class_dir, "bob")) as cur:
        for schema in ("raw_data", "bob_raw"):
            cur.execute(orders.format(schema))
            assert cur.fetchone() == shared_before, schema
    mock_data.change_raw_data("delete from raw_data.orders where order_id = -1")


def test_a_roster_names_its_problems_by_line(tmp_path: Path) -> None:
    roster = tmp_path / "roster.txt"
    roster.write_text("# class of 2026\nann\nAnn Lee\nann  # again\nbob_staging\npg_x\n\nraw_data\n")
    with pytest.raises(classroom.ClassroomError) as raised:
        classroom.read_roster(roster)
    message = str(raised.value)
    for line in ("line 3: 'Ann Lee' is not a plain name", "line 5: 'bob_staging'", "line 6: 'pg_x'", "line 8"):
        assert line in message, message
    assert "line 2" not in message and "line 4" not in message  # ann, and ann again (set up once)
    roster.write_text("ann\nbob\nann\n")
    assert classroom.read_roster(roster) == ["ann", "bob"]
    roster.write_text("# nobody yet\n")
    with pytest.raises(classroom.ClassroomError, match="names nobody"):
        classroom.read_roster(roster)


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"ECOM_DB_MODE": "embedded"}, "ECOM_DB_MODE=server"),
        ({"ECOM_DB_MODE": "server", "ECOM_DB_NAME": "postgres"}, "one of the server's own databases"),
    ],
)
def test_setup_refuses_what_is_not_a_class_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variables: dict[str, str], message: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(classroom.ClassroomError, match=message):
        classroom.setup(["ann"], tmp_path)


def test_setup_refuses_a_login_name_postgresql_would_cut_short(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ECOM_DB_MODE", "server")
    monkeypatch.setenv("ECOM_DB_NAME", "a_course_database_with_a_rather_long_descriptive_name")
    with pytest.raises(classroom.ClassroomError, match="longer than PostgreSQL's 63"):
        classroom.setup(["a_learner_with_a_long_name"], tmp_path)


def test_setup_says_when_the_server_has_too_few_connections_for_the_class(local_pg: dict[str, object]) -> None:
    conn = psycopg2.connect(**local_pg)  # type: ignore[arg-type]
    try:
        with conn.cursor() as cur:
            cur.execute("select current_setting('max_connections')::int")
            (max_connections,) = cur.fetchone()
        learners = max_connections // classroom.CONNECTIONS_PER_LEARNER + 1  # a class the server is too small for
        (note,) = classroom._connection_budget(conn, learners)
        assert "Raise max_connections" in note and f"{learners} learners" in note
        assert classroom._connection_budget(conn, 2) == []
    finally:
        conn.close()


def test_setup_says_what_a_statement_timeout_looks_like_and_creates_no_learner(
    local_pg: dict[str, object], tmp_path: Path
) -> None:
    database = unique_name("badtimeout")
    roster = tmp_path / "roster.txt"
    roster.write_text("ann\n")
    teacher = {**server_settings(local_pg, database), "ECOM_CLASS_DIR": str(tmp_path / "class")}
    try:
        result = run_cli("class", "setup", "--roster", str(roster), "--statement-timeout", "soon", env=teacher)
        assert result.returncode == 1
        assert "'soon' is not a duration PostgreSQL understands: use e.g. 5min" in result.stderr, result.stderr
        assert not (tmp_path / "class" / "settings").exists()
        conn = psycopg2.connect(**local_pg)  # type: ignore[arg-type]
        try:
            with conn.cursor() as cur:
                cur.execute("select count(*) from pg_roles where rolname like %s", (f"{database}\\_%",))
                assert cur.fetchone() == (0,)
        finally:
            conn.close()
    finally:
        drop_database_and_roles(local_pg, database)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select * from raw_data.orders", "select * from ann_raw.orders"),
        (
            "update raw_data.products as p set x = 1 from raw_data.products",
            "update ann_raw.products as p set x = 1 from ann_raw.products",
        ),
        (
            "select 'raw_data' as schema_name, my_raw_data.x from t",
            "select 'raw_data' as schema_name, my_raw_data.x from t",
        ),
    ],
)
def test_a_class_learners_raw_data_is_their_copy(monkeypatch: pytest.MonkeyPatch, sql: str, expected: str) -> None:
    """The lessons name raw_data; for a learner of a class (ECOM_RAW_SCHEMA) that is their own copy, and only
    a qualified table name changes, never a string or a name that merely contains raw_data."""
    monkeypatch.setenv("ECOM_RAW_SCHEMA", "ann_raw")
    settings = load_settings()
    assert settings.in_raw_schema(sql) == expected
    assert settings.owned_schemas[0] == "ann_raw" and "raw_data" not in settings.owned_schemas
    monkeypatch.delenv("ECOM_RAW_SCHEMA")
    assert load_settings().in_raw_schema(sql) == sql


@pytest.mark.parametrize("name", ["Raw Data", "raw;drop", "1raw"])
def test_a_raw_schema_setting_that_is_not_a_plain_name_says_so(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("ECOM_RAW_SCHEMA", name)
    with pytest.raises(SettingsError, match="ECOM_RAW_SCHEMA=.*not a plain schema name"):
        load_settings()
