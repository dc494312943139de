"""The exercises' registry: what an exercise and a typical mistake are, and where to find them by id.

Each lesson module (`lesson_01.py`, ...) registers its exercises when it is imported; `get("03.2")`
imports the lesson's module on first use.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import EcomTutorialError

STRICT_ENV = "ECOM_STRICT_EXERCISES"
PACKAGE = __name__.rpartition(".")[0]  # ecom_tutorial.exercises: where the lesson modules live

# A result is described by SQL (run on the warehouse; `{target}` becomes the dbt target schema)
# or by a function returning a DataFrame.
ResultSource = str | Callable[[], pd.DataFrame]
# A test on the answer's SQL, compiled and parsed by sqlglot (a `sqlglot.exp.Expression`, PostgreSQL dialect).
SqlPredicate = Callable[[Any], bool]


class ExerciseError(EcomTutorialError):
    """Strict mode: an exercise was not attempted or its check failed."""


class NotAttemptedError(ExerciseError):
    """Strict mode: an exercise was not attempted (its stub untouched, nothing built)."""


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer and what to tell the learner who makes it.

    Recognised by its cause, `in_sql(tree)`: a test on the answer's SQL (after Jinja, parsed by sqlglot,
    PostgreSQL dialect; `sql_answers` has small reusable tests such as `reads_relation("dim_date")`);
    or by its `result` (what the wrong query returns, computed from the data: the attempt matches it
    exactly); or by `detect(attempt, expected)`, a test on the attempt for mistakes with many possible
    results (e.g. "sorted ascending"). When the answer's SQL is known, a mistake that has an `in_sql`
    is judged by it alone (its cause is visible, so a matching result without the cause is not this
    mistake); otherwise (a DataFrame answer, a built model) by its result. `example` is a wrong answer
    that shows the mistake (the tests check that it is recognised); it defaults to `result`.
    """

    message: str
    result: ResultSource | None = None
    detect: Callable[[pd.DataFrame, pd.DataFrame], bool] | None = None
    example: str | None = None
    # Recognised on its cause: a test on the answer's SQL (compiled, parsed by sqlglot, PostgreSQL dialect).
    in_sql: SqlPredicate | None = None

    @property
    def sample(self) -> ResultSource | None:
        """A wrong answer that makes this mistake."""
        return self.example if self.example is not None else self.result


@dataclass(frozen=True)
class Exercise:
    """One exercise: how to compute the expected result and how to compare an attempt with it.

    `expected` as SQL: the answer is SQL that must read the warehouse (typed-in values are refused);
    as a Python function (e.g. a list computed from manifest.json): the answer is a DataFrame.
    `key` names the columns that identify a row (feedback then lists missing, extra and differing
    rows by key); `ordered=True` means the row order is part of the answer; `atol` is the
    absolute tolerance for numbers (0.01: cents). Extra columns in an attempt are allowed.
    `hint` is printed under a failed check; `next_step` is what `hint(id)` adds, a deeper step.
    `reads`, `uses_ref` and `decimals` are what the exercise's text requires, checked on the SQL
    (the relations it reads, `{{ ref() }}` rather than bare names) and on the values (rounding).
    """

    id: str
    title: str
    expected: ResultSource
    key: tuple[str, ...] = ()
    ordered: bool = False
    atol: float = 0.01
    mistakes: tuple[Mistake, ...] = ()
    hint: str = ""
    next_step: str = ""  # what `hint()` adds: a second, deeper step than the hint a failed check prints
    reads: tuple[str, ...] = ()  # relations (model or table names) the answer must read
    uses_ref: bool = False  # the answer must read the models with {{ ref() }}
    decimals: int | None = None  # the non-key numbers must be rounded to this many decimals


_REGISTRY: dict[str, Any] = {}  # id -> Exercise, or a BuildExercise (build_checks.py)
_STRICT: bool | None = None  # None: read ECOM_STRICT_EXERCISES


def register(*exercises: Any) -> None:
    """Add exercises to the registry (lesson modules call this when imported)."""
    for exercise in exercises:
        _REGISTRY[exercise.id] = exercise


def configure(strict: bool | None = None) -> None:
    """Strict mode on/off for this kernel (None: follow the ECOM_STRICT_EXERCISES variable)."""
    global _STRICT
    _STRICT = strict


def is_strict() -> bool:
    if _STRICT is not None:
        return _STRICT
    return os.environ.get(STRICT_ENV, "").strip().lower() in ("1", "true", "yes")


def _lesson_module(exercise_id: str) -> str:
    return f"{PACKAGE}.lesson_{exercise_id.split('.')[0]}"


def get(exercise_id: str) -> Any:
    """The exercise with this id (e.g. "03.2"), importing its lesson module on first use."""
    exercise_id = str(exercise_id).strip()
    if exercise_id not in _REGISTRY:
        module = _lesson_module(exercise_id)
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # the lesson exists but needs something missing: say that
                raise
    if exercise_id not in _REGISTRY:
        known = ", ".join(exercise.id for exercise in all_exercises())
        raise KeyError(f"There is no exercise {exercise_id!r}. Check the id in the notebook (known: {known}).")
    return _REGISTRY[exercise_id]


def all_exercises() -> list[Any]:
    """Every exercise of every lesson module in this package, in id order."""
    from importlib import resources

    for entry in resources.files(PACKAGE).iterdir():
        match = re.fullmatch(r"lesson_(\w+)\.py", entry.name)
        if match:
            importlib.import_module(f"{PACKAGE}.lesson_{match.group(1)}")
    return [_REGISTRY[key] for key in sorted(_REGISTRY)]
