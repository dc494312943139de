"""Exercise 01.4 ("build it": a new source with tests and freshness) on real dbt runs.

The solution's YAML, and wrong variants of it, are written to the workspace of a copy of the dbt
project; `dbt source freshness` and `dbt test` run on the session's warehouse, and `check("01.4")`
must accept the solution and name the cause of each wrong build, without showing the solution.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import dbt_target, only_in_the_workspace

import ecom_tutorial
from ecom_tutorial.exercises import check
from ecom_tutorial.solutions import solution_files

EXERCISE = "01.4"
SOURCE = "reviews.product_reviews"
FRESHNESS = ["source", "freshness", "--select", "source:reviews"]
TEST = ["test", "--select", "source:reviews"]


@pytest.fixture
def target(project: Path, tmp_path: Path) -> Iterator[Path]:
    """A dbt target folder of the test's own: no results of an earlier test's dbt commands."""
    with dbt_target(tmp_path / "target") as folder:
        yield folder


def write(files: dict[str, str]) -> None:
    """An empty workspace, then these files."""
    only_in_the_workspace(files)


def dbt(*commands: list[str]) -> None:
    for args in commands:
        ecom_tutorial.run_dbt(args, progress=False, check=False)


def verdict(capsys: pytest.CaptureFixture[str]) -> tuple[bool, str]:
    capsys.readouterr()
    ok = check(EXERCISE, None)
    return ok, capsys.readouterr().out


def changed(old: str, new: str) -> dict[str, str]:
    """The solution with `old` replaced by `new` in its YAML file."""
    ((path, text),) = solution_files(EXERCISE).items()
    assert old in text, f"{old!r} is no longer in the solution's YAML: update this test"
    return {path: text.replace(old, new)}


def test_nothing_written_is_not_attempted(target: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write({})
    ok, out = verdict(capsys)
    assert not ok
    assert "⏳ Not attempted yet" in out and "models/workspace/" in out, out


def test_the_solution_passes_with_tests_run_before_or_after_freshness(
    target: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(solution_files(EXERCISE))
    dbt(TEST)
    ok, out = verdict(capsys)
    assert not ok
    assert f"`dbt source freshness` has not checked {SOURCE} yet" in out, out
    # freshness writes target/sources.json only: the tests' results in run_results.json stay
    dbt(FRESHNESS)
    ok, out = verdict(capsys)
    assert ok, out
    assert "✅ Correct" in out


def test_freshness_alone_does_not_run_the_tests(target: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(solution_files(EXERCISE))
    dbt(FRESHNESS)
    ok, out = verdict(capsys)
    assert not ok
    assert f"The tests of {SOURCE} (" in out and "`dbt source freshness` runs no tests" in out, out
    assert "dbt test --select source:reviews" in out, out
    # the order the lesson uses: freshness, then the tests
    dbt(TEST)
    ok, out = verdict(capsys)
    assert ok, out


WRONG = {
    "no freshness limits": (
        lambda: changed(
            "          freshness:\n            warn_after: {count: 24, period: hour}\n"
            "            error_after: {count: 48, period: hour}\n",
            "",
        ),
        [f"{SOURCE} has no freshness limits: give it a `warn_after` and an `error_after`"],
    ),
    "no loaded_at_field": (
        lambda: changed("          loaded_at_field: _loaded_at\n", ""),
        [f"{SOURCE} has no `loaded_at_field`"],
    ),
    "missing unique test": (
        lambda: changed("              - unique\n", ""),
        [f"{SOURCE} lacks the test(s) unique on review_id"],
    ),
    "rating range too narrow": (
        lambda: changed("values: [1, 2, 3, 4, 5]", "values: [1, 2, 3, 4]"),
        ["The test source_accepted_values_reviews_product_reviews_rating__1__2__3__4 fails", "Your data breaks"],
    ),
}


@pytest.mark.parametrize("kind", sorted(WRONG))
def test_a_wrong_source_is_rejected_with_its_cause(target: Path, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    files, messages = WRONG[kind]
    write(files())
    dbt(FRESHNESS, TEST) if kind == "rating range too narrow" else dbt(TEST)
    ok, out = verdict(capsys)
    assert not ok, out
    for message in messages:
        assert message in out, out
    # the feedback names the cause, never the solution's values
    assert "_loaded_at" not in out and "[1, 2, 3, 4, 5]" not in out and "period: hour" not in out, out
