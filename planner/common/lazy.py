"""Lazy package namespaces: a package names its public API, the modules load on first use.

``import planner`` (and the ``plan`` command line, which loads only the command that runs)
must stay quick although the library stands on NumPy, pandas, numba, SciPy and GeoPandas.
So a package ``__init__`` never imports its submodules: it declares its submodules and the
names they hold, and :func:`attach` loads a submodule when it or one of its names is first
used, as SciPy, scikit-image and NetworkX do (the scientific Python ecosystem's SPEC 1)::

    # planner/analyses/__init__.py
    from planner.common.lazy import attach

    __all__ = ["matrix", "route"]
    __getattr__, __dir__ = attach(__name__, submodules=__all__)

``from planner import analyses`` then costs nothing; ``analyses.matrix.travel_time_matrix``
imports ``planner.analyses.matrix`` once (Python caches it as the package's attribute).
Names work the same way (``names={"matrix": ["travel_time_matrix"]}`` makes
``analyses.travel_time_matrix`` load ``planner.analyses.matrix``). An unknown name is an
:class:`AttributeError` as usual. Readers and type checkers see the same names in an
``if TYPE_CHECKING:`` block of plain imports beside the call.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence

__all__ = ["attach"]


def attach(package: str, submodules: Iterable[str] = (), names: Mapping[str, Sequence[str]] | None = None,
           ) -> tuple[Callable, Callable]:
    """``(__getattr__, __dir__)`` for the package ``package`` (whose ``__all__`` lists the
    same names, so that linters and ``from package import *`` see them).

    ``submodules`` are loaded when first accessed as attributes; ``names`` maps a submodule
    (relative to the package, dotted for deeper ones) to the public names it defines, each
    looked up in its submodule on first access.
    """
    subs = set(submodules)
    where: dict[str, str] = {}
    for module, attrs in (names or {}).items():
        for attr in attrs:
            if attr in where or attr in subs:
                msg = f"{package}: {attr!r} is declared twice"
                raise ValueError(msg)
            where[attr] = module
    public = subs | set(where)

    def __getattr__(name: str):
        if name in subs:
            return importlib.import_module(f"{package}.{name}")
        module = where.get(name)
        if module is None:
            msg = f"module {package!r} has no attribute {name!r}"
            raise AttributeError(msg)
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # the next access is a plain lookup
        return value

    def __dir__() -> list[str]:
        return sorted({*public, *vars(sys.modules[package])})

    return __getattr__, __dir__
