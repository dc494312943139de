"""Feedback that teaches and cannot be gamed: no expected value given away, answers that must query the
warehouse, what the exercise's text requires (relations, ref(), rounding), mistakes recognised by their
cause in the SQL, a deeper hint, dbt's own compile errors, and a verdict displayed once."""

from __future__ import annotations

from collections.abc import Iterator

import nbformat
import pandas as pd
import pytest

from ecom_tutorial import exercises, load_settings
from ecom_tutorial.exercises import (
    Exercise,
    Mistake,
    Verdict,
    check,
    compare,
    has_window_without_partition,
    hint,
    how_far,
    reads_relation,
    uses_function,
)
from ecom_tutorial.exercises.build_checks import BuildExercise, ModelCheck
from ecom_tutorial.exercises.sql_answers import bare_relations, parse, relations_read

# --------------------------------------------------------------------------- no value given away: no database


@pytest.mark.parametrize(
    ("yours", "expected", "words"),
    [
        (343, 342, "too high by less than 1 %"),
        (330, 342, "too low by 1 to 5 %"),
        (9412, 9988, "too low by 5 to 20 %"),
        (130, 100, "too high by 20 to 50 %"),
        (30, 100, "too low by 50 to 100 %"),
        (250, 100, "too high: more than twice the expected value"),
        (-5, 100, "too low: it has the wrong sign"),
        (3, 0, "too high"),
        (None, 1, "NULL where a value is expected"),
        (pd.Timestamp("2024-01-05"), pd.Timestamp("2024-01-02"), "too late by 1 to 7 days"),
        ("b", "a", "not the expected value"),
    ],
)
def test_how_far_says_the_direction_and_a_band_never_the_value(yours: object, expected: object, words: str) -> None:
    assert how_far(yours, expected) == words


def test_a_single_value_is_never_told_the_expected_one() -> None:
    problems = compare(pd.DataFrame({"customers": [343]}), pd.DataFrame({"customers": [342]})).problems
    assert problems == ["Your customers is 343: too high by less than 1 %."]
    assert "342" not in problems[0]


def test_differing_columns_show_yours_and_the_direction_not_the_expected_values() -> None:
    expected = pd.DataFrame({"segment": ["a", "b", "c"], "revenue": [100.0, 200.0, 300.0]})
    attempt = pd.DataFrame({"segment": ["a", "b", "c"], "revenue": [110.0, 230.0, 300.0]})
    problems = compare(attempt, expected, key=("segment",)).problems
    assert problems == [
        "Column revenue differs in 2 row(s) (all too high), e.g. segment='a': yours 110 (too high by 5 to 20 %); "
        "segment='b': yours 230 (too high by 5 to 20 %)."
    ]
    assert "200" not in problems[0]


def test_missing_rows_are_named_by_group_but_only_counted_when_the_key_is_the_answer() -> None:
    grouped = compare(
        pd.DataFrame({"year": [2023], "orders": [5]}),
        pd.DataFrame({"year": [2023, 2024], "orders": [5, 6]}),
        key=("year",),
    ).problems
    assert "Rows missing from your result: (year=2024)." in grouped
    listed = compare(
        pd.DataFrame({"model": ["fact_orders"]}), pd.DataFrame({"model": ["fact_orders", "dim_secret"]}), key=("model",)
    ).problems
    assert "1 row(s) of the expected result are missing from yours." in listed
    assert not any("dim_secret" in problem for problem in listed)


def test_unkeyed_differences_show_only_your_rows_and_the_columns_that_differ() -> None:
    problems = compare(
        pd.DataFrame({"a": [1, 2], "b": ["x", "z"]}), pd.DataFrame({"a": [1, 2], "b": ["x", "secret"]})
    ).problems
    assert problems == [
        "1 of your row(s) differ from the expected ones (after sorting both), in the column(s) b: e.g. your row 2: "
        "(2, 'z')."
    ]


# --------------------------------------------------------------------------- reading the SQL: no database


def test_relations_read_skip_ctes_values_and_table_functions() -> None:
    tree = parse(
        "with orders as (select * from raw_data.orders) "
        "select * from orders join dim_customers using (customer_id), generate_series(1, 3) as g(n)"
    )
    assert relations_read(tree) == ["raw_data.orders", "dim_customers"]
    assert relations_read(parse("select * from (values (1), (2)) as v(n)")) == []
    assert relations_read(parse("select 42 as n")) == []


def test_bare_relations_are_the_names_not_read_through_jinja() -> None:
    assert bare_relations("select * from {{ ref('fact_orders') }} join dim_customers using (customer_id)") == [
        "dim_customers"
    ]
    assert bare_relations("select * from {{ ref('fact_orders') }} as o") == []


