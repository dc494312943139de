"""Third-party imports that this package defers, to keep the first dbt call of a process short.

dbt imports jsonschema, and jsonschema imports `rfc3987_syntax` when it is installed (JupyterLab's
jupyter-events installs it). That package compiles three Earley parsers of the IRI grammar while it
is imported: 2.2 s of every process that runs dbt (a notebook kernel's first `run_dbt`, each
`ecom-tutorial` command), measured with `python -X importtime -c "import dbt.cli.main"`. dbt never
checks an IRI. So until somebody calls it, the module is a stand-in that imports the real one on
first use: validation of IRIs still works, it just starts later.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

DEFERRED = "rfc3987_syntax"


class _Deferred(types.ModuleType):
    """Stands in for a module until one of its names is used, then is replaced by it."""

    def _load(self) -> types.ModuleType:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        real = importlib.import_module(self.__name__)
        sys.modules[self.__name__] = real
        return real

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system's own probes (__path__, __spec__ ...)
            raise AttributeError(name)
        return getattr(self._load(), name)


def defer_iri_grammar() -> None:
    """Put the stand-in for rfc3987_syntax in place, unless it is imported already or not installed."""
    if DEFERRED in sys.modules or importlib.util.find_spec(DEFERRED) is None:
        return
    stand_in = _Deferred(DEFERRED)

    # jsonschema imports this one name while it is imported itself: a function that loads on call
    def is_valid_syntax(term: str, value: str) -> bool:
        return bool(stand_in._load().is_valid_syntax(term, value))

    stand_in.is_valid_syntax = is_valid_syntax  # type: ignore[attr-defined]
    sys.modules[DEFERRED] = stand_in


defer_iri_grammar()  # on import of the package (its __init__ imports this module first)
