"""Lesson 06's exercises on real dbt runs: 06.3 ("build it": a snapshot with the check strategy that
records the next-day batch) and the two "as of" queries 06.1 and 06.2, which must read the snapshot.

The snapshot needs the next-day batch, so everything runs on a clone of the session's warehouse (the
shared one keeps its state for the other tests), in a copy of the dbt project (its own workspace and
target folder). The clone is brought to the state lesson 06 reaches before its exercises: the batch
applied and the course's snapshots taken again, so product_snapshot holds the versions it replaced.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    clone_the_warehouse,
    copy_of_the_project,
    dbt_target,
    drop_the_clone,
    isolated_database,
    notebook_solutions,
)

import ecom_tutorial
from ecom_tutorial import exercises, workspace
from ecom_tutorial.exercises import check
from ecom_tutorial.exercises.lesson_06 import PRICES_SNAPSHOT, products_before_the_batch
from ecom_tutorial.solutions import solution_files

CLONE = "ecom_build_exercises_snapshots"
EXERCISE = "06.3"
BUILD = ["build", "--select", PRICES_SNAPSHOT]
SNAPSHOT = ["snapshot", "--select", PRICES_SNAPSHOT]
ONCE = "Your snapshot holds one version per product"
Files = dict[str, str]


def apply_the_batch() -> None:
    with ecom_tutorial.connection() as conn:
        ecom_tutorial.apply_next_day_batch(conn)


@pytest.fixture(scope="module")
def lesson(built_warehouse: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The clone as lesson 06 leaves it before its exercises, and a copy of the project pointed at it."""
    folder = tmp_path_factory.mktemp("build-snapshots")
    copy_of_the_project(folder / "checkout")
    clone_the_warehouse(CLONE)
    try:
        with isolated_database(CLONE), pytest.MonkeyPatch.context() as patch, dbt_target(folder / "setup-target"):
            patch.setenv("ECOM_PROJECT_DIR", str(folder / "checkout"))
            apply_the_batch()  # what lesson 05 (or section 2 of lesson 06) does
            ecom_tutorial.run_dbt(["snapshot", "--select", "customer_snapshot", "product_snapshot"], progress=False)
            exercises.configure(strict=False)
            try:
                yield folder / "checkout" / "dbt_project"
            finally:
                exercises.configure(None)
    finally:
        drop_the_clone(CLONE)


@pytest.fixture
def target(lesson: Path, tmp_path: Path) -> Iterator[Path]:
    """A dbt target folder of the test's own: no results of an earlier test's dbt commands."""
    with dbt_target(tmp_path / "target") as folder:
        yield folder


def start_over(files: Files) -> None:
    """No snapshot of the learner's yet, the raw data as the batch left it, and only these files."""
    with ecom_tutorial.connection() as conn, conn.cursor() as cur:
        cur.execute(f'drop table if exists "{ecom_tutorial.load_settings().db_schema}_workspace"."{PRICES_SNAPSHOT}"')
    apply_the_batch()
    for item in workspace.files():
        workspace.path(item).unlink()
    for path, text in files.items():
        workspace.write(path, text)


def dbt(args: list[str]) -> ecom_tutorial.DbtResult:
    return ecom_tutorial.run_dbt(args, progress=False, check=False)


def snapshot_before_and_after_the_batch() -> None:
    """The exercise's flow: the products as before the batch, a snapshot, the batch, a second snapshot (with tests)."""
    products_before_the_batch()
    dbt(SNAPSHOT)
    apply_the_batch()
    dbt(BUILD)


def verdict(exercise_id: str, answer: object, capsys: pytest.CaptureFixture[str]) -> tuple[bool, str]:
    capsys.readouterr()
    ok = check(exercise_id, answer)
    return bool(ok), capsys.readouterr().out


def changed(file_name: str, old: str, new: str, files: Files | None = None) -> Files:
    """The solution (or `files`) with `old` replaced by `new` in one file, which must contain `old`."""
    files = dict(files or solution_files(EXERCISE))
    (path,) = [path for path in files if path.endswith(file_name)]
    assert old in files[path], f"{old!r} is no longer in the solution's {file_name}: update this test"
    return {**files, path: files[path].replace(old, new)}


def assert_no_solution_shown(out: str) -> None:
    assert "check_cols: [" not in out and "strategy: check" not in out and "select * from" not in out, out


# --------------------------------------------------------------------------- 06.3


