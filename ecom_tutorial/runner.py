"""Run dbt in this Python process, with a progress bar and the results as a pandas table.

`run_dbt(["build"])` is what `dbt build` is in a terminal, with the project, profile and
connection set for you, usage tracking off and dbt's own console output silenced.
"""

from __future__ import annotations

import difflib
import errno
import io
import json
import os
import re
import shutil
import sys
import time
import warnings
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import database, locks, spark_cluster
from .errors import DbtRunError
from .settings import Settings, load_settings, scoped_environ

RESULT_COLUMNS = ["node", "type", "status", "seconds", "rows", "message"]
FAILED_STATUSES = {"error", "fail", "runtime error"}
# dbt commands that never touch the database, so they need not wait for another run's lock
# (`debug` only opens a connection to test it; `docs serve` only serves files).
NO_DATABASE_COMMANDS = {"deps", "parse", "ls", "list", "clean", "init", "debug", "help"}
# Error events that only repeat the exception dbt raises (DbtResult.exception has the text already).
REPEATS_THE_EXCEPTION = {"MainEncounteredError", "MainStackTrace"}
# What libpq / PostgreSQL say when the connection goes away under a run.
CONNECTION_LOST = (
    "server closed the connection unexpectedly",
    "terminating connection",
    "connection already closed",
    "could not connect to server",
    "connection refused",
    "no connection to the server",
    "the database system is shutting down",
    "ssl connection has been closed unexpectedly",
)


@dataclass
class DbtResult:
    """What a dbt command did: one row per node in `table`, plus the warnings and errors it logged.

    `errors` are dbt's error messages that its exception does not carry: e.g. why an inline query
    could not be parsed ("depends on a node named 'x' which was not found"), where the exception
    says only "Error parsing inline query".
    """

    command: list[str]
    success: bool
    table: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    raw: Any = None  # dbt's own result object (a RunExecutionResult, a Manifest, ...)
    exception: BaseException | None = None  # what dbt raised, if it stopped before or between nodes
    unmatched_selectors: list[str] = field(default_factory=list)  # --select values that matched no node
    errors: list[str] = field(default_factory=list)  # dbt's logged error messages, as dbt wrote them

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

    @property
    def shown(self) -> pd.DataFrame:
        """The rows `dbt show` previewed (of a model, or of an `--inline` query), as a DataFrame."""
        results = getattr(self.raw, "results", None) or []
        preview = getattr(results[0], "agate_table", None) if results else None
        if preview is None:
            raise ValueError(f"`dbt {' '.join(self.command)}` previews no rows: `dbt show` does.")
        return pd.DataFrame([list(row) for row in preview.rows], columns=list(preview.column_names))

    def _repr_html_(self) -> str:  # how JupyterLab shows a result
        header = f"<p><b>dbt {' '.join(self.command)}</b>"
        if _subcommand(self.command) == "show" and self.success:
            return f"{header}: the first rows, nothing built</p>" + self.shown.to_html(index=False)
        return f"{header}: {self.summary()}</p>" + self.table.to_html(index=False)


