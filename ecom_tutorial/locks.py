"""One run at a time per target schema: a PostgreSQL advisory lock around dbt runs and raw-data loads.

Two dbt builds on one schema at once break each other (`__dbt_backup already exists`, a relation
dropped under the other run, `tuple concurrently deleted`), e.g. a notebook running a lesson while
a terminal builds. `run_lock()` holds a session-level advisory lock, on a connection of its own,
while a run writes; a second run prints who holds it and waits. The key comes from the project and
the target schema, so learners with their own schemas on one server never wait for each other.
Plain `dbt` in a terminal does not take the lock.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from . import database
from .settings import Settings

PROJECT = "ecom-dbt-tutorial"
RETRY_SECONDS = 1  # how long one wait lasts before Python gets a chance to see a Ctrl-C
_held: dict[tuple[object, ...], int] = {}  # (server, database, key, thread) -> nesting depth in this process
_held_guard = threading.Lock()


def lock_key(settings: Settings) -> int:
    """The advisory-lock key of this project and target schema (a signed 64-bit integer)."""
    digest = hashlib.sha256(f"{PROJECT}:{settings.db_schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def key_parts(key: int) -> tuple[int, int]:
    """pg_locks shows a bigint advisory key as classid (high 32 bits) and objid (low 32 bits)."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    return unsigned >> 32, unsigned & 0xFFFF_FFFF


def holder(conn: psycopg2.extensions.connection, key: int) -> str:
    """Who holds the lock `key` in this database, from pg_locks and pg_stat_activity."""
    classid, objid = key_parts(key)
    with conn.cursor() as cur:
        cur.execute(
            """
            select activity.pid, activity.application_name, activity.client_addr::text,
                   to_char(activity.backend_start, 'HH24:MI:SS')
            from pg_locks as locks
            inner join pg_stat_activity as activity on activity.pid = locks.pid
            where locks.locktype = 'advisory' and locks.granted
              and locks.database = (select oid from pg_database where datname = current_database())
              and locks.classid = %s and locks.objid = %s and locks.objsubid = 1
            """,
            (classid, objid),
        )
        row = cur.fetchone()
    if row is None:
        return "another run (it has just finished)"
    pid, application, client, since = row
    where = f" from {client}" if client else ""
    return f"{application or 'a client'} (server process {pid}{where}, connected since {since})"


def _application_name(label: str) -> str:
    """What pg_stat_activity shows for the lock's connection; PostgreSQL keeps 63 characters."""
    return f"ecom-tutorial pid {os.getpid()}: {label}"[:63]


def _acquire(conn: psycopg2.extensions.connection, key: int, settings: Settings) -> None:
    with conn.cursor() as cur:
        cur.execute("select pg_try_advisory_lock(%s)", (key,))
        if database.fetch_value(cur):
            return
        print(
            f"Another run is using schema {settings.db_schema!r} of database {settings.db_name!r}: "
            f"{holder(conn, key)}. Waiting for it to finish (two runs at once break each other)...",
            file=sys.stderr,
            flush=True,
        )
        cur.execute("set lock_timeout = %s", (f"{RETRY_SECONDS}s",))
        while True:
            try:
                cur.execute("select pg_advisory_lock(%s)", (key,))
                break
            except psycopg2.errors.LockNotAvailable:
                continue
        cur.execute("reset lock_timeout")
    print("The other run finished; going ahead.", file=sys.stderr, flush=True)


@contextmanager
def run_lock(info: database.ConnectionInfo, settings: Settings, label: str) -> Iterator[None]:
    """Hold this schema's run lock while the block runs (waiting, with a message, if another run has it).

    `label` (e.g. "dbt build") tells a waiting run what it waits for. Re-entrant within one thread,
    so `reset` may call `up`, and `build` may call both.
    """
    key = lock_key(settings)
    slot = (info.host, info.port, info.dbname, key, threading.get_ident())
    with _held_guard:
        depth = _held.get(slot, 0)
        _held[slot] = depth + 1
    if depth:
        try:
            yield
        finally:
            with _held_guard:
                _held[slot] -= 1
        return
    try:
        conn = database.connect(info, autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute("select set_config('application_name', %s, false)", (_application_name(label),))
            _acquire(conn, key, settings)
            yield  # closing the connection releases the lock, also when this process dies
        finally:
            conn.close()
    finally:
        with _held_guard:
            _held.pop(slot, None)
