"""Classroom mode: one course database on a shared server, and for each learner a login, schemas and settings.

The teacher runs `ecom-tutorial class setup --roster FILE` in server mode as a role that may create
roles (ECOM_DB_USER). It loads the raw data once into the course database (ECOM_DB_NAME), read-only
for learners, and gives every learner on the roster:

- a login role `<course database>_<name>` with a generated password, a connection limit and a
  `statement_timeout` (a runaway query is stopped), member of the group role `<course database>_learners`;
- their own schemas: the dbt target schema `<name>` and its companions (`<name>_staging`, ...), owned
  by their role, so nobody else can read, change or drop them;
- their own copy of the raw data, `<name>_raw` (ECOM_RAW_SCHEMA): their sources read it, and a lesson that
  changes the raw data (the next-day batch of lesson 05, the broken order of lesson 09) changes it for them
  alone, while `raw_data` itself stays read-only;
- a settings file `<class dir>/settings/<name>.env` (mode 0600) with the `ECOM_*` values their
  JupyterLab needs (read_settings_file reads it; the JupyterHub recipe in docker/jupyterhub does);
- a copy of the course (dbt project, learner notebooks) in `<class dir>/projects/<name>`: their
  workspace models and dbt's target folder are theirs alone.

Running setup again with a longer roster adds the new learners and leaves the others as they are.
`reset_learner` rebuilds one learner from scratch (their old copy is archived, never deleted);
`remove_learner` takes one away. Every role and schema this module creates carries a marker, and
only marked ones are ever dropped.
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2.errors
import psycopg2.extensions
from psycopg2 import sql

from . import database, mock_data, warehouse
from .errors import EcomTutorialError, SettingsError
from .ownership import SCHEMA_MARKER
from .settings import DEFAULT_PROGRESS_SCHEMA, TARGET_SCHEMA_SUFFIXES, Settings, load_settings, target_schemas

ROLE_MARKER = "created by ecom-dbt-tutorial for the class in database {database}"
PROGRESS_SCHEMA = DEFAULT_PROGRESS_SCHEMA  # the course database's record of checks (progress.py), shared
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,29}")
RAW_COPY_SUFFIX = "_raw"  # a learner's copy of the raw data: `<name>_raw`
# A learner's name becomes their schema: it must not be one the course or PostgreSQL uses.
RESERVED_NAMES = {"raw_data", "public", "information_schema", PROGRESS_SCHEMA, "analytics_dev"}
# What a learner's copy of the course holds: what dbt and the notebooks read (benchmarks/: lesson 11's chart),
# never dbt's output or solutions.
COPIED = ("dbt_project", "notebooks", "docker/postgres", "profiles.yml", "benchmarks")
NOT_COPIED = (
    *("target", "logs", "dbt_packages", "package-lock.yml"),  # dbt's output: theirs to make
    *("solutions", "TEACHING.md", "*.bak", ".ipynb_checkpoints"),  # the teacher's
)


class ClassroomError(EcomTutorialError):
    """A class command cannot go ahead: the message says why and what to do."""


@dataclass(frozen=True)
class ClassOptions:
    """What every learner of the class gets."""

    statement_timeout: str = "5min"  # a runaway query is cancelled after this long
    # A notebook session holds about 4 at once (`%sql`, the query pool, a dbt run and its run lock): the limit
    # stops one learner's runaway loop from taking the server's connections, not their normal work.
    connection_limit: int = 8
    dbt_threads: int = 1  # on a shared server one thread each keeps 30 builds fair


CONNECTIONS_PER_LEARNER = 5  # what a learner's notebook and build hold together at their busiest


@dataclass(frozen=True)
class Learner:
    """One learner of the class: their name (also their dbt target schema) and where their files are."""

    name: str
    class_dir: Path

    @property
    def settings_file(self) -> Path:
        return settings_file(self.class_dir, self.name)

    @property
    def project_dir(self) -> Path:
        return self.class_dir / "projects" / self.name

    def environment(self) -> dict[str, str]:
        """The variables a process needs to act as this learner: their settings file, and dbt's output and logs
        in their own copy of the course, whatever the caller's shell says."""
        dbt_project = self.project_dir / "dbt_project"
        return {
            **read_settings_file(self.settings_file),
            "DBT_TARGET_PATH": str(dbt_project / "target"),
            "DBT_LOG_PATH": str(dbt_project / "logs"),
        }


@dataclass
class SetupReport:
    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the teacher should know, e.g. too few connections


