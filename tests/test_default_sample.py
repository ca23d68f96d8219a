"""The main job on the bundled Northeast China sample, and the README's examples."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli.main import main

ROOT = Path(__file__).parent.parent


@pytest.mark.slow
def test_plan_evaluate_with_no_arguments(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "ev"
    r = CliRunner().invoke(main, ["evaluate", "-q", "-o", str(out), "--cache-dir", str(tmp_path / "c")])
    assert r.exit_code == 0, r.output
    ranking = pd.read_csv(out / "ranking.csv")
    scenarios = {p.stem for p in (ROOT / "scenarios").glob("*.yaml")}
    assert set(ranking["scenario"]) == scenarios
    # doubling the Harbin-Dalian frequency can only help; nothing may get slower anywhere
    assert (ranking["pairs_slower"] == 0).all()
    row = ranking.set_index("scenario").loc["hada_double_frequency"]
    assert row["delta_pop_weighted_mean_min"] < 0 and row["pairs_faster"] > 0
    matrix = pd.read_csv(out / "matrix.csv")
    # the spine cities are connected both ways with plausible door-to-door times (hours)
    t = matrix.set_index(["from_id", "to_id"])["baseline_travel_time_min"]
    for a, b in (("harbin", "changchun"), ("changchun", "shenyang"), ("shenyang", "dalian"), ("harbin", "dalian")):
        assert 40 < t[(a, b)] < 600 and 40 < t[(b, a)] < 600
    assert t[("harbin", "dalian")] > t[("harbin", "changchun")]


def test_readme_scenario_example_is_valid(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(name: spine_express.*?)```", text, re.S).group(1)
    p = tmp_path / "readme_scenario.yaml"
    p.write_text(block, encoding="utf-8")
    r = CliRunner().invoke(main, ["scenario", "check", str(p)])
    assert r.exit_code == 0, r.output
    assert "add_line" in r.output and "remove_route" in r.output and "add_transfer" in r.output


def test_readme_commands_are_the_ci_commands():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "```sh"
    assert lines[1] == "python -m pip install . && plan evaluate"
    assert lines[2] == 'python -m pip install ".[test]" && python -m pytest -q'
    ci = (ROOT / ".ci" / "run").read_text()
    assert "README.md" in ci


@pytest.mark.slow
def test_readme_library_example_runs(tmp_path, monkeypatch):
    """README's "Library" block, as written, on the bundled sample (networks cached in tmp)."""
    monkeypatch.chdir(ROOT)
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Library\n.*?```python\n(.*?)```", text, re.S).group(1)
    assert block.startswith("import planner as pl\n")
    code = block.replace('osm="osm_cache/harbin_central.osm.pbf")',
                         f'osm="osm_cache/harbin_central.osm.pbf", cache_dir={str(tmp_path)!r})')
    code = code.replace("config=pl.Config(local_rail_transfers=True))",
                        f"config=pl.Config(local_rail_transfers=True), cache_dir={str(tmp_path)!r})")
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert len(scope["tt"]) == len(scope["places"]) ** 2
    assert list(scope["ev"].ranking["scenario"]) == ["spine_express"]
