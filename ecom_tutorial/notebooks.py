"""Execute the notebook series with papermill into build/notebooks (plus an HTML copy of each).

The lessons in notebooks/solutions/ are the source of truth (they hold the exercise solutions);
the learner copies in notebooks/ are generated from them by `ecom-tutorial exercises`. This
module runs the solutions, as CI does (`tests/test_notebooks.py`) and `ecom-tutorial notebooks`.
"""

from __future__ import annotations

import os
import re
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from .errors import EcomTutorialError
from .settings import Settings, load_settings, scoped_environ

if TYPE_CHECKING:  # imported where used: nbformat is slow to import and the CLI rarely needs it
    import nbformat

KERNEL_NAME = "python3"
CELL_TIMEOUT_SECONDS = 600
SOLUTION_TAG = "solution"  # cells that learners write themselves
EXERCISE_TAG = "exercise"  # what a solution cell becomes in the learner copy


class NotebookExecutionError(EcomTutorialError):
    """A notebook raised an error; the message names the notebook and the cell."""

    def __init__(self, message: str, notebook: str, cell: int | None = None):
        super().__init__(message)
        self.notebook = notebook
        self.cell = cell


class LearnerWorkError(EcomTutorialError):
    """`ecom-tutorial exercises` kept learner notebooks that hold the learner's changes; `written` lists the rest."""

    def __init__(self, message: str, written: list[str]):
        super().__init__(message)
        self.written = written


@dataclass(frozen=True)
class NotebookRun:
    """One executed notebook: where its executed copy is and how long it took."""

    name: str
    output: Path
    seconds: float


def solutions_dir(settings: Settings | None = None) -> Path:
    return (settings or load_settings()).project_dir / "notebooks" / "solutions"


def output_dir(settings: Settings | None = None) -> Path:
    return (settings or load_settings()).build_dir / "notebooks"


def series(settings: Settings | None = None) -> list[Path]:
    """The lesson notebooks (solution versions) in order: notebooks/solutions/NN_topic.ipynb."""
    return sorted(solutions_dir(settings).glob("[0-9][0-9]_*.ipynb"))


def resolve(names: list[str] | None, settings: Settings | None = None) -> list[Path]:
    """Notebooks named like `03`, `03_customer_analytics` or `03_customer_analytics.ipynb` (None: all)."""
    available = series(settings)
    if not names:
        return available
    chosen = []
    for name in names:
        stem = Path(name).name.removesuffix(".ipynb")
        matches = [p for p in available if p.stem == stem or p.stem.split("_")[0] == stem]
        if not matches:
            known = ", ".join(p.stem for p in available)
            raise EcomTutorialError(f"No notebook called {name!r}. The series has: {known}.")
        chosen.extend(m for m in matches if m not in chosen)
    return chosen


@contextmanager
def _kernel_environment() -> Iterator[None]:
    """The environment the kernels inherit while the series runs.

    PATH starts with this interpreter's folder, so the `python3` kernel (whose kernel.json may say
    plain `python`) runs in the same environment. Progress bars are off: in an executed copy a
    Jupyter progress widget is saved as a frozen "0%".
    """
    changes = {
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
        "TQDM_DISABLE": "1",
    }
    with scoped_environ(changes):
        yield


def _failure_message(notebook: Path, output: Path, exc: Exception) -> tuple[str, int | None]:
    """Name the notebook and the failing cell (its number among the code cells and its first lines)."""
    count = getattr(exc, "exec_count", None)
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    where, source, position = "a cell", "", None
    if count is not None and output.exists():
        import nbformat

        try:
            code_cells = [c for c in nbformat.read(output, as_version=4).cells if c.cell_type == "code"]
            failing = [i for i, c in enumerate(code_cells) if c.get("execution_count") == count]
            if failing:
                position = failing[0]
                # papermill injects a parameters cell; count the code cells as the author sees them
                injected = sum(1 for c in code_cells[:position] if "injected-parameters" in c.metadata.get("tags", []))
                where = f"code cell {position + 1 - injected} (In [{count}])"
                source = "\n".join("    " + line for line in code_cells[position].source.splitlines()[:8])
        except (OSError, ValueError):
            pass
    message = f"{notebook.name} failed in {where}: {ename}: {evalue}"
    if source:
        message += f"\n  the cell:\n{source}"
    message += f"\n  executed copy with the full traceback: {output}"
    return message, position