def test_the_predicates_for_mistakes_read_the_sql() -> None:
    windowed = parse(
        "select sum(x) over (order by d), rank() over (partition by c order by x) from analytics.fact_orders"
    )
    assert has_window_without_partition()(windowed)
    assert not has_window_without_partition()(parse("select rank() over (partition by c order by x) from t"))
    assert reads_relation("fact_orders")(windowed) and reads_relation("analytics.fact_orders")(windowed)
    assert not reads_relation("dim_date")(windowed)
    assert uses_function("sum")(windowed) and uses_function("RANK")(windowed) and not uses_function("max")(windowed)
    assert uses_function("calculate_days_between")(parse("select calculate_days_between(a, b) from t"))


# --------------------------------------------------------------------------- verdict and hint: no database


def test_a_verdict_is_truthy_when_passed_and_displays_nothing_more() -> None:
    assert Verdict(True) and not Verdict(False)
    assert Verdict(False).passed is False
    assert Verdict(True)._ipython_display_() is None  # Jupyter then shows no Out[n]: the verdict was printed


@pytest.fixture
def toy_exercises() -> Iterator[None]:
    """A query exercise on the warehouse and a build exercise, registered for the test only."""
    exercises.register(
        Exercise(
            id="99.2",
            title="Orders per status",
            expected="select status, count(*) as orders from raw_data.orders group by 1",
            key=("status",),
            hint="Count the orders per status.",
            next_step="Group raw_data.orders by status and count(*) each group.",
        ),
        BuildExercise(
            id="99.3",
            title="A toy build",
            models=(ModelCheck(name="toy_model_never_built", materialized="view"),),
            build='run_dbt(["build", "--select", "toy_model_never_built"])',
            hint="Write it.",
        ),
    )
    exercises.configure(strict=False)
    yield
    for exercise_id in ("99.2", "99.3", "99.4"):
        exercises._REGISTRY.pop(exercise_id, None)
    exercises.configure(None)


def test_hint_gives_the_next_step_or_says_honestly_there_is_none(
    toy_exercises: None, capsys: pytest.CaptureFixture[str]
) -> None:
    hint("99.2")
    out = capsys.readouterr().out
    assert "🔎 Next step: Group raw_data.orders by status and count(*) each group." in out
    hint("99.3")  # a build exercise without a next step
    out = capsys.readouterr().out
    assert "No further hint for this exercise" in out and "Write it." in out


def test_a_dataframe_is_refused_where_the_exercise_asks_for_sql(
    toy_exercises: None, capsys: pytest.CaptureFixture[str]
) -> None:
    typed_in = pd.DataFrame({"status": ["completed"], "orders": [1]})
    assert not check("99.2", typed_in)
    assert "check() needs your SQL, not its result" in capsys.readouterr().out


# --------------------------------------------------------------------------- on the warehouse


@pytest.mark.usefixtures("built_warehouse", "toy_exercises")
def test_an_answer_must_query_the_warehouse(capsys: pytest.CaptureFixture[str]) -> None:
    right = "select status, count(*) as orders from raw_data.orders group by 1"
    typed = exercises.run_sql(right)
    values = ", ".join(f"('{row.status}', {row.orders})" for row in typed.itertuples())
    for answer in (
        f"select * from (values {values}) as v(status, orders)",
        "select 'completed' as status, generate_series(1, 3) as orders",
        "select relname as status, 1 as orders from pg_class",
    ):
        assert not check("99.2", answer)
        out = capsys.readouterr().out
        assert "Your SQL reads no table of the warehouse" in out, out
    assert check("99.2", right)
    # a JupySQL result (`%sql result << ...`) is checked on the SQL it ran, never on its rows alone
    result_set = type("ResultSet", (), {"DataFrame": lambda self: typed})
    with_sql = result_set()
    with_sql._statement = right
    assert check("99.2", with_sql)
    assert not check("99.2", result_set())
    assert "check() needs your SQL, not its result" in capsys.readouterr().out


