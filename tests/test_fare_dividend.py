"""The card's dividend (planner.analyses.fare_card.dividend): a hand-built metro + high-speed rail change
whose every minute and yuan is known, the two effects apart, budgets, the raster part, the
work split, the OD-table fare system and the scenario's fare_policy mapping."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from planner.analyses.fare_card.dividend import DividendParams, fare_dividend
from planner.config import Config
from planner.errors import ScenarioError
from planner.ingest.gtfs import read_feed, read_feeds
from planner.kernels.fare_raptor import UNLIMITED
from planner.network.build import build_network
from planner.network.fares import FareParams, FlatTariff, UnifiedCardPolicy, fare_systems_from_feeds
from planner.network.fares.sample import FareSetup, station_count_fares
from planner.network.fares.systems import OdTableFares
from planner.network.links import Footpaths
from planner.network.timetable import build_timetable
from planner.routing.fares import (
    budget_arrivals_many,
    build_fare_model,
    pareto_arrivals,
    price_legs,
)
from planner.scenarios.fare_policy import card_policy
from planner.scenarios.spec import FarePolicy, load_scenario
from tests.conftest import write_feed
from tests.fares_reference import random_fare_feed
from tests.raptor_reference import random_footpaths

# One feed, two operators sharing the interchange X: metro M1 -> X (10 min, every 10 min
# from 07:10), high-speed rail X -> R2 (40 min) at 07:21:30, 07:26 and 07:40.
# Leaving M1 at 07:05 the metro reaches X at 07:20. Change time 120 s, HSR ticketing
# penalty 600 s (first boarding free):
#   separate:  ready 07:32 -> 07:40 train -> R2 08:20  (75 min)
#   ticketing: ready 07:22 -> 07:26 train -> R2 08:06  (61 min): 14 min saved
#   card:      change_s 30 s: ready 07:20:30 -> 07:21:30 train -> 08:01:30 (56.5 min): 4.5 min more
# Fares: metro flat 2, rail flat 10 -> 12 separate; the card's connecting ride gets 2 off -> 10.


def _hms(t: int) -> str:
    return f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"


CHANGE = {
    "agency.txt": ("agency_id,agency_name,agency_url,agency_timezone\n"
                   "MET,Metro,https://m.example,Asia/Shanghai\nHSR,Rail,https://r.example,Asia/Shanghai\n"),
    "stops.txt": ("stop_id,stop_name,stop_lat,stop_lon\nM1,Suburb,45.70,126.60\nX,Interchange,45.75,126.65\n"
                  "R2,Far City,46.20,127.10\n"),
    "routes.txt": "route_id,agency_id,route_short_name,route_type\nM,MET,M,1\nR,HSR,G,101\n",
    "trips.txt": "route_id,service_id,trip_id\n" + "".join(f"M,D,m{i}\n" for i in range(6)) + "R,D,r0\nR,D,r1\nR,D,r2\n",
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n" + "".join(
        f"m{i},{_hms(t)},{_hms(t)},M1,1\nm{i},{_hms(t + 600)},{_hms(t + 600)},X,2\n"
        for i, t in enumerate(range(7 * 3600 + 600, 8 * 3600 + 600, 600))) + (
        "r0,07:21:30,07:21:30,X,1\nr0,08:01:30,08:01:30,R2,2\n"
        "r1,07:26:00,07:26:00,X,1\nr1,08:06:00,08:06:00,R2,2\n"
        "r2,07:40:00,07:40:00,X,1\nr2,08:20:00,08:20:00,R2,2\n"),
    "calendar.txt": ("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
                     "D,1,1,1,1,1,1,1,20240101,20241231\n"),
}
DATE = "2024-01-02"


@pytest.fixture(scope="module")
def change_net(tmp_path_factory):
    path = write_feed(tmp_path_factory.mktemp("chg") / "f", CHANGE)
    feeds = read_feeds([f"f={path}"])
    net = build_network(feeds, DATE, window=(0, 36 * 3600), config=Config())
    fares = fare_systems_from_feeds(feeds, flat={"f": FlatTariff(2.0, "CNY", transfer_window_s=3600)})
    # the feed is one operator per mode here: the metro and the railway have their own system
    fares = fares.split_by_mode("f")
    flat_rail = replace(fares["f/high_speed_rail"], price_minor=1000)
    systems = {**fares.systems, "f/high_speed_rail": flat_rail}
    fares = type(fares)(systems, dict(fares.route_mode), list(fares.notes))
    places = pd.DataFrame({"id": ["suburb", "far"], "name": ["Suburb", "Far City"], "lon": [126.60, 127.10],
                           "lat": [45.70, 46.20], "population": [1000.0, 2000.0], "stop_id": ["f:M1", "f:R2"]})
    return net, FareSetup(fares), places


CARD = UnifiedCardPolicy(transfer_window_s=UNLIMITED, transfer_discount=2.0, change_s=30)
PARAMS = DividendParams(departure_s=7 * 3600 + 300, window_min=0, budgets=(11.0, 20.0), value_of_time_per_h=60.0)


def test_the_two_effects_apart_and_the_fares(change_net):
    net, setup, places = change_net
    res = fare_dividend(net, setup, CARD, places, params=PARAMS)
    row = res.od.set_index(["from_id", "to_id"]).loc[("suburb", "far")]
    assert row["separate_time_min"] == pytest.approx(75.0)
    assert row["ticketing_time_min"] == pytest.approx(61.0)
    assert row["card_time_min"] == pytest.approx(56.5)
    assert row["time_saved_min"] == pytest.approx(18.5)
    assert row["time_saved_ticketing_min"] == pytest.approx(14.0)
    assert row["time_saved_connection_min"] == pytest.approx(4.5)
    assert row["separate_fare"] == pytest.approx(12.0) and row["card_fare"] == pytest.approx(10.0)
    assert row["fare_change"] == pytest.approx(-2.0)
    assert row["separate_penalty_min"] == pytest.approx(10.0) and row["card_penalty_min"] == 0.0
    assert row["separate_transfers"] == 1 and row["card_transfers"] == 1
    # generalized: minutes + fare * 60 / 60 per hour
    assert row["separate_generalized_min"] == pytest.approx(75.0 + 12.0)
    assert row["card_generalized_min"] == pytest.approx(56.5 + 10.0)
    assert row["separate_operators"] == row["card_operators"] == "f/high_speed_rail+f/metro"
    assert row["mix_changed_share"] == 0.0
    # within 11 CNY only the card's journey fits; within 20 both
    assert np.isnan(row["separate_time_at_11_min"]) and np.isnan(row["time_saved_at_11_min"])
    assert row["separate_time_at_20_min"] == pytest.approx(75.0)
    assert row["card_time_at_20_min"] == pytest.approx(56.5)
    back = res.od.set_index(["from_id", "to_id"]).loc[("far", "suburb")]
    assert back["departures"] == 0 and np.isnan(back["time_saved_min"])
    s = res.summary
    assert s["pairs"] == 2 and s["pairs_reached"] == 1
    assert s["pop_weighted_time_saved_min"] == pytest.approx(18.5)
    assert s["time_saved_ticketing_min"] + s["time_saved_connection_min"] == pytest.approx(18.5)
    assert res.distribution.set_index("minutes_saved").loc["10-20", "journeys"] == 1
    top = res.per_place.iloc[0]
    assert top["pairs_faster"] == 1 and top["mean_time_saved_min"] == pytest.approx(18.5)


def test_budget_times_equal_budget_arrivals_many(change_net):
    net, setup, places = change_net
    tt = net.timetable
    params = replace(PARAMS, budgets=(11.0, 12.0, 20.0))
    res = fare_dividend(net, setup, replace(CARD, change_s=None), places, params=params)
    m1, r2 = net.stop_index("f:M1"), net.stop_index("f:R2")
    for v, policy in ((0, None), (2, replace(CARD, change_s=None))):
        model = build_fare_model(tt, setup.fares, params=params.fare_params(), policy=policy)
        at = budget_arrivals_many(tt, net.footpaths, net.change_s, [0, 1], [m1], [0], [params.departure_s], model,
                                  params.budgets, max_rounds=params.max_rounds, max_duration_s=params.max_duration_s)
        for b in range(3):
            want = at[0, b, r2] - params.departure_s if at[0, b, r2] < 2_000_000_000 else np.nan
            got = res.raw[0, v, 0, 1, 9 + b]
            assert (np.isnan(want) and np.isnan(got)) or got == want, (v, b, got, want)


def test_work_split_gives_the_same_numbers(change_net):
    from planner.routing.execution import DaskExecutor

    net, setup, places = change_net
    params = replace(PARAMS, window_min=30, step_min=5)
    one = fare_dividend(net, setup, CARD, places, params=params, chunk=1)
    auto = fare_dividend(net, setup, CARD, places, params=params)
    assert np.array_equal(one.raw, auto.raw, equal_nan=True)
    pd.testing.assert_frame_equal(one.od, auto.od)
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
        on_dask = fare_dividend(net, setup, CARD, places, params=params, executor=DaskExecutor(client), chunk=1)
    assert np.array_equal(one.raw, on_dask.raw, equal_nan=True)


def test_raster_part_counts_the_card_s_gain(change_net):
    from planner.analyses.access.fare_access import fare_access
    from planner.analyses.access.grid import make_grid, opportunities_from_points, transform_xy

    net, setup, _places = change_net
    grid = make_grid(500.0, bbox=(126.595, 45.6975, 126.605, 45.7025))
    x, y = transform_xy("EPSG:4326", grid.crs, [127.10], [46.20])
    layer = opportunities_from_points("population", x, y, [2000.0], grid, unit="people")
    params = replace(PARAMS, departure_s=7 * 3600)  # walk to M1, the 07:10 metro, then 80 / 66 min
    res = fare_access(net, setup, replace(CARD, change_s=None), grid, [layer], params=params, time_cutoffs_min=(70,),
                      fare_cutoffs=(11.0, 20.0), max_snap_m=1e9, local_egress=False)
    names = [b.name for b in res.bands]
    assert names == [f"population_70min_{f}CNY_{v}" for f in ("11", "20") for v in ("separate", "card", "change")]
    band = {b.name: b.values for b in res.bands}
    cell = grid.cell_index(*transform_xy("EPSG:4326", grid.crs, [126.60], [45.70]))[0]
    # from the cell at M1 (a short walk): 80 min separate, 66 min with the card
    assert band["population_70min_20CNY_separate"].ravel()[cell] == 0
    assert band["population_70min_20CNY_card"].ravel()[cell] == 2000
    assert band["population_70min_11CNY_card"].ravel()[cell] == 2000
    assert band["population_70min_20CNY_change"].ravel()[cell] == 2000


@pytest.mark.slow
def test_od_table_fares_are_exact_in_the_search(tmp_path):
    rng = np.random.default_rng(3)
    feed = read_feed(write_feed(tmp_path / "od", random_fare_feed(rng, n_stops=9, n_routes=4, n_agencies=2)),
                     feed_id="r")
    fares = fare_systems_from_feeds(feed, split="agency")
    sid = sorted(s.system_id for s in fares)[0]
    stops = [str(s) for s in feed.namespaced("stops")["stop_id"]]
    zone = {s: f"z{i % 4}" for i, s in enumerate(stops)}
    prices = {(a, b): 100 + 37 * ((ia * 5 + ib) % 7) for ia, a in enumerate(sorted(set(zone.values())))
              for ib, b in enumerate(sorted(set(zone.values())))}
    od = OdTableFares(sid, "od", fares.currency or "CNY", fares[sid].routes, stop_zone=zone, prices_minor=prices,
                      transfer_window_s=1800)
    fares = type(fares)({**fares.systems, sid: od}, dict(fares.route_mode))
    tt = build_timetable(feed, "2024-01-02")
    fp = Footpaths.from_pairs(tt.n_stops, *random_footpaths(rng, tt.n_stops, p=0.3))
    for policy in (None, UnifiedCardPolicy(transfer_discount=0.5)):
        model = build_fare_model(tt, fares, params=FareParams(), policy=policy)
        assert model.tariff.exact, model.tariff.notes
        n = 0
        for origin in range(0, tt.n_stops, 2):
            res = pareto_arrivals(tt, fp, 60, [origin], [0], 7 * 3600 + 600, model, max_rounds=4)
            for i in range(len(res)):
                legs = res.journey(i, tt, fp, [origin], [0])
                assert price_legs(tt, legs, model).fare_minor == res.fare_minor[i]
                n += 1
        assert n > 10


def test_station_count_fares(tmp_path):
    # a line A-B-C-D and a branch C-E; interchange C is one station with two platforms
    files = {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nM,Metro,https://m.example,Asia/Shanghai\n",
        "stops.txt": ("stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
                      "C,C,45.72,126.62,1,\nA,A,45.70,126.60,0,\nB,B,45.71,126.61,0,\nC1,C,45.72,126.62,0,C\n"
                      "C2,C,45.72,126.62,0,C\nD,D,45.73,126.63,0,\nE,E,45.74,126.60,0,\n"),
        "routes.txt": "route_id,agency_id,route_short_name,route_type\nL1,M,1,1\nL2,M,2,1\n",
        "trips.txt": "route_id,service_id,trip_id\nL1,D,t1\nL2,D,t2\n",
        "stop_times.txt": ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                           "t1,07:00:00,07:00:00,A,1\nt1,07:02:00,07:02:00,B,2\nt1,07:04:00,07:04:00,C1,3\n"
                           "t1,07:06:00,07:06:00,D,4\nt2,07:00:00,07:00:00,C2,1\nt2,07:03:00,07:03:00,E,2\n"),
        "calendar.txt": ("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
                         "D,1,1,1,1,1,1,1,20240101,20241231\n"),
    }
    feed = read_feed(write_feed(tmp_path / "m", files), feed_id="m")
    fares = station_count_fares(feed, "m", "Metro", frozenset({"m:L1", "m:L2"}), bands=((1, 2.0), (2, 3.0)))
    p = fares.prices_minor
    assert fares.stop_zone["m:C1"] == fares.stop_zone["m:C2"] == "m:C"
    assert p[("m:A", "m:B")] == 200           # one station
    assert p[("m:A", "m:C")] == 300           # two
    assert p[("m:A", "m:D")] == 400           # three: beyond the last band, +1 per 5 started
    assert p[("m:A", "m:E")] == 400           # A-B-C-E, the change at C counts none
    assert p[("m:D", "m:E")] == 300


def _scenario(tmp_path, body: str):
    p = tmp_path / "card.yaml"
    p.write_text("name: card\nchanges:\n  - fare_policy:\n" + body, encoding="utf-8")
    return p


def test_fare_policy_keys_map_onto_the_card(change_net, tmp_path):
    net, setup, _places = change_net
    scn = load_scenario(_scenario(tmp_path, (
        "      unified_card: true\n      operators: [Metro, f/high_speed_rail]\n      tariff: integrated\n"
        "      transfer_window_min: unlimited\n      max_transfers: 1\n      transfer_fee: 0.5\n"
        "      transfer_discount: full\n      fare_cap: 30\n      keep_penalty_modes: [bus]\n"
        "      min_connection_min: 1.5\n      transfer_penalty_min: 2\n")))
    (fp,) = scn.of_kind(FarePolicy)
    spec = card_policy(fp, setup.fares, net.load_feeds(), default_name=scn.name)
    pol = spec.policy
    assert pol.name == "card" and pol.systems == ("f/high_speed_rail", "f/metro")
    assert pol.transfer_window_s == UNLIMITED and pol.max_transfers == 1 and pol.transfer_fee == 0.5
    assert pol.transfer_discount is None and pol.fare_cap == 30.0 and pol.penalty_modes_kept == ("bus",)
    assert pol.change_s == 90 and pol.transfer_penalty_min == 2.0
    assert spec.operators == {"Metro": "f/metro", "f/high_speed_rail": "f/high_speed_rail"}


@pytest.mark.parametrize(("body", "line", "field", "words"), [
    ("      unified_card: true\n      operator: [Metro]\n", 5, "operator", "unknown field"),
    ("      unified_card: true\n      tariff: cheap\n", 5, "tariff", "integrated, keep"),
    ("      unified_card: true\n      transfer_discount: -1\n", 5, "transfer_discount", "between 0"),
    ("      unified_card: true\n      fare_cap: .inf\n", 5, "fare_cap", "between 0"),
    ("      unified_card: false\n", 4, "unified_card", "must be true"),
    ("      operators: [Metro]\n", 4, "fare_policy", "unified_card: true"),
    ("      unified_card: true\n      keep_penalty_modes: [hovercraft]\n", 5, "keep_penalty_modes", "unknown mode"),
])
def test_bad_fare_policy_names_file_line_and_field(tmp_path, body, line, field, words):
    p = _scenario(tmp_path, body)
    with pytest.raises(ScenarioError) as err:
        load_scenario(p)
    msg = str(err.value)
    assert f"{p}:{line}:" in msg and field in msg and words in msg, msg


def test_unknown_operator_names_file_and_line(change_net, tmp_path):
    net, setup, _places = change_net
    scn = load_scenario(_scenario(tmp_path, "      unified_card: true\n      operators: [Metro, Ferry Co]\n"))
    with pytest.raises(ScenarioError) as err:
        card_policy(scn.of_kind(FarePolicy)[0], setup.fares, net.load_feeds())
    msg = str(err.value)
    assert f"{scn.path}:5:" in msg and "Ferry Co" in msg and "Metro" in msg, msg


def test_chunk_rows_are_nan_for_an_origin_without_access(change_net):
    net, setup, places = change_net
    far = pd.concat([places, pd.DataFrame({"id": ["nowhere"], "name": ["Nowhere"], "lon": [100.0], "lat": [20.0],
                                           "population": [5.0], "stop_id": [""]})], ignore_index=True)
    res = fare_dividend(net, setup, CARD, far, params=PARAMS)
    assert np.isnan(res.raw[2]).all()
    assert res.od.set_index(["from_id", "to_id"]).loc[("suburb", "far"), "time_saved_min"] == pytest.approx(18.5)
