"""The course's main jobs: bring the database up, build the warehouse, reset it, report on it."""

from __future__ import annotations

import time
from dataclasses import dataclass

from . import database, mock_data
from .errors import DatabaseMissingError, DataNotLoadedError
from .runner import DbtResult, run_dbt
from .settings import Settings, load_settings


@dataclass(frozen=True)
class UpResult:
    info: database.ConnectionInfo
    loaded: bool  # False when the raw data was already there at the requested scale
    state: mock_data.RawDataState
    seconds: float
    dropped: tuple[str, ...] = ()  # dbt schemas dropped because the data under them was replaced


def prepare_database(settings: Settings) -> database.ConnectionInfo:
    """Start the server if embedded, create the database, schemas and the read-only role."""
    info = database.connection_info(settings)
    database.ensure_database(info)
    with database.connection(info) as conn:
        database.run_sql_file(conn, settings.init_sql)
    return info


def up(scale: int | None = None, *, reload: bool = False, settings: Settings | None = None) -> UpResult:
    """Make the raw data available: load it if missing, or if `scale` differs from what is loaded.

    Replacing loaded data at another scale also drops the warehouse built on it (this project's
    schemas only): an incremental fact or a snapshot would otherwise keep rows of the old data.
    """
    settings = settings or load_settings()
    started = time.perf_counter()
    info = prepare_database(settings)
    dropped: list[str] = []
    with database.connection(info) as conn:
        try:
            state = mock_data.raw_data_state(conn)
            needs_load = reload or (scale is not None and scale != state.scale)
            if needs_load:
                dropped = [s for s in database.drop_owned_schemas(conn, settings) if s != "raw_data"]
                database.run_sql_file(conn, settings.init_sql)  # the schemas and grants it creates
        except DataNotLoadedError:
            needs_load = True
        if needs_load:
            mock_data.load_raw_data(conn, scale or 1, settings)
            state = mock_data.raw_data_state(conn)
    return UpResult(info, needs_load, state, time.perf_counter() - started, tuple(dropped))


def build(
    scale: int | None = None, *, full_refresh: bool = False, progress: bool = True, settings: Settings | None = None
) -> DbtResult:
    """up, then `dbt deps`, `dbt seed` and `dbt build` (models, snapshots, tests); raises on failure."""
    settings = settings or load_settings()
    up(scale, settings=settings)
    run_dbt(["deps"], progress=False, settings=settings)
    refresh = ["--full-refresh"] if full_refresh else []
    run_dbt(["seed", *refresh], progress=progress, settings=settings)
    return run_dbt(["build", *refresh], progress=progress, settings=settings)


def reset(scale: int = 1, settings: Settings | None = None) -> list[str]:
    """Drop this project's schemas (and nothing else), then reload the raw data. Returns what was dropped."""
    settings = settings or load_settings()
    info = prepare_database(settings)
    with database.connection(info) as conn:
        dropped = database.drop_owned_schemas(conn, settings)
        database.run_sql_file(conn, settings.init_sql)
    up(scale, settings=settings)
    return dropped


def is_built(settings: Settings | None = None, model: str = "customer_analytics") -> bool:
    """True if the raw data is loaded and `model` exists in the target schema."""
    settings = settings or load_settings()
    info = prepare_database(settings)
    with database.connection(info) as conn, conn.cursor() as cur:
        cur.execute("select to_regclass(%s) is not null", (f"{settings.db_schema}.{model}",))
        return bool(cur.fetchone()[0])


def ensure_built(settings: Settings | None = None, progress: bool = True) -> bool:
    """Build the warehouse unless it is already there (quick). Returns True if it had to build."""
    settings = settings or load_settings()
    if is_built(settings):
        return False
    build(settings=settings, progress=progress)
    return True


def status(settings: Settings | None = None) -> dict[str, object]:
    """What is running and loaded, for `ecom-tutorial status` and the setup notebook."""
    settings = settings or load_settings()
    report: dict[str, object] = {"mode": settings.db_mode}
    if settings.db_mode == "embedded":
        report["data folder"] = str(settings.pgdata)
        pid = database.embedded_server_pid(settings)
        report["server"] = f"running (pid {pid})" if pid else "stopped (it starts on the next command that needs it)"
        if not pid:
            return report
    info = database.connection_info(settings)
    report["connection"] = info.describe()
    try:
        conn = database.connect(info)
    except DatabaseMissingError:
        report["database"] = f"{settings.db_name!r} not created yet: run `ecom-tutorial up`"
        return report
    try:
        with conn.cursor() as cur:
            cur.execute("show server_version")
            report["server version"] = cur.fetchone()[0]
        report["schemas"] = ", ".join(database.existing_owned_schemas(conn, settings)) or "none yet"
        state = mock_data.raw_data_state(conn)
    except DataNotLoadedError:
        report["raw data"] = "not loaded yet: run `ecom-tutorial up`"
        return report
    finally:
        conn.close()
    report["raw data"] = ", ".join(f"{table}={rows:,}" for table, rows in state.row_counts.items())
    report["scale"] = state.scale
    report["last order date"] = state.last_order_date
    report["next-day batch applied"] = state.next_day_batch_applied
    report["warehouse built"] = is_built(settings)
    return report
