"""The package's own exceptions: each message says what went wrong and what to do next."""

from __future__ import annotations


class EcomTutorialError(Exception):
    """Base class: the CLI prints the message of any of these and exits non-zero."""


class SettingsError(EcomTutorialError):
    """An environment variable has a value the package cannot use."""


class DatabaseUnavailableError(EcomTutorialError):
    """The PostgreSQL server cannot be reached or started."""


class DatabaseAuthError(EcomTutorialError):
    """The server rejected the user name or password."""


class DatabaseMissingError(EcomTutorialError):
    """The configured database does not exist and could not be created."""


class DataNotLoadedError(EcomTutorialError):
    """The raw tables are missing: the mock data has not been loaded yet."""


class DatabasePermissionError(EcomTutorialError):
    """The database user lacks a privilege; the message names it and who can grant it."""


class ForeignObjectsError(EcomTutorialError):
    """Objects the project did not create would be dropped with its own: nothing was dropped."""


class DbtRunError(EcomTutorialError):
    """A dbt command failed; `failures` lists the nodes that failed and why."""

    def __init__(self, message: str, failures: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.failures = failures or []


class NothingCompiledError(EcomTutorialError, ValueError):
    """dbt compiled no SQL for what was asked (a model name misspelt, a snippet that is no SELECT)."""


class SparkUnavailableError(EcomTutorialError):
    """The local Spark cluster (lesson 11) cannot start or be reached: no Java, a process that failed."""
