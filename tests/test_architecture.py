"""The shape of the package (docs/architecture.md): the import contract, lazy namespaces,
a command line that loads only the command that runs, and small modules.

The contract itself is checked from the source by :mod:`tests.import_contract`; the planted
violations below show that each rule does fail when broken.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest

from tests.import_contract import MAX_LOCAL_IMPORTS, check, local_imports

ROOT = Path(__file__).parent.parent
PKG = ROOT / "planner"

#: library packages whose __init__ is a lazy namespace (planner.common.lazy.attach)
LAZY = ["planner", "planner.common", "planner.ingest", "planner.network", "planner.routing", "planner.scenarios",
        "planner.analyses", "planner.outputs", "planner.analyses.evaluate", "planner.analyses.access",
        "planner.analyses.fare_card", "planner.analyses.transfers", "planner.analyses.railnet", "planner.ingest.gtfs",
        "planner.ingest.osm", "planner.network.fares"]


def test_the_import_contract_holds():
    problems = check(PKG)
    assert problems == [], "\n".join(problems)


def test_function_local_imports_are_few_and_explained():
    found = local_imports(PKG)
    assert len(found) <= MAX_LOCAL_IMPORTS
    assert all(not module.startswith("planner") for _file, _line, module in found), found


def _plant(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "planner"
    for rel, text in files.items():
        p = pkg / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text), encoding="utf-8")
    for d in [pkg, *[p for p in pkg.rglob("*") if p.is_dir()]]:
        (d / "__init__.py").touch()
    return pkg


def test_every_rule_fails_on_a_planted_violation(tmp_path):
    pkg = _plant(tmp_path, {
        "kernels/bad.py": "import pandas\nfrom planner.common import geodesy\n",
        "common/geodesy.py": "from planner.network import model\n",
        "network/model.py": "from planner.kernels import bad\n",
        "analyses/matrix.py": "from planner.analyses.route import Journey\nfrom planner.cli import main\n",
        "analyses/route.py": "from planner.analyses.metrics import measures\nJourney = 1\n",
        "analyses/metrics.py": "measures = 1\n",
        "routing/raptor.py": "from planner.routing.batch import _csr\nfrom planner.ingest.osm._raw import RawOSM\n",
        "routing/batch.py": "from planner.routing.raptor import x\n_csr = 1\n\n\ndef f():\n    import json\n"
                            "    from planner.network import model\n",
        "ingest/osm/_raw.py": "RawOSM = 1\n",
        "cli/main.py": "",
    })
    text = "\n".join(check(pkg))
    expected = [
        "kernels/bad.py:1: kernels import pandas",                               # rule 1
        "kernels/bad.py:2: kernels import planner.common.geodesy",               # rule 1
        "network/model.py:1: planner.network.model imports planner.kernels.bad (only routing/",  # rule 2
        "common/geodesy.py:1: common/ imports planner.network.model (a stage never imports a later one)",  # 3
        "analyses/matrix.py:2: planner.analyses.matrix imports the command line",  # rule 3
        "analysis room matrix imports room route",                              # rule 4
        "imports the private name _csr from planner.routing.batch",              # rule 5
        "imports the private module planner.ingest.osm._raw from outside planner.ingest.osm",  # rule 5
        "import cycle: planner.routing.batch -> planner.routing.raptor",         # rule 6
        "function-local import of json without a reason",                       # rule 7
        "function-local import of planner.network.model (import it at the top",  # rule 7
    ]
    for line in expected:
        assert line in text, f"{line!r} not reported:\n{text}"
    # a room may use the shared measures
    assert "room metrics" not in text and "route imports" not in text


def test_kernel_sentinels_are_the_fare_models():
    from planner.kernels import mcraptor
    from planner.network.fares import model

    assert (model.FARE_NA, model.UNLIMITED) == (mcraptor.FARE_NA, mcraptor.UNLIMITED)


@pytest.mark.parametrize("package", LAZY)
def test_lazy_namespaces_resolve_every_name(package):
    mod = importlib.import_module(package)
    assert sorted(mod.__all__) == sorted(set(mod.__all__))
    for name in mod.__all__:
        assert getattr(mod, name) is not None, f"{package}.{name}"
        assert name in dir(mod)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        mod.no_such_name  # noqa: B018


def test_the_library_api_is_documented():
    import planner as pl

    for name in pl.__all__:
        obj = getattr(pl, name)
        if callable(obj):
            assert (obj.__doc__ or "").strip(), f"planner.{name} has no docstring"


def _imported_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


HEAVY = {"pandas", "numba", "scipy", "geopandas", "matplotlib", "rasterio", "osmnx", "distributed", "pyarrow"}


def test_importing_planner_loads_no_heavy_library():
    mods = _imported_after("import planner")
    assert not {m.split(".")[0] for m in mods} & HEAVY


@pytest.mark.parametrize("argv", [["--help"], ["matrix", "--help"], ["evaluate", "--help"], ["fares", "--help"],
                                  ["access", "--help"], ["gtfs", "check", "--help"], ["network", "export", "--help"]])
def test_help_loads_no_library_code(argv):
    """Start-up stays quick: ``plan --help`` loads no command, a command's ``--help`` only that
    command's module, and neither loads the library behind the lazy namespaces."""
    code = ("from planner.cli.main import main\n"
            f"try:\n    main({argv!r}, prog_name='plan')\nexcept SystemExit:\n    pass")
    mods = _imported_after(code)
    assert not {m.split(".")[0] for m in mods} & HEAVY, sorted({m.split(".")[0] for m in mods} & HEAVY)
    loaded = {m for m in mods if m.startswith("planner.") and not m.startswith(("planner.cli", "planner.common"))}
    assert loaded <= {"planner.errors", "planner.config", *LAZY}, sorted(loaded)
    commands = {m.removeprefix("planner.cli.") for m in mods if m.startswith("planner.cli.")} - {"main", "_options",
                                                                                                  "_table"}
    if argv == ["--help"]:
        assert commands == set()
    else:
        assert argv[0] in commands


