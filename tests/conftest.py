"""Shared fixtures: one embedded PostgreSQL for the whole session, built once through the CLI.

Every test runs against real servers and real dbt. The session uses its own data folder, so a
developer's own warehouse (.pgdata/) is never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psycopg2
import pytest

REPO = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "ecom_tutorial.cli"]
LOCAL_PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="ecom-tests-"))


def pytest_configure(config: pytest.Config) -> None:
    """Point every test, subprocess and notebook kernel at the session's embedded server."""
    for name in [n for n in os.environ if n.startswith("ECOM_DB_")]:
        del os.environ[name]
    os.environ.update(
        {
            "ECOM_DB_MODE": "embedded",
            "ECOM_PGDATA": str(_SESSION_DIR / "pgdata"),
            "ECOM_DB_NAME": "ecommerce_dw",
            "ECOM_DB_SCHEMA": "analytics_dev",
            "ECOM_PROJECT_DIR": str(REPO),
        }
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    subprocess.run([*CLI, "down"], capture_output=True, timeout=120)
    shutil.rmtree(_SESSION_DIR, ignore_errors=True)


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    """Run `ecom-tutorial ARGS` the way a learner does, in a subprocess."""
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


@pytest.fixture(scope="session")
def built_warehouse() -> dict[str, object]:
    """`ecom-tutorial build` on a fresh database, once per session; the CLI's output and timing."""
    started = time.perf_counter()
    result = run_cli("build", "--no-progress")
    assert result.returncode == 0, f"ecom-tutorial build failed:\n{result.stdout}\n{result.stderr}"
    return {"stdout": result.stdout, "stderr": result.stderr, "seconds": time.perf_counter() - started}


@contextmanager
def isolated_database(name: str) -> Iterator[None]:
    """Point the package at another database on the session server while the block runs.

    For tests that change data (next-day batch, failing rows) without disturbing the shared warehouse.
    """
    previous = os.environ.get("ECOM_DB_NAME")
    os.environ["ECOM_DB_NAME"] = name
    try:
        yield
    finally:
        os.environ["ECOM_DB_NAME"] = previous or "ecommerce_dw"


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
