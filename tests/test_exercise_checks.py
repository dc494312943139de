"""The exercise checks: the comparison gives specific feedback, the solutions in the notebooks pass,
and every typical mistake an exercise knows about is recognised with its own message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pandas as pd
import pytest
from conftest import SOLUTIONS, notebook_solutions

from ecom_tutorial import exercises
from ecom_tutorial.exercises import Exercise, ExerciseError, Mistake, check, compare

# --------------------------------------------------------------------------- compare(): no database


def test_identical_tables_pass_whatever_the_row_order_types_and_case_of_names() -> None:
    expected = pd.DataFrame({"status": ["completed", "cancelled"], "order_count": [10, 2]})
    attempt = pd.DataFrame({"STATUS": ["cancelled", "completed"], "Order_Count": [Decimal("2"), Decimal("10")]})
    assert compare(attempt, expected, key=("status",)).ok
    assert compare(attempt, expected).ok  # without a key: compared after sorting


def test_missing_column_is_named_and_a_rename_is_suggested() -> None:
    expected = pd.DataFrame({"status": ["a"], "order_count": [1]})
    result = compare(pd.DataFrame({"status": ["a"], "count": [1]}), expected)
    assert not result.ok
    assert "Missing column(s): order_count" in result.problems[0]
    assert "yours are status, count" in result.problems[0] and "`as`" in result.problems[0]


def test_extra_columns_are_allowed_with_a_note() -> None:
    expected = pd.DataFrame({"status": ["a"], "order_count": [1]})
    result = compare(pd.DataFrame({"status": ["a"], "order_count": [1], "share": [0.5]}), expected, key=("status",))
    assert result.ok
    assert "share" in result.notes[0]


def test_single_value_feedback_says_yours_and_how_far_never_the_expected_value() -> None:
    result = compare(pd.DataFrame({"customers": [9412]}), pd.DataFrame({"customers": [9988]}))
    assert result.problems == ["Your customers is 9,412: too low by 5 to 20 %."]


def test_keyed_comparison_lists_missing_extra_and_differing_rows() -> None:
    expected = pd.DataFrame({"year": [2022, 2023, 2024], "revenue": [10.0, 20.0, 30.0]})
    attempt = pd.DataFrame({"year": [2022, 2023, 2025], "revenue": [10.0, 25.5, 1.0]})
    problems = compare(attempt, expected, key=("year",)).problems
    assert "Rows missing from your result: (year=2024)." in problems
    assert "Rows in your result that should not be there: (year=2025)." in problems
    assert (
        "Column revenue differs in 1 row(s) (all too high), e.g. year=2023: yours 25.50 (too high by 20 to 50 %)."
        in problems
    )


def test_row_count_and_duplicated_keys_point_at_a_fan_out() -> None:
    expected = pd.DataFrame({"customer_id": [1, 2], "orders": [3, 4]})
    attempt = pd.DataFrame({"customer_id": [1, 1, 2], "orders": [3, 3, 4]})
    problems = compare(attempt, expected, key=("customer_id",)).problems
    assert problems[0] == "Your result has 3 row(s); expected 2."
    assert "Several rows share the same customer_id: (customer_id=1)" in problems[1]
    assert "join that multiplies rows" in problems[1]


def test_ordered_exercises_report_a_wrong_order() -> None:
    expected = pd.DataFrame({"customer_id": [7, 3], "lifetime_value": [900.0, 100.0]})
    attempt = expected.iloc[::-1].reset_index(drop=True)
    assert compare(attempt, expected, key=("customer_id",)).ok
    problems = compare(attempt, expected, key=("customer_id",), ordered=True).problems
    assert problems == ["The rows are right but in a different order: check your `order by` (and its direction)."]


def test_numbers_use_the_tolerance_nulls_match_and_dates_match_timestamps() -> None:
    expected = pd.DataFrame(
        {"k": ["a", "b"], "amount": [1.004, None], "day": [pd.Timestamp("2024-12-31"), pd.Timestamp("2024-01-01")]}
    )
    attempt = pd.DataFrame(
        {"k": ["a", "b"], "amount": [Decimal("1.00"), None], "day": [dt.date(2024, 12, 31), dt.date(2024, 1, 1)]}
    )
    assert compare(attempt, expected, key=("k",)).ok
    assert not compare(attempt, expected, key=("k",), atol=0.001).ok


def test_unkeyed_differences_show_the_first_differing_rows() -> None:
    expected = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    problems = compare(pd.DataFrame({"a": [1, 2], "b": ["x", "z"]}), expected).problems
    assert problems == [
        "1 of your row(s) differ from the expected ones (after sorting both), in the column(s) b: e.g. your row 2: "
        "(2, 'z')."
    ]


# --------------------------------------------------------------------------- check(): no database


@pytest.fixture
def toy_exercise() -> Iterator[Exercise]:
    """An exercise whose expected result and mistake are DataFrames (callables): no database needed."""
    exercise = Exercise(
        id="99.1",
        title="Toy exercise",
        expected=lambda: pd.DataFrame({"status": ["completed", "shipped"], "orders": [5, 2]}),
        key=("status",),
        mistakes=(
            Mistake(
                "You counted cancelled orders too.",
                lambda: pd.DataFrame({"status": ["completed", "shipped"], "orders": [6, 2]}),
            ),
        ),
        hint="count(*) per status.",
    )
    exercises.register(exercise)
    exercises.configure(strict=False)
    yield exercise
    exercises._REGISTRY.pop("99.1", None)
    exercises.configure(None)


def test_check_passes_a_right_answer(toy_exercise: Exercise, capsys: pytest.CaptureFixture[str]) -> None:
    assert check("99.1", pd.DataFrame({"status": ["shipped", "completed"], "orders": [2, 5]}))
    assert "✅ Correct: 2 row(s) match." in capsys.readouterr().out


def test_check_recognises_a_typical_mistake(toy_exercise: Exercise, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check("99.1", pd.DataFrame({"status": ["completed", "shipped"], "orders": [6, 2]}))
    out = capsys.readouterr().out
    assert "status='completed': yours 6 (too high by 20 to 50 %)" in out and "expected" not in out
    assert "💡 You counted cancelled orders too." in out


def test_check_falls_back_to_the_hint(toy_exercise: Exercise, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check("99.1", pd.DataFrame({"status": ["completed", "shipped"], "orders": [1, 1]}))
    assert "💡 Hint: count(*) per status." in capsys.readouterr().out


def test_an_untouched_stub_is_not_attempted_and_never_raises(
    toy_exercise: Exercise, capsys: pytest.CaptureFixture[str]
) -> None:
    for stub in (..., None, "", "-- your SQL here\n"):
        assert not check("99.1", stub)
        assert "⏳ Not attempted yet" in capsys.readouterr().out


def test_strict_mode_raises_on_failures_and_stubs(toy_exercise: Exercise) -> None:
    exercises.configure(strict=True)
    with pytest.raises(ExerciseError, match=r"yours 6 \(too high"):
        check("99.1", pd.DataFrame({"status": ["completed", "shipped"], "orders": [6, 2]}))
    with pytest.raises(ExerciseError, match="Not attempted yet"):
        check("99.1", ...)
    assert check("99.1", pd.DataFrame({"status": ["completed", "shipped"], "orders": [5, 2]}))


def test_strict_mode_follows_the_environment_until_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    exercises.configure(None)
    monkeypatch.setenv(exercises.STRICT_ENV, "1")
    assert exercises.is_strict()
    exercises.configure(strict=False)
    assert not exercises.is_strict()
    exercises.configure(None)


def test_wrong_answer_types_and_unknown_ids_get_actionable_messages(
    toy_exercise: Exercise, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not check("99.1", 42)
    assert "not a int" in capsys.readouterr().out
    with pytest.raises(KeyError, match="There is no exercise '98.7'"):
        check("98.7", "select 1")


# --------------------------------------------------------------------------- the lessons' exercises, on the warehouse


def solution_answer(source: str) -> object:
    namespace: dict[str, object] = {}
    exec(source, namespace)  # noqa: S102 - our own notebook cells
    return namespace["answer"]


def test_every_exercise_has_a_solution_in_a_notebook_and_every_lesson_two_exercises() -> None:
    registered = {exercise.id for exercise in exercises.all_exercises()}
    solutions = notebook_solutions()
    assert set(solutions) <= registered, f"check() ids without an exercise: {set(solutions) - registered}"
    assert registered - {"99.1"} <= set(solutions), f"exercises without a solution cell: {registered - set(solutions)}"
    lessons = {path.stem[:2] for path in SOLUTIONS.glob("[0-9][0-9]_*.ipynb")} - {"00"}
    for lesson in sorted(lessons):
        count = sum(1 for exercise_id in registered if exercise_id.startswith(f"{lesson}."))
        assert count >= 2, f"lesson {lesson} has {count} exercise(s); every lesson from 01 on needs at least two"


# Lessons 05-09 need the warehouse after the next-day batch (and 09.1 a bad row): their exercises
# are checked in that state by tests/test_query_exercises_05_09.py, on a copy of the warehouse.
# The "build it" exercises (build_checks.py) are checked on what dbt built: tests/test_build_checks.py.
SOLVED = sorted(
    item for item in notebook_solutions().items() if item[0] < "05" and isinstance(exercises.get(item[0]), Exercise)
)


@pytest.mark.usefixtures("built_warehouse")
@pytest.mark.parametrize(("exercise_id", "source"), SOLVED, ids=[exercise_id for exercise_id, _ in SOLVED])
def test_solution_passes_and_each_known_mistake_gets_its_own_message(
    exercise_id: str, source: str, capsys: pytest.CaptureFixture[str]
) -> None:
    exercises.configure(strict=False)
    try:
        exercise = exercises.get(exercise_id)
        expected = exercises.run_sql(exercise.expected) if isinstance(exercise.expected, str) else exercise.expected()
        assert len(expected) > 0, "the expected result is empty, so any empty query would pass"
        assert check(exercise_id, solution_answer(source)), f"the notebook's solution fails:\n{capsys.readouterr().out}"
        for mistake in exercise.mistakes:
            assert mistake.sample is not None, f"give the mistake a `result` or an `example`: {mistake.message}"
            capsys.readouterr()
            assert not check(exercise_id, mistake.sample), (
                f"this mistake's result equals the expected one, so it is never recognised: {mistake.message}"
            )
            out = capsys.readouterr().out
            assert f"💡 {mistake.message}" in out, f"expected the mistake's message, got:\n{out}"
    finally:
        exercises.configure(None)


@pytest.mark.usefixtures("built_warehouse")
def test_sql_errors_and_jinja_answers(capsys: pytest.CaptureFixture[str]) -> None:
    exercises.configure(strict=False)
    try:
        assert not check("01.1", "select status, count(*) as order_count from raw_data.orderz group by 1")
        out = capsys.readouterr().out
        assert "PostgreSQL could not run your SQL" in out and 'relation "raw_data.orderz" does not exist' in out
        # Jinja is compiled by dbt: a ref() to a staging view works like the literal schema name
        jinja = (
            "select order_status as status, count(*) as order_count from {{ ref('stg_ecommerce__orders') }} group by 1"
        )
        assert check("01.1", jinja)
        assert not check("01.1", "select * from {{ ref('no_such_model') }}")
        out = capsys.readouterr().out
        assert "dbt could not compile your SQL" in out
        # dbt's own words, and advice that fits: the ref() names no model (not "ecom-tutorial build")
        assert "depends on a node named 'no_such_model' which was not found" in out, out
        assert "`ref('no_such_model')` names a model that does not exist" in out
        assert "ecom-tutorial build" not in out and "dbt.log" not in out
    finally:
        exercises.configure(None)
