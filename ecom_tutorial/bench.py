"""`ecom-tutorial bench`: what each step of the course costs at each scale, on this machine.

Everything runs in a scratch data folder with its own embedded server, so nothing of yours is
touched, and each step runs as the learner runs it: the `ecom-tutorial` command in a process of
its own. Per scale it measures

* load: `ecom-tutorial up --scale N` (generate the raw data);
* build: `ecom-tutorial build --full-refresh` (seeds, models, snapshots and every test);
* tests: `dbt test` on its own;
* replay: the models' compiled SQL without dbt, in dependency order over one connection, next to
  `dbt run --full-refresh --threads 1` of the same models: their ratio is dbt's own overhead
  (parsing, compiling, its transactions and metadata queries, the contracts' DDL, the hooks);
* incremental: the incremental models after the next-day batch, next to their full refresh;
* memory: the peak of the server (the proportional share of its processes, so that shared
  memory counts once) and of the dbt process, during each command;
* the learner's loop: the first one-model `run_dbt` build of a fresh process, then a warm one.

The figures go to `bench.json` and `bench.png` in the output folder (build/bench by default).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

from . import workspace
from .errors import EcomTutorialError
from .settings import load_settings

PROJECT = "ecom_dbt_tutorial"
INCREMENTAL_MODELS = ("fact_order_items",)  # the project's incremental models
LOOP_MODEL = "stg_ecommerce__customers"  # the learner's loop: one model and its tests
NEXT_DAY_BATCH = "import ecom_tutorial\nwith ecom_tutorial.connection() as c: ecom_tutorial.apply_next_day_batch(c)"
LEARNER_LOOP = f"""
import json, time
started = time.perf_counter()
from ecom_tutorial import run_dbt
first_started = time.perf_counter()
run_dbt(["build", "--select", "{LOOP_MODEL}"], progress=False)
first = time.perf_counter() - first_started
warm_started = time.perf_counter()
run_dbt(["build", "--select", "{LOOP_MODEL}"], progress=False)
print(json.dumps({{"import_s": first_started - started, "first_s": first,
                   "warm_s": time.perf_counter() - warm_started}}))
"""


@dataclass
class Step:
    """One measured command: its wall time and the memory peaks while it ran."""

    seconds: float
    server_peak_mb: float
    dbt_peak_mb: float


@dataclass
class ScaleFigures:
    """Everything measured at one scale."""

    scale: int
    load: Step
    build: Step
    tests: Step
    dbt_run: Step  # `dbt run --full-refresh --threads 1`, the models alone
    replay_seconds: float  # the same models' SQL without dbt
    replay_by_model: dict[str, float]
    dbt_by_model: dict[str, float]
    incremental: dict[str, dict[str, float]]  # model: full refresh and after-batch seconds
    learner_loop: dict[str, float] = field(default_factory=dict)

    @property
    def dbt_overhead(self) -> float:
        """dbt's run of the models over the same SQL without dbt."""
        return self.dbt_run.seconds / self.replay_seconds


# --- running and watching a command ---------------------------------------------------------------


def _tree_mb(process: psutil.Process, proportional: bool) -> float:
    """Memory of a process and its children, in MB: PSS for the server (its processes share their
    buffers; RSS would count them once per process), RSS for dbt."""
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            info = member.memory_full_info() if proportional else member.memory_info()
            total += info.pss if proportional else info.rss  # type: ignore[union-attr]
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return total / 2**20


class _PeakWatch:
    """Samples the memory of the server and of a command's process tree until stopped."""

    def __init__(self, pgdata: Path, command_pid: int, interval: float = 0.25) -> None:
        self.pgdata, self.command_pid, self.interval = pgdata, command_pid, interval
        self.server_peak = self.command_peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _server(self) -> psutil.Process | None:
        try:
            return psutil.Process(int((self.pgdata / "postmaster.pid").read_text().split()[0]))
        except (OSError, ValueError, IndexError, psutil.NoSuchProcess):
            return None

    def _run(self) -> None:
        while not self._stop.is_set():
            server = self._server()
            if server is not None:
                self.server_peak = max(self.server_peak, _tree_mb(server, proportional=True))
            with suppress(psutil.NoSuchProcess):
                self.command_peak = max(self.command_peak, _tree_mb(psutil.Process(self.command_pid), False))
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class BenchError(EcomTutorialError):
    """A benchmarked command failed: the message holds the end of its output."""