# --------------------------------------------------------------------------- files


def settings_file(class_dir: Path, name: str) -> Path:
    """Where the settings of learner `name` are kept."""
    return Path(class_dir) / "settings" / f"{name}.env"


def read_settings_file(path: Path) -> dict[str, str]:
    """The `NAME=value` lines of a learner's settings file (blank lines and `#` comments skipped)."""
    values = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, equals, value = line.partition("=")
        if not equals or not re.fullmatch(r"[A-Z_][A-Z0-9_]*", name.strip()):
            raise SettingsError(f"{path}, line {number}: expected NAME=value, got {line!r}.")
        values[name.strip()] = value
    return values


def _write_settings_file(path: Path, values: dict[str, str]) -> None:
    """Write the file readable by its owner only: it holds a password."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    lines = ["# ecom-dbt-tutorial: this learner's settings (`ecom-tutorial class setup` wrote it; keep it private)"]
    path.write_text("\n".join([*lines, *(f"{name}={value}" for name, value in values.items())]) + "\n")


def read_roster(path: Path) -> list[str]:
    """The learners' names, one per line (blank lines and `#` comments skipped), checked and de-duplicated."""
    names: list[str] = []
    problems = []
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        name = line.split("#", 1)[0].strip()
        if not name:
            continue
        problem = name_problem(name)
        if problem:
            problems.append(f"line {number}: {problem}")
        elif name not in names:
            names.append(name)
    if problems:
        raise ClassroomError(f"The roster {path} has names the class cannot use:\n  " + "\n  ".join(problems))
    if not names:
        raise ClassroomError(f"The roster {path} names nobody: write one learner name per line.")
    return names


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a learner's name (it becomes their schema and part of their role), or None."""
    if not NAME_PATTERN.fullmatch(name):
        return (
            f"{name!r} is not a plain name: use 1-30 lowercase letters, digits and _, starting with a letter "
            "(e.g. ada_lovelace)"
        )
    companions = (*(suffix for suffix in TARGET_SCHEMA_SUFFIXES if suffix), RAW_COPY_SUFFIX)
    if name in RESERVED_NAMES or name.startswith("pg_") or name.endswith(companions):
        return f"{name!r} is a schema name the course or PostgreSQL uses (or a learner's companion): choose another"
    return None


def learners(class_dir: Path) -> list[Learner]:
    """The learners set up in `class_dir`, by name."""
    files = sorted((Path(class_dir) / "settings").glob("*.env"))
    return [Learner(path.stem, Path(class_dir)) for path in files]


def learner(class_dir: Path, name: str) -> Learner:
    """The learner `name` of the class, or a ClassroomError naming who there is."""
    found = Learner(name, Path(class_dir))
    if not found.settings_file.exists():
        known = ", ".join(item.name for item in learners(class_dir)) or "nobody yet"
        raise ClassroomError(f"There is no learner {name!r} in the class at {class_dir} (there is: {known}).")
    return found


def _copy_course(settings: Settings, destination: Path) -> None:
    """A learner's own copy of the course: the dbt project, the learner notebooks, the SQL `up` reads."""
    ignore = shutil.ignore_patterns(*NOT_COPIED)
    for item in COPIED:
        source = settings.project_dir / item
        target = destination / item
        if source.is_dir():
            shutil.copytree(source, target, ignore=ignore)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    for workspace in destination.glob("dbt_project/*/workspace"):  # the teacher's own work stays theirs
        for path in workspace.iterdir():
            if path.name != "README.md":
                shutil.rmtree(path) if path.is_dir() else path.unlink()


def _archive(class_dir: Path, folder: Path, name: str) -> Path | None:
    """Move a learner's copy to `<class dir>/archive/<name>-<time>`: reset and remove never delete work."""
    if not folder.exists():
        return None
    target = Path(class_dir) / "archive" / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(folder), target)
    return target


# --------------------------------------------------------------------------- the database


def role_name(settings: Settings, name: str) -> str:
    """The login role of learner `name`: roles belong to the whole server, so it names the course database."""
    return f"{settings.db_name}_{name}"


def group_role(settings: Settings) -> str:
    """The group role every learner of this class is a member of: it holds the read access to raw_data (whose
    tables the learners' lessons read as their own copies, and their own sources of lessons 01 and 10 as they are)."""
    return f"{settings.db_name}_learners"


