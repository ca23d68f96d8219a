"""``scripts/bench_build.py`` (issue 17): its generator and one tiny build, so the script
cannot rot. The figures themselves are in ``docs/notes/issue17_build.md``."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).parent.parent


def _bench():
    spec = importlib.util.spec_from_file_location("bench_build", ROOT / "scripts" / "bench_build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_generated_city_is_seeded_and_readable(tmp_path):
    bench = _bench()
    a = bench.city("tiny", 3, tmp_path / "a")
    b = bench.city("tiny", 3, tmp_path / "b")
    with zipfile.ZipFile(a["gtfs"]) as za, zipfile.ZipFile(b["gtfs"]) as zb:
        for name in ("stops.txt", "trips.txt", "stop_times.txt"):
            assert za.read(name) == zb.read(name)
    n, m, bl = bench.SIZES["tiny"]
    lines = 2 * len(range(m // 2, n, m))
    per_direction = (bench.LAST_S - bench.FIRST_S) // bench.HEADWAY_S  # 180, or 181 where a line starts at 05:00
    assert lines * 2 * per_direction <= a["trips"] <= lines * 2 * (per_direction + 1)
    assert a["stop_times"] == a["trips"] * len(range(0, n, bl))

    from planner.config import Config
    from planner.ingest.gtfs.feed import read_feed
    from planner.network.streets import build_street_network

    walk = build_street_network(a["osm"], "walk", config=Config(progress=False), use_cache=False)
    assert walk.n_nodes == n * n
    feed = read_feed(a["gtfs"])
    assert len(feed.stop_times) == a["stop_times"]
    assert not feed.notices.has_errors()


def test_bench_runs_end_to_end(tmp_path, capsys):
    bench = _bench()
    assert bench.main(["--sizes", "tiny", "--data", str(tmp_path), "--json", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    assert "| tiny |" in out and "load average" in out
    import json

    r = json.loads((tmp_path / "r.json").read_text())["results"][0]
    assert r["stop_times"] > 0 and r["peak_rss"] > 0 and r["pyarrow_read_s"] > 0
    assert np.isclose(r["ratio"], r["build_s"] / r["pyarrow_read_s"])
    # departures and arrivals of the next morning (window to 36 h) come on top of the day's
    assert r["stop_events"] > r["stop_times"]
