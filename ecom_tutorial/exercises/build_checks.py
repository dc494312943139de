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

Besides models (`ModelCheck`, also for snapshots: `resource="snapshot"`), an exercise can ask for a
source with freshness (`SourceCheck`), a singular data test (`SingularTestCheck`), a unit test
(`UnitTestCheck`) and an exposure (`ExposureCheck`): each is looked up in the manifest, must come
from the workspace, and is checked on what dbt recorded about it.

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
from ..compiling import compiled_code
from ..runner import RESULTS_HISTORY
from ..settings import SHARED_RAW_SCHEMA, Settings, load_settings
from ..solutions import starting_files
from . import (
    Exercise,
    Mistake,
    ResultSource,
    _AnswerDidNotRun,
    _fail,
    _passed,
    compare,
    diagnose,
    not_attempted,
    run_sql,
)
from .feedback import Verdict
from .sql_answers import parse

PROJECT = "ecom_dbt_tutorial"  # dbt_project.yml's name: the first part of every node's unique_id
# Why a model of each layer has its materialization, said when a build has another one.
MATERIALIZATION_ADVICE = {
    "view": "the workspace builds views unless a model's config() says otherwise: remove the "
    "`materialized=` from its config",
    "table": "a mart is read often and must be fast: make it a table with `{{ config(materialized='table') }}`",
    "ephemeral": "an intermediate step that only other models read is ephemeral (inlined as a CTE, never "
    "built): `{{ config(materialized='ephemeral') }}`",
    "incremental": "it must process only new rows: `{{ config(materialized='incremental', unique_key=...) }}`",
    "materialized_view": "PostgreSQL must keep its result and dbt refresh it: "
    "`{{ config(materialized='materialized_view') }}`",
}
# dbt commands that write run_results.json without building: a check right after one has no build to read
BUILDS_NOTHING = {"compile", "generate", "show", "list", "ls", "parse"}
_INPUT = re.compile(r"""^\s*(ref|source)\(\s*(['"][^'"]+['"](?:\s*,\s*['"][^'"]+['"])?)\s*\)\s*$""")
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/|\{#.*?#\}", re.DOTALL)


@dataclass(frozen=True)
class ModelCheck:
    """What a right build of one workspace model (or snapshot: `resource="snapshot"`) has.

    `reads` are its inputs as the learner writes them (`"source('ecommerce', 'orders')"`,
    `"ref('stg_ecommerce__orders')"`); `tests` the (column, generic test) pairs its YAML must
    declare; `expected` the SQL (on the raw tables or the warehouse) of its data, compared by `key`;
    `mistakes` typical wrong data and their causes. `described=False` for a model without YAML.
    `config` are settings its config must have (`(("strategy", "check"), ("unique_key", "product_id"))`);
    `incremental_run=True` asks that its last build was incremental (rows added to the existing
    table, not the table created anew); `contract=True` that its contract is enforced. `rows` filters the
    rows compared with `expected` (a snapshot's current rows: `"dbt_valid_to is null"`).
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
    resource: str = "model"
    config: tuple[tuple[str, Any], ...] = ()
    incremental_run: bool = False
    contract: bool = False
    rows: str = ""  # a filter for the rows compared, e.g. a snapshot's current rows: "dbt_valid_to is null"

    @property
    def unique_id(self) -> str:
        """dbt's id of the node; a model's version is its last part (`model.<project>.x.v2`, name "x.v2")."""
        return f"{self.resource}.{PROJECT}.{self.name}"

    @property
    def where(self) -> str:
        """Where the learner writes it (version 2 of x: x_v2.sql)."""
        folder, suffix = ("snapshots", "yml") if self.resource == "snapshot" else ("models", "sql")
        return f"{folder}/workspace/{self.name.replace('.v', '_v')}.{suffix}"


@dataclass(frozen=True)
class SourceCheck:
    """A source table the learner declares in a workspace YAML file (`sources:`), with its freshness.

    `freshness=True`: it needs a `loaded_at_field` and a `warn_after` or `error_after`, and the last
    `dbt source freshness` must have checked it without an error.
    """

    source: str
    table: str
    freshness: bool = True
    tests: tuple[tuple[str, str], ...] = ()
    described: bool = True

    @property
    def name(self) -> str:
        return f"{self.source}.{self.table}"

    @property
    def unique_id(self) -> str:
        return f"source.{PROJECT}.{self.source}.{self.table}"

    @property
    def where(self) -> str:
        return f"a YAML file in models/workspace/ (`sources:` → `{self.source}` → `tables:` → `{self.table}`)"


@dataclass(frozen=True)
class SingularTestCheck:
    """A singular data test the learner writes in tests/workspace/<name>.sql: it reads `reads` and passes."""

    name: str
    reads: tuple[str, ...] = ()

    @property
    def unique_id(self) -> str:
        return f"test.{PROJECT}.{self.name}"

    @property
    def where(self) -> str:
        return f"tests/workspace/{self.name}.sql"


@dataclass(frozen=True)
class UnitTestCheck:
    """A unit test named `name` on the model `model`, declared in a workspace YAML file, that passes.

    `inputs` are the `given:` inputs it must mock (`"ref('stg_ecommerce__orders')"`).
    """

    name: str
    model: str
    inputs: tuple[str, ...] = ()

    @property
    def unique_id(self) -> str:
        return f"unit_test.{PROJECT}.{self.model}.{self.name}"

    @property
    def where(self) -> str:
        return f"a YAML file in models/workspace/ (`unit_tests:` → `- name: {self.name}`, `model: {self.model}`)"


@dataclass(frozen=True)
class ExposureCheck:
    """An exposure declared in a workspace YAML file: its type, an owner, a description and what it uses."""

    name: str
    depends_on: tuple[str, ...] = ()
    type: str | None = None

    @property
    def unique_id(self) -> str:
        return f"exposure.{PROJECT}.{self.name}"

    @property
    def where(self) -> str:
        return f"a YAML file in models/workspace/ (`exposures:` → `- name: {self.name}`)"


NodeCheck = ModelCheck | SourceCheck | SingularTestCheck | UnitTestCheck | ExposureCheck


@dataclass(frozen=True)
class BuildExercise:
    """A "build it" exercise: the models to write in the workspace and how each is checked."""

    id: str
    title: str
    models: tuple[NodeCheck, ...]  # what the learner builds: models, snapshots, sources, tests, exposures
    build: str  # the dbt command that builds them, shown in messages, e.g. `dbt build --select x`
    hint: str = ""
    next_step: str = ""  # what `hint()` adds: a second, deeper step than the hint
    debugging: bool = False  # starts from broken files (solutions.starting_files): unchanged = not attempted

    def check(self, answer: Any = None, settings: Settings | None = None, every_run: bool = False) -> Verdict:
        """Check what was built (`answer`, the notebook's build result, is not needed); print the verdict.
        `every_run`: each node's latest build of any command, not only the last command's (grading)."""
        return check_build(self, settings, every_run)


@dataclass
class _Built:
    """What dbt wrote in its target folder: the manifest's nodes (of every kind), the last command's results
    and the last `dbt source freshness` results."""

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    freshness: dict[str, dict[str, Any]] = field(default_factory=dict)
    command: str | None = None  # the last dbt command that wrote run results: "build", "run", "compile", ...
    args: dict[str, Any] = field(default_factory=dict)  # that command's arguments (target, select, state, ...)

    @classmethod
    def read(cls, target: Path, every_run: bool = False) -> _Built:
        """What dbt wrote in `target`. With `every_run`, each node's result is its latest of every command the
        runner kept (runner.keep_run_results), not only the last command's: a class's grading reads every
        exercise, each built by its own command."""

        def load(name: str | Path) -> Any:
            try:
                return json.loads((target / name).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return {}

        manifest = load("manifest.json")
        nodes = {
            unique_id: node
            for section in ("nodes", "sources", "unit_tests", "exposures")
            for unique_id, node in (manifest.get(section) or {}).items()
        }
        history = sorted((target / RESULTS_HISTORY).glob("*.json")) if every_run else []
        results = {}
        for run_results in [*map(load, history), load("run_results.json")]:  # oldest first: the latest wins
            results.update({item["unique_id"]: item for item in run_results.get("results", [])})
        freshness = {item["unique_id"]: item for item in load("sources.json").get("results", [])}
        args = run_results.get("args") or {}  # the last command's, whichever `every_run` says
        return cls(nodes, results, freshness, None if every_run else args.get("which"), args)

    def tests_of(self, unique_id: str) -> list[dict[str, Any]]:
        """The generic tests declared on a model (attached to it) or on a source (depending on it alone)."""
        return [
            node
            for node in self.nodes.values()
            if node.get("resource_type") == "test"
            and node.get("test_metadata")
            and (node.get("attached_node") == unique_id or (node.get("depends_on") or {}).get("nodes") == [unique_id])
        ]

    def in_workspace(self, check: NodeCheck) -> dict[str, Any] | None:
        """The check's node, if the manifest has it from a workspace file."""
        node = self.nodes.get(check.unique_id)
        if node and str(node.get("original_file_path", "")).startswith(workspace.FOLDERS):
            return node
        return None


def _input_id(expression: str) -> str:
    """`ref('x')` -> model.<project>.x; `source('s', 't')` -> source.<project>.s.t."""
    match = _INPUT.match(expression)
    if not match:
        raise ValueError(f"not a ref() or source(): {expression!r}")
    names = [part.strip().strip("'\"") for part in match.group(2).split(",")]
    return f"{'model' if match.group(1) == 'ref' else 'source'}.{PROJECT}.{'.'.join(names)}"


def _depends_on(node: dict[str, Any]) -> set[str]:
    return set((node.get("depends_on") or {}).get("nodes", []))


def _hard_coded(raw_code: str, settings: Settings) -> list[str]:
    """Each relation of the project's schemas the SQL names directly, with its line: `line 9: raw_data.orders`."""
    names = {*settings.owned_schemas, SHARED_RAW_SCHEMA}  # raw_data, even where the learner's copy is read
    schemas = "|".join(re.escape(schema) for schema in sorted(names, key=len, reverse=True))
    pattern = re.compile(rf'(?<![\w."])"?({schemas})"?\s*\.\s*"?(\w+)', re.IGNORECASE)
    code = _COMMENTS.sub(lambda match: re.sub(r"[^\n]", " ", match.group(0)), raw_code)  # keep line numbers
    found = []
    for number, line in enumerate(code.splitlines(), start=1):
        found += [f"line {number}: {match.group(1)}.{match.group(2)}" for match in pattern.finditer(line)]
    return found


def _reads_problems(name: str, node: dict[str, Any], reads: tuple[str, ...], settings: Settings) -> list[str]:
    """Hard-coded relation names, and the inputs the exercise asks for that the node does not read."""
    problems = []
    hard_coded = _hard_coded(node.get("raw_code", ""), settings)
    if hard_coded:
        problems.append(
            f"{name} names relations directly ({'; '.join(hard_coded)}): dbt cannot see that dependency "
            "(no lineage, a wrong build order, and the SQL breaks in another schema). Read them with "
            "{{ source() }} or {{ ref() }}."
        )
    depends_on = _depends_on(node)
    for expression in reads:
        if _input_id(expression) not in depends_on:
            problems.append(f"{name} does not read {{{{ {expression} }}}}, which the exercise asks it to build on.")
    return problems


def _tests_problems(name: str, unique_id: str, tests: tuple[tuple[str, str], ...], built: _Built) -> list[str]:
    declared = {
        ((test.get("column_name") or "").lower(), (test.get("test_metadata") or {}).get("name"))
        for test in built.tests_of(unique_id)
    }
    missing = [f"{test} on {column or 'the model'}" for column, test in tests if (column, test) not in declared]
    if not missing:
        return []
    return [
        f"{name} lacks the test(s) {', '.join(missing)}: declare them under `data_tests:` in your YAML (a column's "
        "tests under the column, a test of several columns under the model's name)."
    ]


def _config_value(config: dict[str, Any], key: str) -> Any:
    value: Any = config
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _same_setting(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, (list, tuple)):
        return isinstance(actual, (list, tuple)) and sorted(map(str, actual)) == sorted(map(str, wanted))
    if isinstance(wanted, str) and isinstance(actual, str):
        return actual.strip().lower() == wanted.strip().lower()
    return bool(actual == wanted)


def _structure_problems(model: ModelCheck, node: dict[str, Any], built: _Built, settings: Settings) -> list[str]:
    """Materialization, config, contract, inputs, declared tests and descriptions: what the manifest shows."""
    problems = []
    config = node.get("config") or {}
    materialized = config.get("materialized")
    if materialized != model.materialized:
        problems.append(
            f"{model.name} is materialized as `{materialized}`; the exercise asks for `{model.materialized}`: "
            f"{MATERIALIZATION_ADVICE.get(model.materialized, 'check its config()')}."
        )
    for key, wanted in model.config:
        actual = _config_value(config, key)
        if not _same_setting(actual, wanted):
            shown = "not set" if actual is None else f"`{actual}`"
            problems.append(f"{model.name}'s config `{key}` is {shown}; the exercise asks for `{wanted}`.")
    if model.contract:
        if not _config_value(config, "contract.enforced"):
            problems.append(
                f"{model.name} has no enforced contract: add `config: "
                f"{{contract: {{enforced: true}}}}` to it in your YAML."
            )
        untyped = [column for column, spec in (node.get("columns") or {}).items() if not spec.get("data_type")]
        if untyped:
            problems.append(
                f"A contract needs every column's `data_type`; {model.name} lacks it for: {', '.join(untyped)}."
            )
    problems += _reads_problems(model.name, node, model.reads, settings)
    problems += _tests_problems(model.name, model.unique_id, model.tests, built)
    if model.described and not (node.get("description") or "").strip():
        problems.append(f"{model.name} has no description: give it one in your YAML (`description:` under its name).")
    return problems


def _changed_since_read(exercise: BuildExercise, settings: Settings) -> list[str]:
    """The exercise's workspace files (named after what it builds, or YAML naming it) changed after dbt last
    read the project: its manifest then shows an older version (a failed parse writes none)."""
    manifest = settings.dbt_target_dir / "manifest.json"
    read_at = manifest.stat().st_mtime_ns if manifest.exists() else 0
    names = {check.name.split(".")[-1] for check in exercise.models}
    changed = []
    for item in workspace.files(settings):
        file = workspace.path(item, settings)
        if file.suffix not in workspace.DBT_SUFFIXES or file.stat().st_mtime_ns <= read_at:
            continue
        if file.stem in names or (
            file.suffix != ".sql" and any(name in file.read_text(encoding="utf-8") for name in names)
        ):
            changed.append(item)
    return changed


def _test_outcomes(tests: list[dict[str, Any]], built: _Built) -> list[str]:
    problems = []
    for test in tests:
        outcome = built.results.get(test["unique_id"])
        if outcome is None:
            problems.append(
                f"The test {test['name']} did not run in your last dbt command: use `build` (it runs the tests too), "
                "not `run`."
            )
        elif outcome.get("status") != "pass":
            problems.append(
                f"The test {test['name']} {outcome.get('status')}s: {outcome.get('message')}. Your data breaks "
                "the rule the test declares: look at the rows it finds."
            )
    return problems


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
    if model.incremental_run and (result.get("adapter_response") or {}).get("code") not in ("INSERT", "MERGE"):
        problems.append(
            f"Your last build created {model.name} anew ({result.get('message')}): that proves the first, full "
            "build only. Build it once more, without --full-refresh: the second run is the incremental one."
        )
    return problems + _test_outcomes(built.tests_of(model.unique_id), built)


def _relation(node: dict[str, Any]) -> str:
    def quoted(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    return f"{quoted(node['schema'])}.{quoted(node.get('alias') or node['name'])}"


def _data_problems(exercise: BuildExercise, model: ModelCheck, node: dict[str, Any]) -> tuple[list[str], str | None]:
    """Differences between the built relation and the expected data, and the likely cause."""
    try:
        actual = run_sql(f"select * from {_relation(node)}" + (f" where {model.rows}" if model.rows else ""))
    except _AnswerDidNotRun as exc:  # e.g. dropped since it was built
        return [f"{model.name} could not be read from the warehouse: build it again. ({exc})"], None
    problems = []
    undocumented = [
        column
        for column in actual.columns
        if not column.startswith("dbt_")  # a snapshot's own columns: dbt adds and documents them
        and not ((node.get("columns") or {}).get(column, {}).get("description") or "").strip()
    ]
    if model.described and undocumented:
        problems.append(f"Column(s) of {model.name} without a description in your YAML: {', '.join(undocumented)}.")
    if model.expected is None:
        return problems, None
    data = Exercise(exercise.id, exercise.title, model.expected, model.key, atol=model.atol, mistakes=model.mistakes)
    comparison = compare(
        actual,
        run_sql(model.expected) if isinstance(model.expected, str) else model.expected(),
        key=model.key,
        atol=model.atol,
    )
    if comparison.ok:
        return problems, None
    problems += [f"{model.name}: {problem}" for problem in comparison.problems]
    compiled = compiled_code(node)  # what dbt ran: a mistake's cause shows in it (Mistake.in_sql)
    return problems, diagnose(data, actual, parse(compiled) if compiled else None)


def _model_problems(
    exercise: BuildExercise, model: ModelCheck, node: dict[str, Any], built: _Built, settings: Settings
) -> tuple[list[str], str | None]:
    problems = _structure_problems(model, node, built, settings)
    build = _build_problems(model, built)
    if build or model.materialized == "ephemeral":
        return problems + build, None
    data, cause = _data_problems(exercise, model, node)
    return problems + data + _rewrote_everything(model, node, built), cause


def _rewrote_everything(model: ModelCheck, node: dict[str, Any], built: _Built) -> list[str]:
    """An incremental run that processed as many rows as the table holds did a full build's work."""
    if not model.incremental_run:
        return []
    processed = (built.results.get(model.unique_id, {}).get("adapter_response") or {}).get("rows_affected")
    try:
        rows = int(run_sql(f"select count(*) as n from {_relation(node)}")["n"].iloc[0])
    except _AnswerDidNotRun:
        return []
    if processed is None or rows == 0 or processed < rows:
        return []
    return [
        f"The incremental build of {model.name} processed {processed:,} rows, all {rows:,} of the table: it did a full "
        "build's work. Inside `{% if is_incremental() %}`, keep only the rows that can have changed since the last run."
    ]


def _source_problems(check: SourceCheck, node: dict[str, Any], built: _Built) -> list[str]:
    problems = _tests_problems(check.name, check.unique_id, check.tests, built)
    if check.described and not (node.get("description") or "").strip():
        problems.append(f"The source table {check.name} has no description: add `description:` under the table.")
    if not check.freshness:
        return problems
    freshness = (node.get("config") or {}).get("freshness") or node.get("freshness") or {}
    loaded_at = (node.get("config") or {}).get("loaded_at_field") or node.get("loaded_at_field")
    if not loaded_at:
        problems.append(
            f"{check.name} has no `loaded_at_field`: dbt needs the column that says when each row was loaded."
        )
    if not any((freshness.get(limit) or {}).get("count") for limit in ("warn_after", "error_after")):
        problems.append(f"{check.name} has no freshness limits: give it a `warn_after` and an `error_after`.")
    if problems:
        return problems
    tests = built.tests_of(check.unique_id)
    not_run = [test["name"] for test in tests if test["unique_id"] not in built.results]
    if not_run:
        # `dbt source freshness` writes target/sources.json only; every other command replaces run_results.json
        problems.append(
            f"The tests of {check.name} ({', '.join(not_run)}) are not in the results of your last dbt command: "
            f"`dbt source freshness` runs no tests, and each other dbt command replaces the results. Run "
            f"`dbt test --select source:{check.source}`, then check."
        )
    problems += _test_outcomes([test for test in tests if test["name"] not in not_run], built)
    outcome = built.freshness.get(check.unique_id)
    if outcome is None:
        problems.append(
            f"`dbt source freshness` has not checked {check.name} yet: run it with --select source:{check.name}."
        )
    elif outcome.get("status") not in ("pass", "warn"):
        problems.append(
            f"The freshness check of {check.name} ended `{outcome.get('status')}`: "
            f"{outcome.get('error') or 'the newest row is older than error_after'}."
        )
    return problems


def _singular_test_problems(
    check: SingularTestCheck, node: dict[str, Any], built: _Built, settings: Settings
) -> list[str]:
    problems = _reads_problems(check.name, node, check.reads, settings)
    outcome = built.results.get(check.unique_id)
    if outcome is None:
        problems.append(
            f"Your last dbt command did not run the test {check.name}: run it with `dbt build` or `dbt test`."
        )
    elif outcome.get("status") != "pass":
        problems.append(
            f"The test {check.name} {outcome.get('status')}s: {outcome.get('message')}. "
            "A singular test returns the rows "
            "that break its rule: read them (its compiled SQL is under target/compiled/) and decide whether the "
            "data or the test is wrong."
        )
    return problems


def _unit_test_problems(check: UnitTestCheck, node: dict[str, Any], built: _Built) -> list[str]:
    problems = []
    mocked = {str(given.get("input", "")).replace('"', "'").replace(" ", "") for given in node.get("given") or []}
    for expression in check.inputs:
        if expression.replace('"', "'").replace(" ", "") not in mocked:
            problems.append(f"The unit test {check.name} does not mock {{{{ {expression} }}}} under `given:`.")
    if not (node.get("expect") or {}).get("rows") and not (node.get("expect") or {}).get("fixture"):
        problems.append(
            f"The unit test {check.name} expects no rows: list the rows the model must return under `expect:`."
        )
    outcome = built.results.get(check.unique_id)
    if outcome is None:
        problems.append(
            f"Your last dbt command did not run the unit test {check.name}: `dbt build --select {check.model}` "
            "runs it before building the model."
        )
    elif outcome.get("status") != "pass":
        problems.append(
            f"The unit test {check.name} {outcome.get('status')}s. dbt's message shows the rows it expected (+) and "
            f"the rows the model returned (-):\n{outcome.get('message')}"
        )
    return problems


def _exposure_problems(check: ExposureCheck, node: dict[str, Any]) -> list[str]:
    problems = []
    if check.type and node.get("type") != check.type:
        problems.append(
            f"The exposure {check.name} is of type `{node.get('type')}`; the exercise asks for `{check.type}`."
        )
    owner = node.get("owner") or {}
    if not (owner.get("name") or owner.get("email")):
        problems.append(
            f"The exposure {check.name} has no owner: "
            "who answers questions about it (`owner:` with a name or an email)?"
        )
    if not (node.get("description") or "").strip():
        problems.append(f"The exposure {check.name} has no description: say what it shows and to whom.")
    depends_on = _depends_on(node)
    for expression in check.depends_on:
        if _input_id(expression) not in depends_on:
            problems.append(f"The exposure {check.name} does not depend on {{{{ {expression} }}}} (`depends_on:`).")
    return problems


def _problems(
    exercise: BuildExercise, check: NodeCheck, node: dict[str, Any], built: _Built, settings: Settings
) -> tuple[list[str], str | None]:
    """What is wrong with one built node, and the likely cause of wrong data."""
    if isinstance(check, ModelCheck):
        return _model_problems(exercise, check, node, built, settings)
    if isinstance(check, SourceCheck):
        return _source_problems(check, node, built), None
    if isinstance(check, SingularTestCheck):
        return _singular_test_problems(check, node, built, settings), None
    if isinstance(check, UnitTestCheck):
        return _unit_test_problems(check, node, built), None
    return _exposure_problems(check, node), None


def _as_started(exercise: BuildExercise, settings: Settings) -> bool:
    """The debugging exercise's files are still the broken ones it started from."""
    for relative_path, text in starting_files(exercise.id).items():
        file = workspace.path(relative_path, settings)
        if not file.is_file() or file.read_text(encoding="utf-8").strip() != text.strip():
            return False
    return True


def _attempted(exercise: BuildExercise, found: dict[str, dict[str, Any] | None], settings: Settings) -> bool:
    """Something of the exercise is in the manifest, or a workspace file is named after what it builds, or a
    YAML file there names it (a source or an exposure dbt could not read yet)."""
    names = {check.name.split(".")[-1] for check in exercise.models}
    for item in workspace.files(settings):
        file = workspace.path(item, settings)
        if file.stem in names or (
            file.suffix in (".yml", ".yaml")
            and any(re.search(rf"\b{re.escape(name)}\b", file.read_text(encoding="utf-8")) for name in names)
        ):
            return True
    return any(found.values())


def check_build(exercise: BuildExercise, settings: Settings | None = None, every_run: bool = False) -> Verdict:
    """Check each node of the exercise as built; print the verdict once; a true Verdict if everything is right."""
    settings = settings or load_settings()
    built = _Built.read(settings.dbt_target_dir, every_run)
    found = {check.unique_id: built.in_workspace(check) for check in exercise.models}
    if not _attempted(exercise, found, settings):
        names = ", ".join(check.where for check in exercise.models)
        return not_attempted(exercise, f"write {names} in your workspace, build with `{exercise.build}`, then check")
    if exercise.debugging and _as_started(exercise, settings):
        return not_attempted(exercise, f"fix the file as dbt's message says, build with `{exercise.build}`, then check")
    changed = _changed_since_read(exercise, settings)
    if changed:
        return _fail(
            exercise,
            [
                f"❌ You changed {', '.join(changed)} since dbt last "
                "read the project (did the build stop with an error?): "
                f"build with `{exercise.build}`, then check again."
            ],
        )
    if built.command in BUILDS_NOTHING and any(isinstance(check, ModelCheck) for check in exercise.models):
        return _fail(
            exercise,
            [
                f"❌ Your last dbt command was `dbt {built.command}`, "
                "which builds nothing and replaces the results of the "
                f"build before it: build with `{exercise.build}`, then check (right after the build)."
            ],
        )
    problems: list[str] = []
    likely: str | None = None
    for check in exercise.models:
        node = found[check.unique_id]
        if node is None:
            problems.append(
                f"dbt does not know {check.name} yet: write {check.where}, then build with `{exercise.build}`."
            )
            continue
        found_problems, cause = _problems(exercise, check, node, built, settings)
        problems += found_problems
        likely = likely or cause
    if not problems:
        names = ", ".join(check.name for check in exercise.models)
        return _passed(exercise, [f"✅ Correct: {names} built as the exercise asks."])
    lines = [f"❌ {problem}" for problem in problems]
    if likely:
        lines.append(f"💡 {likely}")
    elif exercise.hint:
        lines.append(f"💡 Hint: {exercise.hint}")
    return _fail(exercise, lines)


__all__ = [
    "BuildExercise",
    "ExposureCheck",
    "ModelCheck",
    "NodeCheck",
    "SingularTestCheck",
    "SourceCheck",
    "UnitTestCheck",
    "check_build",
]
