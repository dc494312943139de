"""Exercises of lesson 11, the same project on Spark: a model that builds on both engines with the project's
cross-engine macros (11.1), and a table that Spark partitions by month (11.2).

Each is checked on what was built on BOTH engines: the PostgreSQL relation against the expected result
(computed from the marts), and the Spark relation against the PostgreSQL one, row for row
(spark_engine.compare_relation). 11.2 also reads the Spark table's partitioning from Spark itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
import psycopg2
from psycopg2 import sql

from .. import database, spark_cluster, spark_data, spark_engine, workspace
from ..settings import Settings, load_settings
from . import Mistake, _fail, _passed, compare, diagnose, not_attempted, register, run_sql
from .build_checks import PROJECT, BuildExercise
from .feedback import Verdict
from .registry import Exercise

SPARK_BUILD = "spark_engine.build(select=[...])"


@dataclass(frozen=True)
class BothEnginesExercise(BuildExercise):
    """A "build it" exercise whose model must be built by dbt on PostgreSQL and on Spark, with the same rows."""

    model: str = ""
    expected: str = ""  # SQL of the model's rows, on the PostgreSQL warehouse
    key: tuple[str, ...] = ()
    partitioned_by: str = ""  # the column Spark must partition the table by, if any
    model_mistakes: tuple[Mistake, ...] = ()

    def check(self, answer: Any = None, settings: Settings | None = None, every_run: bool = False) -> Verdict:
        settings = settings or load_settings()
        schema = f"{settings.db_schema}_workspace"
        # the learner's model as dbt last read the project: a relation left by an earlier copy of the course
        # (or deleted file) is not an attempt
        postgres = _postgres_rows(schema, self.model, settings) if _in_workspace(self.model, settings) else None
        if postgres is None:
            where = f"models/workspace/{self.model}.sql"
            return not_attempted(self, f"write {where} and build it on PostgreSQL: {self.build}")
        comparison = compare(postgres, run_sql(self.expected), key=self.key, atol=0.01)
        if not comparison.ok:
            lines = [f"❌ On PostgreSQL: {problem}" for problem in comparison.problems]
            exercise = Exercise(self.id, self.title, self.expected, key=self.key, mistakes=self.model_mistakes)
            likely = diagnose(exercise, postgres)
            return _fail(self, [*lines, f"💡 {likely}" if likely else f"💡 Hint: {self.hint}"])
        cluster = spark_cluster.running(settings)
        if cluster is None:
            return _fail(
                self,
                [
                    "✅ On PostgreSQL your model is right.",
                    "❌ The Spark cluster is not running: run the lesson's setup cell (or `ecom-tutorial up --engine "
                    f"spark`), then build the model there: {SPARK_BUILD}.",
                ],
            )
        problems = _spark_problems(self, cluster, schema, settings)
        if problems:
            return _fail(self, ["✅ On PostgreSQL your model is right.", *[f"❌ {p}" for p in problems]])
        return _passed(
            self, [f"✅ Correct: {len(postgres):,} row(s), the same on PostgreSQL and on Spark, to the cent."]
        )


def _in_workspace(model: str, settings: Settings) -> bool:
    try:
        manifest = json.loads((settings.dbt_target_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    node = manifest.get("nodes", {}).get(f"model.{PROJECT}.{model}") or {}
    return str(node.get("original_file_path", "")).startswith(workspace.FOLDERS)


def _postgres_rows(schema: str, model: str, settings: Settings) -> pd.DataFrame | None:
    try:
        with database.connection(database.connection_info(settings)) as conn, conn.cursor() as cur:
            cur.execute(sql.SQL("select * from {}").format(sql.Identifier(schema, model)))
            columns = [column.name for column in cur.description or ()]
            return pd.DataFrame(cur.fetchall(), columns=columns)
    except psycopg2.errors.UndefinedTable:
        return None


def _spark_problems(
    exercise: BothEnginesExercise, cluster: spark_cluster.Cluster, schema: str, settings: Settings
) -> list[str]:
    tables = spark_data.tables_in(cluster, schema)
    if exercise.model not in tables:
        return [
            f"{exercise.model} is not on Spark yet: build it there with {SPARK_BUILD}. If dbt-spark fails, read its "
            "error: a function only PostgreSQL has (to_char, extract(isodow ...)) is the usual cause, and "
            "macros/cross_engine.sql says those on both engines."
        ]
    same = spark_engine.compare_relation(schema, exercise.model, cluster, settings)
    problems = []
    if not same.same:
        problems.append(
            f"Spark's {exercise.model} differs from PostgreSQL's: {same.spark_rows:,} row(s) against "
            f"{same.postgres_rows:,}, {same.only_in_spark} of Spark's not on PostgreSQL. Was it built from the "
            f"model as it is now? Build it again on Spark: {SPARK_BUILD}."
        )
    if exercise.partitioned_by:
        partitions = _partition_columns(cluster, f"{schema}.{exercise.model}")
        if exercise.partitioned_by not in partitions:
            said = f"partitioned by {', '.join(partitions)}" if partitions else "not partitioned"
            problems.append(
                f"On Spark the table is {said}; the exercise asks for one partition per {exercise.partitioned_by}: "
                "`partition_by=[...]` in the model's config(), then build it again on Spark."
            )
    return problems


def _partition_columns(cluster: spark_cluster.Cluster, table: str) -> list[str]:
    """The partition columns of a Spark table, as `describe table` lists them under '# Partition Information'."""
    rows = spark_data.query(cluster, f"describe table {table}")
    names = [str(row[0]).strip() for row in rows]
    if "# Partition Information" not in names:
        return []
    after = names[names.index("# Partition Information") + 1 :]
    return [name for name in after if name and not name.startswith("#")]


def _orders_by_weekday(day_field: str) -> str:
    return f"""
        select
            cast(extract({day_field} from date_key) as integer) as day_of_week,
            to_char(date_key, 'FMDay') as day_name,
            count(*) as orders,
            sum(recognized_revenue) as revenue
        from {{target}}.fact_orders
        group by 1, 2
    """


def _category_revenue(lines: str) -> str:
    return f"""
        select
            products.category,
            cast(date_trunc('month', order_items.order_date) as date) as order_month,
            sum(order_items.line_total) as revenue
        from {{target}}.fact_order_items as order_items
        inner join {{target}}.dim_products as products on order_items.product_id = products.product_id
        where {lines}
        group by 1, 2
    """


register(
    BothEnginesExercise(
        id="11.1",
        title="Build it: orders by day of the week, on both engines",
        models=(),
        build='run_dbt(["build", "--select", "orders_by_weekday"])',
        model="orders_by_weekday",
        expected=_orders_by_weekday("isodow"),
        key=("day_of_week",),
        model_mistakes=(
            Mistake(
                "Your day_of_week counts from Sunday = 0: that is `dow`. The exercise asks for ISO days, Monday = 1 "
                "... Sunday = 7: the macro iso_day_of_week.",
                result=_orders_by_weekday("dow"),
            ),
        ),
        hint="Group fact_orders by the ISO day number and the day's name, from the macros iso_day_of_week and "
        "day_name, which say them on both engines.",
        next_step="`{{ iso_day_of_week('date_key') }}` and `{{ day_name('date_key') }}` in the select list, "
        "count(*) and sum(recognized_revenue); build with run_dbt, then with spark_engine.build(select=[...]).",
    ),
    BothEnginesExercise(
        id="11.2",
        title="Build it: a table Spark partitions by month",
        models=(),
        build='run_dbt(["build", "--select", "monthly_category_revenue"])',
        model="monthly_category_revenue",
        expected=_category_revenue("order_items.is_revenue"),
        key=("category", "order_month"),
        partitioned_by="order_month",
        model_mistakes=(
            Mistake(
                "Your revenue counts the lines of cancelled and returned orders too: keep the lines whose "
                "is_revenue is true.",
                result=_category_revenue("true"),
            ),
        ),
        hint="Revenue-earning lines of fact_order_items, joined to dim_products for the category, summed by "
        "category and month; `partition_by=['order_month']` in config().",
        next_step="A table (`materialized='table'`), `partition_by=['order_month']`; order_month is "
        "`cast({{ dbt.date_trunc('month', 'order_date') }} as date)`. Spark puts the partition column last.",
    ),
)