def raw_copy_schema(name: str) -> str:
    """Where learner `name`'s own copy of the raw data is (their ECOM_RAW_SCHEMA)."""
    return name + RAW_COPY_SUFFIX


def learner_schemas(name: str) -> list[str]:
    """The schemas of learner `name`, whose dbt target schema is their name: dbt's, and their raw data."""
    return [*target_schemas(name), raw_copy_schema(name)]


def _role_marker(settings: Settings) -> str:
    return ROLE_MARKER.format(database=settings.db_name)


def _role_state(cur: psycopg2.extensions.cursor, role: str, marker: str) -> str:
    """'missing', 'ours' (it carries the marker) or 'foreign'."""
    cur.execute("select shobj_description(oid, 'pg_authid') from pg_roles where rolname = %s", (role,))
    row = cur.fetchone()
    if row is None:
        return "missing"
    return "ours" if row[0] == marker else "foreign"


def _require_teacher(conn: psycopg2.extensions.connection, settings: Settings) -> None:
    with conn.cursor() as cur:
        cur.execute("select rolsuper or rolcreaterole from pg_roles where rolname = current_user")
        if not database.fetch_value(cur):
            raise ClassroomError(
                f"User {settings.db_user!r} may not create roles, which setting up a class needs: run it as the "
                "server's admin (ECOM_DB_USER=postgres, or a role with CREATEROLE)."
            )


def _check_duration(conn: psycopg2.extensions.connection, duration: str) -> None:
    """A ClassroomError unless PostgreSQL reads `duration` as a statement timeout ("5min", "300s", "300000")."""
    try:
        with conn.cursor() as cur:
            cur.execute("select set_config('statement_timeout', %s, true)", (duration,))
    except psycopg2.errors.InvalidParameterValue:
        raise ClassroomError(
            f"--statement-timeout {duration!r} is not a duration PostgreSQL understands: use e.g. 5min, 300s or 2h."
        ) from None
    finally:
        conn.rollback()


def _prepare_course(conn: psycopg2.extensions.connection, settings: Settings) -> None:
    """What the whole class shares: the group role, read-only raw data, the progress table. Idempotent."""
    group = sql.Identifier(group_role(settings))
    marker = _role_marker(settings)
    with conn.cursor() as cur:
        state = _role_state(cur, group_role(settings), marker)
        if state == "foreign":
            raise ClassroomError(
                f"A role {group_role(settings)!r} exists on this server and is not this course's: "
                "choose another ECOM_DB_NAME for the class."
            )
        if state == "missing":
            cur.execute(sql.SQL("create role {} nologin").format(group))
            cur.execute(sql.SQL("comment on role {} is {}").format(group, sql.Literal(marker)))
        dbname = sql.Identifier(settings.db_name)
        # Only the class connects; nobody creates schemas but the teacher (a learner's are made for them).
        cur.execute(sql.SQL("revoke all on database {} from public").format(dbname))
        cur.execute(sql.SQL("grant connect, temporary on database {} to {}").format(dbname, group))
        cur.execute("revoke create on schema public from public")
        # The raw data: read, never written. Reloading it re-creates the tables: default privileges follow.
        cur.execute(sql.SQL("grant usage on schema raw_data to {}").format(group))
        cur.execute(sql.SQL("grant select on all tables in schema raw_data to {}").format(group))
        cur.execute(sql.SQL("alter default privileges in schema raw_data grant select on tables to {}").format(group))
    from .progress import prepare_class_table  # progress.py owns the table; the class grants on it

    prepare_class_table(conn, group_role(settings), PROGRESS_SCHEMA)


def _create_learner(cur: psycopg2.extensions.cursor, settings: Settings, name: str, options: ClassOptions) -> str:
    """The role and schemas of a new learner; returns their password."""
    role = sql.Identifier(role_name(settings, name))
    password = secrets.token_urlsafe(18)
    cur.execute(
        sql.SQL("create role {} login password {} connection limit {} in role {}").format(
            role, sql.Literal(password), sql.Literal(options.connection_limit), sql.Identifier(group_role(settings))
        )
    )
    cur.execute(sql.SQL("comment on role {} is {}").format(role, sql.Literal(_role_marker(settings))))
    cur.execute(
        sql.SQL("alter role {} in database {} set statement_timeout = {}").format(
            role, sql.Identifier(settings.db_name), sql.Literal(options.statement_timeout)
        )
    )
    _create_schemas(cur, settings, name)
    return password


