"""The course's jobs on Spark (lesson 11): bring the cluster up with the raw data, build the project
there, and compare its marts with PostgreSQL's.

The same dbt project builds on both engines: the `spark` target of profiles.yml selects dbt-spark,
and what the two SQL dialects spell differently lives in macros/cross_engine.sql. Starting the
cluster is spark_cluster.py's job; copying the raw data, spark_data.py's.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pandas as pd
from psycopg2 import sql

from . import database, spark_cluster, spark_data, warehouse, workspace
from .errors import SparkUnavailableError
from .runner import DbtResult, run_dbt
from .settings import Settings, load_settings

TARGET = "spark"  # the target of profiles.yml that reaches the cluster
# What the project leaves out on Spark, by configuration, and why (README: "The same project on Spark")
LEFT_OUT = {
    "snapshots": "they close rows with `merge`, which Spark runs only on Delta Lake or Iceberg tables",
    "the marts' contracts": "their types are PostgreSQL's, and Parquet tables hold no constraints",
    "the audit-log and grant hooks": "a Parquet table takes one writer at a time; the Thrift server has no roles",
}
POSTGRES_TARGET = "dev"  # profiles.yml's default target
# Columns that say when dbt built a row (run_started_at), which differ between any two builds
RUN_TIME_COLUMNS = ("dbt_updated_at",)


@dataclass(frozen=True)
class SparkUpResult:
    cluster: spark_cluster.Cluster
    scale: int
    copied: bool  # False when Spark already held this raw data
    seconds: float


@contextmanager
def _progress_line(progress: bool, total: int) -> Iterator[Any]:
    """A bar naming each step: the JVMs take 20 s or more to start, the copy a few seconds per table."""
    from tqdm.auto import tqdm

    shown = progress and not os.environ.get("TQDM_DISABLE")
    bar = tqdm(total=total, desc="Spark", unit="step", disable=not shown)
    try:
        yield bar
    finally:
        bar.close()


def up(scale: int | None = None, *, settings: Settings | None = None, progress: bool = False) -> SparkUpResult:
    """Load the raw data into PostgreSQL (the same generator as every lesson), start the cluster, copy the
    raw data to it. Each part is skipped when already done."""
    settings = settings or load_settings()
    started = time.perf_counter()
    loaded = warehouse.up(scale, settings=settings, progress=progress)
    with _progress_line(progress, spark_cluster.WORKERS + 2 + len(spark_data.RAW_TABLES)) as bar:

        def step(name: str) -> None:
            bar.set_postfix_str(name)
            bar.update(1)

        cluster = spark_cluster.start(settings, report=step)
        copied = spark_data.load_raw_data(cluster, settings, report=lambda table: step(f"raw data: {table}"))
    return SparkUpResult(cluster, loaded.state.scale, copied, time.perf_counter() - started)


def require_cluster(settings: Settings | None = None) -> spark_cluster.Cluster:
    cluster = spark_cluster.running(settings)
    if cluster is None:
        raise SparkUnavailableError(
            "The Spark cluster is not running: start it with `ecom-tutorial up --engine spark`."
        )
    return cluster


def build(
    scale: int | None = None,
    *,
    full_refresh: bool = False,
    select: list[str] | None = None,
    progress: bool = True,
    settings: Settings | None = None,
) -> DbtResult:
    """`up` (each part only if needed), then `dbt build --target spark`: the project on the cluster, its data
    tests included (not the snapshots, which dbt_project.yml leaves out there), or the models in `select`.
    A whole build leaves the learner's workspace out, as `ecom-tutorial build` does."""
    settings = settings or load_settings()
    up(scale, settings=settings, progress=progress)
    warehouse.install_packages(settings)
    command = ["build", "--target", TARGET, *(["--full-refresh"] if full_refresh else [])]
    # what was selected by name is built, the learner's models included; a whole build leaves them out
    # (not snapshots/workspace: snapshots are disabled on Spark, and dbt refuses an exclusion that matches nothing)
    command += ["--select", *select] if select else workspace.exclusions(settings, disabled=("snapshots/workspace",))
    return run_dbt(command, progress=progress, settings=settings)


TIMED = ("marts",)  # what lesson 11 times on both engines (here and in engine_bench.py)