class Scratch:
    """A scratch course installation: its own data folder, embedded server and dbt target."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pgdata = folder / "pgdata"
        self.target = folder / "target"
        project_dir = str(load_settings().project_dir)
        # none of the caller's ECOM_/DBT_ settings: a class learner's settings must not leak in
        self.env = {name: value for name, value in os.environ.items() if not name.startswith(("ECOM_", "DBT_"))}
        self.env.update(
            ECOM_PGDATA=str(self.pgdata),
            ECOM_PROJECT_DIR=project_dir,
            DBT_TARGET_PATH=str(self.target),
            DBT_LOG_PATH=str(folder / "logs"),
            ECOM_SPARK_DIR=str(folder / "spark"),  # engine_bench.py's cluster, if it starts one
            TQDM_DISABLE="1",
        )
        self.last_output = ""  # what the last command printed

    def run(self, args: list[str]) -> Step:
        """Run a Python command line (`-m ...` or `-c ...`) here, watching its time and memory."""
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, *args], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        watch = _PeakWatch(self.pgdata, process.pid)
        output, _ = process.communicate()
        watch.stop()
        if process.returncode != 0:
            tail = "\n".join(output.splitlines()[-20:])
            raise BenchError(
                f"`{' '.join(args)[:120]}` failed (exit {process.returncode}):\n{tail}\n"
                "The bench measures a project that builds: run `ecom-tutorial build` to see the failure in your "
                "own installation, fix it, then run the bench again."
            )
        self.last_output = output
        return Step(round(time.perf_counter() - started, 2), round(watch.server_peak), round(watch.command_peak))

    def cli(self, *args: str) -> Step:
        return self.run(["-m", "ecom_tutorial.cli", *args])

    def run_results(self) -> dict[str, float]:
        """Seconds per node of dbt's last command (its run_results.json), by node name."""
        results = json.loads((self.target / "run_results.json").read_text())["results"]
        return {node_name(item["unique_id"]): round(item["execution_time"], 3) for item in results}

    def manifest(self) -> dict[str, Any]:
        manifest: dict[str, Any] = json.loads((self.target / "manifest.json").read_text())
        return manifest


# --- the replay without dbt --------------------------------------------------------------------------