def execute_notebook(
    notebook: Path,
    *,
    destination: Path,
    parameters: dict[str, object] | None = None,
    html: bool = True,
) -> NotebookRun:
    """Run one notebook from a fresh kernel; raise NotebookExecutionError naming the failing cell."""
    import papermill

    destination.mkdir(parents=True, exist_ok=True)
    output = destination / notebook.name
    started = time.perf_counter()
    with _kernel_environment():
        try:
            papermill.execute_notebook(
                str(notebook),
                str(output),
                parameters=parameters or {},
                kernel_name=KERNEL_NAME,
                cwd=str(notebook.parent),
                progress_bar=False,
                execution_timeout=CELL_TIMEOUT_SECONDS,
            )
        except papermill.PapermillExecutionError as exc:
            message, cell = _failure_message(notebook, output, exc)
            raise NotebookExecutionError(message, notebook.name, cell) from None
    seconds = time.perf_counter() - started
    if html:
        write_html(output)
    return NotebookRun(notebook.stem, output, seconds)


def write_html(notebook: Path) -> Path:
    """An HTML copy next to an executed notebook (what a teacher can publish)."""
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    target = notebook.with_suffix(".html")
    target.write_text(body, encoding="utf-8")
    return target


def execute_notebooks(
    names: list[str] | None = None,
    *,
    strict: bool = True,
    html: bool = True,
    destination: Path | None = None,
    verbose: bool = True,
) -> list[Path]:
    """Execute the series (or `names`) in order into build/notebooks; return the executed copies.

    `strict=True` makes every exercise check raise on failure (papermill parameter
    `strict_exercises`), so a wrong solution fails the run. Stops at the first failing notebook.
    """
    settings = load_settings()
    destination = destination or output_dir(settings)
    outputs = []
    for notebook in resolve(names, settings):
        if verbose:
            print(f"{notebook.stem} ...", end=" ", flush=True)
        run = execute_notebook(
            notebook, destination=destination, parameters={"strict_exercises": strict}, html=html
        )
        if verbose:
            print(f"{run.seconds:.1f} s -> {run.output}")
        outputs.append(run.output)
    return outputs


# --------------------------------------------------------------------------- learner copies

_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)\s*(.*)$")


