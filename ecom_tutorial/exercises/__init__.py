"""Exercises: `check(exercise_id, answer)` tells a learner what is right and wrong in an attempt.

Each lesson module (`lesson_01.py`, ...) registers its exercises. An exercise knows how to compute
its expected result from the data itself (never a hard-coded number) and which typical mistakes
to recognise: a mistake is the result a typical wrong query would give ("counted cancelled
orders too"), computed from the data as well. When an attempt matches one, the learner reads
what probably went wrong instead of a bare "wrong".

In a notebook:

    answer = '''select ... '''          # a SQL string (Jinja such as {{ ref('x') }} is compiled by dbt)
    check("01.1", answer)              # prints feedback, returns True or False

`answer` may also be a DataFrame or a JupySQL result (`%sql result << select ...`). An untouched
stub (`answer = ...`) gets a friendly "not attempted yet". `configure(strict=True)` (the notebooks'
papermill parameter `strict_exercises`, turned on in CI) makes every failure raise ExerciseError,
so the solution notebooks prove that the solutions pass.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Sequence, Union

import numpy as np
import pandas as pd

from ..errors import EcomTutorialError

STRICT_ENV = "ECOM_STRICT_EXERCISES"
MAX_EXAMPLES = 5  # how many differing rows/keys feedback shows

# A result is described by SQL (run on the warehouse; `{target}` becomes the dbt target schema)
# or by a function returning a DataFrame.
ResultSource = Union[str, Callable[[], pd.DataFrame]]


class ExerciseError(EcomTutorialError):
    """Strict mode: an exercise was not attempted or its check failed."""


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer and what to tell the learner who makes it.

    Recognised either by its `result` (what the wrong query returns, computed from the data: the
    attempt matches it exactly) or by `detect(attempt, expected)`, a test on the attempt for
    mistakes with many possible results (e.g. "sorted ascending"). `example` is a wrong answer
    that shows the mistake (the tests check that it is recognised); it defaults to `result`.
    """

    message: str
    result: ResultSource | None = None
    detect: Callable[[pd.DataFrame, pd.DataFrame], bool] | None = None
    example: str | None = None

    @property
    def sample(self) -> ResultSource | None:
        """A wrong answer that makes this mistake."""
        return self.example if self.example is not None else self.result


@dataclass(frozen=True)
class Exercise:
    """One exercise: how to compute the expected result and how to compare an attempt with it.

    `key` names the columns that identify a row (feedback then lists missing, extra and differing
    rows by key); `ordered=True` means the row order is part of the answer; `atol` is the
    absolute tolerance for numbers (0.01: cents). Extra columns in an attempt are allowed.
    """

    id: str
    title: str
    expected: ResultSource
    key: tuple[str, ...] = ()
    ordered: bool = False
    atol: float = 0.01
    mistakes: tuple[Mistake, ...] = ()
    hint: str = ""