def models_in_build_order(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The project's models that dbt materializes (not ephemeral ones: dbt inlines those), each
    after every model it reads: an order `dbt run` with one thread could build them in."""
    nodes = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["package_name"] == PROJECT
    }
    ordered: list[dict[str, Any]] = []
    done: set[str] = set()

    def visit(uid: str) -> None:
        if uid in done or uid not in nodes:
            return
        done.add(uid)
        for parent in nodes[uid]["depends_on"]["nodes"]:
            visit(parent)
        ordered.append(nodes[uid])

    for uid in sorted(nodes):
        visit(uid)
    return [node for node in ordered if node["config"]["materialized"] != "ephemeral"]


def _replica(node: Mapping[str, Any], suffix: str = "__replay") -> tuple[str, str]:
    """What the replay makes of a model: a view or a table, named beside dbt's relation."""
    replica = node["relation_name"][:-1] + suffix + '"'  # "db"."schema"."name" -> "db"."schema"."name__replay"
    return ("view" if node["config"]["materialized"] == "view" else "table"), replica


def replay_statement(node: Mapping[str, Any]) -> str:
    """The model's compiled select, materialized beside dbt's relation (`<name>__replay`): it reads
    the same upstream relations as dbt's build did, and leaves dbt's warehouse as it was."""
    kind, replica = _replica(node)
    return f"create {kind} {replica} as {node['compiled_code']}"


REPLAY_SCRIPT = """
import json, sys, time
import ecom_tutorial
plan, timings = json.load(sys.stdin), {}
with ecom_tutorial.connection() as conn, conn.cursor() as cur:
    for name, statement in plan["build"]:
        started = time.perf_counter()
        cur.execute(statement)
        conn.commit()
        timings[name] = round(time.perf_counter() - started, 3)
    for statement in plan["cleanup"]:
        cur.execute(statement)
print(json.dumps(timings))
"""


def node_name(unique_id: str) -> str:
    """How the figures name a node: `model.<project>.fact_orders.v2` -> `fact_orders.v2`."""
    return unique_id.split(".", 2)[2]


def replay(scratch: Scratch, manifest: Mapping[str, Any], built: Collection[str]) -> dict[str, float]:
    """Run the compiled SQL of the models dbt `built` in build order over one connection, then drop
    what it made; the seconds of each model."""
    models = [node for node in models_in_build_order(manifest) if node_name(node["unique_id"]) in built]
    plan = {
        "build": [(node_name(node["unique_id"]), replay_statement(node)) for node in models],
        "cleanup": ["drop {} {}".format(*_replica(node)) for node in models],
    }
    process = subprocess.run(
        [sys.executable, "-c", REPLAY_SCRIPT], input=json.dumps(plan), env=scratch.env, capture_output=True, text=True
    )
    if process.returncode != 0:
        raise BenchError(f"The replay without dbt failed:\n{process.stderr[-2000:]}")
    timings: dict[str, float] = json.loads(process.stdout.splitlines()[-1])
    return timings


# --- one scale, all scales ----------------------------------------------------------------------------


def measure_scale(scratch: Scratch, scale: int) -> ScaleFigures:
    """Every figure at one scale, in the order a learner meets the steps."""
    # what `ecom-tutorial build` builds: the project, not the learner's own files (workspace.py)
    project_only = workspace.exclusions()
    load = scratch.cli("up", "--scale", str(scale))
    build = scratch.cli("build", "--full-refresh", "--no-progress")
    tests = scratch.cli("dbt", "--", "test", *project_only)
    dbt_run = scratch.cli("dbt", "--", "run", "--full-refresh", "--threads", "1", *project_only)
    dbt_by_model = scratch.run_results()
    replay_by_model = replay(scratch, scratch.manifest(), built=dbt_by_model)
    scratch.run(["-c", NEXT_DAY_BATCH])
    scratch.cli("dbt", "--", "run", "--select", *INCREMENTAL_MODELS)
    after_batch = scratch.run_results()
    incremental = {
        model: {"full_refresh_s": dbt_by_model[model], "after_batch_s": after_batch[model]}
        for model in INCREMENTAL_MODELS
    }
    scratch.run(["-c", LEARNER_LOOP])
    loop = {name: round(value, 2) for name, value in json.loads(scratch.last_output.splitlines()[-1]).items()}
    return ScaleFigures(
        scale=scale,
        load=load,
        build=build,
        tests=tests,
        dbt_run=dbt_run,
        replay_seconds=round(sum(replay_by_model.values()), 2),
        replay_by_model=replay_by_model,
        dbt_by_model={name: seconds for name, seconds in dbt_by_model.items() if name in replay_by_model},
        incremental=incremental,
        learner_loop=loop,
    )


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        model_lines = [line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")]
        cpu = model_lines[0].split(":", 1)[1].strip() if model_lines else cpu
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": psutil.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


@contextmanager
def scratch_installation() -> Iterator[Scratch]:
    """A scratch installation whose server (and Spark cluster) is stopped and folder deleted afterwards,
    whatever happens."""
    with tempfile.TemporaryDirectory(prefix="ecom-bench-") as folder:
        scratch = Scratch(Path(folder))
        try:
            yield scratch
        finally:
            subprocess.run(
                [sys.executable, "-m", "ecom_tutorial.cli", "down"], env=scratch.env, capture_output=True, check=False
            )


def describe_machine() -> str:
    about = machine()
    return f"Measured on {about['cpu']}, {about['cores']} cores, {about['memory_gb']} GB, {about['system']}."


def run_bench(scales: list[int], out_dir: Path, report: Callable[[str], None] = print) -> list[ScaleFigures]:
    """Measure every scale (`report` hears how far it got), write bench.json and bench.png into
    `out_dir`; the figures."""
    figures: list[ScaleFigures] = []
    with scratch_installation() as scratch:
        for scale in scales:
            report(f"scale {scale}: measuring (load, build, tests, dbt run and its replay, incremental, loop)")
            figures.append(measure_scale(scratch, scale))
            report(format_row(figures[-1]))
    scales_json = [_as_json(item) for item in figures]
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "bench.json").write_text(json.dumps({"machine": machine(), "scales": scales_json}, indent=2) + "\n")
    import matplotlib.pyplot as plt

    from . import charts

    ax = charts.benchmark(scales_json)
    ax.get_figure().savefig(out_dir / "bench.png", dpi=120, bbox_inches="tight")  # type: ignore[union-attr]
    plt.close("all")
    return figures


def _as_json(figures: ScaleFigures) -> dict[str, Any]:
    data = asdict(figures)
    data["dbt_overhead"] = round(figures.dbt_overhead, 2)
    data["up_and_build_s"] = round(figures.load.seconds + figures.build.seconds, 1)
    return data


TABLE_HEADER = (
    "| scale | load (`up`) | build (`build --full-refresh`) | load + build | tests alone | models: dbt (1 thread) "
    "| same SQL without dbt | dbt / SQL | incremental after the batch (full refresh) | server peak | dbt peak |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


def format_row(figures: ScaleFigures) -> str:
    """One scale as a row of the README's table (Markdown)."""
    increments = ", ".join(
        f"{model} {times['after_batch_s']:.2f} s ({times['full_refresh_s']:.1f} s)"
        for model, times in figures.incremental.items()
    )
    server = max(figures.load.server_peak_mb, figures.build.server_peak_mb, figures.dbt_run.server_peak_mb)
    dbt = max(figures.build.dbt_peak_mb, figures.tests.dbt_peak_mb, figures.dbt_run.dbt_peak_mb)
    return (
        f"| {figures.scale} | {figures.load.seconds:.1f} s | {figures.build.seconds:.1f} s "
        f"| {figures.load.seconds + figures.build.seconds:.1f} s | {figures.tests.seconds:.1f} s "
        f"| {figures.dbt_run.seconds:.1f} s | {figures.replay_seconds:.1f} s | {figures.dbt_overhead:.1f} "
        f"| {increments} | {server:.0f} MB | {dbt:.0f} MB |"
    )
