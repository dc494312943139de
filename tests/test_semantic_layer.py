"""The semantic layer (dbt_project/models/semantic): MetricFlow validates it against the warehouse, and each
metric equals what the marts compute the same way, at every grain asked; lesson 12's exercises check an
answer's SQL (12.1) and a learner's own metric on what MetricFlow computes with it (12.2)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from conftest import only_in_the_workspace, verdict_of

from ecom_tutorial import metrics, query, run_dbt
from ecom_tutorial.exercises import check
from ecom_tutorial.solutions import solution_files

pytestmark = pytest.mark.slow

METRICS = ["revenue", "orders", "average_order_value", "cumulative_revenue", "gross_margin"]


@pytest.fixture(scope="module")
def yearly(built_warehouse: dict[str, object]) -> pd.DataFrame:
    """Every metric by year, from MetricFlow, keyed by the year."""
    frame = metrics.query_metrics(METRICS, "metric_time__year")
    frame["year"] = pd.to_datetime(frame["metric_time__year"]).dt.year
    return frame.set_index("year").sort_index()


def as_floats(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.apply(lambda column: column.map(lambda value: float(value) if isinstance(value, Decimal) else value))


def test_metricflow_validates_the_semantic_models_and_metrics_against_the_warehouse(
    built_warehouse: dict[str, object],
) -> None:
    report = metrics.validate_configs()
    for step in ("the semantics of built manifest", "semantic models against data warehouse", "metrics against data"):
        assert f"Successfully validated {step}" in report, report


def test_revenue_and_orders_by_year_equal_the_monthly_mart(yearly: pd.DataFrame) -> None:
    mart = as_floats(
        query(
            "select year, sum(total_revenue) as revenue, sum(total_orders) as orders "
            "from orders_monthly group by year order by year"
        ).set_index("year")
    )
    pd.testing.assert_series_equal(yearly["revenue"], mart["revenue"], check_names=False, check_index_type=False)
    assert yearly["orders"].tolist() == mart["orders"].astype(int).tolist()


def test_a_ratio_a_cumulative_and_a_derived_metric_follow_their_definitions(yearly: pd.DataFrame) -> None:
    facts = as_floats(
        query(
            "select extract(year from date_key)::int as year, sum(recognized_revenue) as revenue, "
            "sum(gross_profit) as gross_profit, count(*) filter (where is_revenue) as orders "
            "from fact_orders group by 1 order by 1"
        ).set_index("year")
    )
    assert yearly["average_order_value"].round(6).tolist() == (facts["revenue"] / facts["orders"]).round(6).tolist()
    assert yearly["cumulative_revenue"].round(2).tolist() == facts["revenue"].cumsum().round(2).tolist()
    assert yearly["gross_margin"].round(6).tolist() == (facts["gross_profit"] / facts["revenue"]).round(6).tolist()


def test_a_dimension_of_the_customers_slices_the_orders_metrics(built_warehouse: dict[str, object]) -> None:
    by_segment = metrics.query_metrics("revenue", "customer__customer_segment", parse=False)
    expected = as_floats(
        query(
            "select customers.customer_segment, sum(orders.recognized_revenue) as revenue "
            "from fact_orders as orders inner join dim_customers as customers using (customer_id) group by 1"
        )
    )
    mine = dict(zip(by_segment["customer__customer_segment"], by_segment["revenue"].round(2), strict=True))
    assert mine == dict(zip(expected["customer_segment"], expected["revenue"].round(2), strict=True))


def test_a_mistyped_metric_gets_metricflows_own_suggestions(built_warehouse: dict[str, object]) -> None:
    with pytest.raises(metrics.MetricFlowError, match=r"(?s)does not exactly match any known metrics.*'revenue'"):
        metrics.query_metrics("revenu", parse=False)


# --------------------------------------------------------------------------- lesson 12's exercises

AVERAGE_BY_SEGMENT = """
    select customers.customer_segment, round({average}, 2) as average_order_value
    from fact_orders as orders inner join dim_customers as customers on orders.customer_id = customers.customer_id
    group by 1
"""


def test_12_1_accepts_a_ratio_of_sums_and_names_the_average_of_all_orders(
    built_warehouse: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    right = AVERAGE_BY_SEGMENT.format(average="sum(orders.recognized_revenue) / count(*) filter (where is_revenue)")
    assert check("12.1", right)
    assert not check("12.1", AVERAGE_BY_SEGMENT.format(average="avg(orders.recognized_revenue)"))
    assert "they divide by every order, cancelled and returned ones too" in capsys.readouterr().out


def declared(metric_yaml: str) -> None:
    """Only this metric YAML in the workspace, parsed."""
    only_in_the_workspace({"models/workspace/_completed_revenue.yml": metric_yaml})
    run_dbt(["parse"], progress=False)


SOLUTION = solution_files("12.2")["models/workspace/_completed_revenue.yml"]


def test_12_2_checks_the_metric_on_what_metricflow_computes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    only_in_the_workspace({})
    run_dbt(["parse"], progress=False)
    verdict, out = verdict_of("12.2", capsys)
    assert not verdict and "Not attempted yet" in out

    declared(SOLUTION)
    verdict, out = verdict_of("12.2", capsys)
    assert verdict, out

    declared(SOLUTION.replace("filter: |\n      {{ Dimension('order_id__order_status') }} = 'completed'\n", ""))
    verdict, out = verdict_of("12.2", capsys)
    assert not verdict and "add a `filter:` that keeps the completed orders" in out, out
    assert "completed'" not in out.split("💡")[0]  # the numbers differ; the statement is not given away

    without_description = SOLUTION.split("    description: >")[0] + SOLUTION[SOLUTION.index("    type: simple") :]
    declared(without_description)  # dbt itself requires the label
    verdict, out = verdict_of("12.2", capsys)
    assert not verdict and "Give completed_revenue a `label` and a `description`" in out, out
