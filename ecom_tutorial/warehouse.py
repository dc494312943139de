"""The course's main jobs: bring the database up, build the warehouse, reset it, report on it."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import psycopg2.extensions
from psycopg2 import sql

from . import database, embedded_server, locks, mock_data, ownership, workspace
from .errors import DatabaseMissingError, DatabasePermissionError, DataNotLoadedError
from .runner import DbtResult, run_dbt
from .settings import CI_SCHEMA_SUFFIX, Settings, load_settings


@dataclass(frozen=True)
class UpResult:
    info: database.ConnectionInfo
    loaded: bool  # False when the raw data was already there at the requested scale
    state: mock_data.RawDataState
    seconds: float
    dropped: tuple[str, ...] = ()  # dbt schemas dropped because the data under them was replaced
    notes: tuple[str, ...] = ()  # what to know: schemas kept for objects not the project's, no read-only role


def _init_database(conn: psycopg2.extensions.connection, settings: Settings) -> None:
    """Run init-db.sql with this project's names: the target schema and the read-only role."""
    with conn.cursor() as cur:
        cur.execute(
            "select set_config('ecom.target_schema', %s, false), set_config('ecom.reporter_role', %s, false)",
            (settings.db_schema, settings.reporter_role),
        )
    database.run_sql_file(conn, settings.init_sql)


def _reporter_note(
    conn: psycopg2.extensions.connection, settings: Settings, info: database.ConnectionInfo
) -> str | None:
    """init-db.sql goes without the read-only role where the user may not create roles: say so."""
    role = settings.reporter_role
    with conn.cursor() as cur:
        cur.execute("select exists (select from pg_roles where rolname = %s)", (role,))
        if database.fetch_value(cur):
            return None
    return (
        f"No read-only role {role!r}: user {info.user!r} may not create roles on this server, so the course "
        "goes without it (a group role for BI tools' logins; the marts' grant hooks skip it). To have it, ask "
        f"the server's admin: `create role {role} nologin;`, then run `ecom-tutorial up` again."
    )


def prepare_database(settings: Settings) -> database.ConnectionInfo:
    """Start the server if embedded, create the database, its schemas and (where allowed) the read-only role.

    It writes, so only `up`, `build` and `reset` call it: reads such as `status` and `is_built` never do.
    """
    info = database.connection_info(settings)
    database.ensure_database(info)
    with (
        locks.run_lock(info, settings, "prepare the database"),
        database.connection(info) as conn,
        database.privileges_explained(info),
    ):
        _require_create_privilege(conn, settings, info)
        _init_database(conn, settings)
    return info


def _require_create_privilege(
    conn: psycopg2.extensions.connection, settings: Settings, info: database.ConnectionInfo
) -> None:
    """Stop early, saying what to ask for, when schemas the course needs are missing and may not be created."""
    # not needed by every build: where a test stores its failures, the learner's own models, slim CI (lesson 09)
    optional = tuple(f"{settings.db_schema}{suffix}" for suffix in ("_dbt_test__audit", "_workspace", CI_SCHEMA_SUFFIX))
    needed = [schema for schema in settings.owned_schemas if schema not in optional]
    missing = sorted(set(needed) - set(ownership.existing_owned_schemas(conn, settings)))
    if missing and not database.may_create_schemas(conn):
        raise DatabasePermissionError(
            f"The course needs the schemas {', '.join(missing)} in database {info.dbname!r}, which user "
            f"{info.user!r} may not create: {database.create_privilege_advice(info)}"
        )


def up(
    scale: int | None = None, *, reload: bool = False, settings: Settings | None = None, progress: bool = False
) -> UpResult:
    """Make the raw data available: load it if missing, or if `scale` differs from what is loaded
    (with a progress bar of the load, if `progress`).

    Replacing loaded data at another scale also drops the warehouse built on it (only what this
    project created: ownership.py): an incremental fact or a snapshot would otherwise keep rows of
    the old data.
    """
    settings = settings or load_settings()
    started = time.perf_counter()
    info = prepare_database(settings)
    report = ownership.DropReport()
    with (
        locks.run_lock(info, settings, "load the raw data"),
        database.connection(info) as conn,
        database.privileges_explained(info),
    ):
        try:
            state = mock_data.raw_data_state(conn, settings)
            needs_load = reload or (scale is not None and scale != state.scale)
            if needs_load and not mock_data.may_write_raw_data(conn):
                raise mock_data.shared_raw_data_error(
                    f"loading the data at another scale (it is at scale {state.scale})",
                    "ecom-tutorial reset --scale N",
                    "or build without --scale",
                )
            if needs_load:
                report = ownership.drop_project_objects(conn, settings)
                _init_database(conn, settings)  # the schemas and grants it creates
        except mock_data.RawDataOutdatedError as outdated:
            # loaded by an earlier version of the course (a raw table is missing): replace it at its
            # scale, and drop what was built on it, as for a new scale
            needs_load, scale = True, scale or outdated.scale
            report = ownership.drop_project_objects(conn, settings)
            _init_database(conn, settings)
        except DataNotLoadedError:
            needs_load = True
        if needs_load:
            mock_data.load_raw_data(conn, scale or 1, settings, progress=progress)
            state = mock_data.raw_data_state(conn, settings)
        notes = tuple(note for note in (report.kept_message(), _reporter_note(conn, settings, info)) if note)
    dropped = tuple(name for name in report.dropped if not name.startswith("raw_data"))
    return UpResult(info, needs_load, state, time.perf_counter() - started, dropped, notes)