def test_the_solution_passes_and_passes_again_when_the_lesson_runs_twice(
    target: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start_over(solution_files(EXERCISE))
    snapshot_before_and_after_the_batch()
    ok, out = verdict(EXERCISE, None, capsys)
    assert ok, out
    history = ecom_tutorial.query(f"select product_id, count(*) as versions from {PRICES_SNAPSHOT} group by 1")
    assert (history["versions"] == 2).sum() == 6 and len(history) == 100, history  # 5 new prices, 1 new category

    # the lesson again: the products stay as they are (the snapshot exists), nothing new to record
    capsys.readouterr()
    assert products_before_the_batch() == 0
    assert "exists already" in capsys.readouterr().out
    apply_the_batch()
    dbt(BUILD)
    ok, out = verdict(EXERCISE, None, capsys)
    assert ok, out


def test_a_snapshot_taken_only_once_is_rejected(target: Path, capsys: pytest.CaptureFixture[str]) -> None:
    start_over(solution_files(EXERCISE))
    products_before_the_batch()
    dbt(BUILD)  # the first snapshot, and its tests...
    apply_the_batch()  # ...but no second one after the batch
    ok, out = verdict(EXERCISE, None, capsys)
    assert not ok
    assert "are missing from yours" in out and f"💡 {ONCE}" in out, out
    assert_no_solution_shown(out)


def test_the_timestamp_strategy_is_rejected(target: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = changed(
        f"{PRICES_SNAPSHOT}.yml",
        'strategy: check\n      check_cols: ["list_price", "unit_cost", "category"]',
        "strategy: timestamp\n      updated_at: updated_at",
    )
    start_over(
        changed("int_products__prices.sql", "        unit_cost\n", "        unit_cost,\n        updated_at\n", files)
    )
    dbt(BUILD)
    ok, out = verdict(EXERCISE, None, capsys)
    assert not ok
    assert f"{PRICES_SNAPSHOT}'s config `strategy` is `timestamp`; the exercise asks for `check`" in out, out
    assert f"{PRICES_SNAPSHOT}'s config `check_cols` is not set" in out, out


def test_a_snapshot_without_check_cols_or_unique_key_is_rejected_with_dbts_message(
    target: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for line, dbts_message in (
        ('      check_cols: ["list_price", "unit_cost", "category"]\n', "must specify a check_cols configuration"),
        ("      unique_key: product_id\n", "must be configured with a 'strategy' and 'unique_key'"),
    ):
        start_over(changed(f"{PRICES_SNAPSHOT}.yml", line, ""))
        result = dbt(BUILD)  # dbt cannot read the project: it says why, and writes no manifest
        assert not result.success and dbts_message in str(result.exception), result.exception
        ok, out = verdict(EXERCISE, None, capsys)
        assert not ok
        assert f"snapshots/workspace/{PRICES_SNAPSHOT}.yml since dbt last read the project" in out, out


def test_a_hard_coded_relation_is_rejected(target: Path, capsys: pytest.CaptureFixture[str]) -> None:
    schema = ecom_tutorial.load_settings().db_schema
    start_over(
        changed(
            "int_products__prices.sql",
            "{{ ref('stg_ecommerce__products') }}",
            f"{schema}_staging.stg_ecommerce__products",
        )
    )
    dbt(BUILD)
    ok, out = verdict(EXERCISE, None, capsys)
    assert not ok
    assert f"int_products__prices names relations directly (line 9: {schema}_staging.stg_ecommerce__products)" in out, (
        out
    )
    assert "does not read {{ ref('stg_ecommerce__products') }}" in out, out


# --------------------------------------------------------------------------- 06.1 and 06.2

FROM_DIM_CUSTOMERS = "select customer_segment, count(*) as customers from dim_customers group by 1"
# "customers with a new version": right until a customer changes something else than the segment
NEW_VERSION_ONLY = """
    with
    old as (
        select customer_id, customer_segment, dbt_scd_id
        from customer_snapshot
        where dbt_valid_from <= timestamp '2024-12-31 23:59:59'
            and (dbt_valid_to > timestamp '2024-12-31 23:59:59' or dbt_valid_to is null)
    ),
    current_versions as (
        select customer_id, customer_segment, dbt_scd_id from customer_snapshot where dbt_valid_to is null
    )
    select old.customer_id, old.customer_segment as old_segment, current_versions.customer_segment as new_segment
    from old
    inner join current_versions on old.customer_id = current_versions.customer_id
    where old.dbt_scd_id <> current_versions.dbt_scd_id
"""


def _solution(exercise_id: str) -> object:
    scope: dict[str, object] = {}
    exec(notebook_solutions(("06",))[exercise_id], scope)  # noqa: S102 - our own notebook cells
    return scope["answer"]


def test_06_1_and_06_2_solutions_pass(lesson: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for exercise_id in ("06.1", "06.2"):
        ok, out = verdict(exercise_id, _solution(exercise_id), capsys)
        assert ok, out


def test_06_1_from_dim_customers_is_rejected_whether_or_not_it_was_rebuilt(
    target: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # dim_customers not rebuilt since the batch still holds the 2024 segments: right numbers, by accident
    ok, out = verdict("06.1", FROM_DIM_CUSTOMERS, capsys)
    assert not ok
    assert "Your SQL reads dim_customers; the exercise asks you to use customer_snapshot" in out, out
    # rebuilt, it holds today's segments: the cause is named
    dbt(["build", "--select", "dim_customers"])
    ok, out = verdict("06.1", FROM_DIM_CUSTOMERS, capsys)
    assert not ok
    assert "💡 dim_customers (like every table of current customers) keeps one row per customer" in out, out


def test_06_2_without_the_segment_filter_is_rejected(lesson: Path, capsys: pytest.CaptureFixture[str]) -> None:
    city_only = ecom_tutorial.query("""
        select count(*) as customers
        from customer_snapshot as old
        inner join customer_snapshot as new
            on old.customer_id = new.customer_id and new.dbt_valid_to is null
        where old.dbt_valid_to is not null and old.customer_segment = new.customer_segment
    """).loc[0, "customers"]
    assert city_only > 0, "the next-day batch has no customer who changes something else than the segment"
    ok, out = verdict("06.2", NEW_VERSION_ONLY, capsys)
    assert not ok
    assert (
        "Rows in your result that should not be there" in out and "💡 Some of your customers have the same old" in out
    ), out
