"""The notebook series: committed clean, learner copies in sync, and every lesson runs in CI.

1. Static checks (fast): no outputs or execution counts are committed; the learner copies in
   notebooks/ are exactly what `ecom-tutorial exercises` generates from notebooks/solutions/; each
   lesson has the course's structure.
2. papermill runs each solution notebook in order, from a fresh kernel, in a fresh database
   (`ecommerce_dw_notebooks`, so 00_setup really starts from nothing) and a copy of the project (the
   solutions write the learner's workspace there, never in the checkout), with strict exercise checks,
   into build/notebooks/. A failure names the notebook and the cell.
3. Right after, the notebook's learner copy runs top to bottom in the same database, as a learner's
   who has written nothing (a project copy with an empty workspace): every exercise says "not attempted"
   without failing, and the cells marked `# NBVAL_CHECK_OUTPUT` (row counts, test summaries) show the
   same facts as the solution's run, so a lesson re-runs without any manual reset. The next lesson
   then starts from the state the second run left behind.
4. After the whole series, lessons 01, 03, 04 and 06 run again in the same database: going back
   to a lesson after later ones changed the data works too. The workspace then holds every "build
   it" exercise's files, and dbt's manifest lists what they declare.
Each test also runs alone (`pytest tests/test_notebooks.py::test_...`): a lesson from a new database, a
test that needs the whole series runs it first.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from conftest import CHECK_CALL, copy_of_the_project, isolated_database, start_parsed

from ecom_tutorial import learner_copies, notebooks

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "notebooks" / "solutions"
NOTEBOOKS = sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
NOTEBOOK_DB = "ecommerce_dw_notebooks"
SERIES_TARGET_SECONDS = 600  # the whole series on a 2-core machine (recorded, see timings.json)
NBVAL_MARKER = "NBVAL_CHECK_OUTPUT"
REQUIRED_SECTIONS = ("## Overview", "## Prerequisites", "Time to learn", "## Summary", "What's next", "## Resources")


def _cells(path: Path) -> list[nbformat.NotebookNode]:
    return nbformat.read(path, as_version=4).cells


def _is_checked(cell: nbformat.NotebookNode) -> bool:
    return NBVAL_MARKER in cell.source or "nbval-check-output" in cell.metadata.get("tags", [])


# --------------------------------------------------------------------------- static checks


def test_the_series_is_complete() -> None:
    numbers = [path.name[:2] for path in NOTEBOOKS]
    expected = [f"{n:02d}" for n in range(len(numbers))]
    assert numbers == expected, f"gaps in the numbering: {numbers}"
    assert len(NOTEBOOKS) >= 5, [p.name for p in NOTEBOOKS]


def test_committed_notebooks_have_no_outputs_or_execution_counts() -> None:
    dirty = []
    for path in sorted((REPO / "notebooks").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        for index, cell in enumerate(_cells(path)):
            if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
                dirty.append(f"{path.relative_to(REPO)} cell {index}")
    assert not dirty, "Commit notebooks without outputs (run `ecom-tutorial exercises`):\n" + "\n".join(dirty)


def test_learner_copies_are_what_the_solutions_generate() -> None:
    stale = learner_copies.sync_learner_copies(check_only=True)
    assert not stale, "Run `ecom-tutorial exercises`:\n" + "\n".join(stale)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_code_names_no_schema_the_settings_own(path: Path) -> None:
    """A class server gives each learner their own ECOM_DB_SCHEMA: queries name models, and the
    session's search path (Settings.search_path) finds them in that learner's schemas."""
    default = "analytics_dev"
    naming = [i for i, c in enumerate(_cells(path)) if c.cell_type == "code" and default in c.source]
    assert not naming, f"code cells {naming} name the schema {default!r}: leave the schema out"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_lesson_structure(path: Path) -> None:
    cells = _cells(path)
    markdown = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    without_code_blocks = re.sub(r"```.*?```", "", markdown, flags=re.S)
    titles = [line for line in without_code_blocks.splitlines() if line.startswith("# ")]
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# "), "the first cell must be the H1 title"
    assert len(titles) == 1, f"exactly one H1 title, found {titles}"
    for section in REQUIRED_SECTIONS:
        assert section in markdown, f"missing the section {section!r}"
    assert re.search(r"\|\s*Concepts\s*\|\s*Importance\s*\|", markdown), (
        "Prerequisites needs the table | Concepts | Importance |"
    )
    parameters = [c for c in cells if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1, "one code cell tagged `parameters`"
    assert re.search(r"^scale = 1\b", parameters[0].source, re.M) and re.search(
        r"^strict_exercises = False\b", parameters[0].source, re.M
    ), "the parameters cell sets `scale = 1` and `strict_exercises = False`"
    assert any(_is_checked(c) for c in cells if c.cell_type == "code"), "mark at least one stable fact for nbval"
    solutions = [c for c in cells if c.cell_type == "code" and "solution" in c.metadata.get("tags", [])]
    if path.name[:2] != "00":
        assert len(solutions) >= 2, "lessons from 01 on have at least two exercises"
        code = [c for c in cells if c.cell_type == "code"]
        for cell in solutions:
            following = code[code.index(cell) + 1]
            assert "check(" in following.source and _is_checked(following), (
                "each solution cell is followed by a `check(...)` cell marked # NBVAL_CHECK_OUTPUT"
            )


# --------------------------------------------------------------------------- executing the series


def _outputs_text(cell: nbformat.NotebookNode) -> str:
    """What a cell showed, as text: its streams and the plain-text form of its results (what a reader sees)."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            parts.append(output.get("data", {}).get("text/plain", ""))
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}")
    return "".join(parts).strip()