def build(
    scale: int | None = None, *, full_refresh: bool = False, progress: bool = True, settings: Settings | None = None
) -> DbtResult:
    """up, then `dbt deps` and `dbt build` (seeds, models, snapshots, tests); raises on failure.

    A successful build records what it was built from (see `build_fingerprint`), so that
    `ensure_built` can tell a current warehouse from a stale one.
    """
    settings = settings or load_settings()
    up(scale, settings=settings, progress=progress)
    install_packages(settings)
    refresh = ["--full-refresh"] if full_refresh else []
    # the learner's workspace (workspace.py) is the learner's to build: a half-written model must not fail this
    result = run_dbt(["build", *refresh, *workspace.exclusions(settings)], progress=progress, settings=settings)
    _record_build(settings)
    return result


def install_packages(settings: Settings) -> None:
    """`dbt deps`: the project's own package (ecom_utils, a local folder) into dbt_packages/, which every
    parse needs and a fresh clone lacks."""
    run_dbt(["deps"], progress=False, settings=settings)


def reset(scale: int = 1, settings: Settings | None = None, progress: bool = False) -> ownership.DropReport:
    """Drop what this project created (and nothing else: ownership.py), then reload the raw data."""
    settings = settings or load_settings()
    info = prepare_database(settings)
    with locks.run_lock(info, settings, "reset"):
        with database.connection(info) as conn, database.privileges_explained(info):
            if not mock_data.may_write_raw_data(conn):  # before anything is dropped
                raise mock_data.shared_raw_data_error(
                    "starting afresh", f"ecom-tutorial class reset {settings.learner}", "and restart your kernel then"
                )
            report = ownership.drop_project_objects(conn, settings)
            _init_database(conn, settings)
        # under the same lock: no build starts on the half-reset database
        up(scale, settings=settings, progress=progress)
    return report


def is_built(settings: Settings | None = None, model: str = "customer_analytics") -> bool:
    """True if `model` exists in the target schema. Only reads: creates nothing, not even the database."""
    settings = settings or load_settings()
    try:
        with database.connection(database.connection_info(settings)) as conn, conn.cursor() as cur:
            # the catalog, not to_regclass: that needs USAGE on the schema, which a reader may lack
            cur.execute(
                "select exists (select from pg_class where relnamespace = (select oid from pg_namespace "
                "where nspname = %s) and relname = %s)",
                (settings.db_schema, model),
            )
            return bool(database.fetch_value(cur))
    except DatabaseMissingError:
        return False


def ensure_built(settings: Settings | None = None, scale: int | None = None, progress: bool = True) -> bool:
    """Build the warehouse if it is missing or stale, else do nothing (quick). True if it built.

    Stale: the raw data, the as-of day or the dbt project changed since the last successful
    `build` (the next-day batch of lesson 05, a partial `dbt run` after it, a `git pull`), or a
    relation it built is gone (rebuilding a staging view drops the views on it: PostgreSQL's
    `drop view ... cascade`). So a lesson never reads marts that disagree with each other or
    with the data.
    """
    settings = settings or load_settings()
    if not _raw_data_loaded(settings):
        build(scale, settings=settings, progress=progress)
        return True
    last = _last_build(settings)
    if last and last[0] == build_fingerprint(settings) and not _missing_relations(settings, last[1]):
        return False
    build(settings=settings, progress=progress)  # the data keeps the scale it was loaded at
    return True


def _raw_data_loaded(settings: Settings) -> bool:
    try:
        with database.connection(database.connection_info(settings)) as conn:
            mock_data.raw_data_state(conn, settings)
    except (DataNotLoadedError, DatabaseMissingError):
        return False
    return True


# --------------------------------------------------------------------------- build state

# What a warehouse was built from, one row per successful `build`, in the project's audit schema.
_BUILD_STATE_TABLE = ownership.BUILD_STATE_TABLE


def _build_state(settings: Settings) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(f"{settings.db_schema}_audit"), sql.Identifier(_BUILD_STATE_TABLE))


# The raw data's identity without reading it all: row counts, the latest change and load times,
# and the last order date (the as-of day, macro as_of_date). The next-day batch changes them all.
_RAW_FINGERPRINT_SQL = """
select concat_ws('|',
    (select count(*) || ',' || max(updated_at) || ',' || max(_loaded_at) from raw_data.products),
    (select count(*) || ',' || max(updated_at) || ',' || max(_loaded_at) from raw_data.customers),
    (select count(*) || ',' || max(updated_at) || ',' || max(_loaded_at) || ',' || max(order_date)
        from raw_data.orders),
    (select count(*) || ',' || max(_loaded_at) from raw_data.order_items)
)
"""

