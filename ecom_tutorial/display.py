"""Show the project's files in a notebook: a model's SQL as written, or as dbt compiled it (compiling.py).

Lessons read the dbt project instead of copying SQL into markdown, so the notebook always shows
the code that really runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from IPython.display import Markdown

from .compiling import compiled_node, compiled_sql
from .runner import DbtResult
from .settings import load_settings

LANGUAGES = {".sql": "sql", ".yml": "yaml", ".yaml": "yaml", ".csv": "text", ".md": "markdown", ".py": "python"}
SEARCH_FOLDERS = ("models", "snapshots", "tests", "macros", "seeds", "analyses", "packages")


def project_file(name_or_path: str | Path) -> Path:
    """A file of the course: a path relative to dbt_project/ or to the checkout (or absolute), or a
    bare name such as `stg_ecommerce__orders` (found as <name>.sql, .yml or .csv in the dbt project)."""
    settings = load_settings()
    project = settings.dbt_project_dir
    candidate = Path(name_or_path)
    for path in (candidate, project / candidate, settings.project_dir / candidate):
        if path.is_file():
            return path
    stem = candidate.name
    names = {stem} if candidate.suffix else {f"{stem}{suffix}" for suffix in (".sql", ".yml", ".csv")}
    matches = sorted(path for folder in SEARCH_FOLDERS for path in (project / folder).rglob("*") if path.name in names)
    if not matches:
        raise FileNotFoundError(
            f"No file {name_or_path!r} in {project}: use a model name like 'stg_ecommerce__orders' "
            "or a path relative to dbt_project/, like 'models/staging/_stg_ecommerce__sources.yml'."
        )
    return matches[0]


def _code_block(code: str, language: str, caption: str) -> Markdown:
    return Markdown(f"{caption}\n\n```{language}\n{code.rstrip()}\n```")


def _line_number(lines: list[str], marker: int | str | None, after: int, default: int, path: Path) -> int:
    """1-based line number: an int as is, a str = the first line (after `after`) containing it."""
    if marker is None:
        return default
    if isinstance(marker, int):
        return marker
    for number, line in enumerate(lines[after:], start=after + 1):
        if marker in line:
            return number
    raise ValueError(f"No line containing {marker!r} in {path}: the file has changed; update the notebook.")


def show_file(name_or_path: str | Path, *, start: int | str | None = None, end: int | str | None = None) -> Markdown:
    """Display a project file with syntax highlighting, or an excerpt of it.

    `start`/`end` are 1-based line numbers (inclusive) or text: `start="- name: orders"` begins at
    the first line containing it, `end="- name: products"` stops just before the next line that does.
    """
    path = project_file(name_or_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    first = max(_line_number(lines, start, 0, 1, path), 1)
    if isinstance(end, str):
        last = _line_number(lines, end, first, len(lines) + 1, path) - 1
    else:
        last = _line_number(lines, end, first, len(lines), path)
    last = min(last, len(lines))
    excerpt = "\n".join(lines[first - 1 : last])
    root = load_settings().project_dir
    relative = path.relative_to(root) if path.is_relative_to(root) else path
    span = f" (lines {first}-{last})" if (start is not None or end is not None) else ""
    return _code_block(excerpt, LANGUAGES.get(path.suffix, "text"), f"**`{relative}`**{span}")


def show_model(model: str) -> Markdown:
    """Display a model's SQL file as written (Jinja and all)."""
    return show_file(model if model.endswith(".sql") else f"{model}.sql")


def show_compiled(model: str, result: DbtResult | None = None) -> Markdown:
    """Display the SQL dbt generates for a model: Jinja rendered, refs resolved, ephemeral CTEs inlined.

    With `result` (what `run_dbt` returned), show instead the compiled SQL of the first node of
    that run whose name contains `model`, e.g. a test: no extra dbt command needed.
    """
    if result is None:
        return _code_block(compiled_sql(model), "sql", f"**compiled SQL of `{model}`**")
    found = compiled_node(result, lambda name: model in name)
    if found is None:
        raise ValueError(f"No node of this dbt run has {model!r} in its name and compiled SQL.")
    name, code = found
    return _code_block(code, "sql", f"**compiled SQL of `{name}`**")


def show_sql(sql: str, caption: str = "") -> Markdown:
    """Display any SQL text with highlighting."""
    return _code_block(sql, "sql", caption)


def freshness_table(result: Any) -> pd.DataFrame:
    """One row per source table from a `run_dbt(["source", "freshness"])` result: the newest
    `_loaded_at`, its age in hours and dbt's verdict (pass, warn or error)."""
    rows = []
    for item in getattr(result.raw, "results", None) or []:
        if not hasattr(item, "max_loaded_at"):
            continue  # on-run-start/-end hooks
        rows.append(
            {
                "source": f"{item.node.source_name}.{item.node.name}",
                "newest row loaded at": pd.Timestamp(item.max_loaded_at).floor("s"),
                "age (hours)": round(float(item.age) / 3600, 1),
                "status": str(item.status),
            }
        )
    return pd.DataFrame(rows).sort_values("source", ignore_index=True) if rows else pd.DataFrame(rows)


def show_docs_block(name: str) -> Markdown:
    """Render a `{% docs name %}` block of the dbt project as Markdown (what `dbt docs` shows)."""
    import re

    pattern = re.compile(r"{%-?\s*docs\s+" + re.escape(name) + r"\s*-?%}(.*?){%-?\s*enddocs\s*-?%}", re.S)
    project = load_settings().dbt_project_dir
    for path in sorted(project.glob("models/**/*.md")) + sorted(project.glob("docs/**/*.md")):
        match = pattern.search(path.read_text(encoding="utf-8"))
        if match:
            return Markdown(match.group(1).strip() + f"\n\n*(docs block `{name}` in `{path.relative_to(project)}`)*")
    raise ValueError(f"No docs block {name!r} in the dbt project's .md files.")
