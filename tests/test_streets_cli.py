"""``plan osm info`` and ``plan network build`` through click's CliRunner: output, exit
codes, no tracebacks, nothing half-written in the cache."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from click.testing import CliRunner

from planner.cli.main import main
from planner.ingest.osm import OSMRequest
from planner.ingest.osm import _online as online
from tests.test_osm_helpers import HARBIN, HELSINKI, write_osm


@pytest.fixture
def run():
    runner = CliRunner()

    def _run(*args):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert "Traceback" not in result.output
        return result

    return _run


def cache_files(cache):
    return sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file()) if cache.exists() else []


def test_osm_info_text(run):
    r = run("osm", "info", str(HARBIN))
    assert r.exit_code == 0, r.output
    out = r.output
    assert "226,042 nodes, 34,996 ways, 394 relations" in out
    assert "lon 126.50613 .. 126.77186, lat 45.65792 .. 45.83091 (header)" in out
    assert "footway" in out and "1,797" in out
    assert "rail 1,594, subway 81, tram 1" in out
    assert "244 reference nodes missing" in out
    assert "stations" in out and "subway_entrance" in out


def test_osm_info_json(run):
    r = run("osm", "info", "--json", str(HELSINKI))
    assert r.exit_code == 0
    doc = json.loads(r.output)
    assert doc["format"] == "pbf" and doc["nodes"] == 24_260
    assert doc["railways"]["tram"] == 182


@pytest.mark.parametrize(("content", "code"), [
    (b"", "not_osm_pbf"), (os.urandom(5000), "not_osm_pbf"), ("truncated", "osm_pbf_corrupt"),
])
def test_osm_info_bad_pbf(run, tmp_path, content, code):
    p = tmp_path / "bad.osm.pbf"
    p.write_bytes(HELSINKI.read_bytes()[:300_000] if content == "truncated" else content)
    r = run("osm", "info", str(p))
    assert r.exit_code == 2
    assert f"Error [{code}]" in r.output and "bad.osm.pbf" in r.output


def test_osm_info_xml_bomb(run, tmp_path):
    p = tmp_path / "bomb.osm"
    p.write_text('<?xml version="1.0"?>\n<!DOCTYPE osm [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n'
                 '<osm version="0.6"><node id="1" lat="0" lon="0"><tag k="n" v="&b;"/></node></osm>\n')
    r = run("osm", "info", str(p))
    assert r.exit_code == 2 and "Error [osm_xml_dtd_forbidden]" in r.output


def test_osm_info_missing_file(run, tmp_path):
    r = run("osm", "info", str(tmp_path / "nope.osm.pbf"))
    assert r.exit_code == 2 and "Error [input_not_found]" in r.output


def test_network_build_walk_and_drive(run, tmp_path):
    cache = tmp_path / "osm_cache"
    r = run("network", "build", "--osm", str(HELSINKI), "--mode", "walk", "--mode", "drive",
            "--cache-dir", str(cache))
    assert r.exit_code == 0, r.output
    assert "Built walk network" in r.output and "Built drive network" in r.output
    assert "nodes 7,446   edges 44,894" in r.output  # walkable areas crossed (issue 19)
    assert "clipped at the extract edge 174" in r.output
    assert "osm_missing_node_refs" in r.output and "osm_dropped_components" in r.output
    files = cache_files(cache)
    assert len(files) == 4 and all(f.startswith("networks/") for f in files)
    r = run("network", "build", "--osm", str(HELSINKI), "--cache-dir", str(cache))
    assert r.exit_code == 0 and "Loaded cached walk network" in r.output
    r = run("network", "build", "--osm", str(HELSINKI), "--cache-dir", str(cache), "--rebuild")
    assert r.exit_code == 0 and "Built walk network" in r.output
    assert cache_files(cache) == files


def test_network_build_default_input_from_the_cache_folder(run, tmp_path):
    cache = tmp_path / "osm_cache"
    cache.mkdir()
    r = run("network", "build", "--cache-dir", str(cache))
    assert r.exit_code == 2 and "Error [input_not_found]" in r.output and "--osm" in r.output
    shutil.copy(HELSINKI, cache / "city.osm.pbf")
    r = run("network", "build", "--cache-dir", str(cache))
    assert r.exit_code == 0 and "city.osm.pbf" in r.output


@pytest.mark.parametrize(("kind", "code"), [("truncated", "osm_pbf_corrupt"), ("empty", "osm_empty_network"),
                                            ("bomb", "osm_xml_dtd_forbidden"), ("random", "not_osm_pbf")])
def test_network_build_bad_input_writes_nothing(run, tmp_path, kind, code):
    cache = tmp_path / "osm_cache"
    if kind == "truncated":
        p = tmp_path / "x.osm.pbf"
        p.write_bytes(HELSINKI.read_bytes()[:-1000])
    elif kind == "random":
        p = tmp_path / "x.osm.pbf"
        p.write_bytes(os.urandom(10_000))
    elif kind == "empty":
        p = write_osm(tmp_path / "x.osm", [(1, 0.0, 0.0)], [(1, [1], {"highway": "footway"})])
    else:
        p = tmp_path / "x.osm"
        p.write_text('<?xml version="1.0"?>\n<!DOCTYPE osm [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<osm>&e;</osm>\n')
    r = run("network", "build", "--osm", str(p), "--cache-dir", str(cache))
    assert r.exit_code == 2, r.output
    assert f"Error [{code}]" in r.output
    assert cache_files(cache) == []


def test_network_build_bbox_offline(run, tmp_path, monkeypatch):
    import osmnx

    monkeypatch.setattr(osmnx._overpass, "_overpass_request", lambda d: pytest.fail("network used"))
    cache = tmp_path / "osm_cache"
    r = run("network", "build", "--bbox", "10,50,10.01,50.01", "--offline", "--cache-dir", str(cache))
    assert r.exit_code == 2 and "Error [cache_miss_offline]" in r.output
    assert cache_files(cache) == []
    req = OSMRequest(bbox=(10, 50, 10.01, 50.01))
    online.save_response(cache, req, [
        {"type": "node", "id": 1, "lat": 50.001, "lon": 10.001}, {"type": "node", "id": 2, "lat": 50.002, "lon": 10.002},
        {"type": "way", "id": 3, "nodes": [1, 2], "tags": {"highway": "residential"}}])
    r = run("network", "build", "--bbox", "10,50,10.01,50.01", "--offline", "--cache-dir", str(cache))
    assert r.exit_code == 0, r.output
    assert "nodes 2   edges 2" in r.output


@pytest.mark.parametrize("args", [["--bbox", "1,2,3"], ["--bbox", "a,b,c,d"], ["--mode", "bike"],
                                  ["--osm", "x.pbf", "--place", "Harbin"], ["--walk-speed", "0"]])
def test_network_build_usage_errors(run, args):
    r = run("network", "build", *args)
    assert r.exit_code == 2
