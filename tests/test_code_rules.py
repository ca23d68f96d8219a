"""Rules the code base keeps: numba options in one place, no unsafe deserialisation,
the library never touches click or argv, ruff clean."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

PKG = Path(__file__).parent.parent / "planner"
SOURCES = sorted(p for p in PKG.rglob("*.py"))


def _text(p):
    return p.read_text(encoding="utf-8")


def test_no_fastmath_anywhere():
    for p in SOURCES:
        for m in re.finditer(r"fastmath\s*=\s*(\w+)", _text(p)):
            assert m.group(1) == "False", f"{p}: fastmath must stay off (inf/nan mean 'unreached')"


def test_numba_decorators_only_through_options():
    for p in SOURCES:
        if p.relative_to(PKG).as_posix() == "kernels/options.py":
            continue
        text = _text(p)
        assert not re.search(r"@numba\.|@njit\b|from numba import[^\n]*\bn?jit\b|numba\.n?jit\(", text), \
            f"{p}: use planner.kernels.options.jit / jit_parallel"


@pytest.mark.parametrize("pattern", [r"\bimport pickle\b", r"\bpickle\.", r"\beval\(", r"\bexec\(",
                                     r"yaml\.load\(", r"allow_pickle\s*=\s*True", r"extractall\(",
                                     r"unpack_archive\(", r"xml\.etree", r"xml\.sax"])
def test_no_unsafe_calls(pattern):
    for p in SOURCES:
        assert not re.search(pattern, _text(p)), f"{p}: {pattern}"


def test_library_does_not_import_click_or_read_argv():
    for p in SOURCES:
        if "cli" in p.parts:
            continue
        text = _text(p)
        assert "import click" not in text, p
        assert not re.search(r"(?<!`)sys\.argv", text), p


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff not installed")
def test_ruff_clean():
    root = PKG.parent
    r = subprocess.run(["ruff", "check", "planner", "tests", "scripts"], cwd=root, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