def test_the_command_list_matches_the_commands():
    from planner.cli.main import COMMANDS, main

    ctx = click.Context(main)
    for name, (module, summary) in COMMANDS.items():
        cmd = getattr(importlib.import_module(f"planner.cli.{module}"), name)
        assert cmd.name == name
        assert (cmd.help or "").split("\n\n")[0] == summary, name
        assert main.get_command(ctx, name) is cmd
    assert main.list_commands(ctx) == sorted(COMMANDS)


def test_modules_stay_under_700_lines():
    for p in sorted(PKG.rglob("*.py")):
        n = len(p.read_text(encoding="utf-8").splitlines())
        assert n <= 700, f"{p.relative_to(ROOT)} has {n} lines; split it by what it holds"


def test_defaults_shown_on_the_command_line_are_the_library_defaults():
    from planner.cli.gtfs_convert import AGENCY_URL
    from planner.ingest.gtfs.from_timetable import DEFAULT_AGENCY_URL

    assert AGENCY_URL == DEFAULT_AGENCY_URL


def test_every_library_name_the_command_line_uses_exists():
    """The commands reach the library as ``pl.<stage>.<module>.<name>`` (lazy): a name that
    moved would only fail when that command runs, so every such chain is resolved here, and
    a name must be reached through the module that defines it (or a package that lists it in
    ``__all__`` from one of its private modules), never through a private module."""
    import re

    import planner as pl

    for f in sorted((PKG / "cli").glob("*.py")):
        for m in re.finditer(r"\bpl((?:\.\w+)+)", f.read_text(encoding="utf-8")):
            obj, parent = pl, None
            for part in m.group(1).split(".")[1:]:
                assert not part.startswith("_"), f"{f.name}: pl{m.group(1)} reaches a private name"
                parent, obj = obj, getattr(obj, part, None)
                assert obj is not None, f"{f.name}: pl{m.group(1)} does not exist"
                if not hasattr(obj, "__file__") or not hasattr(obj, "__name__") or not hasattr(obj, "__spec__"):
                    break
            home = getattr(obj, "__module__", None)
            if home and parent is not None and getattr(parent, "__name__", "").startswith("planner."):
                pname = parent.__name__
                exported = part in getattr(parent, "__all__", ()) and home.startswith(pname + "._")
                assert home == pname or exported or not home.startswith("planner"), \
                    f"{f.name}: pl{m.group(1)} is defined in {home}; use that module"
