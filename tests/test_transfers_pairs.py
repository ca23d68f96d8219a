"""Transfers (issue 7): where candidate pairs come from, stations from parents and name groups,
the straight-line fallback without a street network, the standard file and OD files.

Two feeds at latitude 45 (1 m east = 1 / (R cos 45 deg) degree of longitude)::

    city (City Transit): Central (parent station P: bus stop P1, tram stop P2) at lon 126.0
                         Market tram stop Q          800 m east
                         Market bus stop MB          850 m east
                         Harbour bus stops S and S2  2500 m east (S2 40 m north of S)
                         transfers.txt: S -> Q, min_transfer_time 600 s
    rail (Rail):         Central Railway Station C   3000 m west
                         Far X                      12 km west
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from planner.analyses.transfers.analysis import analyse_transfers, load_standard
from planner.config import Config
from planner.errors import ConfigError, InputError
from planner.ingest.gtfs import read_feeds
from planner.network.build import build_network
from tests.conftest import write_feed

CFG = Config(progress=False)
R_LOCAL = 6_371_008.8
DEG_PER_M = 1.0 / (R_LOCAL * math.cos(math.radians(45.0)) * math.pi / 180.0)


def lon(m_east: float) -> str:
    return f"{126.0 + m_east * DEG_PER_M:.9f}"


def _feeds(tmp_path):
    agency = "agency_id,agency_name,agency_url,agency_timezone\n{0},{1},https://x.example,Asia/Shanghai\n"
    cal = "service_id,date,exception_type\nD,20240102,1\n"
    city = {
        "agency.txt": agency.format("CT", "City Transit"),
        "stops.txt": ("stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
                      f"P,Central,45.0,{lon(0)},1,\nP1,Central bus,45.0,{lon(0)},0,P\nP2,Central tram,45.0,{lon(5)},0,P\n"
                      f"Q,Market,45.0,{lon(800)},0,\nMB,Market,45.0,{lon(850)},0,\n"
                      f"S,Harbour,45.0,{lon(2500)},0,\nS2,Harbour,{45.0 + 40 / 111_195.08:.9f},{lon(2500)},0,\n"),
        "routes.txt": "route_id,agency_id,route_short_name,route_type\nB1,CT,1,3\nB2,CT,2,3\nT1,CT,T,0\n",
        "trips.txt": "route_id,service_id,trip_id\nB1,D,b1\nB2,D,b2\nT1,D,t1\n",
        "stop_times.txt": ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                           "b1,08:00:00,08:00:00,P1,1\nb1,08:10:00,08:10:00,S,2\n"
                           "b2,08:00:00,08:00:00,S2,1\nb2,08:05:00,08:05:00,MB,2\n"
                           "t1,08:00:00,08:00:00,P2,1\nt1,08:04:00,08:04:00,Q,2\n"),
        "calendar_dates.txt": cal,
        "transfers.txt": "from_stop_id,to_stop_id,transfer_type,min_transfer_time\nS,Q,2,600\n",
    }
    rail = {
        "agency.txt": agency.format("RL", "Rail"),
        "stops.txt": (f"stop_id,stop_name,stop_lat,stop_lon\nC,Central Railway Station,45.0,{lon(-3000)}\n"
                      f"X,Far,45.0,{lon(-12000)}\n"),
        "routes.txt": "route_id,agency_id,route_short_name,route_type\nR,RL,R,2\n",
        "trips.txt": "route_id,service_id,trip_id\nR,D,r1\n",
        "stop_times.txt": ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                           "r1,07:00:00,07:00:00,X,1\nr1,07:10:00,07:10:00,C,2\n"),
        "calendar_dates.txt": cal,
    }
    return [f"city={write_feed(tmp_path / 'city', city)}", f"rail={write_feed(tmp_path / 'rail', rail)}"]


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("town")
    return build_network(read_feeds(_feeds(tmp), config=CFG), "2024-01-02", config=CFG, cache_dir=tmp / "cache")


def _found(res) -> dict[tuple[str, str], str]:
    und = res.pairs.drop_duplicates("pair_id")
    return {tuple(sorted((a, b))): f for a, b, f in zip(und["from_station"], und["to_station"], und["found_by"],
                                                          strict=True)}


def test_candidate_pairs_and_their_sources(town):
    res = analyse_transfers(town, departure_s=8 * 3600, window_min=60)
    st = res.stations.set_index("station")
    # the parent station splits by mode; the two Harbour stops form one station
    assert st.loc["city:P/bus", "name"] == "Central" and st.loc["city:P/tram", "mode"] == "tram"
    assert st.loc["city:S", "stops"] == 2 and "city:S2" not in st.index
    nearest = {
        ("city:P/bus", "city:P/tram"): "radius;parent;name",   # one parent, both named "Central"
        ("city:MB", "city:Q"): "radius;name",        # both "Market", bus and tram, 50 m
        ("city:Q", "city:S"): "transfers_txt",       # 1.7 km: only transfers.txt names it
        ("city:P/bus", "rail:C"): "name",            # "Central" and "Central Railway Station", 3 km
        ("city:P/tram", "rail:C"): "name",
    }
    assert _found(res) == nearest
    # every pair in the radius: P/bus - Q (800 m) and P/tram - MB (845 m) join; with the
    # default each of them has a nearer partner of that mode on both sides
    res_all = analyse_transfers(town, departure_s=8 * 3600, window_min=60, nearest_per_mode=0)
    assert _found(res_all) == {**nearest, ("city:P/bus", "city:Q"): "radius", ("city:MB", "city:P/tram"): "radius"}
    # a smaller radius drops the radius-only pairs, never the others
    res_small = analyse_transfers(town, radius_m=600, departure_s=8 * 3600, window_min=60, nearest_per_mode=0)
    assert _found(res_small) == nearest


def test_straight_line_walks_and_transfers_txt_rule(town):
    res = analyse_transfers(town, departure_s=8 * 3600, window_min=60)
    p = res.pairs
    r = p[(p["from_station"] == "city:P/bus") & (p["to_station"] == "rail:C")].iloc[0]
    assert r["walk_method"] == "straight_line"        # no street network loaded
    assert r["straight_m"] == pytest.approx(3000.0, abs=1e-3)
    assert r["walk_m"] == pytest.approx(3000.0 * CFG.straight_line_detour, abs=1e-3)
    assert r["walk_min"] == pytest.approx(3000.0 * 1.3 / CFG.walk_speed_mps / 60, abs=1e-6)
    assert r["detour_ratio"] == pytest.approx(1.3) and r["class"] == "very_poor" and not r["detour_flag"]
    sq = p[(p["from_station"] == "city:S") & (p["to_station"] == "city:Q")].iloc[0]
    assert sq["gtfs_rule"] == "min_time" and sq["gtfs_transfer_min"] == 10.0
    qs = p[(p["from_station"] == "city:Q") & (p["to_station"] == "city:S")].iloc[0]
    assert qs["gtfs_rule"] == "" and math.isnan(qs["gtfs_transfer_min"])
    # no walk network: no entrance suggestions
    assert res.suggestions.empty


def test_standard_file(tmp_path):
    good = tmp_path / "std.yaml"
    good.write_text("good_max_m: 150\nacceptable_max_m: 300\ndelay_mean_min: {bus: 4}\n")
    std, delay = load_standard(good)
    assert (std.good_max_m, std.acceptable_max_m, std.poor_max_m) == (150.0, 300.0, 1000.0)
    assert delay.mean_s("bus") == 240.0 and delay.mean_s("metro") == 30.0
    bad = tmp_path / "bad.yaml"
    bad.write_text("good_max_m: 150\nacceptable_max_m: lots\nwalk_speed: 2\ndelay_mean_min:\n  hovercraft: 1\n")
    with pytest.raises(ConfigError) as err:
        load_standard(bad)
    text = str(err.value)
    assert f"{bad}:2: field 'acceptable_max_m'" in text
    assert f"{bad}:3: field 'walk_speed': unknown field" in text
    assert f"{bad}:5: field 'delay_mean_min.hovercraft'" in text
    order = tmp_path / "order.yaml"
    order.write_text("good_max_m: 500\n")
    with pytest.raises(ConfigError, match="must grow"):
        load_standard(order)


def test_od_list_file_errors(town, tmp_path):
    from planner.analyses.transfers.use import read_od

    f = tmp_path / "od.csv"
    f.write_text("from_lon,from_lat,to_lon,to_lat,trips\n126.0,45.0,126.01,45.0,5\n126.0,north,126.01,45.0,1\n")
    with pytest.raises(InputError, match="row 3"):
        read_od(town, f)
    f.write_text("from_stop,to_stop,trips\ncity:P1,city:S,-1\n")
    with pytest.raises(InputError, match="'trips' must be a non-negative number"):
        read_od(town, f)
    f.write_text("from_stop,to_stop,trips\ncity:P1,city:S,4\n")
    od = read_od(town, f)
    assert od.weight.tolist() == [4.0] and od.rows.tolist() == [[0, 0]]
    res = analyse_transfers(town, departure_s=7 * 3600 + 55 * 60, window_min=0, od=od)
    assert res.use.journeys_routed == 4.0 and not any(np.asarray(list(res.use.through.values())) > 0)


def test_invalid_parameters(town):
    with pytest.raises(ConfigError, match="radius must be positive"):
        analyse_transfers(town, radius_m=0)
