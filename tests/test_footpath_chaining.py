"""Cross-town links chained with walks (issue 15): with ``Config.local_rail_transfers`` the
footpaths hold ``(walk) local (walk)`` as one link, since RAPTOR relaxes one footpath per round.

A hand-drawn town on the parallel 45 N (0.001 deg of longitude = 78.63 m there)::

    P (bus, 600 m north of A, off the street network)
    |
    A ---- M0 ---- C .......................... N ---- B ---- M1 ............ M2
    126.000 126.004 126.008                   126.036 126.040 126.044       126.080

A, C, B are rail stations (F and G are far-away rail stations, 39 km west and 78 km east,
beyond the 23 km reach of the taxi/bus approximation); M0, M1, M2 metro or bus stops. A train
F 07:00 -> A 08:00 -> B 08:40; the metro M1 08:20 -> M2 08:30 and 09:20 -> 09:30. Without
chaining, a traveller arriving at A at 08:00 cannot take a taxi to B and walk 315 m to M1
(two footpaths): the 08:20 metro is missed. The footpath table is compared for every pair
of stops with an independent reference: networkx on a layered graph of the single legs.
"""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest

from planner.analyses.route import plan_route
from planner.config import Config
from planner.ingest.gtfs import read_feeds
from planner.network import footpaths as footpaths_module
from planner.network.build import build_network
from planner.network.links import LINK_LOCAL, LINK_STRAIGHT, LINK_STREET
from planner.network.store import NETWORK_SCHEMA
from planner.routing.itinerary import reconstruct
from planner.routing.raptor import earliest_arrival
from tests.conftest import write_feed
from tests.test_osm_helpers import write_osm

CFG = Config(progress=False, local_rail_transfers=True)
R = 6_371_008.8            # the mean Earth radius of planner.common.geodesy
R_OSMNX = 6_371_009.0      # street edge lengths (osmnx's radius)
LAT = 45.0
STOPS = {  # id: (lon, lat, rail)
    "F": (125.500, LAT, True), "G": (127.000, LAT, True),
    "A": (126.000, LAT, True), "C": (126.008, LAT, True), "B": (126.040, LAT, True),
    "M0": (126.004, LAT, False), "N": (126.036, LAT, False), "M1": (126.044, LAT, False),
    "M2": (126.080, LAT, False), "P": (126.000, 45.0054, False),
}
T8 = 8 * 3600


def _feed(tmp_path):
    stops = "stop_id,stop_name,stop_lat,stop_lon\n" + "".join(
        f"{s},{s},{lat},{lon}\n" for s, (lon, lat, _rail) in STOPS.items())
    times = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
             "T,07:00:00,07:00:00,F,1\nT,08:00:00,08:01:00,A,2\nT,08:40:00,08:40:00,B,3\n"
             "TG,05:00:00,05:00:00,G,1\nTG,06:00:00,06:00:00,C,2\n"
             "M08,08:20:00,08:20:00,M1,1\nM08,08:30:00,08:30:00,M2,2\n"
             "M09,09:20:00,09:20:00,M1,1\nM09,09:30:00,09:30:00,M2,2\n"
             "BUS,06:00:00,06:00:00,P,1\nBUS,06:02:00,06:02:00,M0,2\nBUS,06:20:00,06:20:00,N,3\n")
    files = {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nA,Town,https://t.example,Asia/Shanghai\n",
        "stops.txt": stops,
        "routes.txt": ("route_id,agency_id,route_short_name,route_type\n"
                       "RAIL,A,D1,2\nRAIL2,A,D2,2\nMETRO,A,1,1\nBUS,A,9,3\n"),
        "trips.txt": ("route_id,service_id,trip_id\nRAIL,D,T\nRAIL2,D,TG\nMETRO,D,M08\nMETRO,D,M09\n"
                      "BUS,D,BUS\n"),
        "stop_times.txt": times,
        "calendar_dates.txt": "service_id,date,exception_type\nD,20240102,1\n",
    }
    return write_feed(tmp_path / "town_gtfs", files)


def _osm(tmp_path):
    """A footway along the parallel from 125.990 to 126.090, a node every 0.001 deg."""
    nodes = [(i + 1, round(125.990 + 0.001 * i, 3), LAT) for i in range(101)]
    return write_osm(tmp_path / "town.osm", nodes, [(1, [n[0] for n in nodes], {"highway": "footway"})])


