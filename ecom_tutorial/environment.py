"""Check the learner's environment: Python, the packages this course needs, dbt, the checkout.

`check_environment()` returns one row per check with OK or FAIL and what to do about a FAIL;
the setup notebook shows it and `require_ok()` stops with one clear message if anything failed.
"""

from __future__ import annotations

import importlib.metadata as metadata
import platform
import shutil
import sys

import pandas as pd
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from .errors import EcomTutorialError, SettingsError
from .settings import load_settings

DISTRIBUTION = "ecom-tutorial"
COLUMNS = ["check", "required", "found", "status", "fix"]
INSTALL_FIX = "pip install -e . (from the course folder), or conda env update -f environment.yml"


class EnvironmentCheckError(EcomTutorialError):
    """At least one environment check failed."""


def _row(check: str, required: str, found: str, ok: bool, fix: str) -> dict[str, str]:
    status = "OK" if ok else "FAIL"
    return {"check": check, "required": required, "found": found, "status": status, "fix": "" if ok else fix}


def _satisfies(version: str, specifier: SpecifierSet) -> bool:
    try:
        return Version(version) in specifier or not str(specifier)
    except InvalidVersion:
        return False


def requirements() -> list[Requirement]:
    """The course's runtime dependencies, as declared in pyproject.toml (no test extras)."""
    try:
        declared = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return []
    wanted = []
    for line in declared:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            wanted.append(requirement)
    return wanted


def check_environment() -> pd.DataFrame:
    """One row per check (columns check, required, found, status OK/FAIL, fix)."""
    rows = []
    try:
        requires_python = metadata.metadata(DISTRIBUTION).get_all("Requires-Python") or [">=3.10"]
        python_spec = SpecifierSet(requires_python[0])
        package_found = True
    except metadata.PackageNotFoundError:
        python_spec, package_found = SpecifierSet(">=3.10"), False
    python_version = platform.python_version()
    python_ok = _satisfies(python_version, python_spec)
    python_fix = "Install Python 3.10 or newer and create the course environment with it."
    rows.append(_row("Python", str(python_spec), f"{python_version} ({sys.executable})", python_ok, python_fix))
    found = "installed" if package_found else "missing"
    rows.append(_row("package ecom-tutorial", "installed", found, package_found, INSTALL_FIX))
    for requirement in requirements():
        try:
            found = metadata.version(requirement.name)
            ok = _satisfies(found, requirement.specifier)
        except metadata.PackageNotFoundError:
            found, ok = "missing", False
        fix = f"pip install '{requirement}'" if found != "missing" else INSTALL_FIX
        rows.append(_row(f"package {requirement.name}", str(requirement.specifier) or "any", found, ok, fix))
    dbt_command = shutil.which("dbt")
    rows.append(
        _row(
            "dbt command on PATH",
            "found",
            dbt_command or "not found",
            dbt_command is not None,
            "Activate the course environment (e.g. `source .venv/bin/activate`) before starting JupyterLab.",
        )
    )
    try:
        settings = load_settings()
        rows.append(_row("course checkout", "dbt_project/ present", str(settings.project_dir), True, ""))
    except SettingsError as exc:
        rows.append(_row("course checkout", "dbt_project/ present", "not found", False, str(exc)))
    return pd.DataFrame(rows, columns=COLUMNS)


def styled(table: pd.DataFrame) -> pd.io.formats.style.Styler:
    """The table with OK in green and FAIL in red, for display in a notebook."""
    colours = {"OK": "background-color: #d4edda; color: #155724", "FAIL": "background-color: #f8d7da; color: #721c24"}
    return table.style.map(lambda value: colours.get(value, ""), subset=["status"]).hide(axis="index")


def require_ok(table: pd.DataFrame) -> None:
    """Raise EnvironmentCheckError listing every failed check and its fix; silent if all are OK."""
    failed = table[table["status"] != "OK"]
    if failed.empty:
        return
    lines = [f"{len(failed)} environment check(s) failed:"]
    for row in failed.itertuples():
        lines.append(f"  - {row.check}: needs {row.required}, found {row.found}. Fix: {row.fix}")
    raise EnvironmentCheckError("\n".join(lines))