def _create_schemas(cur: psycopg2.extensions.cursor, settings: Settings, name: str) -> None:
    role = sql.Identifier(role_name(settings, name))
    for schema in learner_schemas(name):
        cur.execute(sql.SQL("create schema if not exists {} authorization {}").format(sql.Identifier(schema), role))
        cur.execute(sql.SQL("comment on schema {} is {}").format(sql.Identifier(schema), sql.Literal(SCHEMA_MARKER)))
    mock_data.copy_raw_data(cur, raw_copy_schema(name), role_name(settings, name))


def _drop_schemas(cur: psycopg2.extensions.cursor, settings: Settings, name: str) -> None:
    """Drop the learner's schemas: only those owned by their role (what setup made them), with what is in them."""
    cur.execute(
        "select nspname from pg_namespace where nspname = any(%s) and nspowner = %s::regrole",
        (learner_schemas(name), role_name(settings, name)),
    )
    for (schema,) in cur.fetchall():
        cur.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(schema)))


def _disconnect(cur: psycopg2.extensions.cursor, role: str) -> None:
    """End the role's sessions: a notebook's open connection would otherwise hold locks the drop waits for."""
    cur.execute("select pg_terminate_backend(pid) from pg_stat_activity where usename = %s", (role,))


def _learner_settings(settings: Settings, name: str, password: str, options: ClassOptions, project: Path) -> dict:
    return {
        "ECOM_DB_MODE": "server",
        "ECOM_DB_HOST": settings.db_host,
        "ECOM_DB_PORT": str(settings.db_port),
        "ECOM_DB_USER": role_name(settings, name),
        "ECOM_DB_PASSWORD": password,
        "ECOM_DB_NAME": settings.db_name,
        "ECOM_DB_SCHEMA": name,
        "ECOM_RAW_SCHEMA": raw_copy_schema(name),
        "ECOM_DBT_THREADS": str(options.dbt_threads),
        "ECOM_PROJECT_DIR": str(project),
        "ECOM_LEARNER": name,
        "ECOM_PROGRESS_SCHEMA": PROGRESS_SCHEMA,
        # the class's read-only role (the marts' grant hooks grant to it): a member reads every learner's marts
        "ECOM_REPORTER_ROLE": settings.reporter_role,
    }


# Databases a class must never take over: setup revokes the public's CONNECT on the course database.
NOT_A_COURSE_DATABASE = {"postgres", "template0", "template1"}
MAX_IDENTIFIER = 63  # PostgreSQL cuts longer names short, silently: two learners' roles could become one


def _teacher_settings(settings: Settings | None) -> Settings:
    settings = settings or load_settings()
    if settings.db_mode != "server":
        raise ClassroomError(
            "A class runs on a PostgreSQL server that every learner reaches: set ECOM_DB_MODE=server and "
            "ECOM_DB_HOST/PORT/USER/PASSWORD to the server's admin, and ECOM_DB_NAME to the course database."
        )
    if settings.db_name in NOT_A_COURSE_DATABASE:
        raise ClassroomError(
            f"ECOM_DB_NAME={settings.db_name} is one of the server's own databases: name a course database "
            "of its own, e.g. ECOM_DB_NAME=dbt_course_2026 (setup creates it)."
        )
    return settings


def _check_names(settings: Settings, names: list[str]) -> None:
    """Every name usable as a learner of this class, or a ClassroomError listing those that are not."""
    problems = [problem for problem in map(name_problem, names) if problem]
    problems += [
        f"{name!r} is the teacher's own target schema (ECOM_DB_SCHEMA): choose another"
        for name in names
        if name == settings.db_schema
    ]
    longest = max(names, key=len, default="")
    if len(role_name(settings, longest)) > MAX_IDENTIFIER:
        problems.append(
            f"the login {role_name(settings, longest)!r} would be longer than PostgreSQL's {MAX_IDENTIFIER} "
            "characters: use a shorter course database name (ECOM_DB_NAME) or shorter learner names"
        )
    if problems:
        raise ClassroomError("The class cannot be set up:\n  " + "\n  ".join(problems))


