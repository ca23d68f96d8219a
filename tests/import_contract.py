"""The import contract of ``planner`` (docs/architecture.md), checked from the source.

:func:`check` parses every module of a package (no import is executed) and returns the
violations of these rules, one line each:

1. ``kernels/`` imports only NumPy, numba, the standard library and ``kernels/`` itself;
2. only ``routing/`` imports ``kernels/``;
3. a stage never imports a later one (:data:`FORBIDDEN`), and nothing outside ``cli/``
   imports ``cli/``;
4. no analysis room imports another room (shared pieces sit in ``analyses/metrics.py`` or a
   stage below);
5. no module imports a ``_private`` name of another module, nor a ``_private`` module from
   outside the package that holds it;
6. no import cycle between modules (every import counts, function-local ones included;
   only imports under ``if TYPE_CHECKING:`` are left out);
7. function-local imports only of packages outside ``planner`` (slow or optional ones),
   each with a reason in a comment on its line or the line above, at most
   :data:`MAX_LOCAL_IMPORTS` in all.

A package ``__init__`` that declares lazy names (:func:`planner.common.lazy.attach`) imports
nothing when it loads; what its users reach through it is checked where it is defined.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

#: stage -> the stages it may not import (by the top folder under the package)
FORBIDDEN = {
    "common": {"kernels", "ingest", "network", "routing", "scenarios", "outputs", "analyses", "cli"},
    "kernels": {"common", "ingest", "network", "routing", "scenarios", "outputs", "analyses", "cli", "errors",
                "config"},
    "ingest": {"network", "routing", "scenarios", "outputs", "analyses", "cli"},
    "network": {"scenarios", "outputs", "analyses", "cli"},
    "routing": {"scenarios", "outputs", "analyses", "cli"},
    "scenarios": {"outputs", "analyses", "cli"},
    "outputs": {"kernels", "network", "routing", "scenarios", "analyses", "cli"},
    "analyses": {"cli"},
    "errors": {"common", "kernels", "ingest", "network", "routing", "scenarios", "outputs", "analyses", "cli",
               "config"},
    "config": {"common", "kernels", "ingest", "network", "routing", "scenarios", "outputs", "analyses", "cli"},
}
#: modules of ``analyses/`` that are shared measures, not rooms
SHARED_ANALYSES = {"metrics"}
MAX_LOCAL_IMPORTS = 40
KERNEL_THIRD_PARTY = {"numpy", "numba"}


@dataclass
class Module:
    name: str           # dotted
    path: Path
    is_package: bool
    imports: list[tuple[str, list[str], int, bool, bool]] = field(default_factory=list)
    # (target module, imported names, line, function-local, type-checking-only)


def _resolve(module: str | None, level: int, current: str, is_package: bool) -> str:
    if level == 0:
        return module or ""
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: -(level - 1)]
    return ".".join(base + ([module] if module else []))


def parse(root: Path) -> dict[str, Module]:
    """Every module of the package folder ``root`` with its imports."""
    modules: dict[str, Module] = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).with_suffix("")
        parts = list(rel.parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        modules[".".join(parts)] = Module(".".join(parts), path, is_package)
    for mod in modules.values():
        tree = ast.parse(mod.path.read_text(encoding="utf-8"))
        type_only: set[int] = set()
        local: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                type_only.update(id(n) for n in ast.walk(node))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                local.update(id(n) for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    mod.imports.append((a.name, [], node.lineno, id(node) in local, id(node) in type_only))
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(node.module, node.level, mod.name, mod.is_package)
                names = [a.name for a in node.names]
                # "from pkg import submodule" imports the submodule
                subs = [n for n in names if f"{target}.{n}" in modules]
                rest = [n for n in names if n not in subs]
                for n in subs:
                    mod.imports.append((f"{target}.{n}", [], node.lineno, id(node) in local, id(node) in type_only))
                if rest or not subs:
                    mod.imports.append((target, rest, node.lineno, id(node) in local, id(node) in type_only))
    return modules


def _stage(name: str, pkg: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def _room(name: str) -> str | None:
    parts = name.split(".")
    if len(parts) > 2 and parts[1] == "analyses" and parts[2] not in SHARED_ANALYSES:
        return parts[2]
    return None


def _is_stdlib(top: str) -> bool:
    return top in sys.stdlib_module_names or top == "__future__"


def _with_parents(target: str, modules: dict[str, Module]) -> set[str]:
    """``target`` and the packages above it: importing a submodule runs its packages' ``__init__``."""
    parts = target.split(".")
    return {".".join(parts[:i]) for i in range(2, len(parts) + 1)} & set(modules)


