"""Several operators, the unified fare card and the public API's checks.

The search's fares equal the exact fares of the journeys it returns (priced by
``price_journey``) on random feeds with several agencies and GTFS Fares v1 files, with and
without a unified card; a hand-built two-operator case pins the card's rules down."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from planner.errors import ConfigError
from planner.ingest.gtfs import read_feed, read_feeds
from planner.network.fares import (
    FareParams,
    FareSystems,
    FlatTariff,
    RideLeg,
    TicketingPenalty,
    UnifiedCardPolicy,
    fare_systems_from_feeds,
    price_journey,
)
from planner.network.links import Footpaths
from planner.network.timetable import build_timetable
from planner.routing.fares import (
    FareModel,
    build_fare_model,
    card_change_s,
    generalized_minutes,
    pareto_arrivals,
    penalised_earliest_arrival,
    price_legs,
)
from planner.routing.raptor import INF
from planner.routing.tariff import tariff_from_arrays
from tests.conftest import GTFS_DATA, write_feed
from tests.fares_reference import random_fare_feed
from tests.raptor_reference import random_footpaths

POLICIES = {
    "separate": None,
    "card_free": UnifiedCardPolicy(),
    "card_discount": UnifiedCardPolicy(transfer_window_s=1800, max_transfers=1, transfer_fee=0.2, transfer_discount=1.0),
    "card_keep_cap": UnifiedCardPolicy(tariff="keep", fare_cap=4.0),
    "card_partial": UnifiedCardPolicy(systems=("r:A0",), transfer_fee=0.1),
}


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "policy"), [(s, p) for s in range(8) for p in POLICIES])
def test_search_fares_equal_exact_journey_fares(seed, policy, tmp_path):
    rng = np.random.default_rng(seed)
    files = random_fare_feed(rng, n_stops=int(rng.integers(6, 11)), n_routes=int(rng.integers(3, 6)),
                             n_agencies=int(rng.integers(2, 4)))
    feed = read_feed(write_feed(tmp_path / f"m{seed}", files), feed_id="r")
    fares = fare_systems_from_feeds(feed, split="agency")
    assert len(fares) >= 2 and fares.currency == "CNY"
    tt = build_timetable(feed, "2024-01-02")
    fp = Footpaths.from_pairs(tt.n_stops, *random_footpaths(rng, tt.n_stops, p=0.3))
    change = rng.integers(0, 120, size=tt.n_stops).astype(np.int32)
    model = build_fare_model(tt, fares, params=FareParams(), policy=POLICIES[policy])
    assert model.tariff.exact, model.tariff.notes
    n = 0
    for _q in range(4):
        origin = int(rng.integers(0, tt.n_stops))
        dep = int(rng.integers(7 * 3600, 8 * 3600))
        res = pareto_arrivals(tt, fp, change, [origin], [0], dep, model, max_rounds=4)
        for i in range(len(res)):
            legs = res.journey(i, tt, fp, [origin], [0])
            priced = price_legs(tt, legs, model)
            assert priced.fare_minor == res.fare_minor[i], (i, priced)
            n += 1
    assert n > 10


def test_card_removes_penalties_and_never_costs_time(tmp_path):
    rng = np.random.default_rng(11)
    feed = read_feed(write_feed(tmp_path / "c", random_fare_feed(rng, n_stops=10, n_routes=6, n_agencies=3)),
                     feed_id="r")
    fares = fare_systems_from_feeds(feed, split="agency")
    tt = build_timetable(feed, "2024-01-02")
    fp = Footpaths.from_pairs(tt.n_stops, *random_footpaths(rng, tt.n_stops, p=0.3))
    params = FareParams(penalty=TicketingPenalty(default_s=300, by_mode={}))
    sep = build_fare_model(tt, fares, params=params)
    card = build_fare_model(tt, fares, params=params, policy=UnifiedCardPolicy())
    kept = build_fare_model(tt, fares, params=params, policy=UnifiedCardPolicy(penalty_modes_kept=("metro",)))
    assert (sep.tariff.pattern_penalty_s == 300).all() and (card.tariff.pattern_penalty_s == 0).all()
    metro = tt.mode_names() == "metro"
    assert (kept.tariff.pattern_penalty_s[metro] == 300).all() and (kept.tariff.pattern_penalty_s[~metro] == 0).all()
    assert set(card.tariff.gate_ids) == {"card"}
    better = 0
    for origin in range(tt.n_stops):
        a = penalised_earliest_arrival(tt, fp, 60, [origin], [0], 7 * 3600, sep, max_rounds=4).best
        b = penalised_earliest_arrival(tt, fp, 60, [origin], [0], 7 * 3600, card, max_rounds=4).best
        assert (b <= a).all()
        better += int((b < a).sum())
    assert better > 0


# --------------------------------------------------------------------------------------
# a hand-built two-operator journey
# --------------------------------------------------------------------------------------

TWO_OPS = {
    "agency.txt": ("agency_id,agency_name,agency_url,agency_timezone\n"
                   "BUS,Bus,https://b.example,Asia/Shanghai\nMET,Metro,https://m.example,Asia/Shanghai\n"),
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nH,Home,45.70,126.60\nX,Exchange,45.71,126.61\nW,Work,45.72,126.62\n",
    "routes.txt": "route_id,agency_id,route_short_name,route_type\nB1,BUS,1,3\nM1,MET,M,1\n",
    "trips.txt": "route_id,service_id,trip_id\nB1,D,b1\nM1,D,m1\nM1,D,m2\n",
    "stop_times.txt": ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                       "b1,08:00:00,08:00:00,H,1\nb1,08:10:00,08:10:00,X,2\n"
                       "m1,08:12:00,08:12:00,X,1\nm1,08:20:00,08:20:00,W,2\n"
                       "m2,08:30:00,08:30:00,X,1\nm2,08:38:00,08:38:00,W,2\n"),
    "calendar_dates.txt": "service_id,date,exception_type\nD,20240102,1\n",
    "fare_attributes.txt": ("fare_id,price,currency_type,payment_method,transfers,agency_id\n"
                            "bus,1.00,CNY,0,0,BUS\nmetro,2.00,CNY,0,0,MET\n"),
}


@pytest.fixture
def two_ops(tmp_path):
    feed = read_feed(write_feed(tmp_path / "two", TWO_OPS), feed_id="t")
    fares = fare_systems_from_feeds(feed, split="agency")
    tt = build_timetable(feed, "2024-01-02")
    return feed, fares, tt


def test_card_rules_on_a_bus_metro_journey(two_ops):
    _feed, fares, _tt = two_ops
    assert sorted(s.system_id for s in fares) == ["t:BUS", "t:MET"]
    bus = RideLeg("t:B1", "t:H", "t:X", 8 * 3600, 8 * 3600 + 600)
    metro = RideLeg("t:M1", "t:X", "t:W", 8 * 3600 + 720, 8 * 3600 + 1200)
    late_metro = RideLeg("t:M1", "t:X", "t:W", 8 * 3600 + 6000, 8 * 3600 + 6500)
    journey = [bus, metro]
    sep = price_journey(journey, fares)
    assert sep.fare == pytest.approx(3.00) and sep.by_system == {"t:BUS": 100, "t:MET": 200}
    assert price_journey(journey, fares, UnifiedCardPolicy()).fare == pytest.approx(1.00)
    assert price_journey(journey, fares, UnifiedCardPolicy(transfer_discount=0.5)).fare == pytest.approx(2.50)
    assert price_journey(journey, fares, UnifiedCardPolicy(transfer_fee=0.2)).fare == pytest.approx(1.20)
    assert price_journey(journey, fares, UnifiedCardPolicy(max_transfers=0)).fare == pytest.approx(3.00)
    assert price_journey([bus, late_metro], fares, UnifiedCardPolicy()).fare == pytest.approx(3.00)
    capped = price_journey(journey, fares, UnifiedCardPolicy(tariff="keep", fare_cap=2.5))
    assert capped.fare == pytest.approx(2.50) and capped.capped_minor == 50
    only_bus = price_journey(journey, fares, UnifiedCardPolicy(systems=("t:BUS",), fare_cap=0.5))
    assert only_bus.fare == pytest.approx(2.50)  # the cap covers the bus only


def test_card_penalty_and_connection_time_effects_apart(two_ops):
    """The metro's ticketing penalty makes the 08:12 connection miss; the card removes it;
    the card's connection time is reported by a separate change-time array."""
    _feed, fares, tt = two_ops
    fp = Footpaths.empty(tt.n_stops)
    params = FareParams(penalty=TicketingPenalty(default_s=0, by_mode={"metro": 180}, first_boarding=False))
    home, work = (int(np.flatnonzero(tt.stop_ids == f"t:{s}")[0]) for s in ("H", "W"))
    sep = build_fare_model(tt, fares, params=params)
    card = build_fare_model(tt, fares, params=params, policy=UnifiedCardPolicy(change_s=150))
    t_sep = penalised_earliest_arrival(tt, fp, 60, [home], [0], 7 * 3600 + 3000, sep).best[work]
    t_card = penalised_earliest_arrival(tt, fp, 60, [home], [0], 7 * 3600 + 3000, card).best[work]
    assert t_sep == 8 * 3600 + 38 * 60 and t_card == 8 * 3600 + 20 * 60
    slower = card_change_s(tt, card, 60)
    assert (slower == 150).all() and (card_change_s(tt, sep, 60) == 60).all()
    t_card_slow = penalised_earliest_arrival(tt, fp, slower, [home], [0], 7 * 3600 + 3000, card).best[work]
    assert t_card_slow == 8 * 3600 + 38 * 60
    # the search with fares: separate 08:38 for 3.00 (and nothing cheaper); the card 08:20 for 1.00
    res = pareto_arrivals(tt, fp, 60, [home], [0], 7 * 3600 + 3000, build_fare_model(
        tt, fares, params=FareParams(penalty=params.penalty, value_of_time_per_h=30.0, transfer_penalty_min=5.0),
        policy=UnifiedCardPolicy()))
    row = res.table(tt).query("stop == @work").iloc[0]
    assert (row.arrival_s, row.fare, row.n_transfers) == (8 * 3600 + 1200, 1.0, 1)
    assert row.generalized_min == pytest.approx(row.travel_time_min + 2.0 + 5.0)


