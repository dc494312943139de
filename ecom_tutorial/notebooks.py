"""Execute the notebook series with papermill into build/notebooks (plus an HTML copy of each).

The lessons in notebooks/solutions/ are the source of truth (they hold the exercise solutions);
the learner copies in notebooks/ are generated from them (learner_copies.py). This module finds
the series and runs it, as CI does (`tests/test_notebooks.py`) and `ecom-tutorial notebooks`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import EcomTutorialError
from .settings import Settings, load_settings, scoped_environ

if TYPE_CHECKING:  # imported where used: nbformat is slow to import and the CLI rarely needs it
    pass

KERNEL_NAME = "python3"
CELL_TIMEOUT_SECONDS = 600


class NotebookExecutionError(EcomTutorialError):
    """A notebook raised an error; the message names the notebook and the cell."""

    def __init__(self, message: str, notebook: str, cell: int | None = None):
        super().__init__(message)
        self.notebook = notebook
        self.cell = cell


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
    chosen: list[Path] = []
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
        run = execute_notebook(notebook, destination=destination, parameters={"strict_exercises": strict}, html=html)
        if verbose:
            print(f"{run.seconds:.1f} s -> {run.output}")
        outputs.append(run.output)
    return outputs
