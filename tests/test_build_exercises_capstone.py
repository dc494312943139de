"""Lesson 10, the capstone: each step's check (ecom_tutorial/exercises/lesson_10.py) accepts its solution,
built with dbt in a copy of the project, and rejects a wrong build of each kind with feedback that names the
cause and never shows the solution."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import dbt_target, only_in_the_workspace, verdict_of

import ecom_tutorial
from ecom_tutorial import exercises, workspace
from ecom_tutorial.exercises import ExerciseError, check
from ecom_tutorial.settings import load_settings
from ecom_tutorial.solutions import solution_files

Files = dict[str, str]
STEPS = ("10.1", "10.2", "10.3", "10.4", "10.5")
MODELS = {"10.2": "stg_returns__returns", "10.3": "int_returns__by_order_line", "10.4": "category_returns"}
RANKING = """
    select category, total_refunds, round(100.0 * total_refunds / sum(total_refunds) over (), 1) as refund_share_pct
    from category_returns
    order by {order_by}
"""


def solution_up_to(step: str) -> Files:
    """The files of every step up to this one: each step builds on the previous ones, as in the lesson."""
    files: Files = {}
    for exercise_id in STEPS[: STEPS.index(step) + 1]:
        files.update(solution_files(exercise_id))
    return files


def build(step: str, files: Files, freshness: bool = True) -> None:
    """An empty workspace, then these files, then the dbt commands the lesson runs for this step."""
    only_in_the_workspace(files)
    if step == "10.1":
        if not freshness:  # a learner who never ran it has no results of it
            (load_settings().dbt_target_dir / "sources.json").unlink(missing_ok=True)
        else:
            ecom_tutorial.run_dbt(["source", "freshness", "--select", "source:returns"], progress=False, check=False)
        ecom_tutorial.run_dbt(["build", "--select", "source:returns"], progress=False, check=False)
    elif step == "10.5":
        ecom_tutorial.run_dbt(["parse"], progress=False, check=False)
    else:
        # the models of the earlier steps too: a view is created on relations that exist
        models = [MODELS[earlier] for earlier in STEPS[1 : STEPS.index(step) + 1] if earlier in MODELS]
        ecom_tutorial.run_dbt(["build", "--select", *models], progress=False, check=False)


def checked(step: str, files: Files, capsys: pytest.CaptureFixture[str], freshness: bool = True) -> tuple[bool, str]:
    build(step, files, freshness)
    return verdict_of(step, capsys)


def changed(step: str, file_name: str, old: str, new: str) -> Files:
    """The solution up to `step` with `old` replaced by `new` in one of its files (which must contain `old`)."""
    files = solution_up_to(step)
    (path,) = [path for path in files if path.endswith(file_name)]
    assert old in files[path], f"{old!r} is no longer in the solution's {file_name}: update this test"
    return {**files, path: files[path].replace(old, new)}


def shown_solution_lines(out: str) -> list[str]:
    """Lines of the solution's SQL that the feedback repeats (it never should)."""
    lines = {
        line.strip()
        for exercise_id in STEPS
        for path, text in solution_files(exercise_id).items()
        if path.endswith(".sql")
        for line in text.splitlines()
        if len(line.strip()) > 25 and not line.strip().startswith(("--", "{{ config("))  # config: the engine's advice
    }
    return [line for line in lines if line in out]


