"""``planner.analyses.railnet.net`` on a hand-made net of five cities: every measure against a value worked
out by hand below, and a new direct link that changes exactly the pairs it should.

All points lie on the equator, so the straight-line distance between two cities is
``DEG_KM`` times their difference in longitude, and with the reference speed set to
``DEG_KM`` km/h the ideal time is 60 min per degree::

    E ------------- A ------------- B (B1, B2) ---- C ------ X ------ D
   99°E           100°E           101°E 101.05°E    102°E  102.5°E  103°E

    L1 (HSR)  A1 -> B1 -> C1   06:00 (A-B 75 min), 08:00 (60), 10:00 (70); B-C 60 min, 2 min dwell
    L2 (HSR)  C1 -> X1 -> D1   10:30, 12:30 (60 min); X1 belongs to no city
    L3 (rail) B2 -> E1         09:40 (50 min)
    BUS       A1 -> E1         07:00 (20 min)  -- not rail: must be ignored

Changing at one station takes 120 s; B1 -> B2 (5.56 km apart, beyond walking) takes the
urban approximation: 5559.75 m x 1.3 / (20 km/h) = 1301 s.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from planner.analyses.railnet.compare import changed_pairs, compare_nets
from planner.analyses.railnet.net import group_stations, net_measures, rail_net
from planner.config import Config
from planner.ingest.gtfs.feed import read_feeds
from planner.scenarios.spec import load_scenario
from tests.conftest import write_feed

DEG_KM = 6371.0088 * math.pi / 180  # 111.195 km
DATE = "2025-06-17"
CONFIG = Config(net_central_count=2, progress=False)

STOPS = """stop_id,stop_name,stop_lat,stop_lon,city
A1,Alpha,0,100,A
B1,Bravo,0,101,B
B2,Bravo East,0,101.05,B
C1,Charlie,0,102,C
X1,Xray,0,102.5,
D1,Delta,0,103,D
E1,Echo,0,99,E
"""


def _trip(tid, times):
    return "".join(f"{tid},{a},{d},{s},{k + 1}\n" for k, (s, a, d) in enumerate(times))


STOP_TIMES = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n" + "".join([
    _trip("T1a", [("A1", "06:00:00", "06:00:00"), ("B1", "07:15:00", "07:17:00"), ("C1", "08:17:00", "08:17:00")]),
    _trip("T1b", [("A1", "08:00:00", "08:00:00"), ("B1", "09:00:00", "09:02:00"), ("C1", "10:02:00", "10:02:00")]),
    _trip("T1c", [("A1", "10:00:00", "10:00:00"), ("B1", "11:10:00", "11:12:00"), ("C1", "12:12:00", "12:12:00")]),
    _trip("T2a", [("C1", "10:30:00", "10:30:00"), ("X1", "11:00:00", "11:01:00"), ("D1", "11:30:00", "11:30:00")]),
    _trip("T2b", [("C1", "12:30:00", "12:30:00"), ("X1", "13:00:00", "13:01:00"), ("D1", "13:30:00", "13:30:00")]),
    _trip("T3", [("B2", "09:40:00", "09:40:00"), ("E1", "10:30:00", "10:30:00")]),
    _trip("TB", [("A1", "07:00:00", "07:00:00"), ("E1", "07:20:00", "07:20:00")]),
])

HAND = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nR,Rail,https://r.example,Asia/Shanghai\n",
    "stops.txt": STOPS,
    "routes.txt": ("route_id,agency_id,route_short_name,route_long_name,route_type\n"
                   "L1,R,L1,,101\nL2,R,L2,,101\nL3,R,L3,,2\nBUS,R,B,,3\n"),
    "trips.txt": ("route_id,service_id,trip_id\nL1,D,T1a\nL1,D,T1b\nL1,D,T1c\nL2,D,T2a\nL2,D,T2b\n"
                  "L3,D,T3\nBUS,D,TB\n"),
    "stop_times.txt": STOP_TIMES,
    "calendar.txt": ("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
                     "D,1,1,1,1,1,1,1,20250101,20251231\n"),
}

PLACES = pd.DataFrame({"id": list("ABCDE"), "name": ["Ay", "Bee", "Cee", "Dee", "Ee"],
                       "lon": [100.0, 101.0, 102.0, 103.0, 99.0], "lat": [0.0] * 5,
                       "population": [400.0, 300.0, 200.0, 100.0, 100.0]})

#: fastest times (min) of the reachable ordered pairs, worked out in the module docstring's net
FASTEST = {("A", "B"): 60, ("A", "C"): 122, ("A", "D"): 210, ("A", "E"): 150,
           ("B", "C"): 60, ("B", "D"): 138, ("B", "E"): 50, ("C", "D"): 60}


@pytest.fixture(scope="module")
def hand_feeds(tmp_path_factory):
    path = write_feed(tmp_path_factory.mktemp("railnet") / "hand", HAND)
    return read_feeds([f"hand={path}"])


@pytest.fixture(scope="module")
def net(hand_feeds):
    return rail_net(hand_feeds, PLACES, date=DATE, reference_speed_kmh=DEG_KM, config=CONFIG)


def _pair(net, a, b):
    return net.pairs.set_index(["from_id", "to_id"]).loc[(a, b)]


def test_stations_grouped_into_cities(net):
    st = net.stations.set_index("stop_id")
    assert st.loc["hand:B2", "city_id"] == "B" and st.loc["hand:B2", "basis"] == "attribute"
    assert st.loc["hand:B2", "city_km"] == pytest.approx(0.05 * DEG_KM, abs=0.01)
    assert st.loc["hand:X1", "city_id"] == ""  # 55.6 km from C: beyond 20 km
    assert net.cities.set_index("id")["stations"].to_dict() == {"A": 1, "B": 2, "C": 1, "D": 1, "E": 1}


def test_group_stations_by_distance_and_errors():
    stations = pd.DataFrame({"stop_id": ["s1", "s2", "s3"], "stop_name": ["p", "q", "r"],
                             "lon": [100.1, 101.0, 102.5], "lat": [0.0, 0.1, 0.0], "city": ["", "E", ""]})
    g = group_stations(stations, PLACES, cluster_km=20, group_by="distance")
    # by distance the attribute is ignored: s2 is 11.1 km from B; s3 is 55.6 km from C and D
    assert g["city_id"].tolist() == ["A", "B", ""]
    assert g["city_km"].tolist() == pytest.approx([0.1 * DEG_KM, 0.1 * DEG_KM, 0.5 * DEG_KM], abs=0.01)
    g = group_stations(stations, PLACES, cluster_km=20)  # auto: 'E' is a place id -> attribute
    assert g["city_id"].tolist() == ["A", "", ""]
    assert "km from the point of 'E'" in g["note"][1]
    from planner.errors import ConfigError, InputError

    with pytest.raises(InputError, match="no station has a 'city'"):
        group_stations(stations.assign(city=""), PLACES, cluster_km=20, group_by="attribute")
    with pytest.raises(ConfigError):
        group_stations(stations, PLACES, cluster_km=20, group_by="name")


def test_pair_times_transfers_and_waits(net):
    reach = net.pairs.loc[net.pairs["fastest_min"].notna()]
    assert {(r.from_id, r.to_id): r.fastest_min for r in reach.itertuples()} == FASTEST
    # A-B: connections 06:00 (75 min), 08:00 (60), 10:00 (70): nearest-rank median of 3 = 70
    ab = _pair(net, "A", "B")
    assert (ab.journeys, ab.median_min, ab.transfers_fastest, ab.transfer_wait_fastest_min) == (3, 70, 0, 0)
    assert (ab.direct_trains, ab.fastest_direct_min, ab.median_direct_min) == (3, 60, 70)
    assert _pair(net, "A", "C").median_min == 132
    # A-D: 06:00 arrives no earlier than 08:00 (both 11:30) -> not a connection; 08:00 changes
    # at C 10:02 -> 10:30 (28 min lost), 10:00 at C 12:12 -> 12:30 (18 min lost)
    ad = _pair(net, "A", "D")
    assert (ad.journeys, ad.median_min, ad.transfers_fastest, ad.min_transfers) == (2, 210, 1, 1)
    assert (ad.transfer_wait_fastest_min, ad.transfer_wait_mean_min, ad.direct_trains) == (28, 23, 0)
    assert np.isnan(ad.fastest_direct_min)
    # A-E: across town at B (1301 s), 40 min from the 09:00 arrival to the 09:40 departure;
    # the 20-minute bus is not rail
    ae = _pair(net, "A", "E")
    assert (ae.fastest_min, ae.journeys, ae.transfers_fastest, ae.transfer_wait_fastest_min) == (150, 1, 1, 40)
    # B-D: 09:02 (148 min, 28 lost) and 11:12 (138 min, 18 lost); median of 2 = the lower
    bd = _pair(net, "B", "D")
    assert (bd.journeys, bd.median_min, bd.transfer_wait_fastest_min, bd.transfer_wait_mean_min) == (2, 138, 18, 23)
    # B-E leaves from the second station of B; only the 09:40 departure is a connection
    be = _pair(net, "B", "E")
    assert (be.fastest_min, be.journeys, be.direct_trains, be.min_transfers) == (50, 1, 1, 0)
    assert _pair(net, "C", "D").direct_trains == 2  # X1 (no city) does not break the one-seat ride
    for a, b in [("B", "A"), ("C", "A"), ("D", "C"), ("E", "A"), ("E", "B")]:
        row = _pair(net, a, b)
        assert np.isnan(row.fastest_min) and row.journeys == 0 and np.isnan(row.min_transfers)
    # one-seat versus transfer connections
    assert net.pairs["direct_trains"].sum() == 3 + 3 + 3 + 1 + 2
    assert net.pairs["journeys_with_transfer"].sum() == 2 + 1 + 2  # A-D, A-E, B-D


def test_net_measures_by_hand(net):
    s = net.summary
    inv = sum(60.0 / t for t in FASTEST.values())
    assert s["efficiency_per_h"] == pytest.approx(inv / 20)
    # ideal: 1/|dlon| h^-1 for every ordered pair of longitudes 100, 101, 102, 103, 99
    ideal = 2 * (1 + 1 / 2 + 1 / 3 + 1 + 1 + 1 / 2 + 1 / 2 + 1 + 1 / 3 + 1 / 4) / 20
    assert s["efficiency_ideal_per_h"] == pytest.approx(ideal)
    assert s["efficiency_relative"] == pytest.approx(inv / 20 / ideal)
    w = {("A", "B"): 400 * 300, ("A", "C"): 400 * 200, ("A", "D"): 400 * 100, ("A", "E"): 400 * 100,
         ("B", "C"): 300 * 200, ("B", "D"): 300 * 100, ("B", "E"): 300 * 100, ("C", "D"): 200 * 100}
    assert s["pop_weighted_mean_min"] == pytest.approx(sum(w[k] * FASTEST[k] for k in w) / sum(w.values()))
    # detour: time / (60 min per degree): 1, 122/120, 7/6, 2.5, 1, 1.15, 5/12, 1 -> median (1 + 122/120) / 2
    assert s["median_detour_index"] == pytest.approx((1 + 122 / 120) / 2)
    assert _pair(net, "A", "E").detour_index == pytest.approx(2.5)
    assert _pair(net, "B", "E").crow_speed_kmh == pytest.approx(2 * DEG_KM / (50 / 60))
    assert (s["share_within_1h"], s["share_within_2h"], s["share_within_3h"]) == pytest.approx((0.2, 0.2, 0.35))
    assert s["share_direct"] == pytest.approx(5 / 20)
    assert s["share_max_1_transfer"] == pytest.approx(8 / 20)
    assert s["mean_transfer_wait_min"] == pytest.approx((28 + 40 + 18) / 8)
    assert (s["reachable_pairs"], s["pairs"], s["cities_with_station"], s["node_stations"]) == (8, 20, 5, 6)


def test_links_graph_radiation_and_weak_links(net):
    links = {(r.from_id, r.to_id): (r.trains, r.fastest_min) for r in net.links.itertuples()}
    assert links == {("A", "B"): (3, 60), ("B", "C"): (3, 60), ("C", "D"): (2, 60), ("B", "E"): (1, 50)}
    c = net.cities.set_index("id")
    # shortest paths on the link graph: A->C, A->D, A->E pass B; A->D, B->D pass C
    assert c["betweenness"].to_dict() == {"A": 0, "B": 3, "C": 2, "D": 0, "E": 0}
    assert c.loc["B", "betweenness_norm"] == pytest.approx(3 / 12)
    assert c.loc["A", "closeness_per_h"] == pytest.approx(60 / ((60 + 120 + 180 + 110) / 4))
    assert c.loc["B", "closeness_per_h"] == pytest.approx(60 / ((60 + 120 + 50) / 3))
    assert c.loc["C", "closeness_per_h"] == pytest.approx(1.0)
    assert np.isnan(c.loc["D", "closeness_per_h"])
    assert c["central"].to_dict() == {"A": True, "B": True, "C": False, "D": False, "E": False}
    assert c["pop_within_1h"].to_dict() == {"A": 300, "B": 300, "C": 100, "D": 0, "E": 0}
    assert c["pop_within_2h"].to_dict() == {"A": 300, "B": 300, "C": 100, "D": 0, "E": 0}
    assert c["pop_within_3h"].to_dict() == {"A": 600, "B": 400, "C": 100, "D": 0, "E": 0}
    assert c.loc["A", "mean_time_to_others_min"] == pytest.approx((300 * 60 + 200 * 122 + 100 * 210 + 100 * 150) / 700)
    assert (net.summary["pop_within_1h:A"], net.summary["pop_within_2h:B"]) == (300, 300)
    assert "pop_within_1h:C" not in net.summary
    weak = net.weak.set_index(["from_id", "to_id"])["reason"]
    # A-E: 2.5 > 1.5 x 1.00833; the 12 unreachable pairs; nothing needs two transfers here
    assert weak[("A", "E")] == "detour over 1.5 x median"
    assert len(weak) == 13 and (weak.drop(("A", "E")) == "unreachable").all()


NEW_LINK = """name: direct_ae
changes:
  - add_line:
      id: AE
      mode: high_speed_rail
      stops: ["hand:A1", "hand:E1"]
      run_times_min: [45]
      departures: ["09:00"]
