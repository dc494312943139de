"""The "build it" exercises 05.3 (an incremental model proven equal to its full refresh) and 08.3 (last-touch
attribution): each solution, built with dbt, passes; wrong builds are rejected with their cause, and the
feedback never shows the solution.

Both run as lessons 05 and 08 do, after the next-day batch: on a copy of the session's warehouse with the
batch applied and the facts refreshed (the shared warehouse stays as other tests expect it), in a copy of
the dbt project (its own workspace and target folder).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import (
    clone_the_warehouse,
    copy_of_the_project,
    dbt_target,
    drop_the_clone,
    isolated_database,
    solution_changed,
)

import ecom_tutorial
from ecom_tutorial import exercises, queries, workspace
from ecom_tutorial.exercises import check
from ecom_tutorial.mock_data import NEXT_DAY_BATCH_DATE
from ecom_tutorial.solutions import solution_files

Files = dict[str, str]
COPY = "ecom_build_05_08"
INCREMENTAL = "product_weekly_sales"
LAST_TOUCH = "campaign_last_touch"
# yesterday's run of lesson 05: the table as of the day before the batch, created anew
YESTERDAY = ["--full-refresh", "--vars", "{as_of_date: 2024-12-31}"]


@pytest.fixture(scope="module")
def project(built_warehouse: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the warehouse after the next-day batch (facts refreshed), and the package pointed at a copy of
    the dbt project whose workspace is empty."""
    folder = tmp_path_factory.mktemp("build-05-08")
    copy_of_the_project(folder / "checkout")
    clone_the_warehouse(COPY)
    try:
        with (
            isolated_database(COPY),
            pytest.MonkeyPatch.context() as patch,
            dbt_target(folder / "target"),
        ):
            patch.setenv("ECOM_PROJECT_DIR", str(folder / "checkout"))
            with ecom_tutorial.connection() as batch:
                ecom_tutorial.apply_next_day_batch(batch)
            ecom_tutorial.run_dbt(
                ["run", "--select", "fact_order_items", "fact_orders", "marketing_attribution"], progress=False
            )
            exercises.configure(strict=False)
            try:
                yield folder / "checkout" / "dbt_project"
            finally:
                exercises.configure(None)
                queries.engine().dispose()
    finally:
        drop_the_clone(COPY)


def _write(files: Files) -> None:
    for item in workspace.files():
        workspace.path(item).unlink()
    for path, text in files.items():
        workspace.write(path, text)


def _build(model: str, *flags: str) -> ecom_tutorial.DbtResult:
    return ecom_tutorial.run_dbt(["build", "--select", model, *flags], progress=False, check=False)


def _verdict(exercise_id: str, capsys: pytest.CaptureFixture[str]) -> tuple[bool, str]:
    capsys.readouterr()
    verdict = check(exercise_id, None)
    return bool(verdict), capsys.readouterr().out


def changed(exercise_id: str, file_name: str, old: str, new: str) -> Files:
    """The solution with `old` replaced by `new` in one of its files."""
    return solution_changed(exercise_id, file_name, (old, new))


def assert_no_solution_in(out: str, exercise_id: str) -> None:
    """No line of the solution's SQL (beyond the trivial ones) appears in the feedback."""
    for path, text in solution_files(exercise_id).items():
        if not path.endswith(".sql"):
            continue
        for line in text.splitlines():
            line = line.strip()
            stated = (
                "ref(" in line or "config(" in line or line.startswith(("--", "materialized=", "unique_key="))
            )  # the text says these
            if len(line) > 20 and not stated:
                assert line not in out, f"the feedback shows the solution's line {line!r}:\n{out}"


# --------------------------------------------------------------------------- 05.4: microbatch

MICROBATCH = "daily_product_sales"


