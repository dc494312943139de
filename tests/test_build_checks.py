"""The "build it" checks (ecom_tutorial/exercises/build_checks.py): each accepts its solution, built with
dbt in a copy of the project, and rejects a wrong build of each kind with feedback that names the cause."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import (
    build_in_the_workspace,
    dbt_target,
    solution_changed,
    verdict_of,
)

import ecom_tutorial
from ecom_tutorial import exercises, workspace
from ecom_tutorial.exercises import ExerciseError, check
from ecom_tutorial.solutions import solution_files, starting_files

Files = dict[str, str]
SELECTIONS = {
    "02.3": ["stg_ecommerce__campaign_orders"],
    "02.4": ["campaign_order_counts"],
    "03.3": ["int_customers__order_dates", "segment_order_dates"],
}


def build(exercise_id: str, files: Files) -> ecom_tutorial.DbtResult:
    """An empty workspace, then these files, then `dbt build` of the exercise's models (a failure is kept)."""
    return build_in_the_workspace(files, SELECTIONS[exercise_id])


def checked(exercise_id: str, files: Files, capsys: pytest.CaptureFixture[str]) -> tuple[bool, str]:
    build(exercise_id, files)
    return verdict_of(exercise_id, capsys)


def changed(exercise_id: str, file_name: str, old: str, new: str) -> Files:
    """The solution with `old` replaced by `new` in one of its files."""
    return solution_changed(exercise_id, file_name, (old, new))