"""


def test_new_direct_link_changes_exactly_the_expected_pairs(hand_feeds, net, tmp_path):
    scn = load_scenario(tmp_path / "direct_ae.yaml", text=NEW_LINK)
    cmp = compare_nets(hand_feeds, [scn], PLACES, date=DATE, reference_speed_kmh=DEG_KM, config=CONFIG)
    pd.testing.assert_frame_equal(cmp.baseline.pairs, net.pairs)
    new = cmp.scenarios[0]
    ch = changed_pairs(cmp.baseline, new).set_index(["from_id", "to_id"])
    # both directions at 09:00: A->E direct (45 min); E->A direct; E->B/C/D continue from A
    # on the 10:00 train (E 09:00 -> A 09:45 -> B 11:10, C 12:12 -> D 13:30); and B reaches A
    # for the first time, waiting overnight at E (B2 09:40 -> E 10:30, E 09:00 -> A 09:45 the
    # next day: 24 h 05 min; no cap on travel time)
    assert set(ch.index) == {("A", "E"), ("E", "A"), ("E", "B"), ("E", "C"), ("E", "D"), ("B", "A")}
    got = {k: (r.fastest_min, r.min_transfers, r.direct_trains) for k, r in ch.iterrows()}
    assert got == {("A", "E"): (45, 0, 1), ("E", "A"): (45, 0, 1), ("E", "B"): (130, 1, 0),
                   ("E", "C"): (192, 1, 0), ("E", "D"): (270, 2, 0), ("B", "A"): (24 * 60 + 5, 1, 0)}
    assert _pair(new, "B", "A").transfer_wait_fastest_min == 22 * 60 + 30
    assert ch.loc[("A", "E"), "fastest_min_base"] == 150
    assert ch.loc[("A", "E"), "changed"].split(";") == ["fastest_min", "median_min", "transfers_fastest",
                                                        "min_transfers", "direct_trains", "fastest_direct_min"]
    assert _pair(new, "E", "B").transfer_wait_fastest_min == 15  # 09:45 -> 10:00 at A
    # the new station at A joins city A by distance (the scenario's feed has no city column)
    st = new.stations.set_index("stop_id")
    assert st.loc[st.index.str.startswith("scenario_"), "basis"].tolist() == ["nearest", "nearest"]
    table = cmp.summary_table().set_index("measure")
    assert table.loc["share_direct", "direct_ae"] == pytest.approx(7 / 20)
    assert table.loc["reachable_pairs", "direct_ae_change"] == 5
    assert table.loc["links", "direct_ae"] == 6
    # 7 unreachable; E->D needs two transfers; B->A: 1445 / 60 is far above 1.5 x the median
    assert new.weak.set_index(["from_id", "to_id"])["reason"][("B", "A")] == "detour over 1.5 x median"
    assert new.summary["weak_links"] == 9


def test_net_measures_function_alone():
    T = np.array([[np.nan, 30.0], [np.nan, np.nan]])
    crow = np.array([[0.0, 100.0], [100.0, 0.0]])
    m = net_measures(T, np.array([1.0, 3.0]), crow, direct=np.array([[0, 2], [0, 0]]),
                     min_transfers=np.array([[np.nan, 0], [np.nan, np.nan]]), reference_speed_kmh=100)
    assert m["efficiency_per_h"] == pytest.approx(2 / 2)  # 1 / 0.5 h over two ordered pairs
    assert m["efficiency_ideal_per_h"] == pytest.approx(1.0)
    assert m["median_detour_index"] == pytest.approx(0.5)
    assert (m["share_direct"], m["share_max_1_transfer"], m["reachable_pairs"]) == (0.5, 0.5, 1)


def test_bad_parameters(hand_feeds):
    from planner.errors import ConfigError, InputError

    with pytest.raises(ConfigError, match="reference speed"):
        rail_net(hand_feeds, PLACES, date=DATE, reference_speed_kmh=0)
    with pytest.raises(ConfigError, match="basis"):
        rail_net(hand_feeds, PLACES, date=DATE, basis="mean")
    with pytest.raises(InputError, match="central cities not among the places: Z"):
        rail_net(hand_feeds, PLACES, date=DATE, central=["A", "Z"])


NIGHT = {
    "agency.txt": HAND["agency.txt"],
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nP1,Papa,10,100\nQ1,Quebec,10,105\nR1,Romeo,10,110\n",
    "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type\nN,R,N,,2\nQR,R,QR,,2\n",
    "trips.txt": "route_id,service_id,trip_id\nN,D,N1\nN,D,N2\nQR,D,QR0\nQR,D,QR1\n",
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n" + "".join([
        _trip("N1", [("P1", "22:00:00", "22:00:00"), ("Q1", "30:00:00", "30:00:00")]),
        _trip("N2", [("R1", "23:00:00", "23:00:00"), ("Q1", "25:30:00", "25:31:00"), ("P1", "27:00:00", "27:00:00")]),
        _trip("QR0", [("Q1", "00:30:00", "00:30:00"), ("R1", "02:30:00", "02:30:00")]),
        _trip("QR1", [("Q1", "07:00:00", "07:00:00"), ("R1", "09:00:00", "09:00:00")]),
    ]),
    "calendar.txt": HAND["calendar.txt"],
}
NIGHT_PLACES = pd.DataFrame({"id": list("PQR"), "name": list("PQR"), "lon": [100.0, 105.0, 110.0],
                             "lat": [10.0] * 3, "population": [1.0, 1.0, 1.0]})


def test_overnight_trains_and_windows_across_midnight(tmp_path):
    """N1 P 22:00 -> Q 06:00 (+1 d); N2 R 23:00 -> Q 01:30/01:31 -> P 03:00 (+1 d); Q -> R at 00:30
    and 07:00 daily. Stations join cities by distance (the feed has no city column)."""
    feeds = read_feeds([f"night={write_feed(tmp_path / 'night', NIGHT)}"])
    day = rail_net(feeds, NIGHT_PLACES, date=DATE, config=CONFIG)
    got = {(r.from_id, r.to_id): (r.fastest_min, r.direct_trains, r.min_transfers)
           for r in day.pairs.itertuples() if r.journeys}
    # P->R changes at Q in the morning onto the next day's 07:00 (1 h wait); Q->P is the
    # previous evening's N2 leaving Q at 01:31 on the service date
    assert got == {("P", "Q"): (480, 1, 0), ("P", "R"): (660, 0, 1), ("Q", "R"): (120, 2, 0),
                   ("Q", "P"): (89, 1, 0), ("R", "Q"): (150, 1, 0), ("R", "P"): (240, 1, 0)}
    assert _pair(day, "P", "R").transfer_wait_fastest_min == 60
    assert set(day.stations["basis"]) == {"nearest"}
    late = rail_net(feeds, NIGHT_PLACES, date=DATE, depart_s=21 * 3600, window_min=240, config=CONFIG)
    got = {(r.from_id, r.to_id): (r.fastest_min, r.direct_trains) for r in late.pairs.itertuples() if r.journeys}
    # 21:00-01:00: the next day's 00:30 Q->R counts; N2 leaves Q at 01:31, after the window
    assert got == {("P", "Q"): (480, 1), ("P", "R"): (660, 0), ("Q", "R"): (120, 1), ("R", "Q"): (150, 1),
                   ("R", "P"): (240, 1)}