def _network(tmp_path, *, street: bool, config: Config = CFG):
    tmp_path.mkdir(parents=True, exist_ok=True)
    feed = _feed(tmp_path)
    osm = _osm(tmp_path) if street else None
    return build_network(read_feeds([f"town={feed}"], config=config), "2024-01-02", osm=osm, config=config,
                         use_cache=False)


def _arc(a: str, b: str, radius: float = R) -> float:
    """Great-circle metres between two stops (a haversine written out here)."""
    (lo1, la1, _), (lo2, la2, _) = STOPS[a], STOPS[b]
    p1, p2 = math.radians(la1), math.radians(la2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lo2 - lo1) / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(h))


def _table(net) -> dict:
    """{(from id, to id): (seconds, metres, kind)} of the network's footpaths."""
    fp = net.footpaths
    ids = [str(s).split(":", 1)[1] for s in net.timetable.stop_ids]
    out = {}
    for a in range(net.n_stops):
        for k in range(fp.ptr[a], fp.ptr[a + 1]):
            out[(ids[a], ids[fp.to[k]])] = (int(fp.seconds[k]), float(fp.metres[k]), int(net.footpath_method[k]))
    return out


def _legs(street: bool, cfg: Config = CFG):
    """The single legs, computed independently: walks {(a, b): (s, m, kind)}, locals {(a, b): (s, m)}."""
    walk_speed, detour = cfg.walk_speed_mps, cfg.straight_line_detour
    off = {"P", "F", "G"} if street else set(STOPS)  # stops that are not on the footway
    walks, local = {}, {}
    if street:  # the footway: networkx on its nodes, edges as long as osmnx makes them
        g = nx.Graph()
        lons = [round(125.990 + 0.001 * i, 3) for i in range(101)]
        for x, y in itertools.pairwise(lons):
            seg = 2 * R_OSMNX * math.asin(math.sqrt(math.cos(math.radians(LAT)) ** 2
                                                    * math.sin(math.radians(y - x) / 2) ** 2))
            g.add_edge(x, y, weight=seg)
        on = [s for s in STOPS if s not in off]
        for a in on:
            dist = nx.single_source_dijkstra_path_length(g, STOPS[a][0], weight="weight")
            for b in on:
                t = dist[STOPS[b][0]] / walk_speed
                if a != b and t <= cfg.footpath_max_s:
                    walks[(a, b)] = (t, dist[STOPS[b][0]], LINK_STREET)
    for a in STOPS:
        for b in STOPS:
            if a == b:
                continue
            d = _arc(a, b) * detour
            if (a in off or b in off) and d / walk_speed <= cfg.footpath_max_s:
                walks[(a, b)] = (d / walk_speed, d, LINK_STRAIGHT)
            speed = cfg.local_access_speed_kmh / 3.6
            if STOPS[a][2] and STOPS[b][2] and d / speed <= cfg.local_access_max_s:
                local[(a, b)] = (d / speed, d)
    return walks, local


def _reference(street: bool, cfg: Config = CFG) -> dict:
    """The footpath table as it must be: shortest over one walk, or walk? local walk? with one
    local leg (a layered graph: 0 start, 1 after a walk, 2 after the local leg, 3 after the
    walk after it), floored at the change time; a walk wins a tie."""
    walks, local = _legs(street, cfg)
    g = nx.DiGraph()
    for (a, b), (t, _m, _k) in walks.items():
        g.add_edge((a, 0), (b, 1), weight=t)
        g.add_edge((a, 2), (b, 3), weight=t)
    for (a, b), (t, _m) in local.items():
        g.add_edge((a, 0), (b, 2), weight=t)
        g.add_edge((a, 1), (b, 2), weight=t)
    floor = float(cfg.change_time_s)
    out = {}
    for x in STOPS:
        if (x, 0) not in g:
            continue
        dist = nx.single_source_dijkstra_path_length(g, (x, 0), weight="weight")
        for y in STOPS:
            if y == x:
                continue
            walk = max(walks[(x, y)][0], floor) if (x, y) in walks else math.inf
            chained = min(dist.get((y, 2), math.inf), dist.get((y, 3), math.inf))
            chained = max(chained, floor)
            if min(walk, chained) == math.inf:
                continue
            kind = walks[(x, y)][2] if walk <= chained else LINK_LOCAL
            out[(x, y)] = (math.ceil(min(walk, chained) - 1e-7), kind)
    return out


