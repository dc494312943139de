"""Run dbt in this Python process, with a progress bar and the results as a pandas table.

`run_dbt(["build"])` is what `dbt build` is in a terminal, with the project, profile and
connection set for you, usage tracking off and dbt's own console output silenced.
"""

from __future__ import annotations

import difflib
import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import database
from .errors import DbtRunError
from .settings import Settings, load_settings

RESULT_COLUMNS = ["node", "type", "status", "seconds", "rows", "message"]
FAILED_STATUSES = {"error", "fail", "runtime error"}


@dataclass
class DbtResult:
    """What a dbt command did: one row per node in `table`, plus the warnings it logged."""

    command: list[str]
    success: bool
    table: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    raw: Any = None  # dbt's own result object (a RunExecutionResult, a Manifest, ...)

    def summary(self) -> str:
        """One line like `PASS=42 WARN=0 ERROR=0 SKIP=0 NO-OP=1 TOTAL=43`, as dbt prints it."""
        nodes = self.table[self.table["type"] != "operation"]  # dbt leaves its hooks out of the count
        counts = nodes["status"].value_counts()
        passed = sum(counts.get(s, 0) for s in ("success", "pass"))
        errors = sum(counts.get(s, 0) for s in FAILED_STATUSES)
        return (
            f"PASS={passed} WARN={counts.get('warn', 0)} ERROR={errors} "
            f"SKIP={counts.get('skipped', 0)} NO-OP={counts.get('no-op', 0)} TOTAL={len(nodes)}"
        )

    def _repr_html_(self) -> str:  # how JupyterLab shows a result
        return f"<p><b>dbt {' '.join(self.command)}</b>: {self.summary()}</p>" + self.table.to_html(index=False)


class _Progress:
    """dbt callback: one tick of a tqdm bar per finished node (works in terminals and Jupyter)."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.label = label
        # TQDM_DISABLE (tqdm's own switch): ecom_tutorial.notebooks sets it for executed copies,
        # where a Jupyter progress widget would be saved as a frozen "0%".
        self.enabled = enabled and not os.environ.get("TQDM_DISABLE")
        self.bar: Any = None
        self.warnings: list[str] = []
        self.unmatched_selectors: list[str] = []

    def __call__(self, event: Any) -> None:
        name = event.info.name
        if event.info.level == "warn":
            self.warnings.append(event.info.msg)
        if name == "NoNodesForSelectionCriteria":
            self.unmatched_selectors.append(event.data.spec_raw)
        if not self.enabled:
            return
        if name == "LogStartLine" and self.bar is None:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=event.data.total, desc=self.label, unit="node", leave=True)
        elif name == "NodeFinished" and self.bar is not None:
            # dbt's start-line total leaves out a few nodes (unit tests, hooks): grow it rather than overflow.
            if self.bar.n >= self.bar.total:
                self.bar.total = self.bar.n + 1
            self.bar.set_postfix_str(event.data.node_info.node_name, refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _interactive() -> bool:
    """A progress bar helps in a terminal or a notebook; in CI logs it is only noise."""
    if sys.stderr.isatty():
        return True
    try:
        from IPython import get_ipython

        return get_ipython() is not None
    except ImportError:
        return False


def _results_table(raw: Any) -> pd.DataFrame:
    """Turn dbt's per-node results into the RESULT_COLUMNS table."""
    rows = []
    for result in getattr(raw, "results", None) or []:
        node = getattr(result, "node", None)
        if node is None:  # e.g. source freshness results carry the node elsewhere
            continue
        response = getattr(result, "adapter_response", None) or {}
        rows.append(
            {
                "node": node.name,
                "type": str(node.resource_type),
                "status": str(result.status),
                "seconds": round(float(result.execution_time or 0.0), 2),
                "rows": response.get("rows_affected") if isinstance(response, dict) else None,
                "message": result.message or "",
            }
        )
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def dbt_environment(info: database.ConnectionInfo, settings: Settings) -> dict[str, str]:
    """What profiles.yml needs, plus dbt's own switches for a quiet, private run."""
    return {
        **info.dbt_env(),
        "ECOM_DBT_THREADS": str(settings.dbt_threads),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PROFILES_DIR": str(settings.project_dir),
        "DBT_PROJECT_DIR": str(settings.dbt_project_dir),
    }


def run_dbt(
    args: list[str],
    *,
    vars: dict[str, Any] | None = None,
    progress: bool = True,
    check: bool = True,
    verbose: bool = False,
    settings: Settings | None = None,
) -> DbtResult:
    """Run one dbt command (e.g. `["build", "--select", "staging"]`) in-process.

    `vars` are dbt's `--vars` (e.g. `{"as_of_date": "2024-06-30"}`; unset, dbt derives the as-of day
    from the data, as it does in a terminal). With `check=True`, a failure raises
    DbtRunError naming each failing node and its message. `verbose=True` lets dbt print its log.
    """
    from dbt.cli.main import dbtRunner

    settings = settings or load_settings()
    info = database.connection_info(settings)
    os.environ.update(dbt_environment(info, settings))

    command = list(args)
    invocation = command + ["--project-dir", str(settings.dbt_project_dir), "--profiles-dir", str(settings.project_dir)]
    if vars and command and command[0] not in ("deps", "clean", "debug", "init"):
        invocation += ["--vars", json.dumps(vars)]
    # Global flags go before the subcommand.
    flags = ["--no-send-anonymous-usage-stats", "--no-use-colors"]
    if not verbose:
        flags += ["--log-level", "none"]

    progress_callback = _Progress(label=f"dbt {command[0] if command else ''}", enabled=progress and _interactive())
    try:
        outcome = dbtRunner(callbacks=[progress_callback]).invoke(flags + invocation)
    finally:
        progress_callback.close()

    table = _results_table(outcome.result)
    result = DbtResult(command, bool(outcome.success), table, progress_callback.warnings, outcome.result)
    if check and progress_callback.unmatched_selectors:
        raise _nothing_selected(progress_callback.unmatched_selectors, settings)
    if check and not result.success:
        raise _failure(result, outcome.exception)
    return result


def _nothing_selected(selectors: list[str], settings: Settings) -> DbtRunError:
    """dbt only warns when a selector matches nothing; for a learner that is almost always a typo."""
    names: list[str] = []
    manifest = settings.dbt_target_dir / "manifest.json"
    if manifest.exists():
        nodes = json.loads(manifest.read_text()).get("nodes", {}).values()
        names = sorted({node["name"] for node in nodes})
    lines = []
    for selector in selectors:
        bare = selector.split(":")[-1].strip("+@")
        close = difflib.get_close_matches(bare, names, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        lines.append(f"Nothing matches the selection {selector!r}.{hint}")
    lines.append("Check the spelling of the model name (`dbt ls` lists them all).")
    return DbtRunError("\n".join(lines))


def _failure(result: DbtResult, exception: BaseException | None) -> DbtRunError:
    failed = result.table[result.table["status"].isin(FAILED_STATUSES)]
    failures = [(row.node, row.message) for row in failed.itertuples()]
    lines = [f"dbt {' '.join(result.command)} failed."]
    lines += [f"  - {node}: {message}" for node, message in failures]
    if exception is not None:
        lines.append(f"  dbt said: {exception}")
    if not failures and exception is None:
        lines.append("  See dbt_project/logs/dbt.log for details.")
    lines.append(
        "Fix the model or test named above and run the command again; "
        "`ecom-tutorial build` rebuilds everything."
    )
    return DbtRunError("\n".join(lines), failures)
