"""Transfers between stations (issue 7) on hand-made street grids with values computed by hand.

The grid sits on the equator (from lon 10.000), where a step of 0.001 degree is the same
length ``L`` east-west and north-south (``R * 0.001 * pi / 180`` = 111.195 m), so every walk
is a whole number of steps::

    lat 0.002   20--21--22--23--24--25--26
                 |           |           |
    lat 0.001   10          13          16
                 |           |           |
    lat 0.000   00--01  02--03--04--05--06
                A(rail)     B(metro)

    (node xy = (lon - 10) / 0.001, lat / 0.001; there is no street between 01 and 02)

Rail line R: R1 (lon 9.95, far west, off the grid) -> A, every 15 min from 07:00, 10 min.
Metro line M: B -> M2 (lon 10.05, off the grid), every 2 min from 07:00 to 09:58, 5 min.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from planner.analyses.matrix import travel_time_matrix
from planner.analyses.transfers.analysis import (
    DelayModel,
    TransferStandard,
    analyse_transfers,
    write_connector_scenario,
)
from planner.config import Config
from planner.ingest.gtfs import read_feeds
from planner.network.build import build_network
from tests.conftest import write_feed
from tests.test_osm_helpers import write_osm

CFG = Config(progress=False)
R = 6_371_009.0        # the street builder's earth radius (planner.ingest.osm._network)
R_LOCAL = 6_371_008.8  # local metric coordinates (planner.ingest.gtfs.consolidation.local_xy)
SPEED = CFG.walk_speed_mps


def hav(lon1, lat1, lon2, lat2) -> float:
    """Great-circle metres (the formula the street builder uses)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * R * math.asin(math.sqrt(h))


LON0 = 10.0
L = hav(LON0, 0, LON0 + 0.001, 0)  # 111.195 m along the streets
L_LOCAL = R_LOCAL * math.radians(0.001)  # the same step in straight-line (local metric) terms


def node(x: int, y: int) -> int:
    return 1000 + 10 * y + x