@pytest.mark.parametrize("street", [False, True], ids=["straight_line", "street"])
def test_every_pair_equals_layered_graph_reference(tmp_path, street):
    net = _network(tmp_path, street=street)
    got = {k: (v[0], v[2]) for k, v in _table(net).items()}
    want = _reference(street)
    assert got == want
    # the chains the issue is about are there: walk-local, local-walk, walk-local-walk
    assert got[("A", "M1")][1] == LINK_LOCAL
    assert got[("M1", "A")][1] == LINK_LOCAL
    assert got[("M0", "M1")][1] == LINK_LOCAL
    assert got[("P", "N")][1] == LINK_LOCAL


def test_blocks_give_the_same_links(tmp_path, monkeypatch):
    """The chains are built in blocks of expanded rows; tiny blocks change nothing."""
    want = _table(_network(tmp_path / "one", street=True))
    monkeypatch.setattr(footpaths_module, "_CHAIN_BLOCK", 2)
    assert _table(_network(tmp_path / "many", street=True)) == want


def test_hand_computed_links_without_a_walk_network(tmp_path):
    net = _network(tmp_path, street=False)
    table = _table(net)
    seg = R * math.radians(0.001) * math.cos(math.radians(LAT))   # 78.63 m along the parallel
    assert seg == pytest.approx(78.63, abs=0.01)
    walk = 1.3 / 1.33          # straight line x detour at walking speed: s per metre
    taxi = 1.3 / (20 / 3.6)    # the same at 20 km/h
    # A -> B by taxi: 40 segments (3145 m) x 1.3 at 20 km/h = 736 s; B -> M1 4 segments on foot: 308 s
    assert 40 * seg * taxi == pytest.approx(735.9, abs=0.05)
    assert 4 * seg * walk == pytest.approx(307.4, abs=0.05)
    # parallel vs great circle differ by well under a millimetre over these distances
    assert table[("A", "B")][0] == math.ceil(40 * seg * taxi)
    assert table[("B", "M1")][:1] == (math.ceil(4 * seg * walk),)
    assert table[("A", "M1")] == (math.ceil(40 * seg * taxi + 4 * seg * walk), pytest.approx(40 * seg * 1.3 + 4 * seg * 1.3),
                                  LINK_LOCAL)
    assert table[("A", "M1")][0] == 1044
    assert table[("M1", "A")][0] == 1044
    # M0 -> C -> B -> M1 (walk 308 s, taxi 32 segments 589 s, walk 308 s), not via A (736 s by taxi)
    assert table[("M0", "M1")][0] == math.ceil(32 * seg * taxi + 8 * seg * walk) == 1204
    # F and G are beyond the taxi's reach, M2 is beyond a walk of every station
    assert not any("F" in k or "G" in k or "M2" in k for k in table)


def test_shorter_links_keep_their_time_and_chains_stay_within_bounds(tmp_path):
    net = _network(tmp_path, street=False)
    table = _table(net)
    seg = R * math.radians(0.001) * math.cos(math.radians(LAT))
    walk = 1.3 / 1.33
    # M0 -> A walks 4 segments (308 s); M0 -> C -> taxi -> A (308 + 147 s) is longer: the walk stays
    assert table[("M0", "A")] == (math.ceil(4 * seg * walk), pytest.approx(4 * seg * 1.3), LINK_STRAIGHT)
    # P -> C walks 869 m (849 s); P -> A (600 m: 587 s) then taxi A -> C (629 m: 148 s) is shorter
    assert _arc("P", "C") * walk == pytest.approx(849, abs=1)
    assert table[("P", "C")][0] == math.ceil(_arc("P", "A") * walk + _arc("A", "C") * 1.3 / (20 / 3.6)) == 735
    assert table[("P", "C")][2] == LINK_LOCAL
    # no chain is longer than a local link plus a footpath at each end
    local = np.array([v[0] for v in table.values() if v[2] == LINK_LOCAL])
    assert local.max() <= CFG.local_access_max_s + 2 * CFG.footpath_max_s
    # with chaining off (the network before issue 15) every pair linked then keeps its time,
    # or gets a shorter one
    old = _table(_plain_network(tmp_path / "plain"))
    for pair, (sec, _m, kind) in old.items():
        assert table[pair][0] <= sec
        if kind != LINK_LOCAL:  # a walk keeps its kind unless a chain is strictly faster
            assert table[pair][2] == kind or table[pair][0] < sec
    assert set(old) < set(table)


