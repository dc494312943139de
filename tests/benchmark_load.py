"""Benchmark: how long `ecom-tutorial up` and `ecom-tutorial build` take at scale 1 and 10, and what the
incremental fact_order_items costs after the next-day batch, next to its full refresh.

    python tests/benchmark_load.py             # scales 1 and 10, in a scratch embedded server
    python tests/benchmark_load.py --scales 1  # only scale 1

A benchmark, not a test: the numbers go in notes and issues, never in assertions. Uses its own data
folder (nothing of yours is touched) and stops its server at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, capture_output=True, text=True)
    return time.perf_counter() - started


INCREMENTAL = "fact_order_items"
NEXT_DAY_BATCH = (  # what lesson 05 runs: the orders of 2025-01-01 arrive
    "import ecom_tutorial\nwith ecom_tutorial.connection() as conn: ecom_tutorial.apply_next_day_batch(conn)"
)


def model_seconds(target: Path, model: str) -> float:
    """How long dbt's last command took to build `model` (its run_results.json)."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    return next(item["execution_time"] for item in results if item["unique_id"] == f"model.ecom_dbt_tutorial.{model}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    args = parser.parse_args(argv)
    cli = [sys.executable, "-m", "ecom_tutorial.cli"]
    with tempfile.TemporaryDirectory(prefix="ecom-bench-") as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ECOM_", "DBT_"))}
        env.update(ECOM_PGDATA=f"{scratch}/pgdata", DBT_TARGET_PATH=f"{scratch}/target", ECOM_PROJECT_DIR=str(REPO))
        try:
            for scale in args.scales:
                up = timed([*cli, "up", "--scale", str(scale)], env)
                build = timed([*cli, "build", "--full-refresh", "--no-progress"], env)
                full = model_seconds(Path(scratch) / "target", INCREMENTAL)
                subprocess.run([sys.executable, "-c", NEXT_DAY_BATCH], check=True, env=env)
                timed([*cli, "dbt", "--", "run", "--select", INCREMENTAL], env)
                batch = model_seconds(Path(scratch) / "target", INCREMENTAL)
                print(
                    f"scale {scale:>3}: up {up:6.1f} s   build --full-refresh {build:6.1f} s   {INCREMENTAL}: full "
                    f"refresh {full:5.1f} s, after the next-day batch {batch:5.2f} s ({batch / full:.1%})",
                    flush=True,
                )
        finally:
            subprocess.run([*cli, "down"], env=env, capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
