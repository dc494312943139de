"""The solutions of the "build it" exercises: the files a learner writes into the workspace.

`ecom_tutorial/solutions/<exercise id>/` mirrors dbt_project/: e.g. `02.3/models/workspace/x.sql`.
The solution notebooks write them with `workspace.write`, like a learner would; the tests do too.
A debugging exercise also has the broken files it starts from, in `start/<exercise id>/`.
"""

from __future__ import annotations

import sys
from importlib import resources

if sys.version_info >= (3, 11):
    from importlib.resources.abc import Traversable
else:  # Python 3.10 has it only here
    from importlib.abc import Traversable


def _walk(folder: Traversable, prefix: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        name = f"{prefix}{entry.name}"
        if entry.is_dir():
            found.update(_walk(entry, name + "/"))
        elif entry.name.endswith((".sql", ".yml")):
            found[name] = entry.read_text(encoding="utf-8")
    return found


def _files(folder: Traversable, what: str) -> dict[str, str]:
    if not folder.is_dir():
        raise KeyError(f"There are no {what}.")
    return _walk(folder, "")


def solution_files(exercise_id: str) -> dict[str, str]:
    """Path (relative to dbt_project/) -> text of each file of an exercise's solution."""
    return _files(resources.files(__name__) / exercise_id, f"solution files for exercise {exercise_id!r}")


def starting_files(exercise_id: str) -> dict[str, str]:
    """Path (relative to dbt_project/) -> text of each (broken) file a debugging exercise starts from."""
    return _files(resources.files(__name__) / "start" / exercise_id, f"starting files for exercise {exercise_id!r}")
