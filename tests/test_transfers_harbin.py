"""Transfers (issue 7) in central Harbin: the real OSM extract (streets, subway entrances) with
a small stated feed of the three main railway stations and the metro stations beside them.

The coordinates are the OSM nodes of ``shared/data/northeast_china/harbin_osm_stations.csv``
(WGS84). The lines are *not* real services: one rail line West -> Harbin -> East and one metro
line through the metro stations, each every 30 / 6 minutes, only so that every station is
served; the test is about finding and measuring the pairs, not about the timetable.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from planner.analyses.transfers.analysis import analyse_transfers
from planner.config import Config
from planner.ingest.gtfs import read_feeds
from planner.network.build import build_network
from tests.conftest import OSM_DATA, write_feed

CFG = Config(progress=False)
HARBIN_OSM = OSM_DATA / "harbin_central.osm.pbf"

RAIL = [("HRB", "哈尔滨", 126.6254465, 45.7600422), ("HRBW", "哈尔滨西", 126.5723242, 45.7051442),
        ("HRBE", "哈尔滨东", 126.7056057, 45.7865776)]
METRO = [("M_HXZ", "哈尔滨西站", 126.5744315, 45.7038122), ("M_HRB", "哈尔滨站", 126.6280383, 45.76063),
         ("M_BWG", "博物馆", 126.6377825, 45.7562259), ("M_SZ", "尚志大街", 126.6192513, 45.7638942),
         ("M_HRBE", "哈尔滨东站", 126.7029173, 45.787419)]


def _feed(tmp_path, name, agency, route_type, stops, headway_s, run_s):
    rows = "\n".join(f"{sid},{nm},{lat},{lon}" for sid, nm, lon, lat in stops)
    trips, times = ["route_id,service_id,trip_id"], ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"]
    k = 0
    for t0 in range(6 * 3600, 12 * 3600, headway_s):
        for seq in (stops, stops[::-1]):
            trips.append(f"L,D,t{k}")
            for j, s in enumerate(seq):
                t = t0 + j * run_s
                hh = f"{t // 3600:02d}:{t % 3600 // 60:02d}:00"
                times.append(f"t{k},{hh},{hh},{s[0]},{j + 1}")
            k += 1
    files = {
        "agency.txt": f"agency_id,agency_name,agency_url,agency_timezone\nA,{agency},https://x.example,Asia/Shanghai\n",
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\n" + rows + "\n",
        "routes.txt": f"route_id,agency_id,route_short_name,route_type\nL,A,L,{route_type}\n",
        "trips.txt": "\n".join(trips) + "\n", "stop_times.txt": "\n".join(times) + "\n",
        "calendar_dates.txt": "service_id,date,exception_type\nD,20250617,1\n",
    }
    return f"{name}={write_feed(tmp_path / name, files)}"


@pytest.fixture(scope="module")
def harbin(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("harbin")
    specs = [_feed(tmp, "rail", "China Railway", 101, [RAIL[1], RAIL[0], RAIL[2]], 1800, 900),
             _feed(tmp, "metro", "Harbin Metro", 1, METRO, 360, 150)]
    net = build_network(read_feeds(specs, config=CFG), "2025-06-17", osm=HARBIN_OSM, config=CFG,
                        cache_dir=tmp / "cache")
    return net, analyse_transfers(net, departure_s=8 * 3600, window_min=60, osm=HARBIN_OSM), tmp


def test_harbin_station_pairs_found_and_measured(harbin):
    _net, res, _tmp = harbin
    und = res.pairs.drop_duplicates("pair_id")
    pairs = {tuple(sorted((a, b))): r for a, b, r in zip(und["from_station"], und["to_station"],
                                                         und.to_dict("records"), strict=True)}
    # each railway station with the metro station named after it (same name, different feed)
    for rail, metro in (("rail:HRB", "metro:M_HRB"), ("rail:HRBW", "metro:M_HXZ"), ("rail:HRBE", "metro:M_HRBE")):
        r = pairs[tuple(sorted((rail, metro)))]
        assert "name" in r["found_by"] and "radius" in r["found_by"]
        assert r["walk_method"] == "street" and math.isfinite(r["walk_m"])
        assert r["walk_m"] >= 0.9 * r["straight_m"]  # entrances may sit a little closer than the station points
        assert r["class"] in {"good", "acceptable", "poor", "very_poor"}
    # Harbin station also pairs with the metro stations around it
    assert tuple(sorted(("rail:HRB", "metro:M_SZ"))) in pairs
    # OSM subway entrances where OSM maps them (within 300 m), else the OSM station node of
    # the same name and mode (the railway stations: their railway=station nodes)
    kinds = res.stations.set_index("station")["access_kinds"].to_dict()
    assert kinds == {"metro:M_BWG": "osm_entrance", "metro:M_HRBE": "osm_entrance", "metro:M_HRB": "osm_stop",
                     "metro:M_HXZ": "osm_stop", "metro:M_SZ": "osm_stop", "rail:HRB": "osm_stop",
                     "rail:HRBW": "osm_stop", "rail:HRBE": "osm_stop"}


def test_harbin_paths_follow_streets_and_maps_are_drawn(harbin):
    net, res, tmp = harbin
    walk = net.walk
    at = {(round(float(x), 7), round(float(y), 7)) for x, y in zip(walk.lon, walk.lat, strict=True)}
    for w in res.walks:
        if w.method == "street":
            on_street = sum((round(x, 7), round(y, 7)) in at for x, y in w.coords)
            assert on_street >= 2 and on_street >= len(w.coords) - 6   # platform/entrance ends aside
    images = res.write(tmp / "out", maps=3)
    pngs = [p for p in images if p.suffix == ".png"]
    assert len(pngs) == 3 and all(p.stat().st_size > 20_000 for p in pngs)
    # labels the map font can draw (no CJK font is installed): OSM English names
    from planner.analyses.transfers.outputs import station_labels

    labels = station_labels(res)
    assert labels["rail:HRBW"] == "Harbin West" and labels["metro:M_HRB"] == "Harbin Railway Station"
    assert np.all([lbl.isascii() for lbl in labels.values()])


@pytest.mark.slow
def test_default_sample_central_harbin(tmp_path):
    """``plan transfers`` with no arguments: the bundled Northeast China sample (intercity rail
    feed, Harbin metro feed, central Harbin OSM). Harbin and Harbin West stations are found
    with the metro stations around them and measured on the streets."""
    import pandas as pd
    from click.testing import CliRunner

    from planner.cli.main import main

    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["transfers", "-o", str(out), "--cache-dir", str(tmp_path / "cache"), "-q"])
    assert r.exit_code == 0, r.output
    p = pd.read_csv(out / "transfers.csv", keep_default_na=False, na_values=[""])
    rows = {}   # (rail station name, metro station name) -> the pair's row
    for row in p.drop_duplicates("pair_id").to_dict("records"):
        ends = {row["from_feed"]: row["from_name"], row["to_feed"]: row["to_name"]}
        if set(ends) == {"northeast_rail", "harbin_metro"}:
            rows[(ends["northeast_rail"], ends["harbin_metro"])] = row
    around = {}
    for rail, metro in rows:
        around.setdefault(rail, set()).add(metro)
    # Harbin station with the metro station named after it and more around it; Harbin West likewise
    assert "哈尔滨站" in around["哈尔滨"] and len(around["哈尔滨"]) >= 3
    assert "哈尔滨西站" in around["哈尔滨西"] and len(around["哈尔滨西"]) >= 2
    for rail, metro in (("哈尔滨", "哈尔滨站"), ("哈尔滨西", "哈尔滨西站")):
        row = rows[(rail, metro)]
        assert set(row["found_by"].split(";")) >= {"radius", "name"}
        assert row["walk_method"] == "street" and row["walk_m"] > row["straight_m"] > 0
    assert all(r_["walk_method"] == "street" and r_["walk_m"] > 0 for r_ in rows.values())
    assert "Harbin West" in r.output and "Harbin (high_speed_rail)" in r.output
    assert len(list(out.glob("transfer_map_*.png"))) == 6


def test_harbin_artefacts_are_listed_apart_with_what_is_missing(harbin):
    """Issue 19: Harbin West's hall (way 343163654, building=train_station) and its platforms
    (ways 1080788470-79) touch no way of the walk network, so the metro-to-rail walk goes round
    the complex (about 10 x the straight line); the pair is listed apart, not suggested a connector."""
    _net, res, _tmp = harbin
    und = res.pairs.drop_duplicates("pair_id").set_index(["from_station", "to_station"])
    r = und.loc[("metro:M_HXZ", "rail:HRBW")] if ("metro:M_HXZ", "rail:HRBW") in und.index \
        else und.loc[("rail:HRBW", "metro:M_HXZ")]
    assert r["data_check"] and r["detour_ratio"] >= 3
    assert "station hall way/343163654 and 10 platform(s) touch no walkable way" in r["data_issues"]
    assert r["pair_id"] not in set(res.suggestions["pair_id"])
    from planner.outputs.report import Report

    rep = Report("Transfers")
    res.report_section(rep, maps=0)
    assert "Check the map data" in rep.html()
