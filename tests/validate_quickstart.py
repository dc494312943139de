"""Run the README's quick start in a scratch copy of the repository and check that it works.

    python tests/validate_quickstart.py                  # the README command, fresh .venv and all
    python tests/validate_quickstart.py --no-install     # reuse this Python's packages (faster)
    python tests/validate_quickstart.py --include-untracked --keep

What it does, as a new learner would:
1. copies the files git knows about (`git ls-files`) into a scratch folder: no .pgdata, no
   target/, nothing from the developer's own checkout leaks in;
2. runs the "Quick start" command of README.md there (venv, `pip install -r requirements.txt`,
   `ecom-tutorial build`), with a fresh embedded database (ECOM_PGDATA in the scratch folder)
   and no ECOM_DB_* / DBT_* variables from this shell;
3. generates the docs like `ecom-tutorial docs` does (without serving them);
4. checks the success criteria: build green with zero warnings, at least 84 data tests plus the
   unit tests all passing, expected row counts in raw tables and marts, docs site files present;
5. stops the embedded server and deletes the scratch folder (unless --keep).

Exit status 0 when every criterion holds. Takes a few minutes (most of it pip and dbt).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MIN_DATA_TESTS = 84
# scale 1 of the mock data (README, "The command line")
RAW_ROWS = {"customers": 10_000, "orders": 50_000, "order_items": 150_000, "products": 100}
DROPPED_ENV_PREFIXES = ("ECOM_", "DBT_", "VIRTUAL_ENV", "PYTHONPATH")

# Counted in the scratch environment, printed as JSON. Runs with the scratch copy's package.
COUNT_SCRIPT = r"""
import json
from ecom_tutorial import database
from ecom_tutorial.settings import load_settings
settings = load_settings()
schema = settings.db_schema
tables = {
    "raw.customers": "raw_data.customers", "raw.orders": "raw_data.orders",
    "raw.order_items": "raw_data.order_items", "raw.products": "raw_data.products",
    "dim_customers": f"{schema}.dim_customers", "dim_products": f"{schema}.dim_products",
    "dim_date": f"{schema}.dim_date", "fact_orders": f"{schema}.fact_orders",
    "fact_order_items": f"{schema}.fact_order_items", "customer_analytics": f"{schema}.customer_analytics",
    "product_performance": f"{schema}.product_performance", "orders_daily": f"{schema}.orders_daily",
    "orders_weekly": f"{schema}.orders_weekly", "orders_monthly": f"{schema}.orders_monthly",
    "marketing_attribution": f"{schema}.marketing_attribution",
}
counts = {}
with database.connection(database.connection_info(settings)) as conn, conn.cursor() as cur:
    for name, table in tables.items():
        cur.execute(f"select count(*) from {table}")
        counts[name] = cur.fetchone()[0]
    cur.execute("select max(order_date)::date::text from raw_data.orders")
    counts["last_order_date"] = cur.fetchone()[0]
print("COUNTS=" + json.dumps(counts))
"""

DOCS_SCRIPT = "from ecom_tutorial.docs import generate_docs; print('DOCS=' + str(generate_docs()))"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def repository_files(include_untracked: bool) -> list[str]:
    """The files a fresh clone would have (plus, optionally, new files not committed yet)."""
    command = ["git", "-C", str(REPO), "ls-files", "-z"]
    if include_untracked:
        command += ["--cached", "--others", "--exclude-standard"]
    listing = subprocess.run(command, capture_output=True, check=True).stdout.decode()
    return sorted({name for name in listing.split("\0") if name and (REPO / name).is_file()})


def copy_repository(destination: Path, include_untracked: bool) -> int:
    files = repository_files(include_untracked)
    for name in files:
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    return len(files)


def quickstart_command(readme: Path) -> str:
    """The first shell block of the README's "Quick start" section that runs `ecom-tutorial build`."""
    text = readme.read_text()
    section = re.search(r"^## Quick start\s*$(.*?)(?=^## )", text, flags=re.M | re.S)
    if not section:
        raise SystemExit("README.md has no '## Quick start' section.")
    for block in re.findall(r"```(?:bash|sh|console)?\n(.*?)```", section.group(1), flags=re.S):
        if "ecom-tutorial build" in block:
            return block.strip()
    raise SystemExit("The README's quick start has no shell block running `ecom-tutorial build`.")


