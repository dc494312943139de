"""Connecting to PostgreSQL: where the warehouse is, a connection to it, and errors that say what to do.

The server is the embedded one (embedded_server.py starts it on first use) or, with
ECOM_DB_MODE=server, any other server (Docker, a classroom server). Either way the settings become
one ConnectionInfo, which psycopg2, SQLAlchemy and dbt's profiles.yml all read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions
from psycopg2 import sql

from . import embedded_server
from .errors import (
    DatabaseAuthError,
    DatabaseMissingError,
    DatabasePermissionError,
    DatabaseUnavailableError,
    EcomTutorialError,
)
from .settings import Settings, load_settings

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

    def connect_kwargs(self, dbname: str | None = None) -> dict[str, Any]:
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


# --------------------------------------------------------------------------- connecting


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
        address = embedded_server.start(settings)
        host, port, user, password = address.socket_dir, address.port, embedded_server.EMBEDDED_USER, ""
    else:
        host, port, user, password = settings.db_host, settings.db_port, settings.db_user, settings.db_password
    return ConnectionInfo(
        host=host, port=port, user=user, password=password, dbname=settings.db_name, schema=settings.db_schema
    )


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
def connection(
    info: ConnectionInfo | None = None, *, dbname: str | None = None, autocommit: bool = False
) -> Iterator[psycopg2.extensions.connection]:
    """`with connection() as conn:` commits on success, rolls back on error, always closes."""
    conn = connect(info, dbname=dbname, autocommit=autocommit)
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


def fetch_value(cur: psycopg2.extensions.cursor) -> Any:
    """The first column of the next row: for queries that always return one (`count(*)`, `exists`, `version()`)."""
    row = cur.fetchone()
    if row is None:
        raise ValueError(f"The query returned no row: {cur.query!r}")
    return row[0]


def run_sql_file(conn: psycopg2.extensions.connection, path: Path) -> None:
    """Execute a whole .sql file (several statements, no psql meta-commands) in one round trip."""
    with conn.cursor() as cur:
        cur.execute(path.read_text())


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
    return f"ask the server's admin for {privilege.format(*names)}: `{grant.format(*names, user=_ident(info.user))};`"


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
        return bool(fetch_value(cur))


def create_privilege_advice(info: ConnectionInfo) -> str:
    """The advice for a missing CREATE on the database, with the statement that grants it."""
    privilege, grant = _PRIVILEGES[0][1:]
    return _ask_for(privilege, grant, [_ident(info.dbname)], info)