# --------------------------------------------------------------------------------------
# API checks
# --------------------------------------------------------------------------------------


def test_mixed_currencies_are_refused():
    feeds = read_feeds([GTFS_DATA / "caltrain_2009_gtfs.zip", GTFS_DATA / "helsinki_gtfs_2022.zip"])
    with pytest.raises(ConfigError, match="different currencies") as err:
        fare_systems_from_feeds(feeds)
    assert err.value.code == "fare_mixed_currencies"


def test_bad_parameters_name_the_field(two_ops):
    feed, fares, tt = two_ops
    with pytest.raises(ConfigError, match="unknown fare systems"):
        UnifiedCardPolicy(systems=("nope",)).card_systems(fares)
    with pytest.raises(ConfigError, match=r"tariff must be.*transfer_fee must not be negative") as err:
        UnifiedCardPolicy(tariff="cheap", transfer_fee=-1)
    assert err.value.code == "invalid_fare_policy"
    with pytest.raises(ConfigError, match="value_of_time_per_h"):
        FareParams(value_of_time_per_h=0)
    with pytest.raises(ConfigError, match="ticketing penalties"):
        TicketingPenalty(by_mode={"bus": -5})
    with pytest.raises(ConfigError, match="split must be"):
        fare_systems_from_feeds(feed, split="mode")
    with pytest.raises(ConfigError, match="unknown feed"):
        fare_systems_from_feeds(feed, flat={"other": FlatTariff(2.0, "CNY")})
    with pytest.raises(ConfigError, match="has id"):
        FareSystems({"a": fares["t:BUS"]})
    twin = replace(fares["t:BUS"], system_id="twin")
    with pytest.raises(ConfigError, match="two fare systems"):
        FareSystems({"t:BUS": fares["t:BUS"], "twin": twin})
    other = build_timetable(read_feed(GTFS_DATA / "google_sample_gtfs.zip"), "2008-06-02")
    with pytest.raises(ConfigError, match="fare model is for") as err:
        penalised_earliest_arrival(other, Footpaths.empty(other.n_stops), 60, [0], [0], 8 * 3600,
                                   FareModel(tariff_from_arrays(tt), FareParams()))
    assert err.value.code == "fare_model_mismatch"