@dataclass
class Comparison:
    """The outcome of comparing an attempt with a reference result."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


_REGISTRY: dict[str, Exercise] = {}
_STRICT: bool | None = None  # None: read ECOM_STRICT_EXERCISES


def register(*exercises: Exercise) -> None:
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
    return f"{__name__}.lesson_{exercise_id.split('.')[0]}"


def get(exercise_id: str) -> Exercise:
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


def all_exercises() -> list[Exercise]:
    """Every exercise of every lesson module in this package, in id order."""
    from importlib import resources

    for entry in resources.files(__name__).iterdir():
        match = re.fullmatch(r"lesson_(\w+)\.py", entry.name)
        if match:
            importlib.import_module(f"{__name__}.lesson_{match.group(1)}")
    return [_REGISTRY[key] for key in sorted(_REGISTRY)]


# --------------------------------------------------------------------------- turning answers into tables


class _NotAttempted(Exception):
    pass


class _AnswerDidNotRun(Exception):
    pass


def _only_comments(sql: str) -> bool:
    lines = [line.strip() for line in sql.strip().splitlines()]
    return all(not line or line.startswith("--") for line in lines)


def _compile_jinja(sql: str) -> str:
    """Render {{ ref() }}, {{ source() }} and macros with dbt, as `dbt compile --inline` does."""
    from ..display import compile_inline
    from ..errors import DbtRunError

    try:
        return compile_inline(sql, introspect=False)  # no connection: Jinja such as run_query() cannot write
    except (DbtRunError, ValueError) as exc:
        if "connection already closed" in str(exc):  # what dbt says when Jinja runs SQL without a connection
            raise _AnswerDidNotRun(
                "Checking never writes: your Jinja runs SQL while it compiles (run_query, statement, ...); "
                f"{_ONE_SELECT}, with Jinja such as {{{{ ref('...') }}}} at most."
            ) from exc
        raise _AnswerDidNotRun(f"dbt could not compile your SQL:\n{exc}") from exc


# How a query may begin; anything else (DROP, COMMIT, SET, ...) is refused before it reaches the server.
_QUERY_STARTS = {"SELECT", "WITH", "VALUES", "TABLE", "L_PAREN"}
# Tokens that write inside a query: `with x as (delete ... returning *) select`, `select ... into t`.
_WRITES_INSIDE = {"INSERT", "UPDATE", "DELETE", "MERGE", "INTO", "TRUNCATE", "COPY", "CREATE", "DROP", "ALTER", "GRANT"}
_LOCKING = {"FOR", "KEY", "NO"}  # `for update`, `for no key update`: a lock, not a write (read-only refuses it)
# Statements that end or change the transaction rather than write: name a real write first if there is one.
_TRANSACTION_CONTROL = {"COMMIT", "ROLLBACK", "BEGIN", "START", "END", "ABORT", "SET", "RESET", "SAVEPOINT", "RELEASE"}
_ONE_SELECT = "an exercise answer is one SELECT (or WITH ... SELECT)"


def _statements(text: str) -> list[list[Any]]:
    """The statements of `text`, each as its sqlglot tokens (lexed as PostgreSQL lexes it)."""
    import sqlglot
    from sqlglot.errors import SqlglotError
    from sqlglot.tokens import TokenType

    try:
        tokens = sqlglot.tokenize(text, read="postgres")
    except (SqlglotError, ValueError) as exc:
        raise _AnswerDidNotRun(
            f"Could not read your SQL ({exc}): check that every quote and comment is closed."
        ) from exc
    statements: list[list[Any]] = [[]]
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            statements.append([])
        else:
            statements[-1].append(token)
    return [statement for statement in statements if statement]


def _not_a_query(tokens: list[Any]) -> str | None:
    """What a statement does instead of only reading (e.g. "DROP"), or None for a plain query."""
    if tokens[0].token_type.name not in _QUERY_STARTS:
        return tokens[0].text.upper()
    for previous, token in zip([None, *tokens], tokens):
        kind = token.token_type.name
        if kind in _WRITES_INSIDE and not (kind == "UPDATE" and previous and previous.token_type.name in _LOCKING):
            return "SELECT ... INTO a table" if kind == "INTO" else token.text.upper()
    return None


def _refuse_unless_one_query(text: str) -> None:
    """Checking never writes: refuse anything but a single query, naming what the SQL tries to do."""
    statements = _statements(text)
    refused = []
    for tokens in statements:
        verb = _not_a_query(tokens)
        if verb is not None:
            snippet = " ".join(text[tokens[0].start : tokens[-1].end + 1].split())
            refused.append((verb, snippet if len(snippet) <= 70 else snippet[:67] + "..."))
    if refused:
        verb, snippet = next((r for r in refused if r[0] not in _TRANSACTION_CONTROL), refused[0])
        raise _AnswerDidNotRun(f"Checking never writes: your SQL tries to {verb} (`{snippet}`); {_ONE_SELECT}.")
    if len(statements) > 1:
        raise _AnswerDidNotRun(f"Your SQL has {len(statements)} statements: {_ONE_SELECT}. Remove the others.")


def run_sql(sql: str) -> pd.DataFrame:
    """Run a SELECT on the warehouse (`{target}` is replaced by the dbt target schema).

    The text goes to PostgreSQL as written, with no parameter parsing, so `'HH24:MI'` or
    `like 'a%'` mean what they mean in psql. Checking never writes: the SQL must be one query (no
    second statement, no COMMIT or SET that could end or lift the read-only mode), it runs in a
    read-only transaction on a session whose default is read-only, and that transaction is rolled back.
    """
    import psycopg2
    from psycopg2 import sql as pgsql

    from ..database import connect
    from ..settings import load_settings

    text = sql.strip().rstrip(";")
    if "{{" in text or "{%" in text:
        text = _compile_jinja(text)
    settings = load_settings()
    text = text.replace("{target}", settings.db_schema)
    _refuse_unless_one_query(text)
    conn = connect()
    try:
        with conn.cursor() as cur:
            # standard_conforming_strings: the server reads quotes as the check above did; the
            # search path lets an answer name a model without its schema, as the notebooks do.
            cur.execute(
                pgsql.SQL(
                    "set default_transaction_read_only = on; set standard_conforming_strings = on; "
                    "set search_path to {}; set transaction read only"
                ).format(pgsql.SQL(", ").join(map(pgsql.Identifier, settings.search_path)))
            )
            cur.execute(text)
            if cur.description is None:
                raise _AnswerDidNotRun("Your SQL returned no table: write a single SELECT (or WITH ... SELECT).")
            columns = [column.name for column in cur.description]
            return pd.DataFrame(cur.fetchall(), columns=columns)
    except psycopg2.Error as exc:
        message = (exc.pgerror or str(exc)).strip().splitlines()[0]
        raise _AnswerDidNotRun(f"PostgreSQL could not run your SQL:\n    {message}") from exc
    finally:
        conn.rollback()
        conn.close()


def _resolve(source: ResultSource) -> pd.DataFrame:
    if callable(source):
        return source()
    return run_sql(source)


def _answer_table(answer: Any) -> pd.DataFrame:
    """The learner's answer as a DataFrame; raises _NotAttempted for an untouched stub."""
    if answer is None or answer is Ellipsis:
        raise _NotAttempted
    if isinstance(answer, str):
        if _only_comments(answer):
            raise _NotAttempted
        return run_sql(answer)
    if isinstance(answer, pd.DataFrame):
        return answer
    if isinstance(answer, pd.Series):
        return answer.to_frame()
    if hasattr(answer, "DataFrame"):  # a JupySQL ResultSet (%sql result << ...)
        return answer.DataFrame()
    raise _AnswerDidNotRun(
        f"check() takes your SQL as a string or your result as a DataFrame, not a {type(answer).__name__}."
    )


