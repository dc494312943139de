"""The query exercises of lessons 02 and 03 enforce what their text asks (the staging views, `{{ ref() }}`,
the rounding, the row order), recognise typical mistakes by their cause in the SQL, and `hint()` goes a
step deeper than the hint a failed check prints. (tests/test_exercise_checks.py checks that each solution
passes and each mistake's own example is recognised; this file checks the requirements and that a cause
is recognised in SQL written differently from that example.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import notebook_solutions

from ecom_tutorial import exercises
from ecom_tutorial.exercises import Exercise, check, hint
from ecom_tutorial.exercises.sql_answers import parse, prepare_sql

LESSONS = ("02", "03")
IDS = sorted(notebook_solutions(LESSONS))
QUERY_IDS = [exercise_id for exercise_id in IDS if isinstance(exercises.get(exercise_id), Exercise)]


@pytest.fixture
def lenient(built_warehouse: object) -> Iterator[None]:
    """A failed check prints its feedback instead of raising."""
    exercises.configure(strict=False)
    yield
    exercises.configure(None)


def feedback(exercise_id: str, answer: str, capsys: pytest.CaptureFixture[str]) -> tuple[bool, str]:
    capsys.readouterr()
    verdict = bool(check(exercise_id, answer))
    return verdict, capsys.readouterr().out


def solution(exercise_id: str) -> str:
    namespace: dict[str, object] = {}
    exec(notebook_solutions(LESSONS)[exercise_id], namespace)  # noqa: S102 - our own notebook cells
    answer = namespace["answer"]
    assert isinstance(answer, str)
    return answer


# --------------------------------------------------------------------------- hint(): no database


@pytest.mark.parametrize("exercise_id", IDS)
def test_hint_gives_a_deeper_step_than_the_hint_a_failed_check_prints(
    exercise_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    exercise = exercises.get(exercise_id)
    assert exercise.hint and exercise.next_step, "give the exercise both a hint and a next_step"
    assert len(exercise.next_step) > len(exercise.hint) and exercise.next_step not in exercise.hint
    hint(exercise_id)
    out = capsys.readouterr().out
    assert f"🔎 Next step: {exercise.next_step}" in out


# --------------------------------------------------------------------------- what the text requires

STAGING_JOIN = """
    select
        customers.customer_segment,
        count(*) as orders,
        {average} as average_order_value
    from {orders} as orders
    inner join {customers} as customers on customers.customer_id = orders.customer_id
    where orders.order_status not in ('cancelled', 'returned')
    group by 1
