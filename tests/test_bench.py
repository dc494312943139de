"""`ecom-tutorial bench`: the replay's order and statements, and a real run at scale 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ecom_tutorial.bench import models_in_build_order, replay_statement


def _model(name: str, parents: list[str], materialized: str = "table", package: str = "ecom_dbt_tutorial") -> Any:
    return {
        "unique_id": f"model.{package}.{name}",
        "name": name,
        "resource_type": "model",
        "package_name": package,
        "depends_on": {"nodes": [f"model.{package}.{parent}" for parent in parents]},
        "config": {"materialized": materialized},
        "relation_name": f'"db"."analytics"."{name}"',
        "compiled_code": f"select 1 as {name}",
    }


def test_the_replay_builds_each_model_after_what_it_reads_and_skips_what_dbt_does_not_materialize() -> None:
    models = [
        _model("mart", ["int_orders", "dim"]),
        _model("dim", ["stg"]),
        _model("int_orders", ["stg"], materialized="ephemeral"),  # inlined by dbt: nothing to build
        _model("stg", [], materialized="view"),
        _model("their_model", [], package="ecom_utils"),  # a package's model: not this project's build
    ]
    manifest = {"nodes": {f"model.{m['package_name']}.{m['name']}": m for m in models}}
    manifest["nodes"]["test.ecom_dbt_tutorial.not_null_x"] = {"resource_type": "test", "package_name": "x"}

    assert [node["name"] for node in models_in_build_order(manifest)] == ["stg", "dim", "mart"]
    # beside dbt's relation, so that the warehouse dbt built is left as it was
    assert replay_statement(models[3]) == 'create view "db"."analytics"."stg__replay" as select 1 as stg'
    assert replay_statement(models[1]).startswith('create table "db"."analytics"."dim__replay" as ')


@pytest.mark.slow
def test_bench_measures_every_step_at_scale_1_in_a_scratch_folder(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    printed = subprocess.run(
        [sys.executable, "-m", "ecom_tutorial.cli", "bench", "--scales", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = json.loads((out / "bench.json").read_text())
    assert figures["machine"]["cores"] >= 1
    (scale,) = figures["scales"]
    assert scale["scale"] == 1
    for step in ("load", "build", "tests", "dbt_run"):
        assert scale[step]["seconds"] > 0
        assert scale[step]["dbt_peak_mb"] > 0
    assert scale["build"]["server_peak_mb"] > 0
    # the replay ran every model dbt ran, and the incremental run took place after the batch
    assert set(scale["replay_by_model"]) == set(scale["dbt_by_model"])
    assert {"fact_orders", "fact_order_items", "stg_ecommerce__orders"} <= set(scale["replay_by_model"])
    assert scale["incremental"]["fact_order_items"]["after_batch_s"] > 0
    assert set(scale["learner_loop"]) == {"import_s", "first_s", "warm_s"}
    assert (out / "bench.png").stat().st_size > 10_000
    assert "| 1 |" in printed  # the README's table row
