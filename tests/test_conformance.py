"""The specification's success criteria (../shared/specification/tasks.md, SC-001 ... SC-015).

The README's conformance table names, for each criterion, the test or benchmark that proves it;
these tests keep that table honest, and prove the criteria no other test covers (the dbt features
used, test coverage, the project's layout).
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from conftest import REPO

import ecom_tutorial

README = REPO / "README.md"
CRITERIA = [f"SC-{n:03d}" for n in range(1, 16)]
PROOF = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`")


def _conformance_rows() -> dict[str, str]:
    """SC id -> its row in the README's conformance table."""
    text = README.read_text()
    section = text.split("## Specification conformance", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"\|\s*(SC-\d{3})\s*\|", line)
        if match:
            rows[match.group(1)] = line
    return rows


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_every_criterion_has_a_row_that_names_its_proof() -> None:
    rows = _conformance_rows()
    assert sorted(rows) == CRITERIA
    for criterion, row in rows.items():
        assert PROOF.search(row), f"{criterion} names no test or benchmark: {row}"


def test_every_proof_the_table_names_exists() -> None:
    missing = []
    for criterion, row in _conformance_rows().items():
        for file, function in PROOF.findall(row):
            path = REPO / file
            if not path.exists():
                missing.append(f"{criterion}: {file}")
            elif function and function not in _test_functions(path):
                missing.append(f"{criterion}: {file}::{function}")
    assert not missing, missing


@pytest.fixture(scope="module")
def manifest(built_warehouse: dict[str, object]) -> dict:
    """dbt's manifest of the session's build (`ecom-tutorial build` writes it to the target folder)."""
    return json.loads((ecom_tutorial.load_settings().dbt_target_dir / "manifest.json").read_text())


def _own(manifest: dict, resource_type: str) -> list[dict]:
    """The course's own nodes of one type: not a package's, and not the learner's workspace."""
    nodes = [*manifest["nodes"].values(), *manifest["sources"].values(), *manifest["exposures"].values()]
    return [
        n
        for n in nodes
        if n["resource_type"] == resource_type
        and n["package_name"] == "ecom_dbt_tutorial"
        and "workspace" not in n["fqn"]
    ]


def test_sc_001_every_core_dbt_feature_is_used(manifest: dict) -> None:
    models = {n["name"]: n for n in _own(manifest, "model")}
    layers = {
        layer: [m for m in models.values() if layer in m["fqn"]] for layer in ("staging", "intermediate", "marts")
    }
    features = {
        "sources": _own(manifest, "source"),
        "seeds": _own(manifest, "seed"),
        "staging": layers["staging"],
        "intermediate": layers["intermediate"],
        "marts": layers["marts"],
        "snapshots": _own(manifest, "snapshot"),
        "tests": _own(manifest, "test"),
        "unit tests": list(manifest["unit_tests"].values()),
        "docs blocks": [d for d in manifest["docs"].values() if d["package_name"] == "ecom_dbt_tutorial"],
        "macros": [m for m in manifest["macros"].values() if m["package_name"] == "ecom_dbt_tutorial"],
        "analyses": _own(manifest, "analysis"),
        "exposures": _own(manifest, "exposure"),
        "packages": [m for m in manifest["macros"].values() if m["package_name"] == "ecom_utils"],
        "incremental": [m for m in models.values() if m["config"]["materialized"] == "incremental"],
        "ephemeral": [m for m in models.values() if m["config"]["materialized"] == "ephemeral"],
        "contracts": [m for m in models.values() if m["config"]["contract"]["enforced"]],
        "hooks": [m for m in models.values() if m["config"]["pre-hook"] or m["config"]["post-hook"]],
    }
    unused = [name for name, nodes in features.items() if not nodes]
    assert not unused, f"features the project does not use: {unused}"


def test_sc_003_every_model_that_can_be_tested_is_tested(manifest: dict) -> None:
    """Ephemeral models exist only inlined into others: dbt cannot test them, the marts on them are."""
    tested = set()
    for test in _own(manifest, "test"):
        tested.update(test["depends_on"]["nodes"])
    tested.update(t["model"] for t in manifest["unit_tests"].values())
    tested_names = {unique_id.split(".")[-1] for unique_id in tested}
    untested = [
        m["name"]
        for m in _own(manifest, "model")
        if m["config"]["materialized"] != "ephemeral" and m["name"] not in tested_names
    ]
    assert not untested, untested


def test_sc_012_layout_follows_the_structure_guide(manifest: dict) -> None:
    """Folders name the layer, model names its prefix; one YAML per model, next to it (jaffle-shop)."""
    prefixes = {"staging": ("stg_",), "intermediate": ("int_",), "core": ("dim_", "fact_"), "analytics": ("",)}
    for model in _own(manifest, "model"):
        folder = Path(model["original_file_path"]).parent.name
        assert model["name"].startswith(prefixes[folder]), f"{model['name']} in models/{folder}/"
        yaml = Path(model["patch_path"].split("://", 1)[1]).name
        assert yaml == f"{model['name']}.yml", (model["name"], yaml)