def timed_run(target: str, select: tuple[str, ...] = TIMED) -> list[str]:
    """The dbt command lesson 11 times on each engine: the models rebuilt from scratch (--full-refresh, or the
    incremental fact would time an incremental run on one engine against a rewrite on the other), one at a time
    (--threads 1: a model's time is then its own, not shared with the models running beside it)."""
    return ["run", "--full-refresh", "--threads", "1", "--target", target, "--select", *select]


def time_models(select: tuple[str, ...] = TIMED, settings: Settings | None = None) -> pd.DataFrame:
    """`dbt run --full-refresh --threads 1` of the selected models on PostgreSQL, then on Spark: seconds per model and
    engine (as dbt measured each model, hooks included), for lesson 11's chart."""
    settings = settings or load_settings()
    rows = []
    for engine, target in (("PostgreSQL", POSTGRES_TARGET), ("Spark", TARGET)):
        result = run_dbt(timed_run(target, select), progress=False, settings=settings)
        models = result.table[result.table["type"] == "model"]
        rows += [{"model": row.node, "engine": engine, "seconds": row.seconds} for row in models.itertuples()]
    return pd.DataFrame(rows, columns=["model", "engine", "seconds"])


# ----------------------------------------------------------------------------- the same answers?


def mart_names(settings: Settings | None = None) -> list[str]:
    """The marts: every model under models/marts/."""
    settings = settings or load_settings()
    return sorted(path.stem for path in (settings.dbt_project_dir / "models" / "marts").rglob("*.sql"))


def _comparable(value: Any) -> Any:
    """One cell as both engines can agree on it: amounts to the cent, moments in UTC without a zone, and
    dates as dates (the Thrift protocol sends Spark's dates as text)."""
    if isinstance(value, (Decimal, float)):
        return None if value != value else Decimal(str(value)).quantize(Decimal("0.01"))
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return date.fromisoformat(value)
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _rows(records: list[tuple[Any, ...]], positions: list[int]) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(_comparable(record[i]) for i in positions) for record in records)


@dataclass(frozen=True)
class MartComparison:
    mart: str
    postgres_rows: int
    spark_rows: int
    only_in_postgres: int  # rows (counted with repeats) that Spark has not
    only_in_spark: int
    example: str  # one differing row of each side, or ''

    @property
    def same(self) -> bool:
        return self.only_in_postgres == 0 and self.only_in_spark == 0 and self.postgres_rows == self.spark_rows


def compare_relation(schema: str, name: str, cluster: spark_cluster.Cluster, settings: Settings) -> MartComparison:
    """One table or view, row for row, on both engines: the columns PostgreSQL has (a Spark partition column
    aside), but for the time of the build (RUN_TIME_COLUMNS)."""
    with database.connection(database.connection_info(settings)) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("select * from {}").format(sql.Identifier(schema, name)))
        names = [column.name for column in cur.description or ()]
        postgres = [tuple(row[i] for i, name in enumerate(names) if name not in RUN_TIME_COLUMNS) for row in cur]
    columns = [name for name in names if name not in RUN_TIME_COLUMNS]
    spark_columns, spark = spark_data.read_table(cluster, schema, name)
    missing = [column for column in columns if column not in spark_columns]
    if missing:
        return MartComparison(name, len(postgres), len(spark), len(postgres), len(spark), f"Spark lacks {missing}")
    left = _rows(postgres, list(range(len(columns))))
    right = _rows(spark, [spark_columns.index(column) for column in columns])
    only_left, only_right = left - right, right - left
    examples = [
        f"{side}: {dict(zip(columns, next(iter(rows)), strict=True))}"
        for side, rows in (("PostgreSQL", only_left), ("Spark", only_right))
        if rows
    ]
    return MartComparison(
        name, len(postgres), len(spark), sum(only_left.values()), sum(only_right.values()), "; ".join(examples)
    )


def compare_mart(mart: str, cluster: spark_cluster.Cluster, settings: Settings) -> MartComparison:
    """One mart (in the target schema), row for row, on both engines."""
    return compare_relation(settings.db_schema, mart, cluster, settings)


def compare_marts(settings: Settings | None = None) -> pd.DataFrame:
    """Every mart on both engines, row for row: one line per mart, `same` True where they agree."""
    settings = settings or load_settings()
    cluster = require_cluster(settings)
    results = [compare_mart(mart, cluster, settings) for mart in mart_names(settings)]
    return pd.DataFrame([{**result.__dict__, "same": result.same} for result in results]).set_index("mart")