def _cycles(modules: dict[str, Module]) -> list[list[str]]:
    graph = {m: sorted({p for t, _n, _l, _loc, tc in mod.imports if not tc for p in _with_parents(t, modules)}
                       - {m} - {a for a in modules if m.startswith(a + ".")})
             for m, mod in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for v in graph:
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return out


def _reason(lines: list[str], lineno: int) -> bool:
    """A comment on the import's line, or just above it or above the run of imports it is in."""
    if "#" in lines[lineno - 1]:
        return True
    k = lineno - 2
    while k >= 0 and lines[k].strip().startswith(("import ", "from ")):
        k -= 1
    return k >= 0 and lines[k].strip().startswith("#")


def check(root: Path) -> list[str]:
    """Violations of the import contract in the package folder ``root`` (see the module docstring)."""
    pkg = root.name
    modules = parse(root)
    problems: list[str] = []
    n_local = 0
    for name, mod in sorted(modules.items()):
        stage = _stage(name, pkg)
        room = _room(name)
        lines = mod.path.read_text(encoding="utf-8").splitlines()
        where = f"{mod.path.relative_to(root.parent)}"
        for target, names, line, local, type_only in mod.imports:
            top = target.split(".")[0]
            internal = top == pkg
            at = f"{where}:{line}"
            if local:
                n_local += 1
                if internal:
                    problems.append(f"{at}: function-local import of {target} (import it at the top of the module)")
                elif not _reason(lines, line):
                    problems.append(f"{at}: function-local import of {target} without a reason (a comment)")
            if type_only:
                continue  # names for annotations only: no import at run time
            if stage == "kernels":
                if internal and not target.startswith(f"{pkg}.kernels"):
                    problems.append(f"{at}: kernels import {target} (kernels import only numpy, numba and kernels/)")
                elif not internal and top not in KERNEL_THIRD_PARTY and not _is_stdlib(top):
                    problems.append(f"{at}: kernels import {target} (kernels import only numpy, numba and kernels/)")
            if not internal:
                continue
            tstage = _stage(target, pkg)
            if tstage == "kernels" and stage not in ("kernels", "routing"):
                problems.append(f"{at}: {name} imports {target} (only routing/ calls the kernels)")
            if not type_only and tstage in FORBIDDEN.get(stage, ()):
                problems.append(f"{at}: {stage}/ imports {target} (a stage never imports a later one)")
            if tstage == "cli" and stage != "cli":
                problems.append(f"{at}: {name} imports the command line ({target})")
            troom = _room(target)
            if room and troom and troom != room:
                problems.append(f"{at}: analysis room {room} imports room {troom} ({target}); "
                                "shared pieces go down a layer")
            # private names and private modules
            for n in names:
                if n.startswith("_") and not n.startswith("__"):
                    problems.append(f"{at}: {name} imports the private name {n} from {target}")
            parts = target.split(".")
            for i, part in enumerate(parts):
                if part.startswith("_") and not part.startswith("__"):
                    holder = ".".join(parts[:i])
                    if not (name == holder or name.startswith(holder + ".")):
                        problems.append(f"{at}: {name} imports the private module {'.'.join(parts[:i + 1])} "
                                        f"from outside {holder}")
                    break
    for comp in _cycles(modules):
        problems.append(f"import cycle: {' -> '.join(comp)}")
    if n_local > MAX_LOCAL_IMPORTS:
        problems.append(f"{n_local} function-local imports (at most {MAX_LOCAL_IMPORTS})")
    return problems


def local_imports(root: Path) -> list[tuple[str, int, str]]:
    """(file, line, module) of every function-local import, for the record."""
    out = []
    for mod in parse(root).values():
        for target, _names, line, local, _tc in mod.imports:
            if local:
                out.append((str(mod.path.relative_to(root.parent)), line, target))
    return sorted(out)
