"""Progress: every check a learner runs is recorded (learner, exercise, pass or fail, attempt, time), in the
local database when embedded; `ecom-tutorial progress` shows it; a check still works when it cannot be
recorded. The summary and the teacher's grid are computed from the recorded rows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from conftest import run_cli, unique_name

from ecom_tutorial import progress
from ecom_tutorial.exercises import check

WRONG = "select status, count(*) as n from raw_data.orders group by 1"
RIGHT = "select status, count(*) as order_count from raw_data.orders group by status"


def test_every_check_is_recorded_with_its_attempt_number(
    built_warehouse: dict[str, object], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    learner = unique_name("learner")
    monkeypatch.setenv("ECOM_LEARNER", learner)
    assert not check("01.1", WRONG)
    assert check("01.1", RIGHT)
    assert not check("01.1", ...).attempted  # an untouched stub is no attempt: not recorded
    rows = progress.attempts()
    assert list(zip(rows["exercise_id"], rows["attempt"], rows["passed"], strict=True)) == [
        ("01.1", 1, False),
        ("01.1", 2, True),
    ]
    assert set(rows["learner"]) == {learner}
    capsys.readouterr()

    shown = run_cli("progress", env={"ECOM_LEARNER": learner})
    assert shown.returncode == 0, shown.stderr
    assert "01.1     ✓2" in shown.stdout and "Passed 1 of 1" in shown.stdout


def test_a_check_still_gives_its_verdict_when_progress_cannot_be_recorded(
    built_warehouse: dict[str, object], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ECOM_PROGRESS_SCHEMA", "pg_progress")  # PostgreSQL reserves pg_*: it cannot be created
    monkeypatch.setattr(progress, "_told", False)
    assert check("01.1", RIGHT)
    assert not check("01.1", WRONG)
    out = capsys.readouterr().out
    assert "✅ Correct" in out and "❌" in out
    assert out.count("Your progress is not recorded") == 1  # said once, not under every check


def test_grading_is_not_an_attempt(built_warehouse: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOM_LEARNER", unique_name("graded"))
    with progress.not_recorded():
        check("01.1", RIGHT)
    assert progress.attempts().empty


AT = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


def rows(*attempts: tuple[str, str, bool, int]) -> pd.DataFrame:
    """Recorded checks: (learner, exercise, passed, minutes after 9:00), attempts numbered in order."""
    frame = pd.DataFrame(attempts, columns=["learner", "exercise_id", "passed", "minute"])
    frame["checked_at"] = [AT + timedelta(minutes=minute) for minute in frame["minute"]]
    frame["attempt"] = frame.groupby(["learner", "exercise_id"]).cumcount() + 1
    return frame.drop(columns="minute")


def test_the_grid_shows_attempts_to_pass_and_where_each_learner_is_stuck_longest() -> None:
    recorded = rows(
        ("ann", "01.1", False, 0),
        ("ann", "01.1", True, 4),
        ("ann", "01.2", True, 5),
        ("ann", "01.3", False, 6),
        ("ann", "01.3", False, 30),  # 24 minutes on 01.3 and not there yet
        ("bob", "01.2", False, 0),
        ("bob", "01.2", False, 2),
        ("bob", "01.2", False, 3),
        ("bob", "01.1", False, 10),
    )
    grid = progress.grid(progress.summary(recorded), ["ann", "bob", "cy"], ["01.1", "01.2", "01.3"])
    assert grid.loc["ann", ["01.1", "01.2", "01.3"]].tolist() == ["✓2", "✓1", "✗2"]
    assert grid.loc["bob", ["01.1", "01.2", "01.3"]].tolist() == ["✗1", "✗3", ""]
    assert grid.loc["cy"].tolist()[:3] == ["", "", ""]  # on the roster, nothing tried
    assert grid["passed"].tolist() == [2, 0, 0]
    assert grid.loc["ann", "stuck longest"] == "01.3 (24 min, 2 tries)"
    assert grid.loc["bob", "stuck longest"] == "01.2 (3 min, 3 tries)"
    assert grid.loc["cy", "stuck longest"] == ""