"""


def test_02_1_an_unrounded_average_is_rejected_with_the_rounding_asked_for(
    lenient: None, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = STAGING_JOIN.format(
        average="avg(orders.order_total)", orders="stg_ecommerce__orders", customers="stg_ecommerce__customers"
    )
    verdict, out = feedback("02.1", answer, capsys)
    assert verdict is False
    assert "Your result has the right values, but not as the exercise asks" in out
    assert "average_order_value has values with more than 2 decimal(s)" in out and "round(x, 2)" in out


def test_02_1_the_raw_tables_instead_of_the_staging_views_are_rejected(
    lenient: None, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = """
        select lower(trim(customers.segment)) as customer_segment, count(*) as orders,
               round(avg(orders.total_amount), 2) as average_order_value
        from raw_data.orders
        inner join raw_data.customers on customers.customer_id = orders.customer_id
        where orders.status not in ('cancelled', 'returned')
        group by 1
    """
    verdict, out = feedback("02.1", answer, capsys)
    assert verdict is False
    assert "the exercise asks you to use stg_ecommerce__orders, stg_ecommerce__customers" in out, out


def test_02_2_models_named_without_ref_are_rejected(lenient: None, capsys: pytest.CaptureFixture[str]) -> None:
    answer = solution("02.2")
    for model in ("stg_ecommerce__orders", "stg_ecommerce__customers"):
        answer = answer.replace(f"{{{{ ref('{model}') }}}}", model)
    assert "ref(" not in answer
    verdict, out = feedback("02.2", answer, capsys)
    assert verdict is False
    assert "Your SQL names stg_ecommerce__orders, stg_ecommerce__customers directly" in out, out
    assert "{{ ref('stg_ecommerce__orders') }}" in out


def test_02_2_and_03_2_unrounded_answers_are_rejected(lenient: None, capsys: pytest.CaptureFixture[str]) -> None:
    for exercise_id, column in (("02.2", "avg_days_to_first_order"), ("03.2", "revenue_share_pct")):
        rounded = solution(exercise_id)
        answer = rounded.replace("), 1)", "), 4)")  # four decimals where the text asks for one
        assert answer != rounded
        verdict, out = feedback(exercise_id, answer, capsys)
        assert verdict is False and f"{column} has values with more than 1 decimal(s)" in out, out


def test_03_1_the_row_order_is_checked(lenient: None, capsys: pytest.CaptureFixture[str]) -> None:
    answer = f"select * from ({solution('03.1')}) as top_ten order by customer_id"
    verdict, out = feedback("03.1", answer, capsys)
    assert verdict is False and "The rows are right but in a different order" in out, out


# --------------------------------------------------------------------------- mistakes recognised by their cause


def test_02_1_a_join_to_the_order_lines_is_recognised_whatever_else_is_wrong(
    lenient: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """No status filter AND the order lines joined: the result matches no mistake's result, the SQL shows the
    fan-out."""
    answer = """
        select customers.customer_segment, count(*) as orders, round(avg(orders.order_total), 2) as average_order_value
        from stg_ecommerce__orders as orders
        inner join stg_ecommerce__customers as customers using (customer_id)
        left join stg_ecommerce__order_items as lines on lines.order_id = orders.order_id
        group by 1
    """
    verdict, out = feedback("02.1", answer, capsys)
    assert verdict is False and "💡 You joined the order lines" in out, out


def test_02_2_the_last_order_and_reversed_days_are_recognised_in_the_sql(
    lenient: None, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = solution("02.2").replace("min(order_date)", "max(order_date)")
    verdict, out = feedback("02.2", answer, capsys)
    assert verdict is False and "💡 You measured to the LAST order (max)" in out, out
    answer = solution("02.2").replace(
        "calculate_days_between('customers.signup_date', 'first_orders.first_order_date')",
        "calculate_days_between('first_orders.first_order_date', 'customers.signup_date')",
    )
    verdict, out = feedback("02.2", answer, capsys)
    assert verdict is False and "💡 The days are negative: the macro's arguments are (start, end)" in out, out


def test_03_1_lifetime_value_recomputed_without_the_revenue_filter_is_recognised(
    lenient: None, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = """
        with totals as (
            select customer_id, count(*) as total_orders, sum(order_total) as lifetime_value
            from stg_ecommerce__orders
            group by customer_id
        )
        select totals.customer_id, customers.customer_name, totals.total_orders, totals.lifetime_value
        from totals
        inner join stg_ecommerce__customers as customers on customers.customer_id = totals.customer_id
        order by totals.lifetime_value desc, totals.customer_id
        limit 10
    """
    verdict, out = feedback("03.1", answer, capsys)
    assert verdict is False and "💡 You re-computed lifetime value from the orders" in out, out
    # the same re-computation with the filter is right: no mistake to report
    filtered = answer.replace(
        "group by customer_id", "where order_status not in ('cancelled', 'returned')\n group by customer_id"
    )
    verdict, out = feedback("03.1", filtered, capsys)
    assert verdict is True, out


@pytest.mark.parametrize("exercise_id", QUERY_IDS)
def test_no_cause_is_seen_in_the_solution(lenient: None, exercise_id: str) -> None:
    """A mistake recognised by its SQL must not be seen in a right answer: a learner whose SQL is right in that
    respect but wrong elsewhere would read a cause that is not theirs."""
    exercise = exercises.get(exercise_id)
    assert isinstance(exercise, Exercise)
    tree = parse(prepare_sql(solution(exercise_id)))
    assert tree is not None
    seen = [mistake.message for mistake in exercise.mistakes if mistake.in_sql is not None and mistake.in_sql(tree)]
    assert seen == []
