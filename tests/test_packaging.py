"""One list of dependencies (pyproject.toml); requirements.txt and environment.yml derive from it."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

import tomllib
import yaml
from conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def _requirement_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_dbt_is_pinned_to_1_11():
    dependencies = PYPROJECT["project"]["dependencies"]
    # dbt-core 1.12 pulls a dependency whose build downloads from GitHub: it must not be allowed.
    assert "dbt-core~=1.11.0" in dependencies and "dbt-postgres~=1.11.0" in dependencies


def test_requirements_and_conda_environment_install_the_package_itself():
    assert _requirement_lines((REPO / "requirements.txt").read_text()) == ["-e .[test]"]
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = environment["dependencies"]
    assert "python=3.11" in conda
    (pip_section,) = [entry for entry in conda if isinstance(entry, dict)]
    assert pip_section["pip"] == ["-e .[test]"], "environment.yml must not repeat the dependency list"


def test_console_script_and_test_extra():
    assert PYPROJECT["project"]["scripts"]["ecom-tutorial"] == "ecom_tutorial.cli:main"
    test_extra = " ".join(PYPROJECT["project"]["optional-dependencies"]["test"])
    for tool in ("pytest", "check-jsonschema"):
        assert tool in test_extra


def test_metricflow_installs_next_to_dbt_1_11_and_every_requirement_holds():
    """dbt-metricflow is pinned to a release that keeps dbt-core 1.11: the installed set resolves together."""
    assert "dbt-metricflow~=0.15.0" in PYPROJECT["project"]["dependencies"]
    assert version("dbt-core").startswith("1.11.") and version("dbt-postgres").startswith("1.11.")
    assert version("dbt-metricflow").startswith("0.15.")
    check = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
