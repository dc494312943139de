"""Benchmark: a class of N learners (30 by default) on one PostgreSQL server, all building at once.

    python tests/benchmark_classroom.py                  # 30 learners on the server at 127.0.0.1:5432
    python tests/benchmark_classroom.py --learners 5     # a quick look

It sets up a class in a course database of its own (`class setup`), then starts every learner's
`ecom-tutorial build` at the same moment, each with their own settings file, and reports: the setup
time, the wall time until the last build ends, the slowest and fastest learner, the server's peak
connections and the builders' peak memory; then that nobody can read another's marts; then each
learner records two checks, and the teacher's `class report` and `class grade` are timed.

A benchmark, not a test: the numbers go in notes and issues, never in assertions. It drops its course
database and roles at the end (unless --keep).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import psycopg2
from conftest import drop_database_and_roles

REPO = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "ecom_tutorial.cli"]
# Two checks per learner, one wrong and one right: what a class's progress table holds after a lesson.
CHECKS = """
from ecom_tutorial.exercises import check
check("01.1", "select status, count(*) as n from raw_data.orders group by 1")
check("01.1", "select status, count(*) as order_count from raw_data.orders group by status")
"""


def timed(command: list[str], env: dict[str, str]) -> float:
    """Seconds a command takes (it must succeed)."""
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, capture_output=True, text=True)
    return time.perf_counter() - started


class Peaks(threading.Thread):
    """Samples, until stopped, the server's connections to the course database and the builders' memory."""

    def __init__(self, admin: dict[str, object], database: str, processes: list[subprocess.Popen[str]]) -> None:
        super().__init__(daemon=True)
        self.admin, self.database, self.processes = admin, database, processes
        self.connections = 0
        self.memory_bytes = 0
        self.done = threading.Event()

    def _rss(self) -> int:
        total = 0
        for process in self.processes:
            try:
                parent = psutil.Process(process.pid)
                total += sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])
            except psutil.Error:
                continue
        return total

    def run(self) -> None:
        conn = psycopg2.connect(**self.admin)  # type: ignore[arg-type]
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                while not self.done.wait(0.25):
                    cur.execute("select count(*) from pg_stat_activity where datname = %s", (self.database,))
                    self.connections = max(self.connections, cur.fetchone()[0])
                    self.memory_bytes = max(self.memory_bytes, self._rss())
        finally:
            conn.close()


def learner_env(class_dir: Path, name: str) -> dict[str, str]:
    """This process's environment without its own ECOM_/DBT_ settings, as learner `name`."""
    from ecom_tutorial.classroom import learner

    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ECOM_", "DBT_"))}
    return {**clean, **learner(class_dir, name).environment()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--user", default="postgres", help="a role that may create roles and databases")
    parser.add_argument("--keep", action="store_true", help="keep the course database, roles and class folder")
    args = parser.parse_args(argv)
    database = f"bench_class_{os.getpid()}"
    admin = {"host": args.host, "port": args.port, "user": args.user, "dbname": "postgres"}
    names = [f"learner{number:02d}" for number in range(1, args.learners + 1)]
    class_dir = Path(tempfile.mkdtemp(prefix="ecom-bench-class-"))
    teacher = {k: v for k, v in os.environ.items() if not k.startswith(("ECOM_", "DBT_"))}
    teacher.update(
        ECOM_DB_MODE="server",
        ECOM_DB_HOST=args.host,
        ECOM_DB_PORT=str(args.port),
        ECOM_DB_USER=args.user,
        ECOM_DB_PASSWORD=os.environ.get("PGPASSWORD", ""),
        ECOM_DB_NAME=database,
        ECOM_REPORTER_ROLE=f"{database}_reporter",
        ECOM_CLASS_DIR=str(class_dir),
        ECOM_PROJECT_DIR=str(REPO),
    )
    roster = class_dir.parent / f"{class_dir.name}.roster"
    roster.write_text("\n".join(names) + "\n")
    try:
        seconds = timed([*CLI, "class", "setup", "--roster", str(roster)], teacher)
        print(f"class setup, {len(names)} learners (raw data loaded once): {seconds:.1f} s", flush=True)

        started = time.perf_counter()
        processes = [
            subprocess.Popen(
                [*CLI, "build", "--no-progress"],
                env=learner_env(class_dir, name),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for name in names
        ]
        peaks = Peaks(admin, database, processes)
        peaks.start()
        ended: dict[str, float] = {}
        outputs: dict[str, str] = {}
        for name, process in zip(names, processes, strict=True):
            outputs[name] = process.communicate()[0]
            ended[name] = time.perf_counter() - started
        peaks.done.set()
        peaks.join()
        failed = [name for name, process in zip(names, processes, strict=True) if process.returncode != 0]
        print(f"{len(names)} concurrent builds: wall {max(ended.values()):.1f} s", flush=True)
        print(f"  the slowest learner finished after {max(ended.values()):.1f} s ({max(ended, key=ended.get)})")
        print(f"  the fastest after {min(ended.values()):.1f} s; builds that failed: {len(failed)} {failed}")
        print(f"  peak connections to the course database: {peaks.connections}")
        print(f"  peak memory of the builders together: {peaks.memory_bytes / 2**30:.1f} GiB")
        for name in failed[:3]:
            print(f"--- {name}:\n{outputs[name][-2000:]}")

        counts, leaks = set(), 0
        built = [name for name in names if name not in failed]
        for index, name in enumerate(built):
            env = learner_env(class_dir, name)
            other = built[(index + 1) % len(built)]
            conn = psycopg2.connect(
                host=args.host,
                port=args.port,
                user=env["ECOM_DB_USER"],
                password=env["ECOM_DB_PASSWORD"],
                dbname=database,
            )
            try:
                with conn.cursor() as cur:
                    cur.execute(f"select count(*) from {name}.customer_analytics")
                    counts.add(cur.fetchone()[0])
                    try:
                        cur.execute(f"select count(*) from {other}.customer_analytics")
                        leaks += 1
                    except psycopg2.errors.InsufficientPrivilege:
                        conn.rollback()
            finally:
                conn.close()
        print(
            f"isolation: {leaks} learner(s) could read another's marts; customer_analytics rows per learner: {counts}"
        )

        started = time.perf_counter()
        checkers = [
            subprocess.Popen(
                [sys.executable, "-c", CHECKS],
                env=learner_env(class_dir, name),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for name in names
        ]
        for process in checkers:
            process.wait()
        print(
            f"{2 * len(names)} checks recorded by {len(names)} learners at once: {time.perf_counter() - started:.1f} s"
        )
        report = [*CLI, "class", "report", "--csv", str(class_dir / "r.csv"), "--png", str(class_dir / "r.png")]
        print(f"class report (table, CSV, heatmap): {timed(report, teacher):.1f} s")
        grade = [*CLI, "class", "grade", "--csv", str(class_dir / "g.csv")]
        print(f"class grade ({len(names)} learners, every build-it check): {timed(grade, teacher):.1f} s")
    finally:
        if not args.keep:
            drop_database_and_roles(admin, database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
