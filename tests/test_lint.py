"""The linters, each run as CI and `.pre-commit-config.yaml` run it, on the whole repository.

Their settings live in pyproject.toml ([tool.ruff], [tool.mypy], [tool.dbt-score]) and .sqlfluff; the
linters themselves come with the `test` extra. A failure prints the linter's own report.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import ecom_tutorial
from ecom_tutorial import database
from ecom_tutorial.runner import dbt_environment

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.lint


def _executable(name: str) -> str:
    """The linter installed beside this interpreter (the `test` extra), else the one on PATH."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: `pip install -e .[test]` installs the linters.")
    return found


def run_linter(*command: str, env: dict[str, str] | None = None, timeout: float = 300) -> None:
    """Run `command` from the repository root; fail with its output unless it exits 0."""
    result = subprocess.run(
        [_executable(command[0]), *command[1:]],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, (
        f"`{' '.join(command)}` exited with {result.returncode}:\n{result.stdout}\n{result.stderr}"
    )


def test_ruff_check() -> None:
    run_linter("ruff", "check", ".")


def test_ruff_format() -> None:
    run_linter("ruff", "format", "--check", ".")


@pytest.mark.slow  # 20-40 s from a cold cache
def test_mypy() -> None:
    run_linter("mypy", "ecom_tutorial")


def test_nbqa_ruff_on_the_solution_notebooks() -> None:
    # The learner copies are generated from these (`ecom-tutorial exercises`), so linting the source suffices.
    run_linter("nbqa", "ruff", "notebooks/solutions")


def _dbt_env(tmp_path: Path) -> dict[str, str]:
    """A connection for profiles.yml, and a private dbt target folder (never dbt_project/target).

    The connection is to the server's maintenance database: dbt compiles the project for sqlfluff with a
    fixed as-of day (.sqlfluff), so it needs a server to connect to but none of the warehouse's data.
    """
    settings = ecom_tutorial.load_settings()
    info = replace(ecom_tutorial.connection_info(settings), dbname=database.MAINTENANCE_DB)
    return {
        **dbt_environment(info, settings),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }


@pytest.mark.slow  # the dbt templater compiles the whole project
def test_sqlfluff(tmp_path: Path) -> None:
    run_linter("sqlfluff", "lint", "dbt_project", env=_dbt_env(tmp_path), timeout=600)


@pytest.mark.slow  # a whole dbt parse first
def test_dbt_score(tmp_path: Path) -> None:
    """dbt-score reads its floors (fail_project_under, fail_any_item_under) from pyproject.toml's [tool.dbt-score]."""
    env = _dbt_env(tmp_path)
    run_linter("dbt", "parse", "--quiet", env=env)
    run_linter("dbt-score", "lint", "--manifest", str(tmp_path / "target" / "manifest.json"), env=env)
