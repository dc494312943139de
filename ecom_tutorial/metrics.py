"""The semantic layer from Python: `query_metrics()` runs MetricFlow's `mf query` and returns a DataFrame.

MetricFlow (dbt-metricflow) reads the semantic models and metrics dbt parsed into
`semantic_manifest.json`, writes the SQL and runs it on the warehouse. It looks for that file in
`<project>/target/` only, while this package's dbt output may be elsewhere (DBT_TARGET_PATH: a
test run, a second terminal). So `mf` runs in a folder of its own whose entries link to the dbt
project's, and whose `target` links to the target folder in use (`_metricflow_root`).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from . import database
from .errors import EcomTutorialError
from .runner import dbt_environment, run_dbt
from .settings import Settings, load_settings


class MetricFlowError(EcomTutorialError):
    """`mf` refused a query or a configuration; the message is MetricFlow's own."""


def _metricflow_root(settings: Settings) -> Path:
    """A folder that looks like the dbt project to `mf`, with `target` being the target folder in use."""
    target = settings.dbt_target_dir.resolve()
    key = hashlib.md5(f"{settings.dbt_project_dir}|{target}".encode()).hexdigest()[:12]
    root = settings.build_dir / "metricflow" / key
    root.mkdir(parents=True, exist_ok=True)
    wanted = {entry.name: entry for entry in settings.dbt_project_dir.iterdir() if entry.name != "target"}
    wanted["target"] = target
    for name, source in wanted.items():
        link = root / name
        if link.is_symlink() and Path(os.readlink(link)) == source:
            continue
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(source)
    return root


def _mf(args: list[str], settings: Settings) -> str:
    """Run `mf ARGS` on the current project and target; its output, or MetricFlowError with its message."""
    executable = shutil.which("mf", path=str(Path(sys.executable).parent)) or shutil.which("mf")
    if executable is None:
        raise MetricFlowError(
            "MetricFlow is not installed: `pip install -e .` installs dbt-metricflow with the course."
        )
    info = database.connection_info(settings)
    environ = {**os.environ, **dbt_environment(info, settings)}
    environ.pop("DBT_PROJECT_DIR", None)  # mf would read the project there, not in the folder it runs in
    environ["DBT_LOG_PATH"] = str(settings.build_dir / "metricflow")
    result = subprocess.run(
        [executable, *args], cwd=_metricflow_root(settings), env=environ, capture_output=True, text=True, timeout=600
    )
    output = result.stdout + result.stderr
    # mf exits 0 after some failures: its own "ERROR:" line, or a validation's nonzero "ERRORS: n", tells them
    if result.returncode != 0 or re.search(r"^ERROR:|ERRORS: [1-9]", output, re.MULTILINE):
        spinner = re.compile(r"^[\u2800-\u28ff]")  # mf's progress lines: noise once it has stopped
        message = "\n".join(line for line in output.splitlines() if line.strip() and not spinner.match(line))
        raise MetricFlowError(f"mf {args[0]} failed:\n{message.strip()}")
    return output


def query_metrics(
    metrics: str | Sequence[str],
    group_by: str | Sequence[str] = (),
    *,
    where: str | None = None,
    order_by: str | Sequence[str] = (),
    limit: int | None = None,
    parse: bool = True,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Metrics (e.g. "revenue") by dimensions (e.g. "metric_time__year", "order_id__order_status"), as MetricFlow
    computes them. `parse=True` runs `dbt parse` first, so a metric you just wrote is known."""
    settings = settings or load_settings()
    if parse:
        run_dbt(["parse"], progress=False, settings=settings)
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    groups = [group_by] if isinstance(group_by, str) else list(group_by)
    orders = [order_by] if isinstance(order_by, str) else list(order_by)
    with tempfile.TemporaryDirectory(prefix="ecom-mf-") as scratch:
        output = Path(scratch) / "result.csv"
        args = ["query", "--metrics", ",".join(names), "--csv", str(output)]
        args += ["--group-by", ",".join(groups)] if groups else []
        args += ["--where", where] if where else []
        args += ["--order", ",".join(orders)] if orders else []
        args += ["--limit", str(limit)] if limit is not None else []
        _mf(args, settings)
        return pd.read_csv(output)


def validate_configs(settings: Settings | None = None) -> str:
    """`mf validate-configs`: the semantic models and metrics checked, against the warehouse too; its report."""
    settings = settings or load_settings()
    run_dbt(["parse"], progress=False, settings=settings)
    return _mf(["validate-configs"], settings)