# The dbt project's own files (not dbt's output, nor a learner's workspace): editing a model
# makes the warehouse stale as surely as new data does.
_PROJECT_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md"}
_NOT_PROJECT_PARTS = {"target", "logs", "dbt_packages", "workspace"}


def _project_digest(settings: Settings) -> str:
    digest = hashlib.md5()
    root = settings.dbt_project_dir
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.suffix in _PROJECT_SUFFIXES and not _NOT_PROJECT_PARTS & set(relative.parts) and path.is_file():
            digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_fingerprint(settings: Settings | None = None) -> str:
    """A digest of everything a build depends on: the raw data, the as-of day and the dbt project."""
    settings = settings or load_settings()
    with database.connection(database.connection_info(settings)) as conn, conn.cursor() as cur:
        cur.execute(settings.in_raw_schema(_RAW_FINGERPRINT_SQL))
        raw = database.fetch_value(cur)
    return hashlib.md5(f"{raw}|{_project_digest(settings)}".encode()).hexdigest()


def _last_build(settings: Settings) -> tuple[str, list[str]] | None:
    """The fingerprint and the relations of the last successful build, or None."""
    with database.connection(database.connection_info(settings)) as conn, conn.cursor() as cur:
        cur.execute(
            "select to_regclass(format('%%I.%%I', %s, %s)) is not null",
            (f"{settings.db_schema}_audit", _BUILD_STATE_TABLE),
        )
        if not database.fetch_value(cur):
            return None
        query = sql.SQL("select fingerprint, relations from {} order by built_at desc limit 1")
        cur.execute(query.format(_build_state(settings)))
        row = cur.fetchone()
    return (row[0], list(row[1])) if row else None


# The relations a build made: every table and view in the dbt schemas of this target.
_BUILT_RELATIONS_SQL = """
select coalesce(array_agg(format('%%I.%%I', n.nspname, c.relname) order by 1), '{}')
from pg_class as c
inner join pg_namespace as n on n.oid = c.relnamespace
where n.nspname = any(%s) and c.relkind in ('r', 'v', 'm', 'p')
"""


def _dbt_schemas(settings: Settings) -> list[str]:
    return [settings.db_schema + suffix for suffix in ("", "_staging", "_seeds", "_snapshots")]


def _missing_relations(settings: Settings, relations: list[str]) -> list[str]:
    with database.connection(database.connection_info(settings)) as conn, conn.cursor() as cur:
        cur.execute("select r from unnest(%s::text[]) as r where to_regclass(r) is null", (relations,))
        return [row[0] for row in cur.fetchall()]


def _record_build(settings: Settings) -> None:
    """Remember what this successful build was built from and what it made (the audit schema
    exists: dbt's on-run-start created it)."""
    table = _build_state(settings)
    fingerprint = build_fingerprint(settings)
    with database.connection(database.connection_info(settings)) as conn, conn.cursor() as cur:
        cur.execute(_BUILT_RELATIONS_SQL, (_dbt_schemas(settings),))
        relations = database.fetch_value(cur)
        cur.execute(
            sql.SQL(
                "create table if not exists {} "
                "(fingerprint text not null, relations text[] not null, built_at timestamptz not null)"
            ).format(table)
        )
        cur.execute(
            sql.SQL("insert into {} values (%s, %s, clock_timestamp())").format(table), (fingerprint, relations)
        )


def status(settings: Settings | None = None) -> dict[str, object]:
    """What is running and loaded, for `ecom-tutorial status` and the setup notebook."""
    settings = settings or load_settings()
    report: dict[str, object] = {"mode": settings.db_mode}
    if settings.db_mode == "embedded":
        report["data folder"] = str(settings.pgdata)
        pid = embedded_server.embedded_server_pid(settings)
        report["server"] = f"running (pid {pid})" if pid else "stopped (it starts on the next command that needs it)"
        if not pid:
            return report
    info = database.connection_info(settings)
    report["connection"] = info.describe()
    try:
        conn = database.connect(info)
    except DatabaseMissingError:
        report["database"] = f"{settings.db_name!r} not created yet: run `ecom-tutorial up`"
        return report
    try:
        with conn.cursor() as cur:
            cur.execute("show server_version")
            report["server version"] = database.fetch_value(cur)
        report["schemas"] = ", ".join(ownership.existing_owned_schemas(conn, settings)) or "none yet"
        if not database.may_create_schemas(conn):
            report["privileges"] = (
                f"user {info.user!r} may not create schemas in database {info.dbname!r} (`ecom-tutorial up` "
                f"and dbt need to): {database.create_privilege_advice(info)}"
            )
        state = mock_data.raw_data_state(conn, settings)
    except DataNotLoadedError:
        report["raw data"] = "not loaded yet: run `ecom-tutorial up`"
        return report
    finally:
        conn.close()
    report["raw data"] = ", ".join(f"{table}={rows:,}" for table, rows in state.row_counts.items())
    report["scale"] = state.scale
    report["last order date"] = state.last_order_date
    report["next-day batch applied"] = state.next_day_batch_applied
    report["warehouse built"] = is_built(settings)
    return report
