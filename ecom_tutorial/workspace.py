"""The learner's workspace: the folders of the dbt project where the learner's own files live.

`models/workspace/`, `snapshots/workspace/` and `tests/workspace/` (paths relative to dbt_project/)
hold what the learner writes in the "build it" exercises; dbt builds their models into
`<target>_workspace`. Their content is the learner's: git ignores it (only each README.md is
committed) and `ecom-tutorial build` leaves it out (`exclusions`), so a half-written model never
stops the course's own build. A file that dbt cannot parse still stops every dbt command, as in
any dbt project: `explain_failure` turns dbt's error into the file, the line and what to do, and
`set_aside` renames the file so that dbt ignores it.

In a notebook:

    from ecom_tutorial import workspace
    workspace.write("models/workspace/my_model.sql", sql_text)   # or %%writefile, or JupyterLab's editor
    workspace.files()                                            # what is there
    workspace.set_aside("my_model.sql")                          # dbt ignores it from now on
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath

from .errors import EcomTutorialError
from .settings import Settings, load_settings

FOLDERS = ("models/workspace", "snapshots/workspace", "tests/workspace")
README = "README.md"
SUFFIXES = (".sql", ".yml", ".yaml", ".md")  # what a learner writes; dbt reads the first three
DBT_SUFFIXES = (".sql", ".yml", ".yaml")
SET_ASIDE_SUFFIX = ".set-aside"  # dbt reads neither `x.sql.set-aside` nor `x.yml.set-aside`
MAX_SET_ASIDE_ROUNDS = 10  # set_aside_broken: at most this many broken files in a row

# Where dbt's messages name a file and a line (dbt 1.11): "(models/workspace/x.sql)",
# "Error reading ecom_dbt_tutorial: workspace/x.yml", "line 3", "line 3, column 5".
_LINE = re.compile(r"\bline (\d+)\b")  # dbt's; PostgreSQL's "LINE 7" counts lines of the compiled SQL
_MISSING_REF = re.compile(r"depends on a node named '([^']+)'")
_UNIT_TEST = re.compile(r"\bunit_test\.|\bunit[ _]test\b", re.IGNORECASE)


class WorkspaceError(EcomTutorialError):
    """A path outside the workspace, a file that is not there, or a file type dbt does not read."""


@dataclass(frozen=True)
class WrittenFile:
    """What `write` wrote: shown in a notebook as one line."""

    relative_path: str
    path: Path
    lines: int
    kept: bool = False  # write(..., replace=False) found the file there and left it as it was

    def __repr__(self) -> str:
        if self.kept:
            return f"Kept your {self.relative_path} ({self.lines} lines) as it is."
        return f"Wrote {self.relative_path} ({self.lines} lines) in your workspace."


def _project_dir(settings: Settings | None) -> Path:
    return (settings or load_settings()).dbt_project_dir


def _relative(text: str | PurePath) -> PurePosixPath:
    """A path as the learner wrote it, relative to dbt_project/ (a leading `dbt_project/` is allowed)."""
    relative = PurePosixPath(str(text).replace("\\", "/").strip())
    if relative.parts[:1] == ("dbt_project",):
        relative = PurePosixPath(*relative.parts[1:])
    return relative


def _folder_of(relative: PurePosixPath) -> str | None:
    for folder in FOLDERS:
        if relative.parts[:2] == tuple(folder.split("/")) and len(relative.parts) > 2:
            return folder
    return None


def path(relative_path: str | PurePath, settings: Settings | None = None) -> Path:
    """The absolute path of a workspace file, e.g. `path("models/workspace/my_model.sql")`.

    Raises WorkspaceError for anything outside the three workspace folders (the course's own
    models, `..`, an absolute path elsewhere, a link pointing out).
    """
    root = _project_dir(settings).resolve()
    given = Path(str(relative_path)).expanduser()
    relative = _relative(
        given.relative_to(root) if given.is_absolute() and given.is_relative_to(root) else relative_path
    )
    folder = _folder_of(relative)
    if given.is_absolute() and not given.is_relative_to(root) or folder is None or ".." in relative.parts:
        raise WorkspaceError(
            f"{relative_path} is outside your workspace: your files go in {', '.join(f + '/' for f in FOLDERS)} "
            "(paths relative to dbt_project/), e.g. `models/workspace/my_model.sql`. "
            "The course's own models are not yours to change."
        )
    resolved = (root / relative).resolve()
    if not resolved.is_relative_to((root / folder).resolve()):
        raise WorkspaceError(
            f"{relative_path} leads outside your workspace (a link?): write to a plain file in {folder}/."
        )
    return resolved


def write(
    relative_path: str | Path, text: str, settings: Settings | None = None, *, replace: bool = True
) -> WrittenFile:
    """Write a file of yours into the workspace (replacing it if it exists) and say what was written.

    `text` is dedented and ends with one newline, so a triple-quoted string in a notebook cell
    gives a tidy file. Only .sql, .yml/.yaml and .md files; never a README.md. `replace=False`
    keeps a file that is already there (a lesson's starting file, re-run after the learner's fix).
    """
    target = path(relative_path, settings)
    if target.suffix not in SUFFIXES:
        raise WorkspaceError(
            f"{relative_path}: dbt reads models and tests from .sql files and their configuration from .yml "
            f"files; name the file with one of {', '.join(SUFFIXES)}."
        )
    if target.name == README:
        raise WorkspaceError(
            f"{relative_path} explains the folder and belongs to the course: give your file another name."
        )
    shown = target.relative_to(_project_dir(settings).resolve()).as_posix()
    if not replace and target.is_file():
        return WrittenFile(shown, target, target.read_text(encoding="utf-8").count("\n"), kept=True)
    content = textwrap.dedent(text).strip("\n") + "\n"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content, encoding="utf-8")
    return WrittenFile(shown, target, content.count("\n"))


def files(settings: Settings | None = None) -> list[str]:
    """The learner's files (relative to dbt_project/), set-aside ones included, READMEs left out."""
    root = _project_dir(settings).resolve()
    found = []
    for folder in FOLDERS:
        for item in sorted((root / folder).rglob("*")):
            if item.is_file() and item.name != README:
                found.append(item.relative_to(root).as_posix())
    return found