@pytest.mark.usefixtures("built_warehouse", "toy_exercises")
def test_reads_ref_and_decimals_are_enforced(capsys: pytest.CaptureFixture[str]) -> None:
    exercises.register(
        Exercise(
            id="99.4",
            title="Average order value per status",
            expected="select order_status, round(avg(order_total), 2) as average from stg_ecommerce__orders group by 1",
            key=("order_status",),
            reads=("stg_ecommerce__orders",),
            uses_ref=True,
            decimals=2,
        )
    )
    right = (
        "select order_status, round(avg(order_total), 2) as average from {{ ref('stg_ecommerce__orders') }} group by 1"
    )
    assert check("99.4", right), capsys.readouterr().out
    capsys.readouterr()

    raw = (
        "select lower(trim(status)) as order_status, round(avg(total_amount), 2) as average "
        "from raw_data.orders group by 1"
    )
    assert not check("99.4", raw)
    out = capsys.readouterr().out
    assert "Your SQL reads orders; the exercise asks you to use stg_ecommerce__orders." in out, out
    assert "Your SQL names raw_data.orders directly" in out

    bare = "select order_status, round(avg(order_total), 2) as average from stg_ecommerce__orders group by 1"
    assert not check("99.4", bare)
    out = capsys.readouterr().out
    assert "the right values, but not as the exercise asks" in out, out
    assert "{{ ref('stg_ecommerce__orders') }}" in out

    unrounded = "select order_status, avg(order_total) as average from {{ ref('stg_ecommerce__orders') }} group by 1"
    assert not check("99.4", unrounded)
    out = capsys.readouterr().out
    assert "average has values with more than 2 decimal(s)" in out and "round(x, 2)" in out, out


@pytest.mark.usefixtures("built_warehouse", "toy_exercises")
def test_a_mistake_is_recognised_by_its_cause_before_its_result(capsys: pytest.CaptureFixture[str]) -> None:
    counted_all = "select status, count(*) + 1 as orders from raw_data.orders group by 1"
    exercises.register(
        Exercise(
            id="99.4",
            title="Orders per status",
            expected="select status, count(*) as orders from raw_data.orders group by 1",
            key=("status",),
            mistakes=(
                # result-based, but its cause is visible in SQL: it needs a join, which the answer lacks
                Mistake("You joined the order lines.", counted_all, in_sql=lambda tree: "join" in tree.sql().lower()),
                Mistake("You added something to count(*).", in_sql=lambda tree: "count(*) +" in tree.sql().lower()),
            ),
            hint="Count the orders per status.",
        )
    )
    assert not check("99.4", counted_all)
    out = capsys.readouterr().out
    assert "💡 You added something to count(*)." in out, out
    assert "You joined the order lines" not in out  # its result matches, but the SQL shows no join


@pytest.mark.usefixtures("built_warehouse", "toy_exercises")
def test_a_jinja_error_in_an_answer_shows_dbt_s_own_words(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check("99.2", "select status, count(*) as orders from {{ ref('stg_ecommerce__orders' }} group by 1")
    out = capsys.readouterr().out
    assert "unexpected '}', expected ')'" in out and "Error parsing inline query" in out, out
    assert "The error is in the Jinja of your SQL" in out
    assert "<your SQL>" in out and "ecom-tutorial build" not in out


def test_the_advice_under_an_inline_query_s_error_fits_it() -> None:
    from ecom_tutorial.runner import _advice, _shown_command

    settings = load_settings()
    command = ["show", "--inline", "select * from nope"]
    assert _shown_command(command) == "show --inline <your SQL>"
    ran = _advice([("inline_query", 'relation "nope" does not exist')], None, settings, command, "")
    assert ran.startswith("The error is in your SQL") and "ecom-tutorial build" not in ran
    jinja = _advice([], RuntimeError("Error parsing inline query"), settings, command, "unexpected '}'")
    assert jinja.startswith("The error is in the Jinja of your SQL")
    missing = "depends on a node named 'stg_orderz' which was not found"
    assert _advice([], None, settings, command, missing).startswith(
        "`ref('stg_orderz')` names a model that does not exist"
    )


# --------------------------------------------------------------------------- in a real kernel


def test_check_shows_its_verdict_once_with_no_trailing_out_in_a_kernel() -> None:
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import pandas as pd\n"
            "from ecom_tutorial import exercises\n"
            "from ecom_tutorial.exercises import Exercise, check\n"
            "exercises.register(Exercise('99.5', 'Toy', lambda: pd.DataFrame({'n': [1]})))"
        ),
        nbformat.v4.new_code_cell("check('99.5', pd.DataFrame({'n': [1]}))"),
        nbformat.v4.new_code_cell("check('99.5', pd.DataFrame({'n': [2]}))"),
    ]
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    for cell, verdict in zip(notebook.cells[1:], ("✅ Correct", "❌ Your n is 2: too high"), strict=False):
        assert [output["output_type"] for output in cell.outputs] == ["stream"], cell.outputs
        assert verdict in cell.outputs[0]["text"] and "True" not in cell.outputs[0]["text"]