def xy(n: int) -> tuple[float, float]:
    return LON0 + (n % 10) * 0.001, ((n - 1000) // 10) * 0.001


def path_m(*nodes: int) -> float:
    return sum(hav(*xy(a), *xy(b)) for a, b in itertools.pairwise(nodes))


def _walk_ab() -> float:
    return path_m(node(0, 0), node(0, 1), node(0, 2), node(1, 2), node(2, 2), node(3, 2), node(3, 1), node(3, 0))


WAYS = [
    [node(0, 0), node(1, 0)],
    [node(x, 0) for x in range(2, 7)],
    [node(x, 2) for x in range(7)],
    [node(0, 0), node(0, 1), node(0, 2)],
    [node(6, 0), node(6, 1), node(6, 2)],
    [node(3, 0), node(3, 1), node(3, 2)],
]


def grid_osm(tmp_path, extra=()):
    ids = sorted({n for w in WAYS for n in w})
    nodes = [(n, f"{xy(n)[0]:.3f}", f"{xy(n)[1]:.3f}") for n in ids] + list(extra)
    ways = [(i + 1, w, {"highway": "footway"}) for i, w in enumerate(WAYS)]
    return write_osm(tmp_path / "grid.osm", nodes, ways)


def hhmm(s: int) -> str:
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def grid_feed(tmp_path, *, stops: str | None = None, extra: dict | None = None):
    st = stops or ("stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
                   "R1,Westport,0.0,9.95,,\nA,Alpha Rail,0.0,10.0,,\nB,Beta Metro,0.0,10.003,,\nM2,Eastfield,0.0,10.05,,\n")
    trips, times = ["route_id,service_id,trip_id"], ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"]
    for k in range(13):
        t = 7 * 3600 + 900 * k
        trips.append(f"R,D,r{k}")
        times += [f"r{k},{hhmm(t)},{hhmm(t)},R1,1", f"r{k},{hhmm(t + 600)},{hhmm(t + 600)},A,2"]
    for k in range(90):
        t = 7 * 3600 + 120 * k
        trips.append(f"M,D,m{k}")
        times += [f"m{k},{hhmm(t)},{hhmm(t)},B,1", f"m{k},{hhmm(t + 300)},{hhmm(t + 300)},M2,2"]
    files = {
        "agency.txt": ("agency_id,agency_name,agency_url,agency_timezone\n"
                       "RC,Rail Co,https://r.example,Africa/Abidjan\nMC,Metro Co,https://m.example,Africa/Abidjan\n"),
        "stops.txt": st,
        "routes.txt": "route_id,agency_id,route_short_name,route_type\nR,RC,R,2\nM,MC,M,1\n",
        "trips.txt": "\n".join(trips) + "\n",
        "stop_times.txt": "\n".join(times) + "\n",
        "calendar_dates.txt": "service_id,date,exception_type\nD,20240102,1\n",
    }
    files.update(extra or {})
    return write_feed(tmp_path / "grid_gtfs", files)


def grid_network(tmp_path, **kw):
    osm = grid_osm(tmp_path, kw.pop("osm_extra", ()))
    feed = grid_feed(tmp_path, **kw)
    net = build_network(read_feeds([f"grid={feed}"], config=CFG), "2024-01-02", osm=osm, config=CFG,
                        cache_dir=tmp_path / "cache")
    return net, osm


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grid")
    net, osm = grid_network(tmp)
    od = tmp / "od.csv"
    od.write_text("from_stop,to_stop,trips\ngrid:R1,grid:M2,10\ngrid:B,grid:M2,3\n")
    from planner.analyses.transfers.use import read_od

    res = analyse_transfers(net, departure_s=8 * 3600, window_min=60, od=read_od(net, od), osm=osm)
    return net, osm, res, tmp


def test_grid_walk_detour_class_and_timetable(grid):
    _net, _osm, res, _tmp = grid
    p = res.pairs
    assert set(p["pair_id"]) == {"T0001"}  # R1 and M2 lie outside the walk network's extent
    ab = p[p["from_station"] == "grid:A"].iloc[0]
    ba = p[p["from_station"] == "grid:B"].iloc[0]
    walk = _walk_ab()   # A -> 00 10 20 21 22 23 13 03 = B: 7 steps for a straight line of 3
    assert walk == pytest.approx(7 * L, rel=1e-9)
    for r in (ab, ba):
        assert r["found_by"] == "radius"
        assert r["walk_method"] == "street"
        assert r["walk_m"] == pytest.approx(walk, abs=1e-6)
        assert r["walk_min"] == pytest.approx(walk / SPEED / 60, abs=1e-9)
        assert r["straight_m"] == pytest.approx(3 * L_LOCAL, abs=1e-6)
        assert r["detour_ratio"] == pytest.approx(walk / (3 * L_LOCAL), abs=1e-9)
        assert r["class"] == "poor" and r["fails"] and r["detour_flag"]
        assert (r["from_access"], r["to_access"]) == ("stop", "stop")
    assert (ab["from_mode"], ab["to_mode"], ab["from_operator"], ab["to_operator"]) == ("rail", "metro", "Rail Co",
                                                                                         "Metro Co")
    # A -> B: rail arrivals 08:10, 08:25, 08:40, 08:55; ready after walk + 120 s change; metro every 2 min
    connect = walk / SPEED + 120.0
    ready = np.array([8 * 3600 + 600 + 900 * k for k in range(4)]) + connect
    waits = np.ceil(ready / 120.0) * 120.0 - ready
    assert ab["arrivals"] == 4 and ab["services"] == 1 and ab["wait_basis"] == "arrivals"
    assert ab["wait_min"] == pytest.approx(np.median(waits) / 60, abs=1e-9)
    assert ab["forced_min"] == pytest.approx((connect + np.median(waits)) / 60, abs=1e-9)
    assert ab["forced_min"] == pytest.approx(12.5, abs=1e-9)  # 08:10 + 705.2 s + 44.8 s median wait
    p_miss = np.exp(-waits / 120.0)  # rail: exponential delay with a mean of 2 min (assumed)
    assert ab["miss_risk"] == pytest.approx(p_miss.mean(), abs=1e-12)
    assert ab["miss_delay_min"] == pytest.approx((p_miss * 120.0).mean() / 60, abs=1e-12)
    # B -> A: the metro starts at B (no arrivals) and the rail ends at A (no departures)
    assert ba["services"] == 0 and ba["wait_basis"] == "none" and math.isnan(ba["forced_min"])


def test_grid_use_weighting(grid):
    _net, _osm, res, _tmp = grid
    p = res.pairs.set_index("from_station")
    # 10 trips R1 -> M2 change A -> B; 3 trips B -> M2 ride straight through
    assert p.loc["grid:A", "journeys"] == pytest.approx(10.0)
    assert p.loc["grid:B", "journeys"] == 0.0
    excess = (_walk_ab() / SPEED - 400.0 / SPEED) / 60.0
    assert p.loc["grid:A", "excess_walk_min"] == pytest.approx(excess, abs=1e-9)
    assert p.loc["grid:A", "traveller_min_lost"] == pytest.approx(10 * excess, abs=1e-9)
    assert p.loc["grid:B", "traveller_min_lost"] == 0.0
    assert res.use.journeys_routed == pytest.approx(13.0)
    assert list(res.pairs["rank"]) == [1, 2] and res.pairs.iloc[0]["from_station"] == "grid:A"


def test_grid_suggested_entrance(grid):
    _net, _osm, res, _tmp = grid
    # a new entrance of A at node 02 (a 2 L passage across the gap) then 1 L of street to B:
    # 3 L; node 03 gives 3 L too but with a longer passage; B's side ties and A comes first
    sg = res.suggestions
    assert len(sg) == 1
    s = sg.iloc[0]
    assert s["station"] == "grid:A"
    assert (s["lon"], s["lat"]) == pytest.approx((10.002, 0.0), abs=1e-12)
    assert s["connector_m"] == pytest.approx(2 * L, abs=1e-6)
    assert s["new_walk_m"] == pytest.approx(3 * L, abs=1e-6)
    assert s["new_walk_min"] == pytest.approx(3 * L / SPEED / 60, abs=1e-9)
    saved = (_walk_ab() - 3 * L) / SPEED / 60
    assert s["saved_min"] == pytest.approx(saved, abs=1e-9)
    assert s["saved_traveller_min"] == pytest.approx(10 * saved, abs=1e-9)
    row = res.pairs.iloc[0]
    assert row["suggest_station"] == "grid:A" and row["saved_min"] == pytest.approx(saved, abs=1e-9)


def test_grid_connector_scenario_lowers_exactly_the_affected_times(grid):
    """The suggested connector, written as a scenario and applied, changes exactly the
    journeys through A -> B, by the expected amounts (computed by hand below)."""
    from planner.scenarios.apply import apply_to_network
    from planner.scenarios.spec import load_scenario

    net, _osm, res, tmp = grid
    path = write_connector_scenario(res, tmp / "connector.yaml")
    scn = load_scenario(path)
    assert [c.from_stop for c in scn.changes] == ["grid:A"] and scn.changes[0].to_stop == "grid:B"
    assert scn.changes[0].walk_s == math.ceil(3 * L / SPEED) == 251
    after_net = apply_to_network(net, scn)
    pts = pd.DataFrame({"id": ["R1", "A", "B", "M2"], "lon": [np.nan] * 4, "lat": [np.nan] * 4,
                        "stop_id": ["grid:R1", "grid:A", "grid:B", "grid:M2"]})
    dep = 7 * 3600 + 55 * 60
    before = travel_time_matrix(net, pts, pts, departure_s=dep).set_index(["from_id", "to_id"])["travel_time_min"]
    after = travel_time_matrix(after_net, pts, pts, departure_s=dep).set_index(["from_id", "to_id"])["travel_time_min"]
    walk_old = math.ceil(_walk_ab() / SPEED)   # 586 s, the network's street footpath A -> B
    assert walk_old == 586
    walk_new = 251
    expected = {
        # 07:55: rail 08:00 -> 08:10 at A; walk; next even minute on the metro; +5 min
        ("R1", "B"): ((600 + 300 + walk_old) / 60, (600 + 300 + walk_new) / 60),
        ("R1", "M2"): (30.0, 26.0),            # metro 08:20 -> 08:25 before, 08:16 -> 08:21 after
        ("A", "B"): (walk_old / 60, walk_new / 60),
        ("B", "A"): (walk_old / 60, walk_new / 60),   # the connector works both ways
        ("A", "M2"): (16.0, 10.0),             # 07:55 + 586 s -> 08:06 -> 08:11; + 251 s -> 08:00 -> 08:05
    }
    for key in before.index:
        b, a = before[key], after[key]
        if key in expected:
            assert (b, a) == pytest.approx(expected[key], abs=1e-9), key
        else:
            assert (np.isnan(b) and np.isnan(a)) or b == a, key
    assert before[("R1", "A")] == 15.0 and before[("B", "M2")] == 6.0


def test_grid_gtfs_entrance_and_pathways(tmp_path):
    """B as a parent station: its platform is reached from entrance E (node 13) through a
    pathway of 60 s / 80 m, so the walk is 6 L of street plus the pathway."""
    stops = ("stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
             "R1,Westport,0.0,9.95,,\nA,Alpha Rail,0.0,10.0,,\n"
             "BS,Beta Metro,0.0,10.003,1,\nB,Beta Metro platform,0.0,10.003,0,BS\nE,Beta exit north,0.001,10.003,2,BS\n"
             "M2,Eastfield,0.0,10.05,,\n")
    pathways = ("pathway_id,from_stop_id,to_stop_id,pathway_mode,is_bidirectional,length,traversal_time\n"
                "p1,E,B,2,1,80,60\np2,E,B,1,1,70,90\n")   # an escalator and slower stairs: the faster counts
    net, osm = grid_network(tmp_path, stops=stops, extra={"pathways.txt": pathways})
    res = analyse_transfers(net, departure_s=8 * 3600, window_min=60, osm=osm)
    r = res.pairs[res.pairs["from_station"] == "grid:A"].iloc[0]
    assert r["to_station"] == "grid:BS" and r["to_access"] == "gtfs_entrance"
    street = path_m(node(0, 0), node(0, 1), node(0, 2), node(1, 2), node(2, 2), node(3, 2), node(3, 1))
    assert street == pytest.approx(6 * L, rel=1e-9)
    assert r["walk_m"] == pytest.approx(street + 80.0, abs=1e-6)
    assert r["walk_min"] == pytest.approx((street / SPEED + 60.0) / 60, abs=1e-9)
    assert r["in_station_m"] == pytest.approx(80.0)
    acc = res.access_points.set_index("station").loc["grid:BS"]
    assert acc["kind"] == "gtfs_entrance" and acc["ref"] == "grid:E" and acc["in_station_s"] == 60.0
    # the path is drawn platform -> streets -> entrance -> platform
    coords = res.walks[0].coords
    assert coords[0] == (10.0, 0.0) and coords[-2] == pytest.approx((10.003, 0.001)) and coords[-1] == (10.003, 0.0)


def test_grid_osm_subway_entrance(tmp_path):
    """An OSM subway entrance at node 13 (named after the station) becomes B's access point;
    the walk inside is the straight line to the platform (1 L) at walking speed."""
    tags = {"railway": "subway_entrance", "name": "Beta Metro north"}
    net, osm = grid_network(tmp_path, osm_extra=[(5000, "10.003", "0.0011", tags)])
    res = analyse_transfers(net, departure_s=8 * 3600, window_min=60, osm=osm)
    r = res.pairs[res.pairs["from_station"] == "grid:A"].iloc[0]
    assert r["to_access"] == "osm_entrance"
    inside = R_LOCAL * math.radians(0.0011)          # entrance -> platform, straight (local metres)
    node13, snap = net.walk.snap_index([10.003], [0.0011])   # the snap leg as the network measures it (UTM)
    assert net.walk.node_osm_id[node13[0]] == node(3, 1) and snap[0] == pytest.approx(11.05, abs=0.01)
    snap = float(snap[0])
    street = path_m(node(0, 0), node(0, 1), node(0, 2), node(1, 2), node(2, 2), node(3, 2), node(3, 1))
    assert r["walk_m"] == pytest.approx(street + snap + inside, abs=1e-6)
    assert r["in_station_m"] == pytest.approx(inside, abs=1e-6)
    assert r["walk_min"] == pytest.approx((street + snap + inside) / SPEED / 60, abs=1e-9)


def test_standard_thresholds_and_delay_model():
    std = TransferStandard()
    assert [std.classify(m) for m in (0, 200, 200.1, 400, 401, 1000, 1000.5, float("nan"))] == \
        ["good", "good", "acceptable", "acceptable", "poor", "poor", "very_poor", "no_path"]
    assert not std.fails("acceptable") and std.fails("poor") and std.fails("no_path")
    assert std.detour_flag(250, 100) and not std.detour_flag(99, 40) and not std.detour_flag(190, 100)
    assert DelayModel().p_miss("metro", 30.0) == pytest.approx(math.exp(-1.0))
    assert DelayModel().p_miss("bus", -5) == 1.0
    from planner.errors import ConfigError

    with pytest.raises(ConfigError, match="must grow"):
        TransferStandard(good_max_m=500)
    with pytest.raises(ConfigError, match="unknown mode"):
        DelayModel({"hovercraft": 1.0})


def test_no_pairs_still_writes_outputs(grid, tmp_path):
    from planner.errors import ConfigError

    net, osm, _res, _tmp = grid
    res = analyse_transfers(net, radius_m=10.0, departure_s=8 * 3600, window_min=60, osm=osm)
    assert res.pairs.empty and res.suggestions.empty and res.summary()["pairs"] == 0
    names = {p.name for p in res.write(tmp_path / "out")}
    assert {"transfers.csv", "transfers.gpkg", "transfers.html"} <= names
    with pytest.raises(ConfigError, match="no transfer fails the standard"):
        write_connector_scenario(res, tmp_path / "s.yaml")
