"""`check()` and `hint()`: the verdict on an attempt, what differs, and the likely cause.

For a query exercise the answer is SQL. Before its result is compared, its SQL is read: it must
query the warehouse (typed-in values are refused), read the relations the exercise names
(`Exercise.reads`), read the models with `{{ ref() }}` (`Exercise.uses_ref`); its numbers must be
rounded as asked (`Exercise.decimals`). A typical mistake is recognised by its cause in the SQL
(`Mistake.in_sql`) before its result. The verdict is printed once; `check()` returns a `Verdict`,
true when the answer is right, which a notebook does not display again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import progress
from .comparison import _normalise, compare
from .registry import Exercise, ExerciseError, NotAttemptedError, get, is_strict
from .sql_answers import (
    Answer,
    _AnswerDidNotRun,
    _NotAttempted,
    _resolve,
    bare_relations,
    read_answer,
    reads_warehouse,
)


@dataclass(frozen=True)
class Verdict:
    """What `check()` returns: true if the answer is right (`if check(...)`, `assert check(...)`).

    The verdict was printed already, so a notebook shows nothing more for it (no trailing `True`).
    """

    passed: bool
    attempted: bool = True  # False: an untouched stub, nothing built yet (not recorded as an attempt)

    def __bool__(self) -> bool:
        return self.passed

    def _ipython_display_(self) -> None:
        """Jupyter calls this instead of showing `Out[n]`: the printed verdict is all there is to see."""

    def __repr__(self) -> str:
        return f"Verdict(passed={self.passed})"


def _report(exercise: Any, lines: list[str]) -> str:
    return "\n".join([f"Exercise {exercise.id}: {exercise.title}", *lines])


def not_attempted(exercise: Any, what_to_do: str) -> Verdict:
    """Say the exercise was not attempted yet (strict mode: raise); a failed verdict."""
    text = _report(exercise, [f"⏳ Not attempted yet: {what_to_do}."])
    print(text)
    if is_strict():
        raise NotAttemptedError(text) from None
    return Verdict(False, attempted=False)


def _fail(exercise: Any, lines: list[str]) -> Verdict:
    text = _report(exercise, lines)
    print(text)
    if is_strict():
        raise ExerciseError(text)
    return Verdict(False)


def _passed(exercise: Any, lines: list[str]) -> Verdict:
    print(_report(exercise, lines))
    return Verdict(True)


# --------------------------------------------------------------------------- what the text requires


def _names(relations: list[str]) -> str:
    return ", ".join(relations) if relations else "no table"


def _short(relation: str) -> str:
    return relation.rpartition(".")[2]


def reads_problems(exercise: Exercise, answer: Answer) -> list[str]:
    """The relations the exercise names that the SQL does not read (`Exercise.reads`)."""
    if answer.tree is None or not exercise.reads:
        return []
    read = answer.relations
    missing = [
        wanted
        for wanted in exercise.reads
        if not any(item == wanted.lower() if "." in wanted else _short(item) == wanted.lower() for item in read)
    ]
    if not missing:
        return []
    return [
        f"Your SQL reads {_names([_short(item) for item in read])}; the exercise asks you to use {', '.join(missing)}."
    ]


def ref_problems(exercise: Exercise, answer: Answer) -> list[str]:
    """Models named directly instead of through `{{ ref() }}` (`Exercise.uses_ref`)."""
    if not exercise.uses_ref or answer.raw is None:
        return []
    bare = bare_relations(answer.raw)
    if bare is None:  # sqlglot cannot read it: PostgreSQL could, so say nothing rather than something wrong
        return []
    if bare:
        suggestions = ", ".join(f"{{{{ ref('{_short(name)}') }}}}" for name in bare)
        return [
            f"Your SQL names {', '.join(bare)} directly: the exercise asks you to read the models with {suggestions} "
            "(a raw table with {{ source() }}), so dbt fills in the schema and knows what your SQL depends on."
        ]
    if "ref(" not in answer.raw and "source(" not in answer.raw:
        return ["The exercise asks you to read the models with {{ ref('model_name') }}: your SQL has no ref()."]
    return []


def _decimals_of(value: float, decimals: int) -> bool:
    scaled = value * 10**decimals
    return abs(scaled - round(scaled)) <= 1e-6 * max(1.0, abs(scaled))


def decimals_problems(exercise: Exercise, table: pd.DataFrame, expected: pd.DataFrame) -> list[str]:
    """Numbers of the non-key columns with more decimals than the exercise asks for (`Exercise.decimals`)."""
    if exercise.decimals is None:
        return []
    mine = _normalise(table)
    columns = [c for c in _normalise(expected.head(0)).columns if c in mine.columns and c not in exercise.key]
    how = (
        "round it to a whole number with round(x)"
        if exercise.decimals == 0
        else "round it to cents with round(x, 2)"
        if exercise.decimals == 2
        else f"round it with round(x, {exercise.decimals})"
    )
    problems = []
    for column in columns:
        series = mine[column]
        if isinstance(series, pd.DataFrame) or not pd.api.types.is_numeric_dtype(series) or series.dtype == bool:
            continue
        values = series.dropna().astype(float)
        unrounded = [value for value in values if np.isfinite(value) and not _decimals_of(value, exercise.decimals)]
        if unrounded:
            problems.append(
                f"{column} has values with more than {exercise.decimals} decimal(s) (e.g. {unrounded[0]!r}): {how} "
                "(a double precision needs a cast first: round(x::numeric, 2))."
            )
    return problems


# --------------------------------------------------------------------------- likely causes


def diagnose(exercise: Exercise, actual: pd.DataFrame, tree: Any = None) -> str | None:
    """The message of the likely mistake: first one recognised by its cause in the SQL (`tree`, sqlglot),
    then one whose result the attempt reproduces. With `tree`, a mistake that has `in_sql` is judged by
    its cause alone: its result is not enough, since the SQL shows it was not made."""
    if tree is not None:
        for mistake in exercise.mistakes:
            try:
                if mistake.in_sql is not None and mistake.in_sql(tree):
                    return mistake.message
            except Exception:  # noqa: BLE001, S112 - a broken predicate must never hide the real feedback
                continue
    expected: pd.DataFrame | None = None
    for mistake in exercise.mistakes:
        if tree is not None and mistake.in_sql is not None:
            continue
        try:
            if mistake.detect is not None:
                if expected is None:
                    expected = _normalise(_resolve(exercise.expected))
                if mistake.detect(_normalise(actual), expected):
                    return mistake.message
            if mistake.result is not None:
                wrong = _resolve(mistake.result)
                if compare(actual, wrong, key=exercise.key, ordered=exercise.ordered, atol=exercise.atol).ok:
                    return mistake.message
        except Exception:  # noqa: BLE001, S112 - a broken diagnosis must never hide the real feedback
            continue
    return None


# --------------------------------------------------------------------------- check and hint


_TYPED_IN = (
    "Your SQL reads no table of the warehouse ({what}): an answer must compute its result from the data, "
    "so the check would prove nothing. Query the tables or models the exercise is about."
)


def check(exercise_id: str, answer: Any) -> Verdict:
    """Compare `answer` (your SQL as a string) with the exercise's expected result; for a "build it"
    exercise, check what dbt built.

    Prints what is right and what differs (and the likely mistake); returns a Verdict, true if it
    matches. An untouched stub prints "not attempted yet". In strict mode a failure raises ExerciseError.
    Every attempt is recorded (progress.py): the learner, the exercise, pass or fail, the time.
    """
    exercise = get(exercise_id)
    try:
        verdict = _verdict(exercise, answer)
    except NotAttemptedError:
        raise
    except ExerciseError:
        progress.record(exercise.id, passed=False)
        raise
    if verdict.attempted:
        progress.record(exercise.id, passed=verdict.passed)
    return verdict


def _verdict(exercise: Any, answer: Any) -> Verdict:
    """The verdict on `answer`, printed (check() without the recording)."""
    if not isinstance(exercise, Exercise):  # a "build it" exercise (build_checks.py): checks what dbt built
        return exercise.check(answer)
    try:
        attempt = read_answer(answer, sql_required=not callable(exercise.expected))
    except _NotAttempted:
        return not_attempted(exercise, "replace the `...` with your answer and run the cell again")
    except _AnswerDidNotRun as exc:
        return _fail(exercise, [f"❌ {exc}", "Fix the error and run the cell again."])
    if attempt.tree is not None and not reads_warehouse(attempt.relations):
        what = f"only {_names(attempt.relations)}" if attempt.relations else "only values written in the SQL"
        return _fail(exercise, [f"❌ {_TYPED_IN.format(what=what)}"])

    expected = _resolve(exercise.expected)
    comparison = compare(attempt.table, expected, key=exercise.key, ordered=exercise.ordered, atol=exercise.atol)
    requirements = reads_problems(exercise, attempt) + ref_problems(exercise, attempt)
    requirements += decimals_problems(exercise, attempt.table, expected)
    if comparison.ok and not requirements:
        lines = [f"✅ Correct: {len(expected):,} row(s) match."]
        lines += [f"   Note: {note}" for note in comparison.notes]
        return _passed(exercise, lines)
    lines = ["❌ Your result has the right values, but not as the exercise asks:"] if comparison.ok else []
    lines += [f"❌ {problem}" for problem in requirements + comparison.problems]
    lines += [f"   Note: {note}" for note in comparison.notes]
    likely = None if comparison.ok else diagnose(exercise, attempt.table, attempt.tree)
    if likely:
        lines.append(f"💡 {likely}")
    elif exercise.hint and not comparison.ok:
        lines.append(f"💡 Hint: {exercise.hint}")
    return _fail(exercise, lines)


def hint(exercise_id: str) -> None:
    """Print the next step of an exercise: deeper than the hint a failed check prints."""
    exercise = get(exercise_id)
    next_step = getattr(exercise, "next_step", "")
    if next_step:
        lines = [f"🔎 Next step: {next_step}"]
    else:
        lines = [
            "🔎 No further hint for this exercise. Re-read the section just above it, then compare your result "
            "with what the exercise asks, column by column."
        ]
    if exercise.hint:
        lines.insert(0, f"   (The first hint, which a failed check prints: {exercise.hint})")
    print(_report(exercise, lines))


__all__ = ["Verdict", "check", "diagnose", "hint", "not_attempted"]
