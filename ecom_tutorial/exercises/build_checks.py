"""The "build it" exercises: checked on what the learner BUILT, never on a query string.

A `BuildExercise` names the models the learner writes in the workspace (workspace.py) and, for
each (`ModelCheck`), what a right build has. `check(exercise_id, answer)` (the same function as
for the query exercises) then reads dbt's `manifest.json` and `run_results.json` in
`Settings.dbt_target_dir` and the relation in the warehouse, and verifies:

- the node exists, in the workspace, with the expected materialization;
- it reads its inputs with `ref()` / `source()` (its depends_on) and names no relation of the
  project's schemas in its SQL (`raw_data.orders` hard-coded);
- the tests it must declare (e.g. unique + not_null on the key), and descriptions of the model
  and of every column it returns;
- that its last build passed, tests included;
- that its data equals the expected result, computed from the data (the comparison and the
  typical mistakes are the query exercises' engine: `compare`, `diagnose`).

Feedback says what differs and the likely cause, never the solution. Nothing built and no file
written: "not attempted" (strict mode: raises), as for the query exercises.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import workspace
from ..settings import Settings, load_settings
from ..solutions import starting_files
from . import (
    Exercise,
    Mistake,
    ResultSource,
    _AnswerDidNotRun,
    _fail,
    _report,
    compare,
    diagnose,
    not_attempted,
    run_sql,
)

PROJECT = "ecom_dbt_tutorial"  # dbt_project.yml's name: the first part of every node's unique_id
# Why a model of each layer has its materialization, said when a build has another one.
MATERIALIZATION_ADVICE = {
    "view": "the workspace builds views unless a model's config() says otherwise: remove the "
    "`materialized=` from its config",
    "table": "a mart is read often and must be fast: make it a table with `{{ config(materialized='table') }}`",
    "ephemeral": "an intermediate step that only other models read is ephemeral (inlined as a CTE, never "
    "built): `{{ config(materialized='ephemeral') }}`",
    "incremental": "it must process only new rows: `{{ config(materialized='incremental', unique_key=...) }}`",
}
_INPUT = re.compile(r"""^\s*(ref|source)\(\s*(['"][^'"]+['"](?:\s*,\s*['"][^'"]+['"])?)\s*\)\s*$""")
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/|\{#.*?#\}", re.DOTALL)


@dataclass(frozen=True)
class ModelCheck:
    """What a right build of one workspace model has.

    `reads` are its inputs as the learner writes them (`"source('ecommerce', 'orders')"`,
    `"ref('stg_ecommerce__orders')"`); `tests` the (column, generic test) pairs its YAML must
    declare; `expected` the SQL (on the raw tables or the warehouse) of its data, compared by `key`;
    `mistakes` typical wrong data and their causes. `described=False` for a model without YAML.
    """

    name: str
    materialized: str
    reads: tuple[str, ...] = ()
    tests: tuple[tuple[str, str], ...] = ()
    described: bool = True
    expected: ResultSource | None = None
    key: tuple[str, ...] = ()
    atol: float = 0.01
    mistakes: tuple[Mistake, ...] = ()

    @property
    def unique_id(self) -> str:
        return f"model.{PROJECT}.{self.name}"


@dataclass(frozen=True)
class BuildExercise:
    """A "build it" exercise: the models to write in the workspace and how each is checked."""

    id: str
    title: str
    models: tuple[ModelCheck, ...]
    build: str  # the dbt command that builds them, shown in messages, e.g. `dbt build --select x`
    hint: str = ""
    debugging: bool = False  # starts from broken files (solutions.starting_files): unchanged = not attempted

    def check(self, answer: Any = None, settings: Settings | None = None) -> bool:
        """Check what was built (`answer`, the notebook's build result, is not needed); print the verdict."""
        return check_build(self, settings)


@dataclass
class _Built:
    """What dbt wrote in its target folder: the manifest's nodes and the last command's results."""

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def read(cls, target: Path) -> _Built:
        def load(name: str) -> Any:
            try:
                return json.loads((target / name).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return {}

        nodes = load("manifest.json").get("nodes", {})
        results = {item["unique_id"]: item for item in load("run_results.json").get("results", [])}
        return cls(nodes, results)

    def tests_of(self, unique_id: str) -> list[dict[str, Any]]:
        return [
            node for node in self.nodes.values()
            if node.get("resource_type") == "test" and node.get("attached_node") == unique_id
        ]


def _input_id(expression: str) -> str:
    """`ref('x')` -> model.<project>.x; `source('s', 't')` -> source.<project>.s.t."""
    match = _INPUT.match(expression)
    if not match:
        raise ValueError(f"not a ref() or source(): {expression!r}")
    names = [part.strip().strip("'\"") for part in match.group(2).split(",")]
    return f"{'model' if match.group(1) == 'ref' else 'source'}.{PROJECT}.{'.'.join(names)}"


def _hard_coded(raw_code: str, settings: Settings) -> list[str]:
    """Each relation of the project's schemas the SQL names directly, with its line: `line 9: raw_data.orders`."""
    schemas = "|".join(re.escape(schema) for schema in sorted(settings.owned_schemas, key=len, reverse=True))
    pattern = re.compile(rf'(?<![\w."])"?({schemas})"?\s*\.\s*"?(\w+)', re.IGNORECASE)
    code = _COMMENTS.sub(lambda match: re.sub(r"[^\n]", " ", match.group(0)), raw_code)  # keep line numbers
    found = []
    for number, line in enumerate(code.splitlines(), start=1):
        found += [f"line {number}: {match.group(1)}.{match.group(2)}" for match in pattern.finditer(line)]
    return found


def _structure_problems(model: ModelCheck, node: dict[str, Any], built: _Built, settings: Settings) -> list[str]:
    """Materialization, inputs, declared tests and descriptions: what the manifest shows."""
    problems = []
    materialized = (node.get("config") or {}).get("materialized")
    if materialized != model.materialized:
        problems.append(
            f"{model.name} is materialized as `{materialized}`; the exercise asks for `{model.materialized}`: "
            f"{MATERIALIZATION_ADVICE.get(model.materialized, 'check its config()')}."
        )
    hard_coded = _hard_coded(node.get("raw_code", ""), settings)
    if hard_coded:
        problems.append(
            f"{model.name} names relations directly ({'; '.join(hard_coded)}): dbt cannot see that dependency "
            "(no lineage, a wrong build order, and the SQL breaks in another schema). Read them with "
            "{{ source() }} or {{ ref() }}."
        )
    depends_on = set((node.get("depends_on") or {}).get("nodes", []))
    for expression in model.reads:
        if _input_id(expression) not in depends_on:
            problems.append(f"{model.name} does not read {{{{ {expression} }}}}, which the exercise asks it to build on.")
    declared = {
        ((test.get("column_name") or "").lower(), (test.get("test_metadata") or {}).get("name"))
        for test in built.tests_of(model.unique_id)
    }
    missing = [f"{test} on {column}" for column, test in model.tests if (column, test) not in declared]
    if missing:
        problems.append(
            f"{model.name} lacks the test(s) {', '.join(missing)}: declare them under the column's "
            "`data_tests:` in your YAML."
        )
    if model.described and not (node.get("description") or "").strip():
        problems.append(f"{model.name} has no description: give it one in your YAML (`description:` under its name).")
    return problems


def _changed_since_read(exercise: BuildExercise, settings: Settings) -> list[str]:
    """The exercise's workspace files (its models' SQL, and YAML naming them) changed after dbt last read the
    project: its manifest then shows an older version (a failed parse writes none)."""
    manifest = settings.dbt_target_dir / "manifest.json"
    read_at = manifest.stat().st_mtime_ns if manifest.exists() else 0
    names = {model.name for model in exercise.models}
    changed = []
    for item in workspace.files(settings):
        file = workspace.path(item, settings)
        if file.suffix not in workspace.DBT_SUFFIXES or file.stat().st_mtime_ns <= read_at:
            continue
        if file.stem in names or (file.suffix != ".sql" and any(name in file.read_text(encoding="utf-8") for name in names)):
            changed.append(item)
    return changed


def _build_problems(model: ModelCheck, built: _Built) -> list[str]:
    """Did the last dbt command build the model and run its tests, and did they pass?"""
    if model.materialized == "ephemeral":
        return []  # never built on its own: the models that read it show whether it works
    result = built.results.get(model.unique_id)
    if result is None:
        return [f"Your last dbt command did not build {model.name}: build it, then check again."]
    if result.get("status") != "success":
        return [f"The last build of {model.name} failed ({result.get('status')}): {result.get('message')}"]
    problems = []
    for test in built.tests_of(model.unique_id):
        outcome = built.results.get(test["unique_id"])
        if outcome is None:
            problems.append(
                f"The test {test['name']} did not run in your last dbt command: use `build` (it runs the "
                "tests too), not `run`."
            )
        elif outcome.get("status") != "pass":
            problems.append(
                f"The test {test['name']} {outcome.get('status')}s: {outcome.get('message')}. Your data breaks "
                "the rule the test declares: look at the rows it finds."
            )
    return problems


def _relation(node: dict[str, Any]) -> str:
    def quoted(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    return f"{quoted(node['schema'])}.{quoted(node.get('alias') or node['name'])}"


def _data_problems(exercise: BuildExercise, model: ModelCheck, node: dict[str, Any]) -> tuple[list[str], str | None]:
    """Differences between the built relation and the expected data, and the likely cause."""
    try:
        actual = run_sql(f"select * from {_relation(node)}")
    except _AnswerDidNotRun as exc:  # e.g. dropped since it was built
        return [f"{model.name} could not be read from the warehouse: build it again. ({exc})"], None
    problems = []
    undocumented = [
        column for column in actual.columns
        if not ((node.get("columns") or {}).get(column, {}).get("description") or "").strip()
    ]
    if model.described and undocumented:
        problems.append(f"Column(s) of {model.name} without a description in your YAML: {', '.join(undocumented)}.")
    if model.expected is None:
        return problems, None
    data = Exercise(exercise.id, exercise.title, model.expected, model.key, atol=model.atol, mistakes=model.mistakes)
    comparison = compare(actual, run_sql(model.expected) if isinstance(model.expected, str) else model.expected(),
                         key=model.key, atol=model.atol)
    if comparison.ok:
        return problems, None
    problems += [f"{model.name}: {problem}" for problem in comparison.problems]
    return problems, diagnose(data, actual)


def _as_started(exercise: BuildExercise, settings: Settings) -> bool:
    """The debugging exercise's files are still the broken ones it started from."""
    for relative_path, text in starting_files(exercise.id).items():
        file = workspace.path(relative_path, settings)
        if not file.is_file() or file.read_text(encoding="utf-8").strip() != text.strip():
            return False
    return True


def check_build(exercise: BuildExercise, settings: Settings | None = None) -> bool:
    """Check each model of the exercise as built; print the verdict once; True if everything is right."""
    settings = settings or load_settings()
    built = _Built.read(settings.dbt_target_dir)
    in_workspace = {
        model.name: built.nodes.get(model.unique_id) for model in exercise.models
        if str((built.nodes.get(model.unique_id) or {}).get("original_file_path", "")).startswith(workspace.FOLDERS)
    }
    written = {model.name for model in exercise.models for item in workspace.files(settings)
               if Path(item).stem == model.name}
    if not in_workspace and not written:
        names = ", ".join(f"models/workspace/{model.name}.sql" for model in exercise.models)
        return not_attempted(exercise, f"write {names} in your workspace, build with `{exercise.build}`, then check")
    if exercise.debugging and _as_started(exercise, settings):
        return not_attempted(exercise, f"fix the file as dbt's message says, build with `{exercise.build}`, then check")
    changed = _changed_since_read(exercise, settings)
    if changed:
        return _fail(exercise, [
            f"❌ You changed {', '.join(changed)} since dbt last read the project (did the build stop with an error?): "
            f"build with `{exercise.build}`, then check again."
        ])
    problems: list[str] = []
    likely: str | None = None
    for model in exercise.models:
        node = in_workspace.get(model.name)
        if node is None:
            problems.append(
                f"dbt does not know {model.name} yet: write models/workspace/{model.name}.sql (the file name is the "
                f"model's name), then build with `{exercise.build}`."
            )
            continue
        problems += _structure_problems(model, node, built, settings)
        build = _build_problems(model, built)
        problems += build
        if not build and model.materialized != "ephemeral":
            data, cause = _data_problems(exercise, model, node)
            problems += data
            likely = likely or cause
    if not problems:
        names = ", ".join(model.name for model in exercise.models)
        print(_report(exercise, [f"✅ Correct: {names} built as the exercise asks, with the right data."]))
        return True
    lines = [f"❌ {problem}" for problem in problems]
    if likely:
        lines.append(f"💡 {likely}")
    elif exercise.hint:
        lines.append(f"💡 Hint: {exercise.hint}")
    return _fail(exercise, lines)


__all__ = ["BuildExercise", "ModelCheck", "check_build"]
