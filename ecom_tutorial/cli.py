"""`ecom-tutorial`: the command line of the course. Run `ecom-tutorial --help`."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

from . import database, embedded_server, warehouse
from .errors import EcomTutorialError
from .mock_data import MAX_SCALE
from .runner import DbtUsageError, dbt_environment, failure_of, interactive, run_dbt
from .settings import load_settings


def _whole_number(low: int, high: int, example: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`, else a message that says so."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number: use e.g. {example}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is out of range: use a whole number from {low} to {high}")
        return value

    parse.__name__ = f"whole number from {low} to {high}"  # what argparse prints if parse fails otherwise
    return parse


_scale = _whole_number(1, MAX_SCALE, 1)
ENGINES = ("postgres", "spark")
_port = _whole_number(1, 65535, 8080)


def cmd_up(args: argparse.Namespace) -> int:
    if args.engine == "spark":
        return _up_spark(args)
    result = warehouse.up(args.scale, progress=interactive())
    action = "Loaded" if result.loaded else "Already loaded:"
    counts = ", ".join(f"{table} {rows:,}" for table, rows in result.state.row_counts.items())
    if result.dropped:
        print(f"The data was replaced, so the warehouse built on it was dropped: {', '.join(result.dropped)}.")
    for note in result.notes:
        print(note)
    print(f"{action} raw data at scale {result.state.scale} ({counts}) into {result.info.describe()}.")
    print(f"Done in {result.seconds:.1f} s. Next: `ecom-tutorial build`.")
    return 0


def _up_spark(args: argparse.Namespace) -> int:
    from . import spark_engine

    result = spark_engine.up(args.scale, progress=interactive())
    copied = "copied to it" if result.copied else "already there"
    print(f"{result.cluster.describe()}.")
    print(f"Raw data at scale {result.scale}: {copied}. Done in {result.seconds:.1f} s.")
    print("Next: `ecom-tutorial build --engine spark`; `ecom-tutorial down` stops the cluster.")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if args.engine == "spark":
        from . import spark_engine

        spark_result = spark_engine.build(args.scale, full_refresh=args.full_refresh, progress=not args.no_progress)
        print(f"dbt build --target spark: {spark_result.summary()} in {time.perf_counter() - started:.1f} s.")
        print("Left out on Spark, by configuration:")
        for what, why in spark_engine.LEFT_OUT.items():
            print(f"  - {what}: {why}")
        print("Compare it with PostgreSQL's in lesson 11 (notebooks/11_spark.ipynb).")
        return 0
    result = warehouse.build(args.scale, full_refresh=args.full_refresh, progress=not args.no_progress)
    print(f"dbt build: {result.summary()} in {time.perf_counter() - started:.1f} s.")
    if result.warnings:
        print(f"{len(result.warnings)} warning(s):")
        for warning in result.warnings:
            print(f"  - {warning}")
    print("The warehouse is ready. Next: `jupyter lab notebooks/00_setup.ipynb`.")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from . import spark_cluster

    cluster = spark_cluster.running()
    spark = cluster.describe() if cluster else "not running (`ecom-tutorial up --engine spark` starts it: lesson 11)"
    for key, value in {**warehouse.status(), "spark": spark}.items():
        print(f"{key:>24}: {value}")
    return 0


def cmd_env(args: argparse.Namespace) -> int:
    """Print `export` lines so that plain `dbt` in this shell reaches the same database."""
    settings = load_settings()
    for name, value in dbt_environment(database.connection_info(settings), settings).items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not args.yes:
        print(
            f"This drops what the course created in the schemas {', '.join(settings.owned_schemas)} of database "
            f"{settings.db_name!r} (nothing else: objects of yours there are kept) and reloads the raw data. "
            "Run again with --yes to go ahead."
        )
        return 1
    report = warehouse.reset(args.scale, progress=interactive())
    print(f"Dropped {', '.join(report.dropped) or 'nothing'}; raw data reloaded at scale {args.scale}.")
    if report.kept_message():
        print(report.kept_message())
    print("Next: `ecom-tutorial build`.")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from . import spark_cluster

    settings = load_settings()
    if args.engine in ("spark", None):
        spark_stopped = spark_cluster.stop(settings)
        print(
            "The Spark cluster stopped; its tables are kept." if spark_stopped else "The Spark cluster was not running."
        )
        if args.engine == "spark":
            return 0
    if settings.db_mode != "embedded":
        print("ECOM_DB_MODE=server: this package does not manage that server; stop it where it runs.")
        return 0
    stopped = embedded_server.stop(settings)
    print("Embedded PostgreSQL stopped; its data is kept." if stopped else "The embedded PostgreSQL was not running.")
    return 0


def cmd_exercises(args: argparse.Namespace) -> int:
    """Regenerate the learner notebooks from the solutions (the source of truth)."""
    from .learner_copies import sync_learner_copies

    reported = sync_learner_copies(check_only=args.check, force=args.force)
    for line in reported:
        print(("out of date: " if args.check else "updated: ") + line)
    if not reported:
        print("All learner notebooks are up to date.")
    return 1 if args.check and reported else 0


def cmd_dbt(args: argparse.Namespace) -> int:
    dbt_args = args.dbt_args[1:] if args.dbt_args[:1] == ["--"] else args.dbt_args
    if not dbt_args:
        print("Say which dbt command to run, e.g. `ecom-tutorial dbt -- ls --select staging`.", file=sys.stderr)
        return 2
    result = run_dbt(dbt_args, check=False, verbose=True, progress=False)
    error = failure_of(result)
    if error is not None and (result.unmatched_selectors or isinstance(result.exception, DbtUsageError)):
        raise error  # dbt's own log says nothing (or only a warning) about these two
    return 0 if result.success else 1


def cmd_docs(args: argparse.Namespace) -> int:
    from .docs import serve_docs

    serve_docs(port=args.port)
    return 0


def cmd_notebooks(args: argparse.Namespace) -> int:
    from .notebooks import execute_notebooks

    execute_notebooks(args.names or None)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from . import bench

    out_dir = args.out or load_settings().project_dir / "build" / "bench"
    if args.engines:
        return _bench_engines(args.scales or [10], out_dir)
    scales = " ".join(map(str, args.scales or [1, 10]))
    print(f"Measuring in a scratch data folder of its own (nothing of yours is touched); scales {scales}.")
    figures = bench.run_bench(args.scales or [1, 10], out_dir, report=lambda line: print(line, flush=True))
    print(bench.TABLE_HEADER)
    for scale in figures:
        print(bench.format_row(scale))
    print(bench.describe_machine())
    print(f"Figures: {out_dir / 'bench.json'}; chart: {out_dir / 'bench.png'}.")
    return 0


def _bench_engines(scales: list[int], out_dir: Path) -> int:
    from . import engine_bench

    if len(scales) != 1:
        print("`bench --engines` compares the engines at one scale: give one, for example `--scales 10`.")
        return 2
    print(f"The whole project at scale {scales[0]} on PostgreSQL, then on Spark, each built and its marts run again")
    print("alone, in a scratch folder of its own (nothing of yours is touched; Spark needs Java 17). Minutes.")
    measured = engine_bench.run_engine_bench(scales[0], out_dir, report=lambda line: print(line, flush=True))
    print(measured.describe())
    print(measured.times.pivot(index="model", columns="engine", values="seconds").to_string())
    print(f"Figures: {out_dir / engine_bench.ENGINES_FILE}; chart: {out_dir / 'engines.png'}.")
    return 0


def cmd_progress(args: argparse.Namespace) -> int:
    from . import progress

    rows = progress.summary(progress.attempts())
    if rows.empty:
        print("No checks recorded yet: every `check(...)` in a notebook adds one.")
        return 0
    rows["first_checked"] = rows["first_checked"].map(lambda moment: moment.strftime("%Y-%m-%d %H:%M"))
    print(rows[["exercise_id", "result", "attempts", "minutes", "first_checked"]].to_string(index=False))
    print(f"Passed {int(rows['passed'].sum())} of {len(rows)} exercise(s) tried.")
    return 0


def cmd_class_setup(args: argparse.Namespace) -> int:
    from . import classroom

    options = classroom.ClassOptions(args.statement_timeout, args.connection_limit, args.threads)
    report = classroom.setup(classroom.read_roster(args.roster), _class_dir(args), options)
    if report.added:
        print(f"Added {len(report.added)} learner(s): {', '.join(report.added)}.")
    if report.kept:
        print(f"Already set up, left as they are: {', '.join(report.kept)}.")
    print(f"Their settings files are in {_class_dir(args) / 'settings'} (mode 0600: keep them private).")
    for note in report.notes:
        print(f"Note: {note}")
    return 0


# `class reset` and `class remove`: what each does to a learner, asked before, and said after.
_LEARNER_CHANGES = {
    "reset": (
        "empties {name}'s schemas and gives them a fresh copy of the course (the old one is archived)",
        "{name} starts afresh",
    ),
    "remove": (
        "drops {name}'s schemas and login and removes their settings file (their copy of the course is archived)",
        "{name} is no longer in the class",
    ),
}


def cmd_class_learner(args: argparse.Namespace) -> int:
    from . import classroom

    warning, done = (text.format(name=args.name) for text in _LEARNER_CHANGES[args.class_command])
    if not args.yes:
        print(f"This {warning}. Run again with --yes to go ahead.")
        return 1
    change = classroom.reset_learner if args.class_command == "reset" else classroom.remove_learner
    archived = change(_class_dir(args), args.name)
    print(done + (f"; their copy of the course is in {archived}." if archived else "."))
    return 0


def cmd_class_report(args: argparse.Namespace) -> int:
    from . import class_report

    grid = class_report.class_grid(_class_dir(args))
    columns = class_report.tried_exercises(grid) + ["passed", "stuck longest"]
    print(grid[columns].to_string())
    if args.csv:
        grid.to_csv(args.csv)
        print(f"CSV: {args.csv}")
    if args.png:
        class_report.save_heatmap(grid, args.png)
        print(f"Heatmap: {args.png}")
    return 0


def cmd_class_grade(args: argparse.Namespace) -> int:
    from . import classroom, grading

    grades = []
    for learner in classroom.learners(_class_dir(args)):
        grades += grading.grade_learner(learner)
    table = grading.score_table(grades)
    print(table.to_string(index=False))
    if args.csv:
        table.to_csv(args.csv, index=False)
        print(f"CSV: {args.csv}")
    if args.details:
        grading.details_table(grades).to_csv(args.details, index=False)
        print(f"What each check said: {args.details}")
    return 0


def _class_dir(args: argparse.Namespace) -> Path:
    return Path(args.class_dir).resolve() if args.class_dir else load_settings().class_dir


def _add_class_commands(commands: argparse._SubParsersAction) -> None:
    """`ecom-tutorial class ...`: the teacher's commands (classroom.py)."""
    parser = commands.add_parser("class", help="A class on one server: setup, report, grade, reset, remove.")
    subcommands = parser.add_subparsers(dest="class_command", required=True, metavar="CLASS_COMMAND")

    def add(name: str, handler: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        sub = subcommands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        sub.add_argument("--class-dir", help="the class folder (default: $ECOM_CLASS_DIR, else class/ in the checkout)")
        return sub

    setup = add("setup", cmd_class_setup, "Create the course database and a login, schemas and settings per learner.")
    setup.add_argument("--roster", required=True, type=Path, help="a file with one learner name per line")
    setup.add_argument("--statement-timeout", default="5min", help="a learner's query stops after this (default 5min)")
    setup.add_argument(
        "--connection-limit", type=_whole_number(2, 100, 8), default=8, help="connections per learner (default 8)"
    )
    setup.add_argument("--threads", type=_whole_number(1, 16, 1), default=1, help="dbt threads per learner (default 1)")
    for name, help_text in (
        ("reset", "Rebuild one learner from scratch (their old copy is archived)."),
        ("remove", "Take one learner out of the class (their copy is archived)."),
    ):
        sub = add(name, cmd_class_learner, help_text)
        sub.add_argument("name", help="the learner's name")
        sub.add_argument("--yes", action="store_true", help="do it without asking")
    report = add("report", cmd_class_report, "Who passed which exercise, in how many attempts, and who is stuck.")
    report.add_argument("--csv", type=Path, help="also write the grid as CSV")
    report.add_argument("--png", type=Path, help="also draw it as a heatmap picture")
    grade = add("grade", cmd_class_grade, "Run every build-it check on each learner's own models; print scores.")
    grade.add_argument("--csv", type=Path, help="also write the scores as CSV")
    grade.add_argument("--details", type=Path, help="also write, per learner and exercise, what the check said (CSV)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecom-tutorial",
        description="Learn dbt on an e-commerce warehouse: start PostgreSQL, load the data, build with dbt.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    scale_help = f"scale factor 1-{MAX_SCALE}: 1 = 10,000 customers, 50,000 orders (default: what is loaded, else 1)"
    engine_help = "postgres (the default), or spark: a local Spark cluster holding the same raw data (lesson 11)"
    up = add("up", cmd_up, "Start the database (if embedded), create it and load the raw data.")
    up.add_argument("--scale", type=_scale, help=scale_help)
    up.add_argument("--engine", choices=ENGINES, default="postgres", help=engine_help)
    build = add("build", cmd_build, "up, then dbt deps and dbt build (seeds, models, snapshots, tests).")
    build.add_argument("--scale", type=_scale, help=scale_help)
    build.add_argument("--engine", choices=ENGINES, default="postgres", help=engine_help)
    build.add_argument("--full-refresh", action="store_true", help="rebuild incremental models and seeds from scratch")
    build.add_argument("--no-progress", action="store_true", help="no progress bar")
    add("status", cmd_status, "Show which server is used, whether it runs and what is loaded.")
    add("env", cmd_env, 'Print export lines for plain dbt: eval "$(ecom-tutorial env)".')
    reset = add("reset", cmd_reset, "Drop only this project's schemas and reload the raw data.")
    reset.add_argument("--scale", type=_scale, default=1, help="scale factor to reload at (default 1)")
    reset.add_argument("--yes", action="store_true", help="do it without asking")
    add("down", cmd_down, "Stop the Spark cluster and the embedded PostgreSQL (their data is kept).").add_argument(
        "--engine", choices=ENGINES, help="stop only this one (default: both)"
    )
    add("docs", cmd_docs, "Generate the dbt docs and serve them on 127.0.0.1.").add_argument(
        "--port", type=_port, help="port to serve on, 1-65535 (default: a free one)"
    )
    add(
        "notebooks", cmd_notebooks, "Execute the notebook series into build/notebooks (with HTML copies)."
    ).add_argument("names", nargs="*", help="notebook names to run (default: all)")
    exercises = add(
        "exercises",
        cmd_exercises,
        "Regenerate the learner notebooks in notebooks/ from notebooks/solutions/ (strips outputs too).",
    )
    exercises.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything is out of date")
    exercises.add_argument(
        "--force", action="store_true", help="also replace learner notebooks you changed (each is kept as a .bak first)"
    )
    dbt = add("dbt", cmd_dbt, "Run any dbt command against the course database, e.g. `ecom-tutorial dbt -- test`.")
    dbt.add_argument("dbt_args", nargs=argparse.REMAINDER, help="arguments passed to dbt")
    bench = add("bench", cmd_bench, "Measure load, build, tests, dbt's overhead and memory per scale (scratch data).")
    bench.add_argument("--scales", type=_scale, nargs="+", help="scale factors (default: 1 10; with --engines: 10)")
    bench.add_argument(
        "--engines", action="store_true", help="compare PostgreSQL and Spark per mart at one scale (lesson 11)"
    )
    bench.add_argument("--out", type=Path, help="where bench.json and bench.png go (default: build/bench)")
    add("progress", cmd_progress, "Show your recorded checks: each exercise, passed or not, after how many attempts.")
    _add_class_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except EcomTutorialError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