# --------------------------------------------------------------------------- comparing tables


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Lower-case column names; Decimal -> float, date -> Timestamp, so equal data compares equal."""
    frame = frame.copy()
    frame.columns = [str(column).strip().lower() for column in frame.columns]
    frame = frame.reset_index(drop=True)
    for column in frame.columns:
        series = frame[column]
        if isinstance(series, pd.DataFrame):  # duplicated column name: leave it, reported elsewhere
            continue
        if series.dtype == object or str(series.dtype).startswith("string"):
            sample = series.dropna()
            if sample.empty:
                continue
            if all(isinstance(v, (Decimal, int, float, np.number)) and not isinstance(v, bool) for v in sample):
                frame[column] = pd.to_numeric(series.astype(float))
            elif all(isinstance(v, (dt.date, dt.datetime, pd.Timestamp)) for v in sample):
                frame[column] = pd.to_datetime(series)
        elif pd.api.types.is_datetime64_any_dtype(series):
            frame[column] = pd.to_datetime(series).dt.tz_localize(None) if series.dt.tz is not None else series
    return frame


def _format(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return "NULL"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating, Decimal)):
        number = float(value)
        return f"{number:,.0f}" if number.is_integer() else f"{number:,.2f}"
    if isinstance(value, pd.Timestamp):
        return str(value.date()) if value == value.normalize() else str(value)
    return repr(value) if isinstance(value, str) else str(value)


def _values_equal(mine: pd.Series, theirs: pd.Series, atol: float) -> np.ndarray:
    """Element-wise equality with a tolerance for numbers and NULL == NULL."""
    both_null = mine.isna().to_numpy() & theirs.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(mine) and pd.api.types.is_numeric_dtype(theirs):
        a = mine.astype(float).to_numpy()
        b = theirs.astype(float).to_numpy()
        with np.errstate(invalid="ignore"):
            close = np.isclose(a, b, rtol=1e-9, atol=atol)
        return close | both_null
    if pd.api.types.is_datetime64_any_dtype(mine) or pd.api.types.is_datetime64_any_dtype(theirs):
        try:
            a_dates = pd.to_datetime(mine)
            b_dates = pd.to_datetime(theirs)
            return (a_dates == b_dates).to_numpy() | both_null
        except (ValueError, TypeError):
            pass
    return (mine.astype(str).to_numpy() == theirs.astype(str).to_numpy()) | both_null


def _key_value(value: Any) -> str:
    """A key value as the learner would write it: ids and years without thousands separators."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return _format(value)


def _describe_key(row: pd.Series, key: Sequence[str]) -> str:
    return ", ".join(f"{column}={_key_value(row[column])}" for column in key)


