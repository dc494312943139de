"""Exercises of lesson 12, the semantic layer: the average order value by segment in SQL, as the metric
defines it (12.1), and a metric of your own, `completed_revenue`, checked on what MetricFlow computes (12.2)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .. import workspace
from ..metrics import MetricFlowError, query_metrics
from ..settings import Settings, load_settings
from . import Exercise, Mistake, _fail, _passed, compare, diagnose, not_attempted, register, run_sql
from .build_checks import PROJECT, BuildExercise
from .feedback import Verdict

SEGMENT_ORDERS = """
    select
        customers.customer_segment,
        orders.recognized_revenue,
        orders.is_revenue
    from {target}.fact_orders as orders
    inner join {target}.dim_customers as customers on orders.customer_id = customers.customer_id
"""


def _average_order_value(average: str) -> str:
    return f"""
        select customer_segment, round({average}, 2) as average_order_value
        from ({SEGMENT_ORDERS}) as segment_orders
        group by 1
    """


register(
    Exercise(
        id="12.1",
        title="The average order value by segment, as the metric defines it",
        expected=_average_order_value("sum(recognized_revenue) / count(*) filter (where is_revenue)"),
        key=("customer_segment",),
        decimals=2,
        mistakes=(
            Mistake(
                "Your averages are too low: they divide by every order, cancelled and returned ones too (they earn 0). "
                "The metric's denominator is `orders`, the orders that earn revenue.",
                result=_average_order_value("avg(recognized_revenue)"),
            ),
        ),
        hint="A ratio of sums: the segment's revenue divided by its revenue-earning orders (is_revenue).",
        next_step="Join fact_orders to dim_customers on customer_id, group by customer_segment, and divide "
        "sum(recognized_revenue) by count(*) filter (where is_revenue); round to cents.",
    ),
)


# --------------------------------------------------------------------------- 12.2: a metric of your own


@dataclass(frozen=True)
class MetricExercise(BuildExercise):
    """A "build it" exercise whose result is a metric: declared in a workspace YAML file, parsed by dbt, and
    checked on its definition in the manifest and on what MetricFlow computes with it by `group_by`."""

    metric: str = ""
    metric_type: str = "simple"
    group_by: str = "metric_time__year"
    expected: str = ""  # SQL of the metric by `key`, computed from the marts
    key: str = "year"
    metric_mistakes: tuple[Mistake, ...] = ()

    def check(self, answer: Any = None, settings: Settings | None = None, every_run: bool = False) -> Verdict:
        settings = settings or load_settings()
        node = _metric_node(settings, self.metric)
        if node is None:
            where = f"a YAML file in models/workspace/ (e.g. _{self.metric}.yml)"
            return not_attempted(self, f"declare the metric {self.metric} in {where}, run {self.build}")
        problems = _definition_problems(self, node)
        if problems:
            return _fail(self, [f"❌ {problem}" for problem in problems])
        try:
            mine = _by_key(query_metrics(self.metric, self.group_by, parse=False, settings=settings), self)
        except MetricFlowError as exc:
            return _fail(
                self,
                [
                    f"❌ MetricFlow cannot compute {self.metric}: {exc}",
                    f"Fix your YAML as MetricFlow's message says, run {self.build}, then check again.",
                ],
            )
        comparison = compare(mine, run_sql(self.expected), key=(self.key,), atol=0.01)
        if comparison.ok:
            return _passed(self, [f"✅ Correct: MetricFlow computes {self.metric} as the exercise defines it."])
        lines = [f"❌ {problem}" for problem in comparison.problems]
        likely = diagnose(
            Exercise(self.id, self.title, self.expected, key=(self.key,), mistakes=self.metric_mistakes), mine
        )
        lines.append(f"💡 {likely}" if likely else f"💡 Hint: {self.hint}")
        return _fail(self, lines)


def _metric_node(settings: Settings, name: str) -> dict[str, Any] | None:
    """The metric as dbt's manifest has it, if it comes from a workspace file."""
    try:
        manifest = json.loads((settings.dbt_target_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    node = (manifest.get("metrics") or {}).get(f"metric.{PROJECT}.{name}")
    if node and str(node.get("original_file_path", "")).startswith(workspace.FOLDERS):
        return dict(node)
    return None


def _definition_problems(exercise: MetricExercise, node: dict[str, Any]) -> list[str]:
    problems = []
    if node.get("type") != exercise.metric_type:
        problems.append(
            f"{exercise.metric} is a {node.get('type')} metric; the exercise asks for a {exercise.metric_type} one."
        )
    if not (node.get("description") or "").strip() or not (node.get("label") or "").strip():
        problems.append(f"Give {exercise.metric} a `label` and a `description`: they are what a dashboard shows.")
    return problems


def _by_key(frame: pd.DataFrame, exercise: MetricExercise) -> pd.DataFrame:
    """MetricFlow's result with the time dimension as a whole year, as the expected SQL has it."""
    frame[exercise.key] = pd.to_datetime(frame[exercise.group_by]).dt.year
    return frame[[exercise.key, exercise.metric]]


def _revenue_by_year(condition: str) -> str:
    return f"""
        select cast(extract(year from date_key) as integer) as year, sum(recognized_revenue) as completed_revenue
        from {{target}}.fact_orders
        where {condition}
        group by 1
    """


register(
    MetricExercise(
        id="12.2",
        title="Build it: a metric of your own, the revenue of completed orders",
        models=(),
        build='run_dbt(["parse"])',
        metric="completed_revenue",
        expected=_revenue_by_year("order_status = 'completed'"),
        metric_mistakes=(
            Mistake(
                "Your metric sums the revenue of every order that earns it, shipped and pending ones too: add a "
                "`filter:` that keeps the completed orders, on the dimension "
                "{{ Dimension('order_id__order_status') }}.",
                result=_revenue_by_year("is_revenue"),
            ),
        ),
        hint="A simple metric on the measure `revenue`, with `filter: \"{{ Dimension('order_id__order_status') }} = "
        "'completed'\"`.",
        next_step="Copy the shape of the metric `revenue` in models/semantic/_semantic__models.yml into your own "
        "file under `metrics:`, rename it, add the `filter:` under the metric (next to `type_params:`), a label and a "
        'description; then `run_dbt(["parse"])` and check.',
    ),
)