def test_nothing_built_is_not_attempted_and_strict_mode_raises(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for item in workspace.files():
        workspace.path(item).unlink()
    with dbt_target(tmp_path / "empty-target"):
        assert not check("02.3", ...)
        assert (
            "⏳ Not attempted yet: write models/workspace/stg_ecommerce__campaign_orders.sql" in capsys.readouterr().out
        )
        exercises.configure(strict=True)
        try:
            with pytest.raises(ExerciseError, match="Not attempted"):
                check("03.3", ...)
        finally:
            exercises.configure(strict=False)


@pytest.mark.parametrize("exercise_id", sorted(SELECTIONS))
def test_the_solution_passes(project: Path, exercise_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    verdict, out = checked(exercise_id, solution_files(exercise_id), capsys)
    assert verdict, out
    assert "✅ Correct" in out


STAGING = "stg_ecommerce__campaign_orders"
WRONG_STAGING: dict[str, tuple[Callable[[], Files], list[str]]] = {
    "materialization": (
        lambda: changed("02.3", ".sql", "with\n", "{{ config(materialized='table') }}\n\nwith\n"),
        [f"{STAGING} is materialized as `table`; the exercise asks for `view`"],
    ),
    "missing test": (
        lambda: changed("02.3", ".yml", "          - unique\n", ""),
        [f"{STAGING} lacks the test(s) unique on order_id"],
    ),
    "missing accepted_values": (
        lambda: changed(
            "02.3",
            ".yml",
            "        data_tests:\n          - accepted_values:\n              arguments:\n"
            '                values: ["completed", "shipped", "pending", "cancelled", "returned"]\n',
            "",
        ),
        [f"{STAGING} lacks the test(s) accepted_values on order_status"],
    ),
    "hard-coded relation": (
        lambda: changed("02.3", ".sql", "{{ source('ecommerce', 'orders') }}", "raw_data.orders"),
        [
            f"{STAGING} names relations directly (line 6: raw_data.orders)",
            "does not read {{ source('ecommerce', 'orders') }}",
        ],
    ),
    "wrong data": (
        lambda: changed("02.3", ".sql", "    where campaign_id is not null\n", ""),
        ["Rows in your result that should not be there", "💡 Your model keeps the orders that came from no campaign"],
    ),
    "no description": (
        lambda: changed(
            "02.3",
            ".yml",
            "    description: One row per order that a marketing campaign brought in (raw orders with a "
            "campaign_id).\n",
            "",
        ),
        [f"{STAGING} has no description"],
    ),
    "failing test": (
        lambda: changed(
            "02.3", ".sql", "    from source\n", "    from source cross join (values (1), (2)) as twice (n)\n"
        ),
        [f"The test unique_{STAGING}_order_id fails"],
    ),
}


@pytest.mark.parametrize("kind", sorted(WRONG_STAGING))
def test_a_wrong_staging_model_is_rejected_with_its_cause(
    project: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    files, messages = WRONG_STAGING[kind]
    verdict, out = checked("02.3", files(), capsys)
    assert not verdict
    for message in messages:
        assert message in out, out
    assert "cast(" not in out and "where campaign_id" not in out  # the feedback never shows the solution


WRONG_MART: dict[str, tuple[Callable[[], Files], list[str]]] = {
    "materialization of the mart": (
        lambda: changed("03.3", "segment_order_dates.sql", "{{ config(materialized='table') }}\n", ""),
        ["segment_order_dates is materialized as `view`; the exercise asks for `table`"],
    ),
    "materialization of the intermediate": (
        lambda: changed("03.3", "int_customers__order_dates.sql", "{{ config(materialized='ephemeral') }}\n", ""),
        ["int_customers__order_dates is materialized as `view`; the exercise asks for `ephemeral`"],
    ),
    "missing test": (
        lambda: changed("03.3", ".yml", "          - not_null\n", ""),
        ["segment_order_dates lacks the test(s) not_null on customer_segment"],
    ),
    "hard-coded relation": (
        lambda: changed(
            "03.3",
            "segment_order_dates.sql",
            "{{ ref('stg_ecommerce__customers') }}",
            "analytics_dev_staging.stg_ecommerce__customers",
        ),
        [
            "(line 8: analytics_dev_staging.stg_ecommerce__customers)",
            "does not read {{ ref('stg_ecommerce__customers') }}",
        ],
    ),
    "wrong data": (
        lambda: changed("03.3", "int_customers__order_dates.sql", "    where {{ is_revenue_order() }}\n", ""),
        ["segment_order_dates: Column", "💡 Your dates and counts include cancelled and returned orders"],
    ),
    "customers who never bought": (
        lambda: changed(
            "03.3",
            "segment_order_dates.sql",
            "    from order_dates\n    inner join customers on customers.customer_id = order_dates.customer_id\n",
            "    from customers\n    left join order_dates on order_dates.customer_id = customers.customer_id\n",
        ),
        ["segment_order_dates: Column customers differs", "💡 `customers` counts the customers who never bought too"],
    ),
}


@pytest.mark.parametrize("kind", sorted(WRONG_MART))
def test_a_wrong_intermediate_or_mart_is_rejected_with_its_cause(
    project: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    files, messages = WRONG_MART[kind]
    verdict, out = checked("03.3", files(), capsys)
    assert not verdict
    for message in messages:
        assert message in out, out
    assert "is_revenue_order() }}\n" not in out and "inner join customers" not in out  # never the solution


def test_the_debugging_exercise_shows_dbts_error_then_accepts_the_fix(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = build("02.4", starting_files("02.4"))
    error = ecom_tutorial.runner.failure_of(result)
    assert error is not None and "depends on a node named 'stg_ecommerce__order' which was not found" in str(error)
    assert "models/workspace/campaign_order_counts.sql, line 6" in str(error)
    capsys.readouterr()
    assert not check("02.4", None)
    assert "⏳ Not attempted yet: fix the file as dbt's message says" in capsys.readouterr().out

    # dbt could not read the project, so its last manifest shows an older file: never a pass
    half_fixed = changed("02.4", ".sql", "ref('stg_ecommerce__orders')", "ref('stg_ecommerce__orderz')")
    verdict, out = checked("02.4", half_fixed, capsys)
    assert (
        not verdict and "You changed models/workspace/campaign_order_counts.sql since dbt last read the project" in out
    ), out

    verdict, out = checked("02.4", changed("02.4", ".sql", "    where campaign_id is not null\n", ""), capsys)
    assert not verdict and "Rows in your result that should not be there: (campaign_id=NULL)" in out, out
    verdict, out = checked("02.4", solution_files("02.4"), capsys)
    assert verdict, out
