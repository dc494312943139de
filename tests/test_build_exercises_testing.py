"""Lesson 09's "build it" and "debug it" exercises (ecom_tutorial/exercises/lesson_09.py), built with dbt in a
copy of the project: each solution passes, and each wrong build is rejected with its cause in the feedback:
a singular test that cannot fail or reads nothing, a contract not enforced or a column without data_type, a
unit test missing, failing or without the band limits, a contract changed to fit the SQL instead of the SQL.
And the query exercise 09.1, once the lesson has repaired the data: an empty result never passes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import (
    build_in_the_workspace,
    notebook_solutions,
    only_in_the_workspace,
    solution_changed,
    verdict_of,
)

import ecom_tutorial
from ecom_tutorial.exercises import check
from ecom_tutorial.exercises.lesson_09 import save_production_state
from ecom_tutorial.settings import load_settings
from ecom_tutorial.solutions import solution_files, starting_files

Files = dict[str, str]
SELECTIONS = {
    "09.3": ["assert_no_order_before_signup"],
    "09.4": ["order_size_bands"],
    "09.5": ["customer_revenue_summary"],
}
# what the feedback must never show: the heart of each solution
SOLUTION_SNIPPETS = ("ordered_at < ", "when units <= 5", "min(date_key)", "as lifetime_revenue")


def build(exercise_id: str, files: Files) -> ecom_tutorial.DbtResult:
    """An empty workspace, then these files, then `dbt build` of the exercise's nodes (a failure is kept)."""
    return build_in_the_workspace(files, SELECTIONS[exercise_id])


def checked(exercise_id: str, files: Files, capsys: pytest.CaptureFixture[str]) -> tuple[bool, str]:
    build(exercise_id, files)
    verdict, out = verdict_of(exercise_id, capsys)
    for snippet in SOLUTION_SNIPPETS:
        assert snippet not in out, f"the feedback shows the solution ({snippet!r}):\n{out}"
    return verdict, out