def strip_outputs(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove outputs and execution counts (notebooks are committed without them)."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
    notebook.metadata.pop("papermill", None)
    return notebook


def stub_source(solution: str) -> str:
    """What a learner sees instead of a solution cell: its leading comments, then `name = ...`.

    Every top-level assignment of the solution becomes `name = ...` (a SQL string gets
    "# your SQL here"), so the check cell that follows runs and says "not attempted yet".
    """
    lines = solution.splitlines()
    comments = []
    for line in lines:
        if line.startswith("#"):
            comments.append(line)
        else:
            break
    stubs: dict[str, str] = {}
    for line in lines[len(comments):]:
        match = _ASSIGNMENT.match(line)
        if match and match.group(1) not in stubs:
            value = match.group(2)
            # a string answer is SQL in this course; anything else is Python
            is_sql = value.startswith(('"', "'"))
            stubs[match.group(1)] = "# your SQL here" if is_sql else "# your code here"
    body = [f"{name} = ...  {comment}" for name, comment in stubs.items()] or ["# Write your code here."]
    return "\n".join(comments + body)


def learner_copy(solution: nbformat.NotebookNode, source_name: str) -> nbformat.NotebookNode:
    """The learner's version of a solution notebook: solution code cells become stubs, solution
    markdown cells (explanations of the answer) are dropped, outputs are stripped."""
    import copy

    notebook = strip_outputs(copy.deepcopy(solution))
    cells = []
    for cell in notebook.cells:
        tags = list(cell.metadata.get("tags", []))
        if SOLUTION_TAG not in tags:
            cells.append(cell)
            continue
        if cell.cell_type != "code":
            continue
        cell.source = stub_source(cell.source)
        cell.metadata["tags"] = [EXERCISE_TAG if tag == SOLUTION_TAG else tag for tag in tags]
        cells.append(cell)
    notebook.cells = cells
    notebook.metadata["ecom_tutorial"] = {
        "generated_from": f"solutions/{source_name}",
        "note": "Generated by `ecom-tutorial exercises`: edit the solution notebook, not this one.",
        "cells_digest": cells_digest(notebook),
    }
    return notebook


def cells_digest(notebook: nbformat.NotebookNode) -> str:
    """A digest of the cells' types and sources: what a learner changes by writing in the notebook."""
    import hashlib

    digest = hashlib.sha256()
    for cell in notebook.cells:
        digest.update(f"{cell.cell_type}\0{cell.source}\0".encode())
    return digest.hexdigest()


def learner_changed(current: str, wanted: str) -> bool:
    """True if the learner copy `current` holds work of the learner's: cells that are neither what its last
    generation wrote (the digest it records) nor what the generation now would write."""
    import nbformat

    try:
        notebook = nbformat.reads(current, as_version=4)
    except Exception:  # noqa: BLE001 - unreadable as a notebook: keep it, it may be all the learner has
        return True
    digest = cells_digest(notebook)
    recorded = notebook.metadata.get("ecom_tutorial", {}).get("cells_digest")
    return digest not in (recorded, cells_digest(nbformat.reads(wanted, as_version=4)))


def backup_path(target: Path) -> Path:
    """Where a learner copy is kept before `--force` replaces it: `NN_topic.ipynb.<time>.bak`, never overwritten."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate, number = target.with_name(f"{target.name}.{stamp}.bak"), 1
    while candidate.exists():
        number += 1
        candidate = target.with_name(f"{target.name}.{stamp}-{number}.bak")
    return candidate


def learner_path(solution: Path) -> Path:
    """notebooks/solutions/NN_topic.ipynb -> notebooks/NN_topic.ipynb."""
    return solution.parent.parent / solution.name


def _dump(notebook: nbformat.NotebookNode) -> str:
    import nbformat

    return nbformat.writes(notebook) + "\n"


def sync_learner_copies(*, check_only: bool = False, force: bool = False, settings: Settings | None = None) -> list[str]:
    """Strip the solution notebooks and (re)write their learner copies.

    With `check_only=True` nothing is written; the result lists every file that is not what
    this function would write (a committed output, a stale learner copy, an orphan copy).
    Otherwise the result lists the files written. A learner copy with the learner's own work in it
    (`learner_changed`) is never overwritten: LearnerWorkError names them, after the others are
    written; `force=True` replaces them too, each kept first as a backup (`backup_path`).
    """
    import nbformat

    settings = settings or load_settings()
    reported = []
    refused: list[Path] = []
    solutions = series(settings)
    for solution_path in solutions:
        committed = solution_path.read_text(encoding="utf-8")
        solution = nbformat.reads(committed, as_version=4)
        stripped = _dump(strip_outputs(solution))
        if stripped != committed:
            reported.append(f"{solution_path}: has outputs or execution counts (run `ecom-tutorial exercises`)")
            if not check_only:
                solution_path.write_text(stripped, encoding="utf-8")
        target = learner_path(solution_path)
        wanted = _dump(learner_copy(nbformat.reads(stripped, as_version=4), solution_path.name))
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != wanted:
            kept = current is not None and not check_only and learner_changed(current, wanted)
            if kept and not force:
                refused.append(target)
                continue
            reported.append(
                f"{target}: differs from what its solution notebook generates (run `ecom-tutorial exercises`)"
            )
            if kept:
                backup = backup_path(target)
                target.rename(backup)
                reported.append(f"{target}: your version is kept as {backup.name}")
            if not check_only:
                target.write_text(wanted, encoding="utf-8")
    expected_copies = {learner_path(p).name for p in solutions}
    for orphan in sorted(solutions_dir(settings).parent.glob("[0-9][0-9]_*.ipynb")):
        if orphan.name not in expected_copies:
            reported.append(f"{orphan}: learner copy without a solution notebook in notebooks/solutions/")
    if refused:
        raise LearnerWorkError(
            (f"Updated: {len(reported)} file(s). " if reported else "")
            + f"Not replaced, because they hold changes of yours: {', '.join(str(path) for path in refused)}. "
            "Copy what you want to keep elsewhere, or run `ecom-tutorial exercises --force` to regenerate them "
            "anyway (each is first kept as NN_topic.ipynb.<time>.bak next to it).",
            reported,
        )
    return reported
