"""Settings: every knob of the package, read from environment variables with documented defaults.

| variable           | default                         | meaning                                                      |
|--------------------|---------------------------------|--------------------------------------------------------------|
| ECOM_DB_MODE       | embedded                        | `embedded` (the wheel's PostgreSQL) or `server` (any other)  |
| ECOM_PGDATA        | <project>/.pgdata               | data folder of the embedded server                           |
| ECOM_DB_HOST       | localhost                       | server mode: host name or socket folder                      |
| ECOM_DB_PORT       | 5432                            | server mode: port                                            |
| ECOM_DB_USER       | ecom                            | server mode: user                                            |
| ECOM_DB_PASSWORD   | ecom                            | server mode: password                                        |
| ECOM_DB_NAME       | ecommerce_dw                    | database holding raw data and the warehouse                  |
| ECOM_DB_SCHEMA     | analytics_dev                   | dbt's target schema (and prefix of its others)               |
| ECOM_DBT_THREADS   | 4                               | dbt threads (1 or more)                                      |
| ECOM_REPORTER_ROLE | reporter                        | the read-only role (created where allowed; dbt reads it too) |
| ECOM_PROJECT_DIR   | the checkout this package is in | folder holding dbt_project/, docker/, profiles.yml           |
| ECOM_LEARNER       | the operating system's user     | who `check()` records progress for (progress.py)             |
| ECOM_PROGRESS_SCHEMA | course_progress               | schema of the progress table (kept by `reset`)               |
| ECOM_CLASS_DIR     | <project>/class                 | the teacher's class folder: learners' settings and copies    |
| ECOM_RAW_SCHEMA    | raw_data                        | where the sources are read: in a class, the learner's copy   |
| ECOM_SPARK_DIR     | <project>/.spark                | the local Spark cluster's folder (lesson 11): logs, tables   |
| DBT_TARGET_PATH    | target (in dbt_project/)        | dbt's own setting, honoured when reading its output          |

The server-mode defaults match docker/docker-compose.yml, so `docker compose up -d` plus
`ECOM_DB_MODE=server` is all a Docker user sets.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import SettingsError

DB_MODES = ("embedded", "server")
DEFAULT_PROGRESS_SCHEMA = "course_progress"  # where check() records attempts (progress.py); a class shares it
# Where the raw data is loaded, the name the lessons use. A learner of a class reads it through a schema of
# their own (ECOM_RAW_SCHEMA, classroom.py) that a lesson may change without touching anyone else's data.
SHARED_RAW_SCHEMA = "raw_data"
_SHARED_RAW_NAME = re.compile(rf"\b{SHARED_RAW_SCHEMA}\.")
_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class Settings:
    """A snapshot of the environment; call `load_settings()` again to see changes."""

    db_mode: str
    pgdata: Path
    db_host: str
    db_port: int
    db_user: str
    db_password: str
    db_name: str
    db_schema: str
    dbt_threads: int
    project_dir: Path
    reporter_role: str = "reporter"
    learner: str = ""
    progress_schema: str = DEFAULT_PROGRESS_SCHEMA
    class_dir: Path = Path("class")
    raw_schema: str = SHARED_RAW_SCHEMA
    spark_dir: Path = Path(".spark")

    @property
    def dbt_project_dir(self) -> Path:
        return self.project_dir / "dbt_project"

    @property
    def dbt_target_dir(self) -> Path:
        """dbt's target folder (manifest, compiled SQL, docs): DBT_TARGET_PATH if set, else dbt_project/target.

        Read when asked, like dbt itself does, so a test or a second terminal can point it elsewhere.
        """
        path = Path(os.environ.get("DBT_TARGET_PATH") or "target").expanduser()
        return path if path.is_absolute() else self.dbt_project_dir / path

    @property
    def mock_data_dir(self) -> Path:
        return self.project_dir / "docker" / "postgres" / "mock-data"

    @property
    def init_sql(self) -> Path:
        return self.project_dir / "docker" / "postgres" / "init-db.sql"

    @property
    def build_dir(self) -> Path:
        """Where executed notebooks, reports and test artifacts go (git-ignored)."""
        return self.project_dir / "build"

    @property
    def owned_schemas(self) -> tuple[str, ...]:
        """The schemas this project creates or uses; `reset` drops in them only what it created (ownership.py)."""
        return (self.raw_schema, *target_schemas(self.db_schema))

    @property
    def search_path(self) -> tuple[str, ...]:
        """The schemas a notebook query or an exercise answer finds without naming them: dbt's
        (the target first), not raw_data, which a lesson names on purpose. So `select * from
        customer_analytics` works for every learner, whatever ECOM_DB_SCHEMA says. Not the CI schema: its
        clones have the same names as the models they point to."""
        return tuple(schema for schema in target_schemas(self.db_schema) if schema != self.db_schema + CI_SCHEMA_SUFFIX)

    def in_raw_schema(self, sql: str) -> str:
        """`sql` with `raw_data.<table>` reading this learner's raw schema: the lessons, the exercises' expected
        results and the next-day batch name raw_data, which in a class is shared and read-only, while each
        learner reads (and a lesson changes) their own copy. Unchanged where the raw schema is raw_data."""
        if self.raw_schema == SHARED_RAW_SCHEMA:
            return sql
        return _SHARED_RAW_NAME.sub(f"{self.raw_schema}.", sql)


# dbt's target schema and the companions its custom schemas get (`+schema:` in dbt_project.yml), the
# package's workspace and audit schemas, and the one schema of the `ci` target (profiles.yml, lesson 09):
# every schema a target (a learner of a class) has.
CI_SCHEMA_SUFFIX = "_ci"
TARGET_SCHEMA_SUFFIXES = (
    "",
    "_staging",
    "_seeds",
    "_snapshots",
    "_workspace",
    "_audit",
    "_dbt_test__audit",
    CI_SCHEMA_SUFFIX,
)


def target_schemas(target: str) -> tuple[str, ...]:
    """The schemas of the dbt target schema `target`: itself first, then its companions."""
    return tuple(target + suffix for suffix in TARGET_SCHEMA_SUFFIXES)


def _default_project_dir() -> Path:
    return Path(__file__).resolve().parent.parent


def _int_setting(name: str, default: int, minimum: int | None = None) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number: set it to e.g. {default}.") from None
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name}={raw} must be {minimum} or more: set it to e.g. {default}, or unset it.")
    return value


@contextmanager
def scoped_environ(changes: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables while the block runs; afterwards each has its previous value (or none) again."""
    previous = {name: os.environ.get(name) for name in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def load_settings() -> Settings:
    """Read the settings from the environment (see the table in this module's docstring)."""
    env = os.environ.get
    project_dir = Path(env("ECOM_PROJECT_DIR") or _default_project_dir()).expanduser().resolve()
    if not (project_dir / "dbt_project" / "dbt_project.yml").exists():
        raise SettingsError(
            f"{project_dir} does not look like the course checkout (no dbt_project/dbt_project.yml). "
            "Install the package from the checkout with `pip install -e .` or set ECOM_PROJECT_DIR."
        )
    mode = (env("ECOM_DB_MODE") or "embedded").strip().lower()
    if mode not in DB_MODES:
        raise SettingsError(f"ECOM_DB_MODE={mode!r}: use 'embedded' (the default) or 'server'.")
    return Settings(
        db_mode=mode,
        pgdata=Path(env("ECOM_PGDATA") or project_dir / ".pgdata").expanduser().resolve(),
        db_host=env("ECOM_DB_HOST") or "localhost",
        db_port=_int_setting("ECOM_DB_PORT", 5432),
        db_user=env("ECOM_DB_USER") or "ecom",
        db_password=env("ECOM_DB_PASSWORD", "ecom"),
        db_name=env("ECOM_DB_NAME") or "ecommerce_dw",
        db_schema=env("ECOM_DB_SCHEMA") or "analytics_dev",
        dbt_threads=_int_setting("ECOM_DBT_THREADS", 4, minimum=1),
        project_dir=project_dir,
        reporter_role=env("ECOM_REPORTER_ROLE") or "reporter",
        learner=env("ECOM_LEARNER") or _os_user(),
        progress_schema=env("ECOM_PROGRESS_SCHEMA") or DEFAULT_PROGRESS_SCHEMA,
        class_dir=Path(env("ECOM_CLASS_DIR") or project_dir / "class").expanduser().resolve(),
        raw_schema=_raw_schema_setting(env("ECOM_RAW_SCHEMA") or SHARED_RAW_SCHEMA),
        spark_dir=Path(env("ECOM_SPARK_DIR") or project_dir / ".spark").expanduser().resolve(),
    )


def _raw_schema_setting(name: str) -> str:
    if not _PLAIN_NAME.fullmatch(name):
        raise SettingsError(
            f"ECOM_RAW_SCHEMA={name!r} is not a plain schema name (lowercase letters, digits and _): "
            f"unset it to read {SHARED_RAW_SCHEMA}."
        )
    return name


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user with no name
        return "learner"