@pytest.mark.parametrize("exercise_id", sorted(SELECTIONS))
def test_the_solution_passes(project: Path, exercise_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    verdict, out = checked(exercise_id, solution_files(exercise_id), capsys)
    assert verdict, out
    assert "✅ Correct" in out


TEST = "assert_no_order_before_signup"
WRONG_SINGULAR_TEST: dict[str, tuple[Callable[[], Files], list[str]]] = {
    "cannot fail": (
        lambda: solution_changed(
            "09.3", ".sql", ("select * from orders_before_signup", "select * from orders_before_signup where false")
        ),
        [
            f"Your test {TEST} passes on the data, as it should, but it would pass just as well on data that breaks "
            "the rule"
        ],
    ),
    "reads nothing": (
        lambda: {f"tests/workspace/{TEST}.sql": "select 1 as order_id where false"},
        [f"{TEST} does not read {{{{ ref('fact_orders') }}}}", f"{TEST} does not read {{{{ ref('dim_customers') }}}}"],
    ),
    "hard-coded relation": (
        lambda: solution_changed("09.3", ".sql", ("{{ ref('dim_customers') }}", "analytics_dev.dim_customers")),
        [f"{TEST} names relations directly (line 12: analytics_dev.dim_customers)"],
    ),
    "fails on the data": (
        lambda: solution_changed(
            "09.3", ".sql", ("orders.ordered_at < customers.signed_up_at", "orders.ordered_at > customers.signed_up_at")
        ),
        [f"The test {TEST} fails", "A singular test returns the rows that break its rule"],
    ),
}


@pytest.mark.parametrize("kind", sorted(WRONG_SINGULAR_TEST))
def test_a_wrong_singular_test_is_rejected_with_its_cause(
    project: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    files, messages = WRONG_SINGULAR_TEST[kind]
    verdict, out = checked("09.3", files(), capsys)
    assert not verdict
    for message in messages:
        assert message in out, out


BANDS = "order_size_bands"
UNIT_TEST = "order_size_bands_at_the_band_limits"


def _without_unit_tests() -> Files:
    files = solution_files("09.4")
    (path,) = [path for path in files if path.endswith(".yml")]
    return {**files, path: files[path].split("\nunit_tests:")[0]}


WRONG_BANDS: dict[str, tuple[Callable[[], Files], list[str]]] = {
    "contract not enforced": (
        lambda: solution_changed("09.4", ".yml", ("enforced: true", "enforced: false")),
        [f"{BANDS} has no enforced contract"],
    ),
    "a column without data_type": (
        # without a contract: with one, dbt itself refuses to build (tested in the debugging exercise)
        lambda: solution_changed(
            "09.4", ".yml", ("enforced: true", "enforced: false"), ("        data_type: text\n", "")
        ),
        [f"{BANDS} lacks it for: size_band"],
    ),
    "no unit test": (
        _without_unit_tests,
        [f"dbt does not know {UNIT_TEST} yet"],
    ),
    "unit test not mocking the input": (
        # dbt itself refuses a unit test without a `given:` for each input of the model
        lambda: solution_changed("09.4", ".yml", ("input: ref('fact_orders')", "input: ref('dim_customers')")),
        [f"The unit test {UNIT_TEST} does not mock {{{{ ref('fact_orders') }}}} under `given:`", "which was not found"],
    ),
    "failing unit test": (
        lambda: solution_changed("09.4", ".yml", ("{order_id: 4, size_band: small}", "{order_id: 4, size_band: bulk}")),
        [f"The unit test {UNIT_TEST} fails", "bulk"],
    ),
    "unit test without a band limit": (
        lambda: solution_changed(
            "09.4",
            ".yml",
            ("          - {order_id: 4, units: 5, order_total: 50}\n", ""),
            ("        - {order_id: 4, size_band: small}\n", ""),
        ),
        [f"The unit test {UNIT_TEST} gives no order with 5 unit(s)"],
    ),
    "wrong band at a limit": (
        lambda: {
            **solution_changed("09.4", ".sql", ("when units <= 5", "when units < 5")),
            **{
                path: text
                for path, text in solution_changed(
                    "09.4", ".yml", ("{order_id: 4, size_band: small}", "{order_id: 4, size_band: bulk}")
                ).items()
                if path.endswith(".yml")
            },
        },
        [f"{BANDS}: Column size_band differs", "💡 Orders with exactly 5 units are in the wrong band"],
    ),
    "materialization": (
        lambda: solution_changed("09.4", ".sql", ("{{ config(materialized='table') }}\n", "")),
        [f"{BANDS} is materialized as `view`; the exercise asks for `table`"],
    ),
}


@pytest.mark.parametrize("kind", sorted(WRONG_BANDS))
def test_a_wrong_contract_or_unit_test_is_rejected_with_its_cause(
    project: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    files, messages = WRONG_BANDS[kind]
    verdict, out = checked("09.4", files(), capsys)
    assert not verdict
    for message in messages:
        assert message in out, out


SUMMARY = "customer_revenue_summary"


def test_the_contract_mismatch_shows_dbts_error_then_accepts_only_a_fix_of_the_sql(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = build("09.5", starting_files("09.5"))
    error = ecom_tutorial.runner.failure_of(result)
    assert error is not None and "This model has an enforced contract that failed." in str(error)
    for line in (
        "| first_order_date | DATETIME",
        "| lifetime_revenue |                 | DECIMAL       | missing in definition",
        "| revenue          | DECIMAL         |               | missing in contract",
    ):
        assert line in str(error), str(error)
    capsys.readouterr()
    assert not check("09.5", None)
    assert "⏳ Not attempted yet: fix the file as dbt's message says" in capsys.readouterr().out

    sql, yml = (f"models/workspace/{SUMMARY}.sql", f"models/workspace/_{SUMMARY}.yml")
    start = starting_files("09.5")
    # the contract removed: the broken SQL builds, and is rejected
    no_contract = {**start, yml: start[yml].replace("enforced: true", "enforced: false")}
    verdict, out = checked("09.5", no_contract, capsys)
    assert not verdict and f"{SUMMARY} has no enforced contract" in out, out

    # the contract changed to fit the SQL: it builds, and is rejected with the reason
    fitted = {
        **start,
        yml: start[yml]
        .replace("name: lifetime_revenue", "name: revenue")
        .replace("data_type: date", "data_type: timestamp"),
    }
    verdict, out = checked("09.5", fitted, capsys)
    assert not verdict and "Missing column(s): lifetime_revenue" in out, out
    assert (
        f"💡 The dashboard that reads {SUMMARY} relies on its contract" in out
        and "Fix the SQL, not the contract" in out
    )

    # half fixed (the name only): dbt still refuses to build, and so does the check
    half = solution_changed("09.5", ".sql", ("min(date_key)", "min(ordered_at)"))
    verdict, out = checked("09.5", half, capsys)
    assert not verdict and f"The last build of {SUMMARY} failed" in out and "data type mismatch" in out, out

    verdict, out = checked("09.5", solution_files("09.5"), capsys)
    assert verdict, out
    assert solution_files("09.5")[yml] == start[yml]  # the contract was right: only the SQL changes
    assert solution_files("09.5")[sql] != start[sql]


BAD_ORDER_ID = -1  # as in notebooks/solutions/09_testing_and_docs.ipynb
KNOWN = "('completed', 'shipped', 'pending', 'cancelled', 'returned')"


def test_09_1_rejects_an_empty_result_after_the_repair_and_the_raw_table_always(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scope: dict[str, object] = {}
    exec(notebook_solutions(["09"])["09.1"], scope)  # noqa: S102 - our own notebook cell
    staging = str(scope["answer"])
    raw = f"select order_id, status as order_status from raw_data.orders where status not in {KNOWN}"
    # the bad order is not in the data (the repair cell deleted it): nothing empty passes, and the feedback says why
    for answer in (staging, raw, "select order_id, order_status from stg_ecommerce__orders where false"):
        capsys.readouterr()
        assert not check("09.1", answer)
        out = capsys.readouterr().out
        assert f"Rows missing from your result: (order_id={BAD_ORDER_ID})" in out, out
        assert "The repair cell has deleted the bad order already" in out, out
    insert = (
        "insert into raw_data.orders (order_id, customer_id, order_date, status, campaign_id, discount_amount, "
        "total_amount,"
        " updated_at) values (%s, 1, '2024-06-01 12:00', 'lost_in_transit', null, 0, 0, '2024-06-01 12:00')"
    )
    with ecom_tutorial.connection() as conn, conn.cursor() as cur:
        cur.execute(insert, (BAD_ORDER_ID,))
    try:
        capsys.readouterr()
        assert check("09.1", staging), capsys.readouterr().out
        # the raw table holds the same row, but the test (and so the answer) reads the staging model
        capsys.readouterr()
        assert not check("09.1", raw)
        assert "the exercise asks you to use stg_ecommerce__orders" in capsys.readouterr().out
    finally:
        with ecom_tutorial.connection() as conn, conn.cursor() as cur:
            cur.execute("delete from raw_data.orders where order_id = %s", (BAD_ORDER_ID,))


def test_09_6_governance_accepts_its_solution_and_names_what_is_missing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    select = ["int_finance__monthly_revenue+"]
    build_in_the_workspace(solution_files("09.6"), select)
    verdict, out = verdict_of("09.6", capsys)
    assert verdict, out

    public_step = solution_changed("09.6", "_finance.yml", ("      access: private", "      access: public"))
    build_in_the_workspace(public_step, select)
    verdict, out = verdict_of("09.6", capsys)
    assert not verdict and "int_finance__monthly_revenue's config `access` is `public`" in out, out

    no_date = solution_changed("09.6", "_finance.yml", ("        deprecation_date: 2030-12-31\n", ""))
    build_in_the_workspace(no_date, select)
    verdict, out = verdict_of("09.6", capsys)
    assert not verdict and "Give version 1 a `deprecation_date`" in out, out


def test_09_7_slim_ci_accepts_the_pull_request_alone_on_clones_and_names_what_is_missing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    only_in_the_workspace(solution_files("09.7"))
    prod_state = save_production_state()  # without the pull request's model, even though it is written
    ci = ["--target", "ci", "--state", prod_state]
    slim_build = ["build", "--select", "state:modified+", *ci]
    with ecom_tutorial.connection() as conn, conn.cursor() as cur:
        cur.execute(f'drop schema if exists "{load_settings().db_schema}_ci" cascade')

    ecom_tutorial.run_dbt([*slim_build, "--defer"], progress=False)  # builds, reading production: no clone
    verdict, out = verdict_of("09.7", capsys)
    assert not verdict and "has no clone of production's fact_orders" in out, out

    ecom_tutorial.run_dbt(["clone", "--select", "+state:modified", *ci], progress=False)
    result = ecom_tutorial.run_dbt(slim_build, progress=False)
    assert result.table.query("type == 'model'")["node"].tolist() == ["order_status_summary"]
    verdict, out = verdict_of("09.7", capsys)
    assert verdict, out

    ecom_tutorial.run_dbt(["build", "--select", "order_status_summary", *ci], progress=False)
    verdict, out = verdict_of("09.7", capsys)
    assert not verdict and "select what the pull request changed" in out, out

    ecom_tutorial.run_dbt(["build", "--select", "order_status_summary"], progress=False)  # in production
    verdict, out = verdict_of("09.7", capsys)
    assert not verdict and "ran in the target 'dev'" in out, out

    fact_orders = project / "models" / "marts" / "core" / "fact_orders.sql"
    original = fact_orders.read_text()
    try:  # production changed since its state was saved: the slim build is not slim any more
        fact_orders.write_text(original + "\n-- changed after production's state was saved\n")
        # its tests fail too: the clone holds only what the pull request reads, not what fact_orders' tests read
        ecom_tutorial.run_dbt(slim_build, progress=False, check=False)
    finally:
        fact_orders.write_text(original)
    verdict, out = verdict_of("09.7", capsys)
    assert not verdict and "besides the pull request's (" in out and "Save production's state again" in out, out
