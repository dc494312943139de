"""The teacher's view of a class: who passed what, after how many attempts, and who is stuck where.

Reads every learner's recorded checks (progress.py) from the course database as the teacher, and
names each row by the login that wrote it, not by the name it carries: row-level security lets a
learner write only rows of their own login, so a row cannot be passed off as someone else's.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import classroom, progress
from .exercises import all_exercises
from .settings import Settings, load_settings


def class_grid(class_dir: Path, settings: Settings | None = None) -> pd.DataFrame:
    """Learner × exercise (`progress.grid`) for every learner of the class, tried or not."""
    settings = settings or load_settings()
    names = [learner.name for learner in classroom.learners(class_dir)]
    by_role = {classroom.role_name(settings, name): name for name in names}
    rows = progress.attempts(settings, everyone=True)
    rows = rows[rows["db_role"].isin(by_role)].assign(learner=lambda frame: frame["db_role"].map(by_role))
    exercises = [exercise.id for exercise in all_exercises()]
    return progress.grid(progress.summary(rows), names, exercises)


def tried_exercises(grid: pd.DataFrame) -> list[str]:
    """The exercise columns someone has tried (a heatmap of 60 empty columns helps nobody)."""
    exercise_columns = [column for column in grid.columns if column not in ("passed", "stuck longest")]
    return [column for column in exercise_columns if (grid[column] != "").any()]


def save_heatmap(grid: pd.DataFrame, path: Path) -> None:
    """The grid as a picture (charts.progress_heatmap) at `path` (.png, .svg, .pdf)."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from .charts import progress_heatmap

    figure = progress_heatmap(grid, tried_exercises(grid) or list(grid.columns[:1])).get_figure()
    assert isinstance(figure, Figure)  # a heatmap of its own, never a subfigure
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