def different_facts(first: Path, second: Path) -> list[str]:
    """The cells marked `# NBVAL_CHECK_OUTPUT` (stable facts: row counts, test summaries) that the executed
    notebook `second` shows differently from `first`, matched by source. Exercise checks are left out: in a
    learner copy they say "not attempted" where the solution passed."""
    shown = {cell.source: _outputs_text(cell) for cell in _cells(second) if cell.cell_type == "code"}
    differences = []
    for cell in _cells(first):
        if cell.cell_type != "code" or not _is_checked(cell) or "check(" in cell.source or cell.source not in shown:
            continue
        if _outputs_text(cell) != shown[cell.source]:
            first_line = next((line for line in cell.source.splitlines() if not line.startswith("#")), cell.source)
            differences.append(
                f"{first_line!r}: first run\n{_outputs_text(cell)}\n--- second run\n{shown[cell.source]}"
            )
    return differences


def _marked_cell(source: str, shown: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(f"# {NBVAL_MARKER}\n{source}", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", text=shown)]
    return cell


def test_a_changed_fact_is_detected(tmp_path: Path) -> None:
    """The comparison of the two runs can fail: a marked cell that shows something else the second time."""
    for name, shown in (("first.ipynb", "42\n"), ("same.ipynb", "42\n"), ("changed.ipynb", "41\n")):
        unmarked = nbformat.v4.new_code_cell("print(len(rows))", execution_count=2)
        unmarked.outputs = [nbformat.v4.new_output("stream", text=name)]  # unmarked cells may differ
        check_cell = _marked_cell('check("01.1", answer)', name)  # so may the exercise checks
        notebook = nbformat.v4.new_notebook(cells=[_marked_cell("print(6 * 7)", shown), unmarked, check_cell])
        nbformat.write(notebook, tmp_path / name)
    assert different_facts(tmp_path / "first.ipynb", tmp_path / "same.ipynb") == []
    (difference,) = different_facts(tmp_path / "first.ipynb", tmp_path / "changed.ipynb")
    assert "'print(6 * 7)'" in difference and "41" in difference


def _project_with_the_notebooks(folder: Path) -> Path:
    """A copy of the project with an empty workspace (`copy_of_the_project`), reading the checkout's notebooks."""
    copy_of_the_project(folder)
    (folder / "notebooks").symlink_to(REPO / "notebooks")
    return folder


@pytest.fixture(scope="module")
def notebook_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The kernels (they inherit os.environ) work in their own, new database on the session server, and in a
    copy of the project: the solutions write the learner's workspace, never the checkout's (a developer's own).
    Afterwards the times go to build/notebooks/timings.json: a record, as speed is never a timed test."""
    project = _project_with_the_notebooks(tmp_path_factory.mktemp("solutions"))
    with isolated_database(NOTEBOOK_DB), pytest.MonkeyPatch.context() as patch:
        patch.setenv("ECOM_PROJECT_DIR", str(project))
        patch.delenv("DBT_TARGET_PATH")  # each project copy keeps its own, as a learner's does
        start_parsed(project / "dbt_project" / "target")
        yield NOTEBOOK_DB
    _write_timings()


@pytest.fixture(scope="module")
def learner_project(notebook_database: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the learner copies run: a copy of the project whose workspace is empty, as a learner's who has
    written nothing yet (the solution runs fill the checkout's workspace)."""
    project = _project_with_the_notebooks(tmp_path_factory.mktemp("learner"))
    start_parsed(project / "dbt_project" / "target")
    return project


_solution_seconds: dict[str, float] = {}
_learner_seconds: dict[str, float] = {}
_executed: dict[str, Path] = {}  # solution notebook -> its executed copy, for the tests that need a lesson run


def _run_solution(path: Path) -> Path:
    """The solution notebook, executed strict (every exercise must pass) by the function behind
    `ecom-tutorial notebooks`; a failure names the notebook and the cell."""
    started = time.perf_counter()
    try:
        (output,) = notebooks.execute_notebooks([path.stem], strict=True, verbose=False)
    except notebooks.NotebookExecutionError as exc:
        pytest.fail(str(exc), pytrace=False)
    _solution_seconds[path.stem] = time.perf_counter() - started
    _executed[path.stem] = output
    return output


def _the_series_ran() -> None:
    """Every solution notebook ran in this module's database: those this session has not run yet run now,
    in order (so a test that needs the whole series also runs alone)."""
    for path in NOTEBOOKS:
        if path.stem not in _executed:
            _run_solution(path)


def _run_learner_copy(path: Path, learner_project: Path) -> Path:
    """papermill on the learner copy of `path` (not strict: its stubs are unanswered), in `learner_project`."""
    started = time.perf_counter()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ECOM_PROJECT_DIR", str(learner_project))
        try:
            run = notebooks.execute_notebook(
                learner_copies.learner_path(path),
                destination=notebooks.output_dir() / "learner",
                parameters={"strict_exercises": False},
                html=False,
            )
        except notebooks.NotebookExecutionError as exc:
            pytest.fail(f"the learner copy: {exc}", pytrace=False)
    _learner_seconds[path.stem] = time.perf_counter() - started
    return run.output


def _write_timings() -> None:
    """The seconds of each notebook run, to build/notebooks/timings.json (read against the target of
    SERIES_TARGET_SECONDS by a person or a benchmark, never asserted)."""
    if not _solution_seconds:
        return
    notebooks.output_dir().mkdir(parents=True, exist_ok=True)
    report = {
        "papermill seconds": {k: round(v, 1) for k, v in _solution_seconds.items()},
        "learner copy seconds": {k: round(v, 1) for k, v in _learner_seconds.items()},
        "papermill total": round(sum(_solution_seconds.values()), 1),
        "learner copies total": round(sum(_learner_seconds.values()), 1),
        "target for the whole series": SERIES_TARGET_SECONDS,
    }
    (notebooks.output_dir() / "timings.json").write_text(json.dumps(report, indent=2))


def _errors(output: Path) -> list[str]:
    return [
        _outputs_text(c)
        for c in _cells(output)
        if c.cell_type == "code" and any(o.output_type == "error" for o in c.outputs)
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_its_learner_copy_reruns_with_the_same_facts(
    path: Path, notebook_database: str, learner_project: Path
) -> None:
    """The solution runs strict (every exercise passes); right after, in the same database, its learner copy
    runs top to bottom: every exercise says "not attempted" without failing, and every marked fact is the
    same as in the solution's run, so the lesson re-runs without any manual reset. Run in order, each lesson
    starts where the previous left the database; run alone, from a new one (a lesson runs alone too)."""
    output = _run_solution(path)
    assert output == notebooks.output_dir() / path.name
    assert output.with_suffix(".html").stat().st_size > 10_000
    assert _errors(output) == []
    cells = _cells(output)
    if path.name.startswith("00_"):
        # 00_setup starts from an empty database: it must have loaded the raw data itself
        printed = "".join(o.get("text", "") for c in cells if c.cell_type == "code" for o in c.outputs)
        assert "Loaded just now" in printed, "00_setup did not load the raw data: was the database not new?"
    checked = sum(1 for c in cells if c.cell_type == "code" and _is_checked(c))
    assert checked >= 1, "no cell is marked # NBVAL_CHECK_OUTPUT"

    learner_output = _run_learner_copy(path, learner_project)
    checks = [c for c in _cells(learner_output) if c.cell_type == "code" and CHECK_CALL.search(c.source)]
    verdicts = [_outputs_text(c) for c in checks]
    assert all("Not attempted yet" in verdict for verdict in verdicts), verdicts
    assert different_facts(output, learner_output) == []


RERUN_AFTER_THE_SERIES = ["01_sources", "03_customer_analytics", "04_product_performance", "06_snapshots"]


@pytest.mark.parametrize("name", RERUN_AFTER_THE_SERIES)
def test_a_lesson_reruns_after_the_whole_series(name: str, notebook_database: str) -> None:
    """A learner goes back to an earlier lesson after the last one: the series changed the data (the
    next-day batch) and the as-of day since that lesson ran, and its first cell must catch up."""
    _the_series_ran()
    output = _run_solution(SOLUTIONS / f"{name}.ipynb")
    assert _errors(output) == []


def test_after_the_series_the_workspace_holds_the_learners_work(notebook_database: str) -> None:
    """What the solution series wrote is the learner's work: every "build it" exercise's files are in the
    workspace, and dbt's manifest lists what they declare, from those files."""
    from ecom_tutorial.exercises import all_exercises
    from ecom_tutorial.exercises.build_checks import BuildExercise
    from ecom_tutorial.settings import load_settings
    from ecom_tutorial.solutions import solution_files

    _the_series_ran()
    settings = load_settings()
    manifest = json.loads((settings.dbt_target_dir / "manifest.json").read_text(encoding="utf-8"))
    listed = {
        unique_id: node["original_file_path"]
        for section in ("nodes", "sources", "unit_tests", "exposures")
        for unique_id, node in manifest[section].items()
    }
    builds = [exercise for exercise in all_exercises() if isinstance(exercise, BuildExercise)]
    assert len(builds) >= 10
    for exercise in builds:
        for relative_path in solution_files(exercise.id):
            assert (settings.dbt_project_dir / relative_path).is_file(), f"{exercise.id}: {relative_path} is missing"
        for check in exercise.models:
            assert listed.get(check.unique_id, "").startswith(
                ("models/workspace", "snapshots/workspace", "tests/workspace")
            ), f"{exercise.id}: the manifest does not list {check.unique_id} from the workspace"
