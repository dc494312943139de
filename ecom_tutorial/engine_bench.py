"""`ecom-tutorial bench --engines`: the whole project built on PostgreSQL and on Spark, wall time per model.

Lesson 11 compares the engines at scale 10, which takes a few minutes: more than a lesson cell should
spend, and more than CI can spend on every run. So the comparison is a benchmark, run like `bench` in a
scratch installation of its own (its own embedded PostgreSQL and Spark cluster, both stopped and deleted
afterwards, so nothing of the learner's is touched), and its figures go to `build/bench/engines.json`.
The lesson draws the learner's own figures if they measured at that scale, and otherwise the course's
record (`benchmarks/engines.json`, measured with this command; it names the machine).

Per engine it runs what a learner runs, `ecom-tutorial build --full-refresh` (seeds, models, every test:
the whole build's time), then times the marts as lesson 11 does at its own scale (spark_engine.timed_run:
`dbt run --full-refresh --threads 1`), dbt's seconds for each.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from . import spark_engine
from .bench import PROJECT, Scratch, machine, scratch_installation
from .errors import EcomTutorialError
from .settings import Settings, load_settings

ENGINES_FILE = "engines.json"
COURSE_RECORD = Path("benchmarks") / ENGINES_FILE  # in the project folder: the course's own measurement
# engine: the `ecom-tutorial build` arguments that build the whole project on it from scratch, and its dbt target
ENGINES = {
    "PostgreSQL": (("build", "--full-refresh", "--no-progress"), spark_engine.POSTGRES_TARGET),
    "Spark": (("build", "--engine", "spark", "--full-refresh", "--no-progress"), spark_engine.TARGET),
}


@dataclass(frozen=True)
class EngineRecord:
    """One comparison: where and when it was measured, each engine's whole build, and seconds per mart."""

    scale: int
    measured_on: str  # the date
    machine: dict[str, Any]
    build_seconds: dict[str, float]  # engine: the whole `build --full-refresh`
    times: pd.DataFrame  # model, engine, seconds (the frame charts.engine_times draws)

    @property
    def chart_title(self) -> str:
        return f"dbt run at scale {self.scale}, wall time per mart"

    def describe(self) -> str:
        about = self.machine
        builds = ", ".join(f"{engine} {seconds:.0f} s" for engine, seconds in self.build_seconds.items())
        return (
            f"Scale {self.scale}, measured on {self.measured_on} on {about['cpu']} ({about['cores']} cores, "
            f"{about['memory_gb']} GB). The whole build with every test: {builds}."
        )


def mart_seconds(run_results: Mapping[str, Any], marts: set[str]) -> dict[str, float]:
    """dbt's seconds for each mart in a run_results.json (other nodes, and other packages' models, left out)."""
    seconds = {}
    for result in run_results["results"]:
        kind, package, name = result["unique_id"].split(".")[:3]
        if kind == "model" and package == PROJECT and name in marts:
            seconds[name] = round(result["execution_time"], 2)
    return seconds


def measure(scale: int, report: Callable[[str], None] = print) -> dict[str, Any]:
    """Build the whole project at `scale` on each engine in a scratch installation; the figures (as JSON)."""
    marts = set(spark_engine.mart_names())
    builds: dict[str, float] = {}
    models: list[dict[str, Any]] = []
    with scratch_installation() as scratch:
        report(f"scale {scale}: loading the raw data")
        scratch.cli("up", "--scale", str(scale))
        for engine, (build, target) in ENGINES.items():
            report(f"scale {scale}: on {engine}, the whole build, then the marts alone (dbt run)")
            builds[engine] = scratch.cli(*build).seconds
            scratch.cli("dbt", "--", *spark_engine.timed_run(target))
            models += [
                {"model": model, "engine": engine, "seconds": seconds}
                for model, seconds in mart_seconds(_run_results(scratch), marts).items()
            ]
    return {
        "scale": scale,
        "measured_on": date.today().isoformat(),
        "machine": machine(),
        "build_seconds": builds,
        "models": models,
    }


def _run_results(scratch: Scratch) -> dict[str, Any]:
    results: dict[str, Any] = json.loads((scratch.target / "run_results.json").read_text())
    return results


def run_engine_bench(scale: int, out_dir: Path, report: Callable[[str], None] = print) -> EngineRecord:
    """Measure at `scale`, write engines.json and engines.png into `out_dir`; the record."""
    figures = measure(scale, report)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / ENGINES_FILE
    path.write_text(json.dumps(figures, indent=2) + "\n")
    measured = read(path)
    import matplotlib.pyplot as plt

    from . import charts

    ax = charts.engine_times(measured.times, title=measured.chart_title)
    ax.get_figure().savefig(out_dir / "engines.png", dpi=120, bbox_inches="tight")  # type: ignore[union-attr]
    plt.close("all")
    return measured


def read(path: Path) -> EngineRecord:
    figures = json.loads(path.read_text())
    return EngineRecord(
        scale=figures["scale"],
        measured_on=figures["measured_on"],
        machine=figures["machine"],
        build_seconds=figures["build_seconds"],
        times=pd.DataFrame(figures["models"], columns=["model", "engine", "seconds"]),
    )


def record(scale: int = 10, settings: Settings | None = None) -> EngineRecord:
    """The comparison at `scale`: the learner's own (build/bench/engines.json) if they measured that scale,
    otherwise the course's record (benchmarks/engines.json)."""
    settings = settings or load_settings()
    for path in (settings.project_dir / "build" / "bench" / ENGINES_FILE, settings.project_dir / COURSE_RECORD):
        if path.exists() and json.loads(path.read_text()).get("scale") == scale:
            return read(path)
    raise EcomTutorialError(
        f"No comparison of the engines at scale {scale} was found. Measure one (a few minutes, in a scratch "
        f"folder of its own): `ecom-tutorial bench --engines --scales {scale}` in a terminal."
    )
