"""Comparing an attempt with the expected table, and saying in words what differs.

The words never give the expected values away, so an answer cannot be fixed by pasting them:

- a single value is "too high" or "too low", by a band of percent ("by 5 to 20 %"), never by an
  exact amount; a date is too early or too late by a band of days;
- a differing column shows the learner's own value and its direction and band, not the expected value;
- rows compared without a key show the learner's own rows and the columns that differ;
- missing rows are named by their key (a segment, a year: the groups the exercise asks for), except
  when the key is the whole answer (a list of ids or of models): then they are only counted.

The same rules hold for the "build it" exercises, whose data is compared here too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

MAX_EXAMPLES = 5  # how many differing rows/keys feedback shows
# How far a number is from the expected one, in bands of relative difference (upper bound, words).
PERCENT_BANDS = (
    (0.01, "by less than 1 %"),
    (0.05, "by 1 to 5 %"),
    (0.20, "by 5 to 20 %"),
    (0.50, "by 20 to 50 %"),
    (1.00, "by 50 to 100 %"),
)
DAY_BANDS = ((1, "by less than a day"), (8, "by 1 to 7 days"), (32, "by 1 to 4 weeks"))


@dataclass
class Comparison:
    """The outcome of comparing an attempt with a reference result."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


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


def _is_null(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, (float, np.floating)) and np.isnan(value))


def _format(value: Any) -> str:
    if _is_null(value):
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


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def how_far(yours: Any, expected: Any) -> str:
    """How a value differs from the expected one, without saying the expected one: "too high by 5 to 20 %",
    "too early by 1 to 7 days", "NULL where a value is expected", or "not the expected value"."""
    if _is_null(yours):
        return "NULL where a value is expected"
    if _is_null(expected):
        return "a value where NULL is expected"
    if _is_number(yours) and _is_number(expected):
        mine, right = float(yours), float(expected)
        direction = "too high" if mine > right else "too low"
        if right == 0:
            return direction
        if mine * right < 0:
            return f"{direction}: it has the wrong sign"
        relative = abs(mine - right) / abs(right)
        band = next((words for limit, words in PERCENT_BANDS if relative < limit), None)
        return f"{direction} {band}" if band else f"{direction}: more than twice the expected value"
    if isinstance(yours, (dt.date, pd.Timestamp)) and isinstance(expected, (dt.date, pd.Timestamp)):
        days = (pd.Timestamp(yours) - pd.Timestamp(expected)) / pd.Timedelta(days=1)
        direction = "too late" if days > 0 else "too early"
        band = next((words for limit, words in DAY_BANDS if abs(days) < limit), "by more than 4 weeks")
        return f"{direction} {band}"
    return "not the expected value"


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
    """Compare an attempt with the expected table; `problems` says in words what differs (see the module)."""
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
            yours = mine[column].iloc[0]
            result.problems.append(f"Your {column} is {_format(yours)}: {how_far(yours, theirs[column].iloc[0])}.")
        return result
    if key:
        _compare_by_key(mine, theirs, list(key), ordered, atol, result)
    else:
        _compare_rows(mine, theirs, ordered, atol, result)
    return result


def _directions(yours: pd.Series, expected: pd.Series) -> str:
    """ " (all too high)", " (all too low)" or " (some too high, some too low)" for numbers; "" otherwise."""
    if not (pd.api.types.is_numeric_dtype(yours) and pd.api.types.is_numeric_dtype(expected)):
        return ""
    higher = int((yours.astype(float) > expected.astype(float)).sum())
    lower = int((yours.astype(float) < expected.astype(float)).sum())
    if higher and not lower:
        return " (all too high)"
    if lower and not higher:
        return " (all too low)"
    return " (some too high, some too low)" if higher and lower else ""


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
    values = [c for c in theirs.columns if c not in key]
    if not missing.empty and values:
        rows = missing.rename(columns={f"{c}_expected": c for c in key})
        result.problems.append(f"Rows missing from your result: {_list_rows(rows, key)}.")
    elif not missing.empty:  # the keys are the whole answer: naming the missing ones would give it away
        result.problems.append(f"{len(missing):,} row(s) of the expected result are missing from yours.")
    if not extra.empty:
        rows = extra.rename(columns={f"{c}_yours": c for c in key})
        result.problems.append(f"Rows in your result that should not be there: {_list_rows(rows, key)}.")
    both = merged[merged["_merge"] == "both"].rename(columns={f"{c}_yours": c for c in key})
    for column in values:
        yours, right = both[f"{column}_yours"], both[f"{column}_expected"]
        wrong = ~_values_equal(yours, right, atol)
        if not wrong.any():
            continue
        examples = "; ".join(
            f"{_describe_key(row, key)}: yours {_format(row[f'{column}_yours'])} "
            f"({how_far(row[f'{column}_yours'], row[f'{column}_expected'])})"
            for _, row in both[wrong].head(MAX_EXAMPLES).iterrows()
        )
        result.problems.append(
            f"Column {column} differs in {int(wrong.sum()):,} row(s){_directions(yours[wrong], right[wrong])}, "
            f"e.g. {examples}."
        )
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
    differing_columns = []
    for column in theirs.columns:
        equal = _values_equal(mine[column].iloc[:count], theirs[column].iloc[:count], atol)
        if not equal.all():
            differing_columns.append(column)
        equal_rows &= equal
    wrong = np.flatnonzero(~equal_rows)
    if len(wrong):
        shown = "; ".join(
            f"row {index + 1}: ({', '.join(_format(v) for v in mine.iloc[index])})" for index in wrong[:MAX_EXAMPLES]
        )
        order = "in order" if ordered else "after sorting both"
        result.problems.append(
            f"{len(wrong):,} of your row(s) differ from the expected ones ({order}), in the column(s) "
            f"{', '.join(differing_columns)}: e.g. your {shown}."
        )
