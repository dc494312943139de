"""ecom_tutorial: the Python side of the course: database, mock data, dbt runner, queries, charts.

The notebooks call these; nothing here needs to be read to follow the course.
"""

# first: before anything imports dbt, it defers a slow import of dbt's (lazy_imports.py says which)
from . import lazy_imports  # noqa: F401
from .compiling import compile_inline, compiled_sql
from .database import ConnectionInfo, connect, connection, connection_info
from .embedded_server import stop
from .errors import (
    DatabaseAuthError,
    DatabaseMissingError,
    DatabasePermissionError,
    DatabaseUnavailableError,
    DataNotLoadedError,
    DbtRunError,
    EcomTutorialError,
    ForeignObjectsError,
    SettingsError,
)
from .metrics import query_metrics, validate_configs
from .mock_data import apply_next_day_batch, change_raw_data, load_raw_data, raw_data_state, table_checksums
from .queries import engine, query, setup_sql_magic
from .runner import DbtResult, run_dbt
from .settings import Settings, load_settings
from .warehouse import build, ensure_built, reset, status, up

__all__ = [
    "ConnectionInfo",
    "DatabaseAuthError",
    "DatabaseMissingError",
    "DatabasePermissionError",
    "DatabaseUnavailableError",
    "DataNotLoadedError",
    "DbtResult",
    "DbtRunError",
    "EcomTutorialError",
    "ForeignObjectsError",
    "Settings",
    "SettingsError",
    "apply_next_day_batch",
    "build",
    "change_raw_data",
    "compile_inline",
    "compiled_sql",
    "connect",
    "connection",
    "connection_info",
    "engine",
    "ensure_built",
    "load_raw_data",
    "load_settings",
    "query",
    "query_metrics",
    "raw_data_state",
    "reset",
    "run_dbt",
    "setup_sql_magic",
    "status",
    "stop",
    "table_checksums",
    "up",
    "validate_configs",
]
