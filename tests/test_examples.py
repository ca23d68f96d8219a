"""Every documented example runs (issue 18): the README's shell and Python blocks and the
examples in every command's ``--help``, as a user types them, in a shell.

The catalogue is read from the documents themselves (``catalogue``), so an example added to
a README block or a docstring is run without touching this file, and one that names a file
this test cannot make fails here with its name. Each example runs in ``bash`` in a workspace
folder that holds the bundled sample (``gtfs/``, ``scenarios/``, ``osm_cache/`` linked from
the repository; networks cached once per session in a temporary folder) and the small files
the examples name, made by ``MAKERS`` (``tests/doc_examples.py``) (the Helsinki test data for ``hsl.zip`` and
``helsinki.osm.pbf``, the bundled feeds for ``rail.zip`` and ``metro.zip``, and so on).

What is adapted, and only this (``adapt``):

* the cluster host names ``head`` and ``head-node`` are this machine, and port 8786 is a free
  port: ``--scheduler`` examples reach a real ``dask scheduler`` with a ``dask worker``
  started here, and the README's "several hosts" block starts its own;
* ``--place``/``--bbox`` downloads: this machine has no internet, so the request cache is
  seeded with the elements of the bundled Harbin extract inside the box (what Overpass would
  return for it) before the example runs; the example itself runs unchanged and reads the
  cache, as a second run online does.

Not run here, and said so in the summary: the README's install-and-test commands (``.ci/run``
runs exactly those on a clean clone) and the dask-jobqueue block (it needs a SLURM batch system).
The YAML scenario block is checked by ``tests/test_default_sample.py``; the "Library" Python
block runs there too, and so does ``plan evaluate`` (``COVERED_ELSEWHERE``), typed in a shell
in a workspace like the others, with checks of its outputs (all named in the summary).

The counts go to the end of the pytest run ("documented examples: ...").
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.doc_examples import (
    COVERED_ELSEWHERE,
    ROOT,
    Block,
    Example,
    catalogue,
    file_tokens,
    prepare,
    run_block,
    shell_environment,
    workspace,
)


@pytest.fixture(scope="module")
def shell_env(tmp_path_factory) -> dict[str, str]:
    return shell_environment(tmp_path_factory.mktemp("shell"))


@pytest.fixture(scope="module")
def network_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("networks")


BLOCKS, SKIPPED, DOCUMENTED = catalogue()


def _block_params():
    for b in BLOCKS:
        marks = [pytest.mark.slow] if any(ex.heavy for ex in b.examples) else []
        yield pytest.param(b, id=re.sub(r"\W+", "_", b.name).strip("_"), marks=marks)


@pytest.fixture(scope="module")
def record(request) -> list:
    log = getattr(request.config, "_plan_examples", None)
    if log is None:
        log = request.config._plan_examples = {"ran": [], "not_run": SKIPPED, "documented": DOCUMENTED,
                                               "distinct": sum(len(b.examples) for b in BLOCKS)}
    return log["ran"]


@pytest.mark.parametrize("block", list(_block_params()))
def test_documented_examples_run(block: Block, tmp_path, shell_env, network_cache, record):
    run_block(block, workspace(tmp_path / "ws", network_cache), shell_env, record)


def test_the_catalogue_holds_every_example():
    """The catalogue finds what the documents hold (a parser that found nothing would pass
    every run test): every command with an Examples section, the README's blocks."""
    names = {b.name for b in BLOCKS}
    for cmd in ("evaluate", "fares", "net", "transfers", "access", "route", "matrix", "osm info",
                "gtfs check", "gtfs from-timetable", "network build", "network export",
                "scenario check", "scenario export", "config show", "config init"):
        documented = [ex for b in BLOCKS for ex in b.examples if f"plan {cmd} --help" in " ".join(ex.sources)]
        assert documented, f"plan {cmd} --help shows no example that runs"
    assert "plan --help" in names or any("plan --help" in s for b in BLOCKS for ex in b.examples for s in ex.sources)
    readme_cmds = [ex for b in BLOCKS for ex in b.examples if any(s.startswith("README") for s in ex.sources)]
    assert any("--scheduler" in ex.text for ex in readme_cmds) and any(ex.text.startswith("dask worker")
                                                                       for ex in readme_cmds)
    reasons = dict(SKIPPED)
    assert len(reasons) == 3, SKIPPED  # install/test, jobqueue, library
    assert DOCUMENTED >= 50 and sum(len(b.examples) for b in BLOCKS) >= 40


def test_an_unknown_file_in_an_example_is_named(tmp_path):
    ex = Example("plan gtfs check nowhere_feed.zip", ["a test"])
    with pytest.raises(AssertionError, match=r"nowhere_feed\.zip"):
        prepare(ex, tmp_path)


def test_examples_run_elsewhere_are_documented_and_run_there():
    texts = {ex.text for b in BLOCKS for ex in b.examples}
    for text, where in COVERED_ELSEWHERE.items():
        assert text in texts, f"{text!r} is no longer documented: remove it from COVERED_ELSEWHERE"
        path, name = where.split("::")
        source = (ROOT / path).read_text(encoding="utf-8")
        body = source.split(f"def {name}(", 1)[1].split("\ndef ", 1)[0]
        assert re.search(rf"run_example\([\"']{re.escape(text)}[\"']", body), f"{where} does not run {text!r}"


def test_file_tokens_tell_inputs_from_outputs():
    reads, writes = file_tokens("plan gtfs check rail=gtfs/rail.zip --notices n.csv feed/ && echo clean")
    assert reads == ["gtfs/rail.zip", "feed/"] and writes == {"n.csv"}
    reads, writes = file_tokens("plan access --opportunities pop.gpkg:population -o out/hel")
    assert reads == ["pop.gpkg"] and writes == {"out/hel"}
    reads, writes = file_tokens("plan osm info --json city.osm > city-info.json")
    assert reads == ["city.osm"] and writes == {"city-info.json"}
    reads, writes = file_tokens("plan transfers --write-scenario c.yaml && plan evaluate c.yaml")
    assert reads == [] and writes == {"c.yaml"}