def _find(name: str | Path, settings: Settings | None) -> Path:
    """A workspace file named by its path (relative to dbt_project/) or by its bare name."""
    relative = _relative(name)
    if len(relative.parts) > 1:
        target = path(relative, settings)
        if not target.is_file():
            raise WorkspaceError(
                f"There is no file {relative} in your workspace. Your files: {', '.join(files(settings)) or 'none'}."
            )
        return target
    wanted = {relative.name, *(relative.name + suffix for suffix in DBT_SUFFIXES)}
    root = _project_dir(settings).resolve()
    matches = [root / item for item in files(settings) if PurePosixPath(item).name in wanted]
    if len(matches) != 1:
        which = "No file" if not matches else "More than one file"
        raise WorkspaceError(
            f"{which} called {relative.name!r} in your workspace ({', '.join(files(settings)) or 'it is empty'}): "
            "name it by its path, e.g. `models/workspace/my_model.sql`."
        )
    return matches[0]


def set_aside(name: str | Path, settings: Settings | None = None) -> Path:
    """Rename a workspace file (`my_model`, `my_model.sql` or its path) so that dbt ignores it.

    The file is kept as `<name>.set-aside`: rename it back (JupyterLab's file browser, or
    `workspace.write` with the fixed text) when you want to work on it again.
    """
    source = _find(name, settings)
    target = source.with_name(source.name + SET_ASIDE_SUFFIX)
    number = 1
    while target.exists():
        number += 1
        target = source.with_name(f"{source.name}{SET_ASIDE_SUFFIX}-{number}")
    source.rename(target)
    return target


def exclusions(settings: Settings | None = None, *, disabled: tuple[str, ...] = ()) -> list[str]:
    """`--exclude` arguments that leave the learner's files out of a dbt command (none if there are none).

    Only folders holding files dbt reads are named: dbt warns about a selector that matches nothing. So are
    not the `disabled` folders, whose nodes the target leaves out anyway (snapshots on Spark).
    """
    root = _project_dir(settings).resolve()
    folders = [
        folder
        for folder in FOLDERS
        if folder not in disabled and any(p.suffix in DBT_SUFFIXES for p in (root / folder).rglob("*") if p.is_file())
    ]
    return ["--exclude", *(f"path:{folder}" for folder in folders)] if folders else []


