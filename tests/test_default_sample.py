"""The main job on the bundled Northeast China sample, and the README's examples."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli.main import main
from tests.doc_examples import run_example, shell_environment, workspace

ROOT = Path(__file__).parent.parent


@pytest.mark.slow
def test_plan_evaluate_with_no_arguments(tmp_path):
    """README's main job and the first example of ``plan --help`` and ``plan evaluate --help``,
    typed in a shell in a clone's folder (tests/test_examples.py counts it as run here)."""
    ws = workspace(tmp_path / "ws", tmp_path / "networks")
    r = run_example("plan evaluate", ws, shell_environment(tmp_path / "shell"), "README.md")
    out = ws / "plan-output" / "evaluate"
    # the recommendation comes first, then the ranking; the date is said and why
    first = r.stdout.split("Ranking")[0]
    assert re.search(r"(Best overall: |the closest is )\w+", first)
    assert "best new line" in first.lower()
    assert "Caveats:" in first and "2025-01-07 (Tuesday)" in first
    ranking = pd.read_csv(out / "ranking.csv")
    scenarios = {p.stem for p in (ROOT / "scenarios").glob("*.yaml")}
    assert set(ranking["scenario"]) == scenarios
    # every bundled scenario carries its cost, and every appraisal column is filled
    for col in ("capital_million_cny", "operating_million_cny_per_year", "benefit_million_cny_per_year",
                "pv_cost_million_cny", "npv_million_cny", "bcr"):
        assert ranking[col].notna().all(), col
    assert (ranking["pv_cost_million_cny"] > 0).all()
    assert list(ranking["bcr"]) == sorted(ranking["bcr"], reverse=True)
    # spine_express runs on existing track: no new line km, only its trains cost
    spine = ranking.set_index("scenario").loc["spine_express"]
    assert spine["new_line_km"] == 0 and spine["capital_million_cny"] == 0 and spine["line_km"] > 500
    for name in ("costs.csv", "sensitivity.csv", "coverage.csv", "appraisal_inputs.csv"):
        assert (out / name).stat().st_size > 100, name
    inputs = pd.read_csv(out / "appraisal_inputs.csv")
    assert inputs["source"].notna().all() and (inputs["source"].str.len() > 5).all()
    report = (out / "report.md").read_text(encoding="utf-8")
    assert report.index("## Recommendation") < report.index("## Ranking")
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
