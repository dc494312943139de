"""The database layer: embedded server lifecycle, crash recovery, clear errors (drops: test_reliability.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from conftest import run_cli

from ecom_tutorial import database, embedded_server, load_settings
from ecom_tutorial.errors import DatabaseAuthError, DatabaseUnavailableError


@pytest.fixture()
def throwaway_embedded(tmp_path, monkeypatch):
    """A second embedded server in its own folder, stopped afterwards."""
    monkeypatch.setenv("ECOM_PGDATA", str(tmp_path / "pgdata"))
    settings = load_settings()
    info = database.connection_info(settings)
    yield settings, info
    embedded_server.stop(settings)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_embedded_server_is_postgres_18_on_a_socket_only(throwaway_embedded):
    settings, info = throwaway_embedded
    assert info.is_socket and info.host.startswith("/")
    with database.connection(info, dbname="postgres") as conn, conn.cursor() as cur:
        cur.execute("show server_version_num")
        assert int(cur.fetchone()[0]) >= 180000
        cur.execute("show listen_addresses")
        assert cur.fetchone()[0] == "", "the embedded server must not take a TCP port (5432 belongs to others)"


def test_server_is_shared_and_outlives_the_process_that_started_it(throwaway_embedded):
    settings, info = throwaway_embedded
    pid = embedded_server.embedded_server_pid(settings)
    code = "import ecom_tutorial as e; print(e.connection_info().host)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ)
    assert out.stdout.strip() == info.host
    assert embedded_server.embedded_server_pid(settings) == pid, "a second process must reuse the running server"


def test_recovers_after_kill_9_of_a_process_holding_the_server(throwaway_embedded):
    settings, info = throwaway_embedded
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time, ecom_tutorial as e; e.connection_info(); print('up', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ,
    )
    assert holder.stdout.readline().strip() == "up"
    handles = settings.pgdata / ".handle_pids.json"
    assert holder.pid in json.loads(handles.read_text())
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    # The killed process left its pid in the handle list: the next start must clean it and just work.
    info_again = database.connection_info(settings)
    assert holder.pid not in json.loads(handles.read_text())
    with database.connection(info_again, dbname="postgres") as conn, conn.cursor() as cur:
        cur.execute("select 1")
        assert cur.fetchone() == (1,)


def test_recovers_after_kill_9_of_the_server_itself(throwaway_embedded):
    settings, info = throwaway_embedded
    with database.connection(info, dbname="postgres") as conn, conn.cursor() as cur:
        cur.execute("create table kept (x int); insert into kept values (42)")
    old_pid = embedded_server.embedded_server_pid(settings)
    os.kill(old_pid, signal.SIGKILL)
    deadline = time.time() + 10
    while embedded_server.embedded_server_pid(settings) is not None and time.time() < deadline:
        time.sleep(0.1)
    assert (settings.pgdata / "postmaster.pid").exists(), "the crash should leave a stale pid file behind"
    info_again = database.connection_info(settings)
    assert embedded_server.embedded_server_pid(settings) not in (None, old_pid)
    with database.connection(info_again, dbname="postgres") as conn, conn.cursor() as cur:
        cur.execute("select x from kept")
        assert cur.fetchone() == (42,), "committed data must survive the crash"


def test_stale_pid_file_naming_a_reused_pid_is_ignored(throwaway_embedded):
    settings, _ = throwaway_embedded
    embedded_server.stop(settings)
    # After a crash and a reboot the pid in postmaster.pid may belong to an unrelated process.
    (settings.pgdata / "postmaster.pid").write_text(f"{os.getpid()}\n{settings.pgdata}\n0\n5432\n\n\n\nready\n")
    info = database.connection_info(settings)
    assert embedded_server.embedded_server_pid(settings) not in (None, os.getpid())
    database.connect(info, dbname="postgres").close()


def test_down_stops_and_keeps_data(throwaway_embedded):
    settings, info = throwaway_embedded
    assert embedded_server.stop(settings) is True
    assert embedded_server.embedded_server_pid(settings) is None
    assert embedded_server.stop(settings) is False, "stopping a stopped server is a no-op"
    assert (settings.pgdata / "PG_VERSION").exists()


def test_unwritable_data_folder_says_what_to_do(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("ECOM_PGDATA", str(blocker / "pgdata"))
    with pytest.raises(DatabaseUnavailableError, match="ECOM_PGDATA"):
        database.connection_info()


def test_unreachable_server_says_what_to_do(monkeypatch):
    monkeypatch.setenv("ECOM_DB_MODE", "server")
    monkeypatch.setenv("ECOM_DB_HOST", "127.0.0.1")
    monkeypatch.setenv("ECOM_DB_PORT", str(_free_port()))
    with pytest.raises(DatabaseUnavailableError, match="docker compose"):
        database.connect()
    result = run_cli("up")
    assert result.returncode == 1
    assert "Cannot reach PostgreSQL" in result.stderr and "Traceback" not in result.stderr


def test_wrong_password_says_what_to_do(throwaway_embedded, monkeypatch):
    """A throwaway server configured for password authentication, reached through server mode."""
    settings, info = throwaway_embedded
    with database.connection(info, dbname="postgres") as conn, conn.cursor() as cur:
        cur.execute("create role learner login password 'right-password'")
    hba = settings.pgdata / "pg_hba.conf"
    hba.write_text("local all postgres trust\nlocal all all scram-sha-256\n")
    with database.connection(info, dbname="postgres") as conn, conn.cursor() as cur:
        cur.execute("select pg_reload_conf()")
    time.sleep(0.5)
    for name, value in {
        "ECOM_DB_MODE": "server",
        "ECOM_DB_HOST": info.host,
        "ECOM_DB_PORT": str(info.port),
        "ECOM_DB_USER": "learner",
        "ECOM_DB_NAME": "postgres",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ECOM_DB_PASSWORD", "wrong-password")
    with pytest.raises(DatabaseAuthError, match="ECOM_DB_PASSWORD"):
        database.connect()
    result = run_cli("status")
    assert result.returncode == 1 and "rejected user 'learner'" in result.stderr
    monkeypatch.setenv("ECOM_DB_PASSWORD", "right-password")
    database.connect().close()
