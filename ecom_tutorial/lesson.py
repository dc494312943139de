"""The first code cell of every lesson: get the warehouse, `%sql`, charts and exercises ready.

`setup_lesson(scale, strict_exercises)` is quick when the warehouse is already built (it only
checks), and builds it when a learner opens a lesson on a fresh machine, so each notebook runs
on its own from a fresh kernel.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from . import exercises, warehouse
from .settings import load_settings


@dataclass(frozen=True)
class LessonContext:
    """What `setup_lesson` found or did, shown as one line in the notebook."""

    database: str
    built_now: bool
    scale: int
    seconds: float

    def __repr__(self) -> str:
        action = "built it just now" if self.built_now else "it was already built"
        return (
            f"Warehouse ready in database {self.database!r} at scale {self.scale} "
            f"({action}, {self.seconds:.1f} s). `%sql` and the exercise checks are set up."
        )


def setup_lesson(scale: int = 1, strict_exercises: bool = False, *, sql_magic: bool = True) -> LessonContext:
    """Build the warehouse if it is missing (at `scale`; an existing one keeps its scale), load
    `%sql`, set the chart style and the exercises' strict mode (on in CI)."""
    from . import charts, database, mock_data
    from .queries import setup_sql_magic

    started = time.perf_counter()
    settings = load_settings()
    exercises.configure(strict=strict_exercises)
    built_now = False
    if not warehouse.is_built(settings):
        warehouse.build(scale, settings=settings, progress=True)
        built_now = True
    with database.connection(database.connection_info(settings)) as conn:
        loaded_scale = mock_data.raw_data_state(conn).scale
    if sql_magic:
        setup_sql_magic()
    charts.use_style()
    return LessonContext(settings.db_name, built_now, loaded_scale, time.perf_counter() - started)
