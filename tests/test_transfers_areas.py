"""``plan transfers`` through stations (issue 19): walks across the hand-drawn map of
``test_osm_areas.py``, the "check the map data" flag, observed walks and their bad input.

The feed: a bus stop ``B`` exactly on node 21 (W, the street west of the square) and a rail stop
``R1`` exactly on node 42 (the far corner of platform 301), both without entrances, so the walk
is the network path 21 -> 42 computed by hand in ``test_osm_areas.py``: 11.22383 grid units.
``B2`` (node 23) and ``R2`` (node 44) only give each line a second stop.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from click.testing import CliRunner

from planner.analyses.transfers.analysis import analyse_transfers
from planner.analyses.transfers.standard import TransferStandard
from planner.cli.main import main
from planner.config import Config
from planner.errors import InputError
from planner.ingest.gtfs import read_feeds
from planner.network.build import build_network
from tests.conftest import write_feed
from tests.test_osm_areas import LON0, U, _lonlat, _write_xml

CFG = Config(progress=False)
DATE = "2025-06-17"
HAND_WALK_M = (1 + (1 + 2 * math.sqrt(2.5)) + 1 + 1 + math.sqrt(4.25) + 2) * U   # 21 -> 42


def _stop(sid: str, name: str, node: int) -> str:
    lon, lat = _lonlat(node)
    return f"{sid},{name},{lat:.7f},{lon:.7f}"


def _feed(tmp, name: str, route_type: int, stops: list[str]) -> str:
    ids = [s.split(",")[0] for s in stops]
    trips, times = ["route_id,service_id,trip_id"], ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"]
    for k, t0 in enumerate(range(7 * 3600, 10 * 3600, 600)):
        trips.append(f"L,D,t{k}")
        for j, sid in enumerate(ids):
            t = t0 + 120 * j
            hh = f"{t // 3600:02d}:{t % 3600 // 60:02d}:00"
            times.append(f"t{k},{hh},{hh},{sid},{j + 1}")
    files = {
        "agency.txt": f"agency_id,agency_name,agency_url,agency_timezone\nA,{name},https://x.example,Africa/Accra\n",
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\n" + "\n".join(stops) + "\n",
        "routes.txt": f"route_id,agency_id,route_short_name,route_type\nL,A,L,{route_type}\n",
        "trips.txt": "\n".join(trips) + "\n", "stop_times.txt": "\n".join(times) + "\n",
        "calendar_dates.txt": "service_id,date,exception_type\nD,20250617,1\n",
    }
    return f"{name}={write_feed(tmp / name, files)}"


def _specs(tmp):
    return [_feed(tmp, "bus", 3, [_stop("B", "Bus west", 21), _stop("B2", "Bus north", 23)]),
            _feed(tmp, "rail", 2, [_stop("R1", "Rail one", 42), _stop("R2", "Rail two", 44)])]


def _analyse(tmp, osm, **kw):
    net = build_network(read_feeds(_specs(tmp), config=CFG), DATE, osm=osm, config=CFG, cache_dir=tmp / "cache")
    box = (LON0 - 0.002, -0.002, LON0 + 0.011, 0.005)  # the whole map (the cut walk network ends at x = 5)
    return analyse_transfers(net, departure_s=8 * 3600, window_min=60, nearest_per_mode=0, osm=osm, bbox=box, **kw)


def _pair(res, a="bus:B", b="rail:R1") -> dict:
    p = res.pairs
    hit = p[(p["from_station"] == a) & (p["to_station"] == b)]
    assert len(hit) == 1
    return hit.iloc[0].to_dict()


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("transfers_areas")
    osm = _write_xml(tmp / "hand.osm")
    cut = tmp / "cut.osm"  # the hall's only footway (205) closed to walkers: hall and platforms an island
    cut.write_text(osm.read_text().replace('<way id="205">', '<way id="205"><tag k="foot" v="no"/>'))
    return tmp, osm, cut


def test_walk_through_square_hall_and_platform_equals_hand_reference(hand):
    tmp, osm, _cut = hand
    r = _pair(_analyse(tmp / "ok", osm))
    assert r["walk_method"] == "street"
    assert r["walk_m"] == pytest.approx(HAND_WALK_M, abs=0.01)
    assert not r["data_check"] and r["data_issues"] == ""


def test_unlinked_station_is_named_and_an_artefact_gets_no_connector(hand):
    tmp, _osm, cut = hand
    res = _analyse(tmp / "cut", cut)
    r = _pair(res)
    # the rail stop is 559 m from the nearest kept walk node (over snap_max_m): straight line x 1.3
    assert r["walk_method"] == "straight_line"
    assert "station hall way/300 and 2 platform(s) touch no walkable way" in r["data_issues"]
    assert not r["data_check"]        # a missing link, but no long detour: noted, not set apart
    # a standard that calls every walk over 1.2 x the straight line an artefact, and every walk poor
    std = TransferStandard(good_max_m=10, acceptable_max_m=20, poor_max_m=30, data_detour_ratio=1.2,
                           connector_max_m=1000)
    flagged = _analyse(tmp / "cut2", cut, standard=std)
    r = _pair(flagged)
    assert r["data_check"] and r["data_issues"].startswith("walk 1.3 x the straight line (>= 1.2)")
    assert r["fails"] and flagged.summary()["failing"] < flagged.summary()["pairs"]
    assert r["pair_id"] not in set(flagged.suggestions["pair_id"])
    assert flagged.pairs["data_check"].iloc[-1]  # ranked after every trusted pair
    trusted = _analyse(tmp / "cut3", cut, standard=std, trust_walks=True)
    assert trusted.params["trust_walks"] and not flagged.params["trust_walks"]


def test_observed_walks_override_and_are_never_flagged(hand):
    tmp, osm, _cut = hand
    csv = tmp / "observed.csv"
    csv.write_text("from_stop_id,to_stop_id,walk_s,source\nrail:R1,B,400,survey 2025-06\nB,R1,500,survey 2025-07\n")
    res = _analyse(tmp / "obs", osm, observed=csv)
    r = _pair(res)
    assert r["walk_method"] == "observed" and r["walk_min"] == pytest.approx(450 / 60)   # the mean of both rows
    assert r["walk_m"] == pytest.approx(450 * CFG.walk_speed_mps)
    assert r["walk_source"] == "survey 2025-06; survey 2025-07" and not r["data_check"]
    assert res.summary()["observed"] == 1


@pytest.mark.parametrize(("text", "where"), [
    ("from_stop_id,to_stop_id,source\nB,R1,x\n", "row 1: missing column(s) walk_s"),
    ("from_stop_id,to_stop_id,walk_s,source\nB,R1,90,x\nB,NOPE,60,x\n", "row 3: field 'to_stop_id': unknown stop"),
    ("from_stop_id,to_stop_id,walk_s,source\nB,R1,-5,x\n", "row 2: field 'walk_s': '-5' is not a positive"),
    ("from_stop_id,to_stop_id,walk_s,source\nB,R1,abc,x\n", "row 2: field 'walk_s'"),
    ("from_stop_id,to_stop_id,walk_s,source\nR1,rail:R1,60,x\n", "row 2: field 'to_stop_id': both stops"),
])
def test_bad_observed_file_names_file_row_field(hand, tmp_path, text, where):
    tmp, osm, _cut = hand
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    with pytest.raises(InputError) as err:
        _analyse(tmp / "bad", osm, observed=bad)
    assert err.value.code == "invalid_observed_walks" and f"{bad}: {where}" in err.value.message


def test_cli_lists_artefacts_apart_and_rejects_bad_observed_with_exit_2(hand, tmp_path):
    tmp, _osm, cut = hand
    std = tmp_path / "std.yaml"
    std.write_text("good_max_m: 10\nacceptable_max_m: 20\npoor_max_m: 30\ndata_detour_ratio: 1.2\n")
    args = ["transfers", "--gtfs", _specs(tmp / "cli")[0].split("=", 1)[1], "--gtfs",
            _specs(tmp / "cli")[1].split("=", 1)[1], "--osm", str(cut), "--date", DATE, "--nearest", "0",
            "--standard", str(std), "--bbox", f"{LON0 - 0.002},-0.002,{LON0 + 0.011},0.005", "--maps", "0", "--cache-dir", str(tmp_path / "cache"), "-q"]
    r = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert "listed apart: check the map data" in r.output and "Check the map data (" in r.output
    csv = pd.read_csv(tmp_path / "out" / "transfers.csv", keep_default_na=False)
    assert {"data_check", "data_issues", "walk_source"} <= set(csv.columns)
    html = (tmp_path / "out" / "transfers.html").read_text(encoding="utf-8")
    assert "Check the map data" in html
    bad = tmp_path / "bad.csv"
    bad.write_text("from_stop_id,to_stop_id,walk_s,source\nB,R1,-1,x\n")
    r = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "out2"), "--observed", str(bad)])
    assert r.exit_code == 2 and "invalid_observed_walks" in r.output and "row 2: field 'walk_s'" in r.output
    assert "Traceback" not in r.output
