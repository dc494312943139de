"""The SQL dbt compiles: a model's, a snippet's (`dbt compile --inline`), and a finished run's nodes'.

Compiling renders the Jinja, resolves `ref()`/`source()` and inlines ephemeral models, so this is
the SQL that really runs. The lessons show it, and the exercise checker parses it to tell a mistake's cause.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import NothingCompiledError
from .runner import DbtResult, run_dbt


def compiled_code(node: Any) -> str | None:
    """The SQL dbt compiled for one node, or None if it has none (yet).

    `node` is a node object of a dbt run (`DbtResult.raw.results[i].node`) or a node's dict as
    manifest.json and run_results.json hold it: dbt names the field `compiled_code` in both.
    """
    code = node.get("compiled_code") if isinstance(node, Mapping) else getattr(node, "compiled_code", None)
    return code or None


def compiled_node(result: DbtResult, matches: Callable[[str], bool]) -> tuple[str, str] | None:
    """(name, compiled SQL) of the first node of a dbt run whose name `matches` and that has compiled SQL."""
    for item in getattr(result.raw, "results", None) or []:
        node = getattr(item, "node", None)
        if node is None:  # e.g. a source freshness result
            continue
        code = compiled_code(node)
        if code and matches(node.name):
            return node.name, code
    return None


def compiled_sql(model: str, *, full_refresh: bool = False) -> str:
    """The SQL dbt generates for `model` (Jinja rendered, refs resolved, ephemeral CTEs inlined).

    `full_refresh=True` compiles it as `--full-refresh` would run it: `is_incremental()` is false.
    """
    flags = ["--full-refresh"] if full_refresh else []
    result = run_dbt(["compile", "--select", model, *flags], progress=False)
    found = compiled_node(result, lambda name: name == model)
    if found is None:
        raise NothingCompiledError(f"dbt compiled no node named {model!r}: check the spelling of the model name.")
    return found[1]


def compile_inline(sql: str, vars: dict[str, Any] | None = None, *, introspect: bool = True) -> str:
    """The SQL dbt makes of a snippet with Jinja (`{{ ref() }}`, macros, `var()`), like `dbt compile --inline`.

    `introspect=False` compiles without a database connection, so the Jinja cannot run SQL (`run_query`).
    """
    flags = [] if introspect else ["--no-introspect"]
    result = run_dbt(["compile", *flags, "--inline", sql], vars=vars, progress=False)
    found = compiled_node(result, lambda name: True)
    if found is None:
        raise NothingCompiledError("dbt compiled nothing from this SQL: is it a single SELECT?")
    return found[1]