def setup(
    roster: Iterable[str], class_dir: Path, options: ClassOptions | None = None, settings: Settings | None = None
) -> SetupReport:
    """Set up the course database and every learner of `roster` not set up yet; the others are left as they are."""
    settings = _teacher_settings(settings)
    options = options or ClassOptions()
    class_dir = Path(class_dir).resolve()
    names = list(roster)
    _check_names(settings, names)
    info = database.connection_info(settings)
    database.ensure_database(info)
    with database.connection(info) as conn:
        _require_teacher(conn, settings)
        _check_duration(conn, options.statement_timeout)
    warehouse.up(settings=settings)  # the raw data, loaded once for everyone (a no-op when it is there)
    report = SetupReport()
    with database.connection(info) as conn:
        _prepare_course(conn, settings)
        marker = _role_marker(settings)
        for name in names:
            with conn.cursor() as cur:
                state = _role_state(cur, role_name(settings, name), marker)
                if state == "foreign":
                    raise ClassroomError(
                        f"A role {role_name(settings, name)!r} exists on this server and is not this class's: "
                        f"learner {name!r} cannot be set up (rename them in the roster)."
                    )
                found = Learner(name, class_dir)
                if state == "ours":
                    if not found.settings_file.exists():
                        raise ClassroomError(
                            f"Learner {name!r} has a role but no settings file in {class_dir}: was the class set "
                            f"up from another folder? Point --class-dir there, or `ecom-tutorial class remove {name}`."
                        )
                    report.kept.append(name)
                    continue
                password = _create_learner(cur, settings, name, options)
            conn.commit()  # each learner whole, before their files are written
            if not found.project_dir.exists():
                _copy_course(settings, found.project_dir)
            values = _learner_settings(settings, name, password, options, found.project_dir)
            _write_settings_file(found.settings_file, values)
            report.added.append(name)
        report.notes += _connection_budget(conn, len(report.added) + len(report.kept))
        report.notes += _raw_copies_size(conn, len(report.added) + len(report.kept))
    return report


def _raw_copies_size(conn: psycopg2.extensions.connection, learners: int) -> list[str]:
    """What the learners' copies of the raw data take on the server's disk: it grows with the scale."""
    with conn.cursor() as cur:
        cur.execute(
            "select coalesce(sum(pg_total_relation_size(oid)), 0) from pg_class "
            "where relnamespace = 'raw_data'::regnamespace and relkind = 'r'"
        )
        each = int(database.fetch_value(cur))
    megabytes = each / 2**20
    return [
        f"Each learner's copy of the raw data takes {megabytes:,.0f} MB on the server's disk: "
        f"{learners * megabytes / 1024:,.1f} GB for the {learners} learner(s) of the class."
    ]


def _connection_budget(conn: psycopg2.extensions.connection, learners: int) -> list[str]:
    """Advice when the server's max_connections is short of what the class uses at its busiest."""
    with conn.cursor() as cur:
        cur.execute(
            "select current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int"
        )
        available = int(database.fetch_value(cur))
    needed = learners * CONNECTIONS_PER_LEARNER
    if needed <= available:
        return []
    return [
        f"The server takes {available} connections; {learners} learners at their busiest hold about {needed} "
        f"({CONNECTIONS_PER_LEARNER} each: a notebook and a dbt build). Raise max_connections in postgresql.conf "
        f"to {needed + 20} or more and restart PostgreSQL, or expect 'too many connections' in busy minutes."
    ]


def reset_learner(class_dir: Path, name: str, settings: Settings | None = None) -> Path | None:
    """Rebuild learner `name` from scratch: empty schemas, a fresh copy of the raw data and of the course (the
    old one archived, returned). Their login, password and progress stay."""
    settings = _teacher_settings(settings)
    found = learner(class_dir, name)
    with database.connection(database.connection_info(settings)) as conn, conn.cursor() as cur:
        _disconnect(cur, role_name(settings, name))
        _drop_schemas(cur, settings, name)
        _create_schemas(cur, settings, name)
    archived = _archive(found.class_dir, found.project_dir, name)
    _copy_course(settings, found.project_dir)
    return archived


def remove_learner(class_dir: Path, name: str, settings: Settings | None = None) -> Path | None:
    """Take learner `name` out of the class: their schemas, role and settings file go; their copy of the
    course is archived (returned)."""
    settings = _teacher_settings(settings)
    found = learner(class_dir, name)
    role = role_name(settings, name)
    with database.connection(database.connection_info(settings)) as conn, conn.cursor() as cur:
        if _role_state(cur, role, _role_marker(settings)) == "ours":
            _disconnect(cur, role)
            _drop_schemas(cur, settings, name)
            cur.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))  # their grants, progress rights
            cur.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))
    archived = _archive(found.class_dir, found.project_dir, name)
    found.settings_file.unlink()
    return archived
