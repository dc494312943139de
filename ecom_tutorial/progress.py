"""Progress: every `check()` is recorded, so a learner sees where they are and a teacher who is stuck.

A row per check: the learner (ECOM_LEARNER), the exercise, pass or fail, the attempt number and the
time, in the table `<ECOM_PROGRESS_SCHEMA>.exercise_attempts` (default `course_progress`) of the
course's database: the local one when embedded, the class's course database in a class. There the
teacher's `class setup` creates it with row-level security: a learner adds their own rows and reads
nobody else's. The schema is not one `ecom-tutorial reset` drops: progress outlives a rebuild.

Recording never gets in the way of feedback: if it fails (the database went down), `check()` still
prints its verdict, and one line says progress was not recorded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pandas as pd
import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from . import database
from .errors import EcomTutorialError
from .settings import Settings, load_settings

TABLE = "exercise_attempts"
_CREATE_TABLE = """
create table if not exists {table} (
    attempt_id bigint generated always as identity primary key,
    learner text not null,
    db_role name not null default current_user,
    exercise_id text not null,
    attempt integer not null,
    passed boolean not null,
    checked_at timestamptz not null default clock_timestamp()
)
"""
# The attempt number counts this learner's earlier checks of the exercise (in a class, row-level
# security shows a learner only their own rows, so the count cannot be told anyone else's).
_INSERT = """
insert into {table} (learner, exercise_id, attempt, passed)
select %(learner)s, %(exercise_id)s, coalesce(max(attempt), 0) + 1, %(passed)s
from {table}
where learner = %(learner)s and exercise_id = %(exercise_id)s
returning attempt
"""
_recording = True
_told = False  # whether this process said already that it cannot record


def _table(settings: Settings) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(settings.progress_schema), sql.Identifier(TABLE))


@contextlib.contextmanager
def not_recorded() -> Iterator[None]:
    """Checks inside the block are not recorded (a teacher grading a learner is not the learner's attempt)."""
    global _recording
    previous, _recording = _recording, False
    try:
        yield
    finally:
        _recording = previous


def _table_exists(cur: psycopg2.extensions.cursor, settings: Settings) -> bool:
    cur.execute("select to_regclass(%s) is not null", (f'"{settings.progress_schema}"."{TABLE}"',))
    return bool(database.fetch_value(cur))


def _ensure_table(cur: psycopg2.extensions.cursor, settings: Settings) -> None:
    """Create the table where it is missing (embedded, a server of one's own); a class has it from setup."""
    if _table_exists(cur, settings):
        return
    cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(settings.progress_schema)))
    cur.execute(sql.SQL(_CREATE_TABLE).format(table=_table(settings)))


def record(exercise_id: str, passed: bool, settings: Settings | None = None) -> int | None:
    """Record one check; return its attempt number, or None if it could not be recorded (said once, in a line)."""
    if not _recording:
        return None
    try:
        settings = settings or load_settings()
        with database.connection(database.connection_info(settings)) as conn, conn.cursor() as cur:
            _ensure_table(cur, settings)
            values = {"learner": settings.learner, "exercise_id": exercise_id, "passed": bool(passed)}
            cur.execute(sql.SQL(_INSERT).format(table=_table(settings)), values)
            attempt = int(database.fetch_value(cur))
            conn.commit()
            return attempt
    except (EcomTutorialError, psycopg2.Error) as exc:
        global _told
        if not _told:  # once: the same reason would follow every check
            reason = (getattr(exc, "pgerror", None) or str(exc)).strip().splitlines()[0]
            print(f"(Your progress is not recorded: {reason}. Your checks work as before.)")
            _told = True
        return None