class _Progress:
    """dbt callback: one tick of a tqdm bar per finished node (works in terminals and Jupyter)."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.label = label
        # TQDM_DISABLE (tqdm's own switch): ecom_tutorial.notebooks sets it for executed copies,
        # where a Jupyter progress widget would be saved as a frozen "0%".
        self.enabled = enabled and not os.environ.get("TQDM_DISABLE")
        self.bar: Any = None
        self.warnings: list[str] = []
        self.errors: list[str] = []
        self.unmatched_selectors: list[str] = []

    def __call__(self, event: Any) -> None:
        name = event.info.name
        if event.info.level == "warn":
            self.warnings.append(event.info.msg)
        elif event.info.level == "error" and name not in REPEATS_THE_EXCEPTION:
            self.errors.append(event.info.msg)
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


def interactive() -> bool:
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
        "ECOM_RAW_SCHEMA": settings.raw_schema,  # the sources' schema (_stg_ecommerce__sources.yml)
        **spark_cluster.dbt_env(settings),  # the `spark` target (lesson 11)
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

    command = list(args)
    invocation = command + ["--project-dir", str(settings.dbt_project_dir), "--profiles-dir", str(settings.project_dir)]
    if vars and command and command[0] not in ("deps", "clean", "debug", "init"):
        invocation += ["--vars", json.dumps(vars)]
    # Global flags go before the subcommand.
    flags = ["--no-send-anonymous-usage-stats", "--no-use-colors"]
    if not verbose:
        flags += ["--log-level", "none"]

    progress_callback = _Progress(label=f"dbt {command[0] if command else ''}", enabled=progress and interactive())
    lock = locks.run_lock(info, settings, f"dbt {' '.join(command)}") if _needs_lock(command) else nullcontext()
    # dbt reads the connection from these variables; they are set for this call only.
    started = time.time()
    with lock, scoped_environ(dbt_environment(info, settings)):
        try:
            outcome = dbtRunner(callbacks=[progress_callback]).invoke(flags + invocation)
        finally:
            progress_callback.close()
    keep_run_results(settings.dbt_target_dir, since=started)

    exception = outcome.exception
    if _is_usage_error(exception):
        exception = DbtUsageError(_usage_text(flags + invocation) or str(exception))
    result = DbtResult(
        command,
        bool(outcome.success),
        _results_table(outcome.result),
        progress_callback.warnings,
        outcome.result,
        exception,
        progress_callback.unmatched_selectors,
        progress_callback.errors,
    )
    error = failure_of(result, settings)
    if check and error is not None:
        raise error
    return result


RESULTS_HISTORY = "run_results_history"  # in dbt's target folder: a copy of each command's run_results.json
RESULTS_KEPT = 200


def keep_run_results(target: Path, since: float) -> None:
    """Keep a copy of run_results.json if this command wrote it: each dbt command replaces the file, and
    grading a class (grading.py) reads every model's latest build, whichever command built it."""
    results = target / "run_results.json"
    try:
        if results.stat().st_mtime < since:
            return
        history = target / RESULTS_HISTORY
        history.mkdir(exist_ok=True)
        shutil.copyfile(results, history / f"{time.time_ns()}.json")
        for old in sorted(history.glob("*.json"))[:-RESULTS_KEPT]:
            old.unlink()
    except OSError:
        return  # no results written (a usage error), or the folder is read-only: nothing to keep


class DbtUsageError(Exception):
    """dbt refused the command line itself (unknown command or option, missing argument): click's text."""


def _subcommand(command: list[str]) -> str:
    return next((arg for arg in command if not arg.startswith("-")), "")


def _needs_lock(command: list[str]) -> bool:
    """True for dbt commands that read or write the warehouse (so they wait for another run)."""
    subcommand = _subcommand(command)
    if not subcommand or subcommand in NO_DATABASE_COMMANDS or {"-h", "--help", "--version"} & set(command):
        return False
    return subcommand != "docs" or "generate" in command


def _is_usage_error(exception: BaseException | None) -> bool:
    from dbt.cli.exceptions import DbtUsageException

    return isinstance(exception, DbtUsageException)


def _usage_text(arguments: list[str]) -> str:
    """dbt's own usage error for a command line it refused, as plain `dbt` prints it (dbtRunner keeps
    only the bare message, empty for a missing argument)."""
    import click
    from dbt.cli.main import cli

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # click's protected_args, still there in 8.x
            with cli.make_context("ecom-tutorial dbt --", list(arguments)) as context:
                name, command, rest = cli.resolve_command(context, [*context.protected_args, *context.args])
                if command is not None:
                    command.make_context(name or "", rest, parent=context).close()
    except click.UsageError as exc:
        text = io.StringIO()
        exc.show(file=text)
        return text.getvalue().strip()
    except Exception:  # noqa: BLE001 - only a nicer message is at stake; fall back to dbt's own
        return ""
    return ""


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


def failure_of(result: DbtResult, settings: Settings | None = None) -> DbtRunError | None:
    """The error `run_dbt(check=True)` raises for this result, or None if it succeeded."""
    settings = settings or load_settings()
    if result.unmatched_selectors:
        return _nothing_selected(result.unmatched_selectors, settings)
    if isinstance(result.exception, DbtUsageError):
        return DbtRunError(str(result.exception))  # click's usage line, its error and where help is
    if not result.success:
        return _failure(result, result.exception, settings)
    return None


def _shown_command(command: list[str]) -> str:
    """The command as a learner would recognise it: an `--inline` query (the learner's own SQL, maybe long)
    is left out."""
    shown = []
    for previous, arg in zip(["", *command], command, strict=False):
        shown.append("<your SQL>" if previous == "--inline" else arg)
    return " ".join(shown)