def test_05_4_a_microbatch_model_passes_and_a_backfill_rewrites_one_month(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(solution_files("05.4"))
    assert _build(MICROBATCH).success
    verdict, out = _verdict("05.4", capsys)
    assert verdict, out
    relation = f"{ecom_tutorial.load_settings().db_schema}_workspace.{MICROBATCH}"
    with ecom_tutorial.connection() as conn, conn.cursor() as cur:  # the months before July lost ...
        cur.execute(f"delete from {relation} where order_date < '2024-07-01'")
        conn.commit()
    june = ["--event-time-start", "2024-06-01", "--event-time-end", "2024-07-01"]
    assert _build(MICROBATCH, *june).success  # ... and June backfilled alone
    months = ecom_tutorial.query(
        f"select distinct date_trunc('month', order_date)::date::text as month from {MICROBATCH} "
        "where order_date < '2024-07-01'"
    )["month"].tolist()
    assert months == ["2024-06-01"], months


def test_05_4_a_high_water_mark_model_is_not_microbatch(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    as_delete_insert = changed(
        "05.4", f"{MICROBATCH}.sql", "incremental_strategy='microbatch'", "incremental_strategy='delete+insert'"
    )
    _write(as_delete_insert)
    _build(MICROBATCH)
    verdict, out = _verdict("05.4", capsys)
    assert not verdict and "config `incremental_strategy` is `delete+insert`" in out, out


# --------------------------------------------------------------------------- 05.3: the incremental model


def _two_nights(files: Files) -> None:
    """Lesson 05's flow: yesterday's run (as of the day before the batch, from scratch), then today's, incremental."""
    _write(files)
    first = _build(INCREMENTAL, *YESTERDAY)
    assert first.success, first.summary()
    _build(INCREMENTAL)


def test_05_3_the_solution_passes_after_two_nights(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(solution_files("05.3"))
    first = _build(INCREMENTAL, *YESTERDAY)
    assert first.table.set_index("node").loc[INCREMENTAL, "message"].startswith("SELECT")
    second = _build(INCREMENTAL)
    # today's run re-computes the open week only: far fewer rows than the table has
    inserted = second.table.set_index("node").loc[INCREMENTAL, "message"]
    assert inserted.startswith("INSERT 0 "), inserted
    rows = int(ecom_tutorial.query(f"select count(*) as n from {INCREMENTAL}").loc[0, "n"])
    assert 0 < int(inserted.split()[-1]) < rows / 10, (inserted, rows)
    verdict, out = _verdict("05.3", capsys)
    assert verdict, out
    assert "✅ Correct" in out


def test_05_3_a_single_build_is_not_an_incremental_run(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(solution_files("05.3"))
    _build(INCREMENTAL, *YESTERDAY)
    verdict, out = _verdict("05.3", capsys)
    assert verdict is False
    assert f"Your last build created {INCREMENTAL} anew" in out and "Build it once more" in out, out
    assert_no_solution_in(out, "05.3")


def test_05_3_a_table_is_not_incremental(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = changed(
        "05.3",
        ".sql",
        "        materialized='incremental',\n        unique_key=['week_start', 'product_id'],\n"
        "        incremental_strategy='delete+insert',\n",
        "        materialized='table',\n",
    )
    _write(files)
    _build(INCREMENTAL)
    verdict, out = _verdict("05.3", capsys)
    assert verdict is False
    assert f"{INCREMENTAL} is materialized as `table`; the exercise asks for `incremental`" in out, out
    assert f"{INCREMENTAL}'s config `unique_key` is not set" in out, out
    assert_no_solution_in(out, "05.3")


def test_05_3_without_unique_key_the_open_week_is_duplicated(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _two_nights(changed("05.3", ".sql", "        unique_key=['week_start', 'product_id'],\n", ""))
    duplicated = ecom_tutorial.query(f"""
        select count(*) as n from (
            select week_start, product_id from {INCREMENTAL} group by 1, 2 having count(*) > 1
        ) as twice
    """)
    assert int(duplicated.loc[0, "n"]) > 0, "the data cannot show the missing unique_key"
    verdict, out = _verdict("05.3", capsys)
    assert verdict is False
    assert f"{INCREMENTAL}'s config `unique_key` is not set" in out, out
    assert "unique_combination_of_columns" in out and "fails" in out, out
    assert_no_solution_in(out, "05.3")


def test_05_3_a_strict_filter_loses_the_open_weeks_first_days(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _two_nights(
        changed("05.3", ".sql", "order_date >= (select max(week_start)", "order_date > (select max(week_start)")
    )
    verdict, out = _verdict("05.3", capsys)
    assert verdict is False
    assert f"{INCREMENTAL}: Column units_sold differs" in out and "week_start=2024-12-30" in out, out
    assert "💡 Every week is right except the newest one" in out, out
    assert_no_solution_in(out, "05.3")


def test_05_3_the_newest_week_left_as_yesterday_is_recognised(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The other face of `>`: the filter skips the week already in the table, so today's run adds nothing. A
    result mistake, so checked on the table as yesterday's run left it (no second dbt build needed)."""
    exercise = exercises.get("05.3")
    (model,) = exercise.models
    (mistake,) = [m for m in model.mistakes if "missing from the newest week" in m.message]
    before = exercises.run_sql(mistake.result)
    assert str(before["week_start"].max()) < NEXT_DAY_BATCH_DATE
    assert (
        exercises.diagnose(exercises.Exercise("05.3", "", model.expected, model.key, mistakes=model.mistakes), before)
        == mistake.message
    )


# --------------------------------------------------------------------------- 08.3: last-touch attribution


def _built(files: Files) -> None:
    _write(files)
    _build(LAST_TOUCH)


def test_08_3_the_solution_passes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _built(solution_files("08.3"))
    verdict, out = _verdict("08.3", capsys)
    assert verdict, out
    assert "✅ Correct" in out
    # last touch really differs from first touch in this data: the exercise is not the lesson's model again
    differs = ecom_tutorial.query(f"""
        select count(*) as n
        from {LAST_TOUCH} as last_touch
        inner join marketing_attribution as first_touch on last_touch.campaign_id = first_touch.campaign_id
        where last_touch.customers <> first_touch.customers_acquired
    """)
    assert int(differs.loc[0, "n"]) >= 5


WRONG_LAST_TOUCH: dict[str, tuple[Callable[[], Files], list[str]]] = {
    "first touch instead of last": (
        lambda: changed("08.3", ".sql", "order by ordered_at desc, order_id desc", "order by ordered_at, order_id"),
        [f"{LAST_TOUCH}: Column customers differs", "💡 Your customers are credited to their FIRST campaign order"],
    ),
    "non-revenue orders counted": (
        lambda: changed(
            "08.3", ".sql", "    select * from orders\n    where is_revenue\n", "    select * from orders\n"
        ),
        [
            f"{LAST_TOUCH}: Column total_orders differs",
            "💡 You credit more orders than the credited customers' revenue orders",
        ],
    ),
    "missing test": (
        lambda: changed("08.3", ".yml", "          - unique\n", ""),
        [f"{LAST_TOUCH} lacks the test(s) unique on campaign_id"],
    ),
    "hard-coded relation": (
        lambda: changed("08.3", ".sql", "{{ ref('fact_orders') }}", "analytics_dev.fact_orders"),
        [
            f"{LAST_TOUCH} names relations directly (line 16: analytics_dev.fact_orders)",
            "does not read {{ ref('fact_orders') }}",
        ],
    ),
    "materialization": (
        lambda: changed("08.3", ".sql", "{{ config(materialized='table') }}\n", ""),
        [f"{LAST_TOUCH} is materialized as `view`; the exercise asks for `table`"],
    ),
}


@pytest.mark.parametrize("kind", sorted(WRONG_LAST_TOUCH))
def test_08_3_a_wrong_build_is_rejected_with_its_cause(
    project: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    files, messages = WRONG_LAST_TOUCH[kind]
    _built(files())
    verdict, out = _verdict("08.3", capsys)
    assert verdict is False
    for message in messages:
        assert message in out, out
    assert_no_solution_in(out, "08.3")


def test_08_3_the_project_first_touch_is_recognised(project: Path) -> None:
    """Copying marketing_attribution's rule (the first revenue order, organic if it had no campaign) is named as
    first touch: the mistake's result, from the raw data, equals the lesson's model."""
    exercise = exercises.get("08.3")
    (model,) = exercise.models
    (mistake,) = [m for m in model.mistakes if m.message.startswith("That is first-touch attribution")]
    wrong = exercises.run_sql(mistake.result).set_index("campaign_id").sort_index()
    project_rule = (
        ecom_tutorial.query(
            "select campaign_id, customers_acquired, total_orders, total_revenue from marketing_attribution"
        )
        .set_index("campaign_id")
        .sort_index()
    )
    assert (wrong["customers"].astype(int) == project_rule["customers_acquired"].astype(int)).all()
    assert (wrong["total_orders"].astype(int) == project_rule["total_orders"].astype(int)).all()