def _list_rows(frame: pd.DataFrame, key: Sequence[str]) -> str:
    shown = [_describe_key(row, key) for _, row in frame.head(MAX_EXAMPLES).iterrows()]
    more = f" ... ({len(frame):,} in all)" if len(frame) > MAX_EXAMPLES else ""
    return "; ".join(f"({item})" for item in shown) + more


def compare(
    actual: pd.DataFrame,
    expected: pd.DataFrame,
    *,
    key: Sequence[str] = (),
    ordered: bool = False,
    atol: float = 0.01,
) -> Comparison:
    """Compare an attempt with the expected table; `problems` says in words what differs."""
    result = Comparison()
    mine, theirs = _normalise(actual), _normalise(expected)
    duplicated = sorted({c for c in mine.columns if list(mine.columns).count(c) > 1})
    if duplicated:
        result.problems.append(
            f"Your result has the column name(s) {', '.join(duplicated)} more than once: "
            "give each column its own name with `as`."
        )
        return result
    missing = [c for c in theirs.columns if c not in mine.columns]
    extra = [c for c in mine.columns if c not in theirs.columns]
    if missing:
        text = f"Missing column(s): {', '.join(missing)}. Expected the columns {', '.join(theirs.columns)}"
        if extra:
            text += f"; yours are {', '.join(mine.columns)}. Rename a column with `as` if only its name differs"
        result.problems.append(text + ".")
        return result
    if extra:
        result.notes.append(f"You also returned {', '.join(extra)}, which the exercise does not ask for (that's fine).")
    mine = mine[list(theirs.columns)]

    if len(mine) != len(theirs):
        result.problems.append(f"Your result has {len(mine):,} row(s); expected {len(theirs):,}.")
    if len(theirs.columns) == 1 and len(theirs) == 1 and len(mine) == 1:
        column = theirs.columns[0]
        if not _values_equal(mine[column], theirs[column], atol)[0]:
            result.problems.append(
                f"Your {column} is {_format(mine[column].iloc[0])}, expected {_format(theirs[column].iloc[0])}."
            )
        return result
    if key:
        _compare_by_key(mine, theirs, list(key), ordered, atol, result)
    else:
        _compare_rows(mine, theirs, ordered, atol, result)
    return result


def _compare_by_key(
    mine: pd.DataFrame, theirs: pd.DataFrame, key: list[str], ordered: bool, atol: float, result: Comparison
) -> None:
    duplicates = mine[mine.duplicated(key, keep=False)]
    if not duplicates.empty:
        result.problems.append(
            f"Several rows share the same {', '.join(key)}: {_list_rows(duplicates.drop_duplicates(key), key)}. "
            "Expected one row each: a missing `group by` column, or a join that multiplies rows?"
        )
        return
    # Compare keys as text, so that 1 and 1.0 or a date and its timestamp still match.
    mine_keyed = mine.assign(**{f"_k_{c}": mine[c].map(_format) for c in key})
    theirs_keyed = theirs.assign(**{f"_k_{c}": theirs[c].map(_format) for c in key})
    join_on = [f"_k_{c}" for c in key]
    merged = theirs_keyed.merge(mine_keyed, on=join_on, how="outer", suffixes=("_expected", "_yours"), indicator=True)
    missing = merged[merged["_merge"] == "left_only"]
    extra = merged[merged["_merge"] == "right_only"]
    if not missing.empty:
        rows = missing.rename(columns={f"{c}_expected": c for c in key})
        result.problems.append(f"Rows missing from your result: {_list_rows(rows, key)}.")
    if not extra.empty:
        rows = extra.rename(columns={f"{c}_yours": c for c in key})
        result.problems.append(f"Rows in your result that should not be there: {_list_rows(rows, key)}.")
    both = merged[merged["_merge"] == "both"].rename(columns={f"{c}_expected": c for c in key})
    for column in [c for c in theirs.columns if c not in key]:
        equal = _values_equal(both[f"{column}_yours"], both[f"{column}_expected"], atol)
        wrong = both[~equal]
        if wrong.empty:
            continue
        examples = "; ".join(
            f"{_describe_key(row, key)}: yours {_format(row[f'{column}_yours'])}, "
            f"expected {_format(row[f'{column}_expected'])}"
            for _, row in wrong.head(MAX_EXAMPLES).iterrows()
        )
        result.problems.append(f"Column {column} differs in {len(wrong):,} row(s), e.g. {examples}.")
    if ordered and result.ok:
        mine_order = [tuple(row) for row in mine_keyed[join_on].itertuples(index=False)]
        expected_order = [tuple(row) for row in theirs_keyed[join_on].itertuples(index=False)]
        if mine_order != expected_order:
            result.problems.append(
                "The rows are right but in a different order: check your `order by` (and its direction)."
            )