def _dbt_said(result: DbtResult, exception: BaseException | None, failures: list[tuple[str, str]]) -> list[str]:
    """dbt's own messages, unabridged and in the order dbt prints them: the errors it logged before it
    stopped (when no node failed: a node's failure has its message already), then the exception."""
    text = str(exception or "")
    said = [] if failures else [error for error in result.errors if error.strip() and error.strip() not in text]
    return said + ([text] if exception is not None else [])


def _failure(result: DbtResult, exception: BaseException | None, settings: Settings) -> DbtRunError:
    failed = result.table[result.table["status"].isin(FAILED_STATUSES)]
    failures = [(row.node, row.message) for row in failed.itertuples()]
    lines = [f"dbt {_shown_command(result.command)} failed."]
    lines += [f"  - {node}: {message}" for node, message in failures]
    said = _dbt_said(result, exception, failures)
    if said:
        lines.append("  dbt said: " + "\n".join(said))
    from .workspace import explain_failure  # a learner's own file: name it, its line, and how to fix or set it aside

    text = "\n".join(lines)
    advice = explain_failure(text, not failures, settings) or _advice(
        failures, exception, settings, result.command, text
    )
    lines.append(advice)
    return DbtRunError("\n".join(lines), failures)


def _log_dir(settings: Settings) -> Path:
    """dbt's log folder: DBT_LOG_PATH if set, else logs/ in the dbt project."""
    path = Path(os.environ.get("DBT_LOG_PATH") or "logs").expanduser()
    return path if path.is_absolute() else settings.dbt_project_dir / path


def _disk_full(exception: BaseException | None) -> OSError | None:
    """The "no space left on device" error among an exception and its causes, if any."""
    seen = 0
    while exception is not None and seen < 10:
        if isinstance(exception, OSError) and exception.errno == errno.ENOSPC:
            return exception
        exception, seen = exception.__cause__ or exception.__context__, seen + 1
    return None


_MISSING_NODE = re.compile(r"depends on a node named '([^']+)'")


_FAILED_TEST = re.compile(r"got \d+ results?, configured to (?:fail|warn)", re.IGNORECASE)  # a data test's verdict


def _advice(
    failures: list[tuple[str, str]],
    exception: BaseException | None,
    settings: Settings,
    command: list[str] | None = None,
    said: str = "",
) -> str:
    """What to do next, fitted to what went wrong: a node, the connection, a full disk, an inline query
    (its Jinja), or else dbt's log. `said` is dbt's message as shown above the advice."""
    text = "\n".join([str(exception or ""), said, *(message for _, message in failures)]).lower()
    local = _disk_full(exception)
    if local is not None:
        where = Path(local.filename).parent if local.filename else settings.dbt_target_dir
        return (
            f"The disk holding {where} is full (dbt writes its target folder and logs there): free space on it, "
            "or point DBT_TARGET_PATH and DBT_LOG_PATH to a disk with room, then run the command again."
        )
    if "no space left on device" in text or "could not extend file" in text:
        server = str(settings.pgdata) if settings.db_mode == "embedded" else f"the server at {settings.db_host}"
        return f"The disk holding the database ({server}) is full: free space on it, then run the command again."
    if any(marker in text for marker in CONNECTION_LOST):
        return (
            "The database connection dropped: is the server running? `ecom-tutorial status` tells; "
            "then run the command again."
        )
    if command and "--inline" in command:
        missing = _MISSING_NODE.search(said)
        if missing:
            return (
                f"`ref('{missing.group(1)}')` names a model that does not exist: check its spelling "
                '(`run_dbt(["ls", "--resource-type", "model"])` lists them all).'
            )
        if failures:  # it compiled and ran: the database refused the query itself
            return (
                "The error is in your SQL (dbt calls it inline_query): fix it as the message above says, "
                "then run it again."
            )
        return (
            "The error is in the Jinja of your SQL (`{{ ... }}`, `{% ... %}`), not in a project file: "
            "dbt's message above says what it could not understand."
        )
    if failures and all(_FAILED_TEST.search(message) for _, message in failures):
        return (
            "A failing data test found rows that break its rule: its compiled SQL (under target/compiled/) returns "
            "them, and `--store-failures` keeps them in a table. "
            "Decide whether the model or the rule is wrong, fix that, and run the command again."
        )
    if failures:
        return "Fix the model or test named above and run the command again; `ecom-tutorial build` rebuilds everything."
    return f"dbt's log has the details: {_log_dir(settings) / 'dbt.log'}."
