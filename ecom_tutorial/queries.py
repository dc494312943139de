"""Query the warehouse from Python and from `%sql` cells."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import pandas as pd
import sqlalchemy

from . import database
from .settings import Settings, load_settings


@lru_cache(maxsize=4)
def _engine_for(url: str, options: str, settings: Settings) -> sqlalchemy.Engine:
    engine = sqlalchemy.create_engine(url, pool_pre_ping=True, connect_args={"options": options})

    @sqlalchemy.event.listens_for(engine, "before_cursor_execute", retval=True)
    def _learners_raw_data(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        return settings.in_raw_schema(statement), parameters

    return engine


def engine() -> sqlalchemy.Engine:
    """A SQLAlchemy engine on the warehouse (one per process, server and target schema).

    Its sessions search dbt's schemas (Settings.search_path), so queries name models, not schemas:
    `select * from customer_analytics` reads the learner's own target schema; `raw_data.orders` reads the
    raw data the learner's sources read (in a class, their own copy: Settings.in_raw_schema).
    """
    settings = load_settings()
    info = database.connection_info(settings)
    return _engine_for(info.sqlalchemy_url(), database.search_path_option(settings.search_path), settings)


def query(sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Run a SELECT and return its rows as a DataFrame; bind values as `:name` with `params`."""
    with engine().connect() as conn:
        return pd.read_sql_query(sqlalchemy.text(sql), conn, params=dict(params or {}))


def setup_sql_magic(max_rows: int = 10) -> sqlalchemy.Engine:
    """Load JupySQL in the running notebook and connect `%sql` / `%%sql` to the warehouse.

    JupySQL is given the engine object itself: `%sql <url>` can fail silently to connect. Its
    start-up chatter (about pyproject.toml settings) is hidden.
    """
    from IPython import get_ipython
    from IPython.utils.capture import capture_output

    shell = get_ipython()
    if shell is None:
        raise RuntimeError("setup_sql_magic() only works inside a notebook or IPython.")
    warehouse_engine = engine()
    with capture_output():
        shell.run_line_magic("load_ext", "sql")
        shell.run_line_magic("config", "SqlMagic.feedback = 0")
        shell.run_line_magic("config", "SqlMagic.displaycon = False")
        shell.run_line_magic("config", f"SqlMagic.displaylimit = {max_rows}")
        shell.user_ns["_ecom_engine"] = warehouse_engine
        shell.run_line_magic("sql", "_ecom_engine")
    return warehouse_engine
