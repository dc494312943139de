"""Grading a class on what each learner BUILT: every "build it" check, run on their schemas and workspace.

`class grade` runs the same checks a learner runs in their notebook (exercises/build_checks.py), once
per learner: on their models in the warehouse and on dbt's manifest and run results in their own copy
of the course (each model's latest build, whichever dbt command built it: runner.keep_run_results).
Nothing a notebook printed counts. Each learner is graded with their own settings and
credentials, so their SQL never runs with the teacher's privileges, and what is graded is exactly what
they can see. A grading check is not one of the learner's attempts: it is not recorded as progress.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import pandas as pd

from . import progress
from .classroom import Learner
from .errors import EcomTutorialError
from .exercises import all_exercises, configure, registry
from .exercises.build_checks import BuildExercise
from .settings import load_settings, scoped_environ


@dataclass(frozen=True)
class Grade:
    """One learner's result on one exercise, and the first line of what the check said."""

    learner: str
    exercise_id: str
    passed: bool
    said: str


def build_exercises() -> list[BuildExercise]:
    """Every "build it" exercise of the course, in id order."""
    return [exercise for exercise in all_exercises() if isinstance(exercise, BuildExercise)]


def _first_finding(text: str) -> str:
    """The check's first line after its title: the verdict, or the first thing that differs."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[1] if len(lines) > 1 else (lines[0] if lines else "")


def grade_learner(learner: Learner, exercises: list[BuildExercise] | None = None) -> list[Grade]:
    """Run every build check on what `learner` built, with their settings; never raises for a failing check."""
    grades = []
    strict = registry._STRICT  # the kernel's own setting, put back afterwards
    with scoped_environ(learner.environment()), progress.not_recorded():
        configure(strict=False)
        try:
            settings = load_settings()
            for exercise in exercises or build_exercises():
                said = io.StringIO()
                try:
                    with contextlib.redirect_stdout(said):
                        passed = bool(exercise.check(settings=settings, every_run=True))
                except EcomTutorialError as exc:  # their database is unreachable, a file is unreadable
                    passed, said = False, io.StringIO(f"{exercise.id}\n{exc}")
                grades.append(Grade(learner.name, exercise.id, passed, _first_finding(said.getvalue())))
        finally:
            configure(strict=strict)
    return grades


def score_table(grades: list[Grade]) -> pd.DataFrame:
    """Learner × exercise (1 passed, 0 not), with the number passed and the score in percent."""
    if not grades:
        return pd.DataFrame(columns=["learner", "passed", "score_percent"])
    frame = pd.DataFrame([grade.__dict__ for grade in grades])
    table = frame.pivot(index="learner", columns="exercise_id", values="passed").astype(int)
    table.columns.name = None
    count = table.shape[1]
    table["passed"] = table.sum(axis=1)
    table["score_percent"] = (100 * table["passed"] / count).round(1)
    return table.reset_index()


def details_table(grades: list[Grade]) -> pd.DataFrame:
    """One row per learner and exercise: passed or not, and the first thing the check said (why not)."""
    return pd.DataFrame([grade.__dict__ for grade in grades], columns=["learner", "exercise_id", "passed", "said"])
