"""The first code cell of every lesson: get the warehouse, `%sql`, charts and exercises ready.

`setup_lesson(scale, strict_exercises)` is quick when the warehouse is built and current (it only
checks), and builds it when it is missing or stale: on a fresh machine, or after another lesson
changed the data (the next-day batch) or the project. So each notebook runs on its own, from a
fresh kernel, after any other lesson, as often as the learner likes.
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
        action = "built or brought up to date just now" if self.built_now else "it was already up to date"
        return (
            f"Warehouse ready in database {self.database!r} at scale {self.scale} "
            f"({action}, {self.seconds:.1f} s). `%sql` and the exercise checks are set up."
        )


def setup_lesson(scale: int = 1, strict_exercises: bool = False, *, sql_magic: bool = True) -> LessonContext:
    """Build the warehouse if it is missing or stale (at `scale`; loaded data keeps its scale), load
    `%sql`, set the chart style and the exercises' strict mode (on in CI)."""
    from . import charts, database, mock_data
    from .queries import setup_sql_magic

    started = time.perf_counter()
    settings = load_settings()
    exercises.configure(strict=strict_exercises)
    built_now = warehouse.ensure_built(settings, scale=scale, progress=True)
    with database.connection(database.connection_info(settings)) as conn:
        loaded_scale = mock_data.raw_data_state(conn, settings).scale
    if sql_magic:
        setup_sql_magic()
    charts.use_style()
    return LessonContext(settings.db_name, built_now, loaded_scale, time.perf_counter() - started)