def prepare_class_table(conn: psycopg2.extensions.connection, group: str, schema: str) -> None:
    """The class's progress table: learners (members of `group`) add and read only their own rows. Idempotent."""
    table = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(TABLE))
    role = sql.Identifier(group)
    with conn.cursor() as cur:
        cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        cur.execute(sql.SQL(_CREATE_TABLE).format(table=table))
        cur.execute(sql.SQL("alter table {} enable row level security").format(table))
        cur.execute(sql.SQL("drop policy if exists own_attempts on {}").format(table))
        cur.execute(
            sql.SQL(
                "create policy own_attempts on {} for all to {} using (db_role = current_user) "
                "with check (db_role = current_user)"
            ).format(table, role)
        )
        cur.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(schema), role))
        cur.execute(sql.SQL("grant select, insert on {} to {}").format(table, role))
    conn.commit()


# --------------------------------------------------------------------------- reading


def attempts(settings: Settings | None = None, *, everyone: bool = False) -> pd.DataFrame:
    """The recorded checks: the learner's own (a class's row-level security sees to it too), or with
    `everyone=True` every learner's (the teacher's view)."""
    settings = settings or load_settings()
    columns = ["learner", "db_role", "exercise_id", "attempt", "passed", "checked_at"]
    with database.connection(database.connection_info(settings)) as conn, conn.cursor() as cur:
        if not _table_exists(cur, settings):
            return pd.DataFrame(columns=columns)
        query = sql.SQL("select learner, db_role, exercise_id, attempt, passed, checked_at from {}").format(
            _table(settings)
        )
        if everyone:
            cur.execute(query + sql.SQL(" order by checked_at"))
        else:
            cur.execute(query + sql.SQL(" where learner = %s order by checked_at"), (settings.learner,))
        return pd.DataFrame(cur.fetchall(), columns=columns)


def summary(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per learner and exercise: attempts, whether and at which attempt it first passed, and how long
    the learner has been on it (first check to first pass, or to the latest check while it does not pass)."""
    columns = [
        "learner",
        "exercise_id",
        "result",
        "attempts",
        "passed",
        "passed_at_attempt",
        "first_checked",
        "minutes",
    ]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    records = []
    for (learner, exercise_id), group in rows.sort_values("checked_at").groupby(["learner", "exercise_id"]):
        passes = group[group["passed"]]
        end = passes["checked_at"].iloc[0] if len(passes) else group["checked_at"].iloc[-1]
        passed_at = int(passes["attempt"].iloc[0]) if len(passes) else None
        records.append(
            {
                "learner": learner,
                "exercise_id": exercise_id,
                "result": f"✓{passed_at}" if passed_at else f"✗{len(group)}",  # a grid cell
                "attempts": len(group),
                "passed": bool(len(passes)),
                "passed_at_attempt": passed_at,
                "first_checked": group["checked_at"].iloc[0],
                "minutes": round((end - group["checked_at"].iloc[0]).total_seconds() / 60, 1),
            }
        )
    return pd.DataFrame.from_records(records, columns=columns)


def grid(summary_rows: pd.DataFrame, learners: list[str], exercises: list[str]) -> pd.DataFrame:
    """Learner × exercise, each cell the summary's result (✓n passed at attempt n, ✗n not passed after n
    attempts, '' not tried), with the learner's passes and where they are
    stuck longest (the exercise not passed yet that they have spent the most time on)."""
    table = pd.DataFrame("", index=pd.Index(learners, name="learner"), columns=exercises)
    stuck: dict[str, str] = {}
    for learner, exercise_id, result in summary_rows[["learner", "exercise_id", "result"]].itertuples(index=False):
        if learner in table.index and exercise_id in table.columns:
            table.at[learner, exercise_id] = result
    for learner, rows in summary_rows[~summary_rows["passed"].astype(bool)].groupby("learner"):
        worst = rows.sort_values(["minutes", "attempts"], ascending=False).iloc[0]
        stuck[str(learner)] = f"{worst['exercise_id']} ({worst['minutes']:g} min, {worst['attempts']} tries)"
    table["passed"] = [(table.loc[name, exercises].str.startswith("✓")).sum() for name in table.index]
    table["stuck longest"] = [stuck.get(name, "") for name in table.index]
    return table
