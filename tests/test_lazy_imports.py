"""lazy_imports.py: dbt's import skips the IRI grammar, and IRI validation still works when asked."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("rfc3987_syntax")  # installed with JupyterLab (jupyter-events)

PROBE = """
import sys, ecom_tutorial, jsonschema
import dbt.cli.main
print(type(sys.modules["rfc3987_syntax"]).__name__, "lark" in sys.modules)
checker = jsonschema.FormatChecker()
print(checker.conforms("https://example.com/straße", "iri"), checker.conforms("not an iri", "iri"))
print(type(sys.modules["rfc3987_syntax"]).__name__)
"""


def test_dbt_is_imported_without_compiling_the_iri_grammar_and_iris_are_still_checked() -> None:
    lines = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout.split("\n")
    assert lines[0] == "_Deferred False"  # dbt and jsonschema imported; the grammar (lark) not loaded
    assert lines[1] == "True False"  # the real validator answers once asked
    assert lines[2] == "module"  # ...and has replaced the stand-in