def test_nothing_written_is_not_attempted_and_strict_mode_raises(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for item in workspace.files():
        workspace.path(item).unlink()
    with dbt_target(tmp_path / "empty-target"):
        for step in STEPS:
            assert not check(step, ...)
            assert "⏳ Not attempted yet" in capsys.readouterr().out
        exercises.configure(strict=True)
        try:
            with pytest.raises(ExerciseError, match="Not attempted"):
                check("10.4", ...)
        finally:
            exercises.configure(strict=False)


@pytest.mark.parametrize("step", STEPS)
def test_each_steps_solution_passes(project: Path, step: str, capsys: pytest.CaptureFixture[str]) -> None:
    verdict, out = checked(step, solution_up_to(step), capsys)
    assert verdict, out
    assert "✅ Correct" in out


def test_the_final_query_passes_and_its_mistakes_get_their_messages(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build("10.4", solution_up_to("10.4"))
    capsys.readouterr()
    assert check("10.6", RANKING.format(order_by="total_refunds desc")), capsys.readouterr().out
    for order_by, message in (
        ("return_rate_pct desc", "You ranked the categories by how often their lines come back"),
        ("returned_lines desc", "You ranked by the number of returned lines"),
    ):
        assert not check("10.6", RANKING.format(order_by=order_by))
        out = capsys.readouterr().out
        assert message in out, out
    for mistake in exercises.get("10.6").mistakes:  # the registered samples, computed from raw_data
        assert not check("10.6", mistake.sample)
        assert f"💡 {mistake.message}" in capsys.readouterr().out


# (files, whether to run freshness, messages the feedback must contain), per wrong build
Wrong = tuple[Callable[[], Files], bool, list[str]]
SOURCE = "returns.returns"
WRONG: dict[str, dict[str, Wrong]] = {
    "10.1": {
        "no freshness limits": (
            lambda: changed(
                "10.1",
                ".yml",
                "      freshness:\n        warn_after: {count: 7, period: day}\n        error_after: {count: 14, "
                "period: day}\n",
                "",
            ),
            True,
            [f"{SOURCE} has no freshness limits"],
        ),
        "no loaded_at_field": (
            lambda: changed("10.1", ".yml", "      loaded_at_field: _loaded_at\n", ""),
            True,
            [f"{SOURCE} has no `loaded_at_field`"],
        ),
        "missing test": (
            lambda: changed("10.1", ".yml", "              - unique\n", ""),
            True,
            [f"{SOURCE} lacks the test(s) unique on return_id"],
        ),
        "freshness not run": (
            lambda: solution_up_to("10.1"),
            False,
            ["`dbt source freshness` has not checked returns.returns"],
        ),
    },
    "10.2": {
        "materialization": (
            lambda: changed(
                "10.2", "stg_returns__returns.sql", "with\n", "{{ config(materialized='table') }}\n\nwith\n"
            ),
            True,
            ["stg_returns__returns is materialized as `table`; the exercise asks for `view`"],
        ),
        "missing test": (
            lambda: changed(
                "10.2", "_stg_returns__returns.yml", "          - accepted_values:", "          - not_null:"
            ),
            True,
            ["stg_returns__returns lacks the test(s) accepted_values on return_reason"],
        ),
        "hard-coded relation": (
            lambda: changed(
                "10.2", "stg_returns__returns.sql", "{{ source('returns', 'returns') }}", "raw_data.returns"
            ),
            True,
            [
                "stg_returns__returns names relations directly (line 6: raw_data.returns)",
                "does not read {{ source('returns', 'returns') }}",
            ],
        ),
        "wrong data": (
            lambda: changed(
                "10.2", "stg_returns__returns.sql", "cast(returned_at as timestamp)", "cast(returned_at as date)"
            ),
            True,
            ["stg_returns__returns: Column returned_at differs", "💡 returned_at lost its time of day"],
        ),
    },
    "10.3": {
        "materialization": (
            lambda: changed(
                "10.3",
                "int_returns__by_order_line.sql",
                "\nwith\n",
                "\n{{ config(materialized='ephemeral') }}\n\nwith\n",
            ),
            True,
            ["int_returns__by_order_line is materialized as `ephemeral`; the exercise asks for `view`"],
        ),
        "hard-coded relation": (
            lambda: changed(
                "10.3",
                "int_returns__by_order_line.sql",
                "{{ ref('stg_ecommerce__products') }}",
                "analytics_dev_staging.stg_ecommerce__products",
            ),
            True,
            [
                "(line 16: analytics_dev_staging.stg_ecommerce__products)",
                "does not read {{ ref('stg_ecommerce__products') }}",
            ],
        ),
        "a join that multiplies the returns, caught by the unique test": (
            lambda: changed(
                "10.3",
                "int_returns__by_order_line.sql",
                "order_items.order_item_id = returns.order_item_id",
                "order_items.order_id = returns.order_id",
            ),
            True,
            ["The test unique_int_returns__by_order_line_return_id fails"],
        ),
        "a join that multiplies the returns, without the unique test": (
            lambda: {
                **changed(
                    "10.3",
                    "int_returns__by_order_line.sql",
                    "order_items.order_item_id = returns.order_item_id",
                    "order_items.order_id = returns.order_id",
                ),
                "models/workspace/_int_returns__by_order_line.yml": solution_files("10.3")[
                    "models/workspace/_int_returns__by_order_line.yml"
                ].replace("          - unique\n", ""),
            },
            True,
            [
                "lacks the test(s) unique on return_id",
                "Several rows share the same return_id",
                "💡 Each return appears once per line of its order",
            ],
        ),
    },
    "10.4": {
        "materialization": (
            lambda: changed("10.4", "category_returns.sql", "{{ config(materialized='table') }}\n", ""),
            True,
            ["category_returns is materialized as `view`; the exercise asks for `table`"],
        ),
        "missing range test": (
            lambda: changed("10.4", "_category_returns.yml", "ecom_utils.accepted_range", "not_null"),
            True,
            ["category_returns lacks the test(s) accepted_range on return_rate_pct"],
        ),
        "every line counted": (
            lambda: changed(
                "10.4", "category_returns.sql", "    where orders.order_status in ('completed', 'returned')\n", ""
            ),
            True,
            [
                "Column order_lines differs",
                "💡 Your order_lines count every line, cancelled, pending and shipped orders included",
            ],
        ),
        "revenue lines only": (
            lambda: changed(
                "10.4",
                "category_returns.sql",
                "orders.order_status in ('completed', 'returned')",
                "{{ is_revenue_order('orders.order_status') }}",
            ),
            True,
            ["💡 Your order_lines leave out the returned orders"],
        ),
        "integer division": (
            lambda: changed("10.4", "category_returns.sql", "round(100.0 *", "round(100 *"),
            True,
            ["Column return_rate_pct differs", "💡 Every return rate is a whole number"],
        ),
        "refunds multiplied by a join": (
            lambda: changed(
                "10.4",
                "category_returns.sql",
                "    from returns\n    group by 1",
                "    from returns\n    inner join order_items on order_items.order_id = returns.order_id\n    group "
                "by 1",
            ),
            True,
            [
                "Column total_refunds differs",
                "💡 Your refunds or returned lines add up to more than the returns themselves",
            ],
        ),
    },
    "10.5": {
        "no owner": (
            lambda: changed(
                "10.5",
                "returns_review.yml",
                "    owner:\n      name: Category Management\n      email: category-management@example.com\n",
                "",
            ),
            True,
            # dbt itself refuses an exposure without an owner: the project does not parse, the manifest stays old
            ["You changed models/workspace/returns_review.yml since dbt last read the project"],
        ),
        "depends on nothing": (
            lambda: changed("10.5", "returns_review.yml", "    depends_on:\n      - ref('category_returns')\n", ""),
            True,
            ["The exposure returns_review does not depend on {{ ref('category_returns') }}"],
        ),
        "another type": (
            lambda: changed("10.5", "returns_review.yml", "type: analysis", "type: dashboard"),
            True,
            ["The exposure returns_review is of type `dashboard`; the exercise asks for `analysis`"],
        ),
    },
}
CASES = [(step, kind) for step, kinds in WRONG.items() for kind in kinds]


@pytest.mark.parametrize(("step", "kind"), CASES, ids=[f"{step} {kind}" for step, kind in CASES])
def test_a_wrong_build_is_rejected_with_its_cause(
    project: Path, step: str, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    files, freshness, messages = WRONG[step][kind]
    verdict, out = checked(step, files(), capsys, freshness)
    assert not verdict, out
    for message in messages:
        assert message in out, out
    assert shown_solution_lines(out) == [], out  # the feedback never shows the solution