def test_bound_holds_at_the_limits(tmp_path):
    """Chains reach at most ``local_access_max_s + 2 * footpath_max_s``, also with limits
    that cut through the town (the taxi A -> B just fits)."""
    cfg = Config(progress=False, local_rail_transfers=True, local_access_max_s=740, footpath_max_s=320)
    net = _network(tmp_path, street=False, config=cfg)
    table = _table(net)
    assert {k: (v[0], v[2]) for k, v in table.items()} == _reference(False, cfg)
    assert table[("M0", "M1")][2] == LINK_LOCAL
    assert max(v[0] for v in table.values()) <= cfg.local_access_max_s + 2 * cfg.footpath_max_s


def _plain_network(folder):
    """The network as built before chaining (local links only)."""
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(footpaths_module, "_chain_local", lambda walks, local, n: tuple(
            np.zeros(0, a.dtype) for a in local))
        return _network(folder, street=False)
    finally:
        mp.undo()


@pytest.mark.parametrize("street", [False, True], ids=["straight_line", "street"])
def test_train_then_taxi_and_walk_to_the_metro(tmp_path, street):
    """F 07:00 -> A 08:00 by train, taxi to B and walk to M1 (one chained link), metro
    M1 08:20 -> M2 08:30. Without the chain: stay on the train to B (08:40), walk to M1,
    the 09:20 metro, M2 at 09:30."""
    net = _network(tmp_path, street=street)
    tt = net.timetable
    s = {str(x).split(":", 1)[1]: i for i, x in enumerate(tt.stop_ids)}
    fp = net.footpaths
    row = slice(fp.ptr[s["A"]], fp.ptr[s["A"] + 1])
    a_m1 = int(fp.seconds[row][fp.to[row] == s["M1"]][0])
    assert T8 + a_m1 <= T8 + 20 * 60  # at M1 before the 08:20 metro
    res = earliest_arrival(tt, net.footpaths, net.change_s, [s["F"]], [0], 6 * 3600 + 50 * 60, record=True)
    assert int(res.best[s["M2"]]) == T8 + 30 * 60
    legs = reconstruct(tt, net.footpaths, net.change_s, res, s["M2"], [s["F"]], [0])
    assert [(leg.kind, leg.from_stop, leg.to_stop) for leg in legs if leg.kind != "access"] == [
        ("ride", s["F"], s["A"]), ("walk", s["A"], s["M1"]), ("ride", s["M1"], s["M2"])]
    walk_leg = next(leg for leg in legs if leg.kind == "walk")
    assert walk_leg.arr_s - walk_leg.dep_s == a_m1
    j = plan_route(net, "town:F", "town:M2", 6 * 3600 + 50 * 60)
    assert j.arrival_s == T8 + 30 * 60
    assert "taxi/bus" in j.text(net)
    # before chaining the same query arrives an hour later
    plain = _plain_network(tmp_path / "plain")
    res = earliest_arrival(plain.timetable, plain.footpaths, plain.change_s, [s["F"]], [0], 6 * 3600 + 50 * 60)
    assert int(res.best[s["M2"]]) == 9 * 3600 + 30 * 60


def test_place_access_by_taxi_reaches_every_stop_directly(tmp_path):
    """Access from a place with ``local=True`` already goes by taxi/bus to every stop in
    reach (not only rail stations), so place -> taxi -> metro stop needs no chain: the leg to
    M1 is the straight line at the taxi speed, never longer than via a station and a walk."""
    net = _network(tmp_path, street=False)
    s = {str(x).split(":", 1)[1]: i for i, x in enumerate(net.timetable.stop_ids)}
    acc = net.access(126.000, LAT, local=True)
    got = dict(zip(acc.stops.tolist(), zip(acc.seconds.tolist(), acc.method.tolist(), strict=True), strict=True))
    taxi = CFG.straight_line_detour / (CFG.local_access_speed_kmh / 3.6)
    assert got[s["M1"]] == (math.ceil(_arc("A", "M1") * taxi), LINK_LOCAL)
    assert got[s["M1"]][0] <= math.ceil(_arc("A", "B") * taxi) + _table(net)[("B", "M1")][0]


def test_cache_schema_was_bumped():
    """Cached networks built before the chains must not be served (the key covers the
    planner version and this schema, not the code)."""
    assert NETWORK_SCHEMA >= 3
