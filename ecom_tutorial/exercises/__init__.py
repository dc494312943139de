"""Exercises: `check(exercise_id, answer)` tells a learner what is right and wrong in an attempt.

Each lesson module (`lesson_01.py`, ...) registers its exercises. An exercise knows how to compute
its expected result from the data itself (never a hard-coded number) and which typical mistakes
to recognise, by their cause in the SQL or by the result they give ("counted cancelled orders
too"). When an attempt matches one, the learner reads what probably went wrong instead of a bare
"wrong"; the feedback never gives the expected values away (comparison.py says how).

In a notebook:

    answer = '''select ... '''          # a SQL string (Jinja such as {{ ref('x') }} is compiled by dbt)
    check("01.1", answer)              # prints the verdict once; returns a Verdict (true if right)
    hint("01.1")                       # a deeper step than the hint a failed check prints

The answer is SQL, and it must query the warehouse: a DataFrame could be typed in, so it is
refused (a JupySQL result, `%sql result << select ...`, is checked on the SQL it ran), except for
the exercises whose expected result is computed in Python (e.g. from manifest.json). An untouched
stub (`answer = ...`) gets a friendly "not attempted yet". `configure(strict=True)` (the notebooks'
papermill parameter `strict_exercises`, turned on in CI) makes every failure raise ExerciseError,
so the solution notebooks prove that the solutions pass. The "build it" exercises
(build_checks.py) use the same `check()`, on what dbt built.

Modules: `registry` (Exercise, Mistake, the registry), `sql_answers` (running and reading an
answer's SQL, and predicates for `Mistake.in_sql`), `comparison` (the table diff and its words),
`feedback` (check, hint, the likely cause).
"""

from __future__ import annotations

# The underscored names are shared with build_checks.py, lesson_09.py and the tests (`x as x`: re-exported).
from .comparison import MAX_EXAMPLES, Comparison, compare, how_far
from .feedback import Verdict, check, diagnose, hint, not_attempted
from .feedback import _fail as _fail
from .feedback import _passed as _passed
from .registry import _REGISTRY as _REGISTRY
from .registry import (
    STRICT_ENV,
    Exercise,
    ExerciseError,
    Mistake,
    ResultSource,
    SqlPredicate,
    all_exercises,
    configure,
    get,
    is_strict,
    register,
)
from .sql_answers import _AnswerDidNotRun as _AnswerDidNotRun
from .sql_answers import _resolve as _resolve
from .sql_answers import (
    has_window_without_partition,
    reads_relation,
    run_sql,
    uses_function,
)

__all__ = [
    "MAX_EXAMPLES",
    "STRICT_ENV",
    "Comparison",
    "Exercise",
    "ExerciseError",
    "Mistake",
    "ResultSource",
    "SqlPredicate",
    "Verdict",
    "all_exercises",
    "check",
    "compare",
    "configure",
    "diagnose",
    "get",
    "has_window_without_partition",
    "hint",
    "how_far",
    "is_strict",
    "not_attempted",
    "reads_relation",
    "register",
    "run_sql",
    "uses_function",
]