def clean_environment(scratch: Path) -> dict[str, str]:
    """This shell's environment minus anything that points at the developer's database or dbt files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED_ENV_PREFIXES)}
    env["ECOM_PGDATA"] = str(scratch / ".pgdata")  # a brand-new embedded server
    # and not this Python's virtual environment: `python3 -m venv` must find the system Python
    if sys.prefix != sys.base_prefix:
        own_bin = str(Path(sys.prefix) / "bin")
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != own_bin)
    return env


def run(
    command: str, cwd: Path, env: dict[str, str], label: str, timeout: int
) -> tuple[subprocess.CompletedProcess[str], float]:
    shown = command if "\n" not in command else command.splitlines()[0] + " ...'"
    print(f"\n$ {shown}", flush=True)
    started = time.perf_counter()
    completed = subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    seconds = time.perf_counter() - started
    tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-12:])
    print(f"[{label}: exit {completed.returncode} in {seconds:.0f} s]\n{tail}", flush=True)
    return completed, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--no-install",
        action="store_true",
        help="skip the venv and pip steps: run the scratch copy with this Python's packages",
    )
    parser.add_argument(
        "--include-untracked", action="store_true", help="also copy files git does not track yet (not ignored ones)"
    )
    parser.add_argument("--workdir", type=Path, help="scratch folder (default: a new temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder and leave nothing running")
    args = parser.parse_args(argv)

    scratch = (args.workdir or Path(tempfile.mkdtemp(prefix="ecom-quickstart-"))).resolve()
    scratch.mkdir(parents=True, exist_ok=True)
    copied = copy_repository(scratch, args.include_untracked)
    print(f"Copied {copied} files into {scratch}")
    env = clean_environment(scratch)

    if args.no_install:
        # `python -m` from the scratch folder imports the scratch copy of ecom_tutorial
        env["ECOM_PROJECT_DIR"] = str(scratch)
        python = sys.executable
        build_command = f"{python} -m ecom_tutorial.cli build --no-progress"
        prefix = f"{python}"
    else:
        build_command = quickstart_command(scratch / "README.md")
        prefix = ". .venv/bin/activate && python"

    checks: list[Check] = []
    try:
        build, build_seconds = run(build_command, scratch, env, "quick start", timeout=3600)
        output = build.stdout + build.stderr
        summary = re.search(r"dbt build: (PASS=\d+ WARN=(\d+) ERROR=(\d+) SKIP=(\d+)[^\n]*TOTAL=\d+)", output)
        checks.append(Check("quick start exits 0", build.returncode == 0, f"{build_seconds:.0f} s"))
        checks.append(
            Check(
                "dbt build all green, zero warnings",
                bool(summary)
                and summary.group(2) == "0"
                and summary.group(3) == "0"
                and summary.group(4) == "0"
                and "warning(s):" not in output,
                summary.group(1) if summary else "no dbt build summary in the output",
            )
        )

        run_results = scratch / "dbt_project" / "target" / "run_results.json"
        if run_results.exists():
            results = json.loads(run_results.read_text())["results"]
            kinds = {"test": 0, "unit_test": 0}
            bad = [r["unique_id"] for r in results if r["status"] not in ("pass", "success", "no-op")]
            for result in results:
                kind = result["unique_id"].split(".")[0]
                if kind in kinds:
                    kinds[kind] += 1
            checks.append(
                Check(
                    f"at least {MIN_DATA_TESTS} data tests, all passing",
                    kinds["test"] >= MIN_DATA_TESTS and not bad,
                    f"{kinds['test']} data tests, {kinds['unit_test']} unit tests, not passing: {bad[:5]}",
                )
            )
            checks.append(
                Check(
                    "unit tests ran and passed", kinds["unit_test"] > 0 and not bad, f"{kinds['unit_test']} unit tests"
                )
            )
        else:
            checks.append(Check("dbt wrote run_results.json", False, str(run_results)))

        counted, _ = run(f"{prefix} -c {shlex.quote(COUNT_SCRIPT)}", scratch, env, "row counts", timeout=600)
        found = re.search(r"^COUNTS=(.*)$", counted.stdout, flags=re.M)
        counts = json.loads(found.group(1)) if found else {}
        if counts:
            last = date.fromisoformat(counts["last_order_date"])
            days = (last - date(2022, 1, 1)).days + 1
            expected = {
                **{f"raw.{t}": n for t, n in RAW_ROWS.items()},
                "dim_customers": counts["raw.customers"],
                "customer_analytics": counts["raw.customers"],
                "dim_products": counts["raw.products"],
                "product_performance": counts["raw.products"],
                "fact_order_items": counts["raw.order_items"],
                "fact_orders": counts["raw.orders"],
                "dim_date": max(days, 1096),
                "orders_daily": days,
                "orders_monthly": (last.year - 2022) * 12 + last.month,
                "marketing_attribution": 10,
            }
            wrong = {k: (counts.get(k), v) for k, v in expected.items() if counts.get(k) != v}
            checks.append(
                Check(
                    "row counts of raw tables and marts",
                    not wrong,
                    f"{len(expected)} tables checked" + (f"; (found, expected): {wrong}" if wrong else ""),
                )
            )
        else:
            checks.append(Check("row counts of raw tables and marts", False, counted.stderr[-500:]))

        docs, docs_seconds = run(f"{prefix} -c {shlex.quote(DOCS_SCRIPT)}", scratch, env, "docs generate", timeout=900)
        site = re.search(r"^DOCS=(.*)$", docs.stdout, flags=re.M)
        folder = Path(site.group(1)) if site else scratch / "dbt_project" / "target"
        files = [name for name in ("index.html", "manifest.json", "catalog.json") if (folder / name).is_file()]
        catalog_nodes = 0
        if "catalog.json" in files:
            catalog_nodes = len(json.loads((folder / "catalog.json").read_text())["nodes"])
        checks.append(
            Check(
                "docs site generated",
                docs.returncode == 0 and len(files) == 3 and catalog_nodes > 0,
                f"{files} in {folder}, {catalog_nodes} catalog nodes, {docs_seconds:.0f} s",
            )
        )
    finally:
        # never leave a server running, even with --keep
        run(f"{prefix} -m ecom_tutorial.cli down", scratch, env, "stop the embedded server", timeout=120)
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)

    print("\nQuick start validation:")
    for check in checks:
        print(f"  [{'OK' if check.ok else 'FAIL'}] {check.name}: {check.detail}")
    if args.keep:
        print(f"Scratch folder kept: {scratch}")
    return 0 if checks and all(check.ok for check in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