def _compare_rows(mine: pd.DataFrame, theirs: pd.DataFrame, ordered: bool, atol: float, result: Comparison) -> None:
    if not ordered:
        columns = list(theirs.columns)
        mine = mine.sort_values(columns, key=lambda s: s.map(_format)).reset_index(drop=True)
        theirs = theirs.sort_values(columns, key=lambda s: s.map(_format)).reset_index(drop=True)
    count = min(len(mine), len(theirs))
    equal_rows = np.ones(count, dtype=bool)
    for column in theirs.columns:
        equal_rows &= _values_equal(mine[column].iloc[:count], theirs[column].iloc[:count], atol)
    wrong = np.flatnonzero(~equal_rows)
    if len(wrong):
        lines = []
        for index in wrong[:MAX_EXAMPLES]:
            yours = ", ".join(_format(v) for v in mine.iloc[index])
            expected = ", ".join(_format(v) for v in theirs.iloc[index])
            lines.append(f"row {index + 1}: yours ({yours}), expected ({expected})")
        order = "in order" if ordered else "after sorting both"
        result.problems.append(f"{len(wrong):,} row(s) differ ({order}), e.g. " + "; ".join(lines) + ".")


# --------------------------------------------------------------------------- check


def _report(exercise: Exercise, lines: list[str]) -> str:
    return "\n".join([f"Exercise {exercise.id}: {exercise.title}", *lines])


def not_attempted(exercise: Exercise, what_to_do: str) -> bool:
    """Say the exercise was not attempted yet (strict mode: raise); False."""
    text = _report(exercise, [f"⏳ Not attempted yet: {what_to_do}."])
    print(text)
    if is_strict():
        raise ExerciseError(text) from None
    return False


def _fail(exercise: Exercise, lines: list[str]) -> bool:
    text = _report(exercise, lines)
    print(text)
    if is_strict():
        raise ExerciseError(text)
    return False


def diagnose(exercise: Exercise, actual: pd.DataFrame) -> str | None:
    """The message of the first typical mistake whose result the attempt reproduces, if any."""
    expected: pd.DataFrame | None = None
    for mistake in exercise.mistakes:
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
        except Exception:  # noqa: BLE001 - a broken diagnosis must never hide the real feedback
            continue
    return None


def check(exercise_id: str, answer: Any) -> bool:
    """Compare `answer` (SQL string, DataFrame or JupySQL result) with the exercise's expected result.

    Prints what is right and what differs (and the likely mistake); returns True if it matches.
    An untouched stub prints "not attempted yet". In strict mode a failure raises ExerciseError.
    """
    exercise = get(exercise_id)
    if not isinstance(exercise, Exercise):  # a "build it" exercise (build_checks.py): checks what dbt built
        return exercise.check(answer)
    try:
        actual = _answer_table(answer)
    except _NotAttempted:
        return not_attempted(exercise, "replace the `...` with your answer and run the cell again")
    except _AnswerDidNotRun as exc:
        return _fail(exercise, [f"❌ {exc}", "Fix the error and run the cell again."])

    expected = _resolve(exercise.expected)
    comparison = compare(actual, expected, key=exercise.key, ordered=exercise.ordered, atol=exercise.atol)
    if comparison.ok:
        lines = [f"✅ Correct: {len(expected):,} row(s) match."]
        lines += [f"   Note: {note}" for note in comparison.notes]
        print(_report(exercise, lines))
        return True
    lines = [f"❌ {problem}" for problem in comparison.problems]
    lines += [f"   Note: {note}" for note in comparison.notes]
    likely = diagnose(exercise, actual)
    if likely:
        lines.append(f"💡 {likely}")
    elif exercise.hint:
        lines.append(f"💡 Hint: {exercise.hint}")
    return _fail(exercise, lines)


def hint(exercise_id: str) -> None:
    """Print the hint of an exercise."""
    exercise = get(exercise_id)
    print(_report(exercise, [f"💡 {exercise.hint or 'No hint for this one: re-read the lesson above.'}"]))


__all__ = [
    "Comparison",
    "Exercise",
    "ExerciseError",
    "Mistake",
    "all_exercises",
    "check",
    "compare",
    "configure",
    "diagnose",
    "get",
    "hint",
    "is_strict",
    "register",
    "run_sql",
]
