"""The learner's workspace (ecom_tutorial/workspace.py): where learner files may go, and dbt's errors
caused by one of them explained with the file, the line and what to do. On a copy of the dbt project.
And a learner's notebook is never overwritten by `ecom-tutorial exercises` without --force and a backup."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from conftest import copy_of_the_project, dbt_target

import ecom_tutorial
from ecom_tutorial import cli, learner_copies, ownership, workspace
from ecom_tutorial.settings import load_settings


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Path]:
    """The package pointed at a fresh copy of the dbt project, with its own dbt target folder (parsed for
    the tests that run dbt: those on the built warehouse)."""
    copy_of_the_project(tmp_path / "checkout")
    monkeypatch.setenv("ECOM_PROJECT_DIR", str(tmp_path / "checkout"))
    with dbt_target(tmp_path / "target", parsed="built_warehouse" in request.fixturenames):
        yield tmp_path / "checkout" / "dbt_project"


def parse_error() -> str:
    """The message `run_dbt(["parse"])` raises (the test fails if it does not raise)."""
    with pytest.raises(ecom_tutorial.DbtRunError) as raised:
        ecom_tutorial.run_dbt(["parse"], progress=False)
    return str(raised.value)


@pytest.mark.parametrize(
    "path",
    [
        "models/staging/stg_ecommerce__orders.sql",  # the course's own model
        "models/workspace/../staging/x.sql",
        "../profiles.yml",
        "/etc/x.sql",
        "models/workspace",  # the folder itself, not a file in it
        "dbt_project.yml",
    ],
)
def test_write_refuses_paths_outside_the_workspace(project: Path, path: str) -> None:
    before = sorted(p for p in project.parent.rglob("*"))
    with pytest.raises(workspace.WorkspaceError, match="outside your workspace.*models/workspace/my_model.sql"):
        workspace.write(path, "select 1 as x")
    assert sorted(p for p in project.parent.rglob("*")) == before


def test_write_refuses_a_link_out_a_readme_and_files_dbt_does_not_read(project: Path, tmp_path: Path) -> None:
    (project / "models" / "workspace" / "out").symlink_to(tmp_path)
    with pytest.raises(workspace.WorkspaceError, match="leads outside your workspace"):
        workspace.write("models/workspace/out/x.sql", "select 1 as x")
    with pytest.raises(workspace.WorkspaceError, match="belongs to the course"):
        workspace.write("models/workspace/README.md", "mine now")
    with pytest.raises(workspace.WorkspaceError, match=r"\.sql, \.yml"):
        workspace.write("models/workspace/notes.txt", "hello")
    assert not list(tmp_path.glob("x.sql"))


def test_write_files_and_set_aside(project: Path) -> None:
    written = workspace.write("models/workspace/my_model.sql", "\n    select 1 as x\n    ")
    assert written.path == project / "models" / "workspace" / "my_model.sql"
    assert written.path.read_text() == "select 1 as x\n"
    assert repr(written) == "Wrote models/workspace/my_model.sql (1 lines) in your workspace."
    kept = workspace.write("models/workspace/my_model.sql", "select 2 as x", replace=False)
    assert kept.kept and written.path.read_text() == "select 1 as x\n"
    assert repr(kept) == "Kept your models/workspace/my_model.sql (1 lines) as it is."
    workspace.write("dbt_project/tests/workspace/assert_x.sql", "select 1 as x where false")
    assert workspace.files() == ["models/workspace/my_model.sql", "tests/workspace/assert_x.sql"]
    assert workspace.exclusions() == ["--exclude", "path:models/workspace", "path:tests/workspace"]

    moved = workspace.set_aside("my_model")  # the bare model name is enough
    assert moved.name == "my_model.sql.set-aside" and not written.path.exists()
    assert workspace.exclusions() == ["--exclude", "path:tests/workspace"]
    with pytest.raises(workspace.WorkspaceError, match="No file called 'my_model'.*by its path"):
        workspace.set_aside("my_model")


def test_an_empty_workspace_is_excluded_from_nothing(project: Path) -> None:
    assert workspace.files() == [] and workspace.exclusions() == []


@pytest.mark.usefixtures("built_warehouse")
def test_broken_yaml_names_the_file_and_line_under_dbts_own_message(project: Path) -> None:
    workspace.write("models/workspace/my_model.sql", "select 1 as x")
    workspace.write(
        "models/workspace/_my__models.yml",
        """
        version: 2
        models:
          - name: my_model
            description: [not closed
        """,
    )
    message = parse_error()
    dbt_part, _, advice = message.partition("The error is in your file")
    assert "Syntax error near line 5" in dbt_part and "did not find expected ',' or ']'" in dbt_part  # dbt's, whole
    assert advice.startswith(" models/workspace/_my__models.yml, line 5 (in dbt_project/)")
    assert 'workspace.set_aside("models/workspace/_my__models.yml")' in advice
    workspace.set_aside("models/workspace/_my__models.yml")
    assert ecom_tutorial.run_dbt(["parse"], progress=False).success


@pytest.mark.usefixtures("built_warehouse")
def test_a_missing_ref_is_found_on_its_line_and_set_aside_broken_recovers(project: Path) -> None:
    workspace.write(
        "models/workspace/my_counts.sql",
        """
        with orders as (
            select * from {{ ref('stg_ecommerce__order') }}
        )
        select count(*) as orders from orders
        """,
    )
    message = parse_error()
    assert "depends on a node named 'stg_ecommerce__order' which was not found" in message
    assert (
        "models/workspace/my_counts.sql, line 2 (in dbt_project/): `ref('stg_ecommerce__order')` names a model"
        in message
    )
    moved = workspace.set_aside_broken()
    assert [item.name for item in moved] == ["my_counts.sql.set-aside"]
    assert workspace.set_aside_broken() == []  # nothing left to set aside


@pytest.mark.usefixtures("built_warehouse")
def test_a_unit_test_that_does_not_mock_an_input_gets_advice_about_given(project: Path) -> None:
    """dbt reports a unit test's unmocked input as a missing node: the advice must not say the model is missing."""
    workspace.write(
        "models/workspace/my_order_count.sql", "select count(*) as orders from {{ ref('stg_ecommerce__orders') }}"
    )
    workspace.write(
        "models/workspace/_my_order_count.yml",
        """
        unit_tests:
          - name: my_order_count_counts
            model: my_order_count
            given: []
            expect:
              rows:
                - {orders: 0}
        """,
    )
    with pytest.raises(ecom_tutorial.DbtRunError) as raised:
        ecom_tutorial.run_dbt(["build", "--select", "my_order_count"], progress=False)
    message = str(raised.value)
    assert "depends on a node named 'stg_ecommerce__orders' which was not found" in message, message
    assert "your unit test gives no rows for `ref('stg_ecommerce__orders')`" in message, message
    assert "names a model that does not exist" not in message


@pytest.mark.usefixtures("built_warehouse")
def test_a_failing_workspace_model_is_named_without_the_set_aside_advice(project: Path) -> None:
    workspace.write("models/workspace/my_broken.sql", "select no_such_column from {{ ref('stg_ecommerce__orders') }}")
    with pytest.raises(ecom_tutorial.DbtRunError) as raised:
        ecom_tutorial.run_dbt(["build", "--select", "my_broken"], progress=False)
    message = str(raised.value)
    assert 'column "no_such_column" does not exist' in message
    # PostgreSQL's "LINE 1" counts lines of the compiled SQL, not of the learner's file
    assert "The error is in your file models/workspace/my_broken.sql (in dbt_project/)" in message
    assert "set_aside" not in message  # only this model failed: the other dbt commands still work


@pytest.mark.usefixtures("built_warehouse")
def test_workspace_relations_are_the_projects_to_drop(project: Path) -> None:
    settings = load_settings()
    assert f"{settings.db_schema}_workspace" in settings.owned_schemas
    workspace.write("models/workspace/my_model.sql", "select 1 as x")
    assert ecom_tutorial.run_dbt(["build", "--select", "my_model"], progress=False).success
    assert (f"{settings.db_schema}_workspace", "my_model") in ownership.project_relations(settings)


# --------------------------------------------------------------------------- learner work is never lost


def _lesson(*extra_markdown: str) -> nbformat.NotebookNode:
    solution = nbformat.v4.new_code_cell('answer = "select 1 as x"', metadata={"tags": ["solution"]})
    cells = [nbformat.v4.new_markdown_cell("# 01 Lesson"), solution, nbformat.v4.new_code_cell('check("01.1", answer)')]
    return nbformat.v4.new_notebook(cells=cells + [nbformat.v4.new_markdown_cell(text) for text in extra_markdown])


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout with one solution notebook, the package pointed at it."""
    (tmp_path / "dbt_project").mkdir()
    (tmp_path / "dbt_project" / "dbt_project.yml").write_text("name: x\n")
    (tmp_path / "notebooks" / "solutions").mkdir(parents=True)
    nbformat.write(_lesson(), tmp_path / "notebooks" / "solutions" / "01_lesson.ipynb")
    monkeypatch.setenv("ECOM_PROJECT_DIR", str(tmp_path))
    return tmp_path / "notebooks"


def test_regenerating_keeps_a_learner_notebook_with_the_learners_work(
    course: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    learner = course / "01_lesson.ipynb"
    assert learner_copies.sync_learner_copies() == [
        f"{learner}: differs from what its solution notebook generates (run `ecom-tutorial exercises`)"
    ]
    untouched = learner.read_text()
    assert "answer = ...  # your SQL here" in untouched

    nbformat.write(_lesson("A new paragraph."), course / "solutions" / "01_lesson.ipynb")
    learner_copies.sync_learner_copies()  # an untouched copy follows its solution
    assert "A new paragraph." in learner.read_text()

    mine = learner.read_text().replace("answer = ...  # your SQL here", "answer = 'select 2 as x'  # mine")
    learner.write_text(mine)
    nbformat.write(_lesson("A new paragraph.", "Another one."), course / "solutions" / "01_lesson.ipynb")
    with pytest.raises(
        learner_copies.LearnerWorkError,
        match=r"Not replaced, because they hold changes of yours: .*01_lesson.ipynb.*--force",
    ):
        learner_copies.sync_learner_copies()
    assert learner.read_text() == mine and not list(course.glob("*.bak"))
    assert cli.main(["exercises"]) == 1 and "--force" in capsys.readouterr().err

    written = learner_copies.sync_learner_copies(force=True)
    (backup,) = course.glob("01_lesson.ipynb.*.bak")
    assert backup.read_text() == mine
    assert f"{learner}: your version is kept as {backup.name}" in written
    assert "Another one." in learner.read_text() and "select 2" not in learner.read_text()
    assert learner_copies.sync_learner_copies(check_only=True) == []


def test_regenerating_never_touches_the_learners_workspace_files(course: Path) -> None:
    """`ecom-tutorial exercises` writes learner notebooks only: a workspace file of the learner's survives it,
    even with --force."""
    mine = course.parent / "dbt_project" / "models" / "workspace" / "my_model.sql"
    mine.parent.mkdir(parents=True)
    mine.write_text("select 1 as mine\n")
    learner_copies.sync_learner_copies()
    learner_copies.sync_learner_copies(force=True)
    assert mine.read_text() == "select 1 as mine\n"
    assert [path.name for path in mine.parent.iterdir()] == ["my_model.sql"]