# --------------------------------------------------------------------------- dbt's errors, explained


def _mentioned_file(text: str, settings: Settings | None) -> str | None:
    """The first workspace file dbt's message names, relative to dbt_project/."""
    for folder in FOLDERS:
        top, _, inner = folder.partition("/")
        # dbt names a file by its path in the project ("models/workspace/x.sql") or, when reading
        # YAML, by its path inside the resource folder ("ecom_dbt_tutorial: workspace/x.yml").
        pattern = rf"(?:\b{top}/)?\b{inner}/([\w./-]+?\.(?:sql|ya?ml))\b"
        for match in re.finditer(pattern, text):
            candidate = f"{folder}/{match.group(1)}"
            if (_project_dir(settings) / candidate).is_file():
                return candidate
    return None


def _line_of(text: str, relative_path: str, settings: Settings | None) -> int | None:
    """The line dbt names; for a missing ref(), the first line of the file that names it."""
    found = _LINE.search(text)
    if found:
        return int(found.group(1))
    missing = _MISSING_REF.search(text)
    if missing:
        lines = (_project_dir(settings) / relative_path).read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            if re.search(rf"""['"]{re.escape(missing.group(1))}['"]""", line):
                return number
    return None


def explain_failure(text: str, stops_every_command: bool, settings: Settings | None = None) -> str | None:
    """Advice for a dbt failure caused by a workspace file: the file, the line, how to fix or set it aside.

    `text` is dbt's message (kept in full above this advice by the caller); None if it names no
    workspace file. `stops_every_command`: dbt failed while reading the project (a parse or
    compile error), so until the file is fixed or set aside no dbt command of the project runs.
    """
    relative_path = _mentioned_file(text, settings)
    if relative_path is None:
        return None
    line = _line_of(text, relative_path, settings)
    where = f"{relative_path}, line {line}" if line else relative_path
    missing = _MISSING_REF.search(text)
    if missing and _UNIT_TEST.search(text):  # a unit test's model reads an input the test does not mock
        what = (
            f"your unit test gives no rows for `ref('{missing.group(1)}')`, which its model reads: a unit test "
            "mocks every input of the model, so add `- input: "
            f"ref('{missing.group(1)}')` with its `rows:` under `given:`"
        )
    elif missing:
        what = (
            f"`ref('{missing.group(1)}')` names a model that does not exist: check its spelling "
            '(`run_dbt(["ls", "--resource-type", "model"])` lists them all)'
        )
    else:
        what = "read dbt's message above: it says what it could not understand"
    advice = [
        f"The error is in your file {where} (in dbt_project/): {what}.",
        "Fix the file (in JupyterLab's editor, or with `workspace.write`) and run the cell again.",
    ]
    if stops_every_command:
        advice.append(
            "Until then every dbt command of the project stops at this file, as in any dbt project. To carry on "
            f'with other lessons first, set it aside: `workspace.set_aside("{relative_path}")` (dbt then ignores it).'
        )
    return "\n".join(advice)


def set_aside_broken(settings: Settings | None = None) -> list[Path]:
    """Set aside every workspace file that stops dbt from reading the project; return the new names.

    For the end of a lesson: a learner who did not fix a broken file can still run the others.
    """
    from .runner import run_dbt

    moved: list[Path] = []
    for _ in range(MAX_SET_ASIDE_ROUNDS):
        result = run_dbt(["parse"], progress=False, check=False, settings=settings)
        relative_path = None if result.success else _mentioned_file(str(result.exception or ""), settings)
        if relative_path is None:
            break
        moved.append(set_aside(relative_path, settings))
    for item in moved:
        print(
            f"Set aside {item.name.removesuffix(SET_ASIDE_SUFFIX)} as {item.name}: "
            "dbt ignores it until you rename it back."
        )
    return moved