def test_flat_tariff_and_systems_without_fares(two_ops, tmp_path):
    feed, _fares, tt = two_ops
    flat = fare_systems_from_feeds(feed, flat={"t": FlatTariff(2.0, "CNY", transfer_window_s=3600)})
    legs = [RideLeg("t:B1", "t:H", "t:X", 8 * 3600, 8 * 3600 + 600), RideLeg("t:M1", "t:X", "t:W", 8 * 3600 + 720, 8 * 3600 + 1200)]
    assert price_journey(legs, flat).fare == pytest.approx(2.0)
    files = {k: v for k, v in TWO_OPS.items() if k != "fare_attributes.txt"}
    bare = fare_systems_from_feeds(read_feed(write_feed(tmp_path / "bare", files), feed_id="t"))
    assert bare.summary()["kind"].tolist() == ["none"] and any("no fare data" in n for n in bare.notes)
    got = price_journey(legs, bare)
    assert np.isnan(got.fare) and got.unpriced_legs == (0, 1)
    model = build_fare_model(tt, bare)
    res = pareto_arrivals(tt, Footpaths.empty(tt.n_stops), 60, [0], [0], 7 * 3600, model)
    table = res.table(tt)
    assert table.loc[table["n_trips"] > 0, "fare"].isna().all()


def test_split_by_mode_gives_one_system_per_group():
    feed = read_feed(GTFS_DATA / "helsinki_gtfs_2022.zip")
    fares = fare_systems_from_feeds(feed, contains="subset")
    split = fares.split_by_mode(feed.feed_id, {"rail": ["rail", "metro"]})
    ids = sorted(s.system_id for s in split)
    assert ids == [f"{feed.feed_id}/{m}" for m in ("bus", "ferry", "rail", "tram")]
    assert sum(len(s.routes) for s in split) == len(fares[feed.feed_id].routes)
    assert split.system_of(f"{feed.feed_id}:1001") == f"{feed.feed_id}/tram"


def test_generalized_minutes_and_table_columns(two_ops):
    _feed, fares, tt = two_ops
    assert np.isnan(generalized_minutes([10.0], [2.0], [1], None)).all()
    assert generalized_minutes([10.0], [3.0], [2], 60.0, 4.0)[0] == pytest.approx(10 + 3 + 8)
    res = pareto_arrivals(tt, Footpaths.empty(tt.n_stops), 60, [0], [0], 7 * 3600, build_fare_model(tt, fares))
    table = res.table(tt)
    assert list(table.columns) == ["stop", "stop_id", "arrival_s", "travel_time_min", "fare", "currency", "n_trips",
                                   "n_transfers", "generalized_min"]
    assert table["currency"].eq("CNY").all() and isinstance(table, pd.DataFrame)
    assert (table["arrival_s"] < INF).all()
