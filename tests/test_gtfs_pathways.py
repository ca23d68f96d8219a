"""GTFS pathways.txt and levels.txt (issue 19): transfer times inside a station are the
hand-summed traversal times, and bad pathways get the validator's notices.

The station P holds a metro platform M (level -1) and a rail platform R (level 1); between
them (pathway_id: from -> to, mode, both ways?, traversal_time):

    PW1  M  -> N1  stairs     both ways  60 s
    PW2  M  -> N1  escalator  up only    40 s
    PW3  N1 -> N2  walkway    both ways  90 s   (length 120 m)
    PW4  N2 -> R   elevator   both ways  75 s
    PW5  E  -> N1  walkway    both ways  30 s   (E: the street entrance)

By hand: metro to rail = escalator 40 + walkway 90 + elevator 75 = 205 s; rail to metro =
elevator 75 + walkway 90 + stairs 60 = 225 s (the escalator only runs up).
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from planner.analyses.transfers.analysis import analyse_transfers
from planner.cli.main import main
from planner.common.geodesy import haversine_m
from planner.config import Config
from planner.ingest.gtfs import read_feeds
from planner.network.build import build_network
from tests.conftest import write_feed

CFG = Config(progress=False)

STOPS = """stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,level_id
P,Central,45.7600,126.6250,1,,
E,Central entrance,45.7602,126.6250,2,P,L0
N1,Central hall,45.7601,126.6251,3,P,L0
N2,Central gallery,45.7600,126.6253,3,P,L0
M,Central metro,45.7599,126.6249,0,P,Lm1
R,Central rail,45.7598,126.6254,0,P,L1
M2,Bridge,45.7700,126.6400,0,,
R2,Castle,45.7800,126.6550,0,,
"""
LEVELS = "level_id,level_index,level_name\nLm1,-1,metro\nL0,0,street\nL1,1,rail\n"
PATHWAYS = """pathway_id,from_stop_id,to_stop_id,pathway_mode,is_bidirectional,length,traversal_time
PW1,M,N1,2,1,,60
PW2,M,N1,4,0,,40
PW3,N1,N2,1,1,120,90
PW4,N2,R,5,1,,75
PW5,E,N1,1,1,,30
"""


def _files(pathways: str = PATHWAYS) -> dict[str, str]:
    trips, times = ["route_id,service_id,trip_id"], ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"]
    k = 0
    for route, stops in (("MET", ("M", "M2")), ("RAIL", ("R", "R2"))):
        for t0 in range(7 * 3600, 10 * 3600, 900):
            trips.append(f"{route},D,t{k}")
            for j, s in enumerate(stops):
                t = t0 + 300 * j
                times.append(f"t{k},{t // 3600:02d}:{t % 3600 // 60:02d}:00,{t // 3600:02d}:{t % 3600 // 60:02d}:00,{s},{j + 1}")
            k += 1
    return {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nA,Agency,https://a.example,Asia/Shanghai\n",
        "stops.txt": STOPS, "levels.txt": LEVELS, "pathways.txt": pathways,
        "routes.txt": "route_id,agency_id,route_short_name,route_type\nMET,A,1,1\nRAIL,A,R,2\n",
        "trips.txt": "\n".join(trips) + "\n", "stop_times.txt": "\n".join(times) + "\n",
        "calendar_dates.txt": "service_id,date,exception_type\nD,20250617,1\n",
    }


def test_transfer_times_are_the_hand_summed_traversal_times(tmp_path):
    feed = write_feed(tmp_path / "pw", _files())
    net = build_network(read_feeds([f"pw={feed}"], config=CFG), "2025-06-17", config=CFG, cache_dir=tmp_path / "c")
    res = analyse_transfers(net, departure_s=8 * 3600, window_min=60, nearest_per_mode=0)
    p = res.pairs
    pair = p[p["found_by"].str.contains("parent")]
    assert len(pair) == 2 and set(pair["walk_method"]) == {"pathways"}
    by_from = {r["from_mode"]: r for r in pair.to_dict("records")}
    assert by_from["metro"]["walk_min"] * 60 == pytest.approx(40 + 90 + 75)   # escalator up
    assert by_from["rail"]["walk_min"] * 60 == pytest.approx(75 + 90 + 60)    # stairs down
    # metres: the walkway's length; the escalator and the elevator, without a length, by the
    # straight line between their ends
    m_n1 = float(haversine_m(45.7599, 126.6249, 45.7601, 126.6251))
    n2_r = float(haversine_m(45.7600, 126.6253, 45.7598, 126.6254))
    assert by_from["metro"]["walk_m"] == pytest.approx(m_n1 + 120 + n2_r)
    assert not by_from["metro"]["data_check"]
    # drawn along the pathway's nodes: M, N1, N2, R
    walk = res.walks[int(by_from["metro"]["pair_id"][1:]) - 1]
    assert [(round(x, 4), round(y, 4)) for x, y in walk.coords] == [
        (126.6249, 45.7599), (126.6251, 45.7601), (126.6253, 45.76), (126.6254, 45.7598)]
    # the network's footpaths between the two platforms are the same sums (routing uses them)
    from planner.network.export import footpaths_table

    fp = footpaths_table(net).set_index(["from_stop_id", "to_stop_id"])
    assert fp.loc[("pw:M", "pw:R"), "walk_s"] == 205 and fp.loc[("pw:R", "pw:M"), "walk_s"] == 225
    assert fp.loc[("pw:M", "pw:R"), "method"] == "pathways"


@pytest.mark.parametrize(("bad", "code"), [
    ("PW9,M,NOWHERE,1,1,,30\n", "foreign_key_violation"),              # a pathway to an unknown stop
    ("PW9,N1,N2,1,1,,-5\n", "number_out_of_range"),                    # a negative traversal time
    ("PW9,N1,N2,2,1,,20\n", "pathway_level_mismatch"),                 # stairs that stay on level 0
    ("PW9,P,N1,1,1,,20\n", "pathway_to_wrong_location_type"),          # a pathway to the station itself
])
def test_bad_pathways_are_noticed_and_fatal_under_strict(tmp_path, bad, code):
    feed = write_feed(tmp_path / "bad", _files(PATHWAYS + bad))
    r = CliRunner().invoke(main, ["gtfs", "check", str(feed)])
    assert r.exit_code == 0, r.output
    assert code in r.output and "pathways.txt" in r.output
    r = CliRunner().invoke(main, ["gtfs", "check", "--strict", str(feed)])
    assert r.exit_code == 2, r.output
    assert code in r.output and "Traceback" not in r.output
