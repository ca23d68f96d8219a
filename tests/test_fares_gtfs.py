"""Fares on real fare data: every expected value is derived here from the fare files with
plain ``csv`` reading (Caltrain 2009 and 2017 zone fares, Helsinki's zone fares, the Google
sample feed's route fares, the bundled China rail feed's km marks), never from the code
under test."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from planner.ingest.gtfs import read_feed
from planner.network.fares import (
    CHINA_RAIL_SECOND_CLASS,
    FareParams,
    RideLeg,
    TicketingPenalty,
    fare_systems_from_feeds,
    price_journey,
)
from planner.network.links import Footpaths
from planner.network.timetable import build_timetable
from planner.routing.fares import build_fare_model, pareto_arrivals, price_legs, ride_legs
from planner.routing.itinerary import Leg
from tests.conftest import GTFS_DATA, write_feed

NO_PENALTY = FareParams(penalty=TicketingPenalty.none())
BUNDLED_RAIL = Path(__file__).parent.parent / "gtfs" / "northeast_rail.zip"


def _csv(zip_path: Path, name: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(zip_path) as zf:
        return list(csv.DictReader(io.TextIOWrapper(zf.open(name), encoding="utf-8-sig")))


def _rides(tt, rng, n, *, pattern_filter=None):
    """``n`` random direct rides (pattern, trip, board pos, alight pos) as itinerary legs."""
    legs = []
    pats = [p for p in range(tt.n_patterns) if pattern_filter is None or pattern_filter(p)]
    while len(legs) < n:
        p = int(rng.choice(pats))
        a0, a1 = tt.pattern_stops_ptr[p], tt.pattern_stops_ptr[p + 1]
        L = a1 - a0
        A, D = tt.pattern_trip_times(p)
        k = int(rng.integers(0, A.shape[0]))
        i, j = sorted(rng.choice(L, size=2, replace=False).tolist())
        stops = tt.pattern_stops[a0:a1]
        legs.append(Leg("ride", int(D[k, i]), int(A[k, j]), int(stops[i]), int(stops[j]), route=int(tt.pattern_route[p]),
                        pattern=p, trip=int(tt.pattern_trips_ptr[p] + k), board_pos=i, alight_pos=j))
    return legs


def _bare(stop_id: str) -> str:
    return stop_id.split(":", 1)[1]


# --------------------------------------------------------------------------------------
# Caltrain zone fares
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("zip_name", "date"), [("caltrain_2009_gtfs.zip", "2009-06-02"),
                                                ("caltrain_2017-07-24_gtfs.zip", "2017-07-25")])
def test_caltrain_fares_equal_the_published_zone_table(zip_name, date):
    path = GTFS_DATA / zip_name
    zone = {r["stop_id"]: r["zone_id"] for r in _csv(path, "stops.txt")}
    price = {r["fare_id"]: float(r["price"]) for r in _csv(path, "fare_attributes.txt")}
    table: dict[tuple[str, str, str], float] = {}
    for r in _csv(path, "fare_rules.txt"):
        table[(r["route_id"], r["origin_id"], r["destination_id"])] = price[r["fare_id"]]
    assert len({(o, d) for _r, o, d in table}) == 36  # 6 zones x 6 zones

    def expected(route, o_stop, d_stop):
        key = (route, zone[o_stop], zone[d_stop])
        return table[key] if key in table else table[("", zone[o_stop], zone[d_stop])]

    feed = read_feed(path)
    tt = build_timetable(feed, date)
    fares = fare_systems_from_feeds(feed)
    model = build_fare_model(tt, fares, params=NO_PENALTY)
    assert model.tariff.exact, model.tariff.notes
    rng = np.random.default_rng(1)
    pairs = set()
    for leg in _rides(tt, rng, 300):
        rl = ride_legs(tt, [leg])[0]
        want = expected(rl.route_id.split(":", 1)[1], _bare(rl.from_stop_id), _bare(rl.to_stop_id))
        assert price_journey([rl], fares).fare == pytest.approx(want)
        pairs.add((zone[_bare(rl.from_stop_id)], zone[_bare(rl.to_stop_id)]))
    assert len(pairs) >= 20
    # the search: the cheapest option at each station is the table's price, and every
    # option's journey costs its fare (one ticket across trains with a transfer included)
    fp = Footpaths.empty(tt.n_stops)
    n_checked = 0
    for origin in rng.choice(tt.n_stops, size=6, replace=False):
        res = pareto_arrivals(tt, fp, 120, [int(origin)], [0], 7 * 3600, model, max_rounds=3,
                              max_duration_s=4 * 3600)
        table_df = res.table(tt)
        for s, grp in table_df.groupby("stop"):
            if s == origin:
                continue
            o_id, d_id = _bare(tt.stop_ids[origin]), _bare(tt.stop_ids[s])
            want = table.get(("", zone[o_id], zone[d_id]), table.get(("Lo-129", zone[o_id], zone[d_id])))
            assert grp["fare"].min() == pytest.approx(want)
            n_checked += 1
        for i in range(len(res)):
            legs = res.journey(i, tt, fp, [int(origin)], [0])
            assert price_legs(tt, legs, model).fare_minor == res.fare_minor[i]
    assert n_checked > 30


def test_caltrain_2017_transfer_duration_limits_one_ticket():
    """Two trains on one ticket within 4 h (transfer_duration 14400); later, two tickets."""
    path = GTFS_DATA / "caltrain_2017-07-24_gtfs.zip"
    dur = {int(r["transfer_duration"]) for r in _csv(path, "fare_attributes.txt")}
    assert dur == {14400}
    feed = read_feed(path)
    fares = fare_systems_from_feeds(feed)
    zone = {r["stop_id"]: r["zone_id"] for r in _csv(path, "stops.txt")}
    price = {r["fare_id"]: float(r["price"]) for r in _csv(path, "fare_attributes.txt")}
    od = {(r["origin_id"], r["destination_id"]): price[r["fare_id"]] for r in _csv(path, "fare_rules.txt")}
    sf, mid, sj = "70011", "70141", "70261"  # zones 1, 2, 4
    ns = feed.feed_id + ":"

    def leg(a, b, dep, route="Lo-129"):
        return RideLeg(ns + route, ns + a, ns + b, dep, dep + 1800)

    one = price_journey([leg(sf, mid, 8 * 3600), leg(mid, sj, 8 * 3600 + 14400, "Bu-129")], fares)
    assert one.fare == pytest.approx(od[(zone[sf], zone[sj])])
    assert len(one.tickets) == 1
    two = price_journey([leg(sf, mid, 8 * 3600), leg(mid, sj, 8 * 3600 + 14401, "Bu-129")], fares)
    assert two.fare == pytest.approx(od[(zone[sf], zone[mid])] + od[(zone[mid], zone[sj])])


# --------------------------------------------------------------------------------------
# Helsinki zone tickets
# --------------------------------------------------------------------------------------


class _HslReference:
    """HSL's Fares v1 read with csv, interpreted as zone tickets (``contains_id``: the zones
    a ticket is valid in; a ticket covers a journey whose zones all lie within them), plus
    the route-specific and origin/destination rows."""

    def __init__(self, path: Path):
        self.zone = {r["stop_id"]: r["zone_id"] for r in _csv(path, "stops.txt")}
        self.fare = {r["fare_id"]: (float(r["price"]), r["transfers"], r["transfer_duration"])
                     for r in _csv(path, "fare_attributes.txt")}
        self.contains: dict[str, set[str]] = {}
        self.route_only: dict[str, set[str]] = {}
        self.od: dict[str, set[tuple[str, str, str]]] = {}
        for r in _csv(path, "fare_rules.txt"):
            if r["contains_id"] and not r["route_id"]:
                self.contains.setdefault(r["fare_id"], set()).add(r["contains_id"])
            elif r["route_id"] and not r["origin_id"] and not r["destination_id"]:
                self.route_only.setdefault(r["fare_id"], set()).add(r["route_id"])
            elif r["route_id"]:
                self.od.setdefault(r["fare_id"], set()).add((r["route_id"], r["origin_id"], r["destination_id"]))

    def single_ticket(self, legs: list[tuple[str, list[str], int]]) -> float | None:
        """legs: (route id, stop ids passed, departure)."""
        zones = {self.zone[s] for _r, stops, _d in legs for s in stops} - {""}
        routes = {r for r, _s, _d in legs}
        best = None
        for fid, (price, transfers, duration) in self.fare.items():
            if transfers != "" and len(legs) - 1 > int(transfers):
                continue
            if duration and any(d - legs[0][2] > int(duration) for _r, _s, d in legs[1:]):
                continue
            ok = (fid in self.contains and zones <= self.contains[fid]) or \
                 (fid in self.route_only and routes <= self.route_only[fid]) or \
                 (fid in self.od and any(len(routes) == 1 and r in routes and self.zone[legs[0][1][0]] == o
                                         and self.zone[legs[-1][1][-1]] == d for r, o, d in self.od[fid]))
            if ok and (best is None or price < best):
                best = price
        return best


def test_helsinki_fares_equal_the_zone_tickets():
    path = GTFS_DATA / "helsinki_gtfs_2022.zip"
    ref = _HslReference(path)
    feed = read_feed(path)
    tt = build_timetable(feed, "2022-02-22", window=(7 * 3600, 10 * 3600))
    fares = fare_systems_from_feeds(feed, contains="subset")
    rng = np.random.default_rng(3)

    def ref_leg(rl):
        return (rl.route_id.split(":", 1)[1], [_bare(s) for s in rl.passed], rl.dep_s)

    singles = _rides(tt, rng, 150)
    for leg in singles:
        rl = ride_legs(tt, [leg])[0]
        assert price_journey([rl], fares).fare == pytest.approx(ref.single_ticket([ref_leg(rl)]))
    # two rides: one ticket within its transfer_duration (80 min for AB), else two
    n_one = n_two = 0
    for _ in range(150):
        a, b = _rides(tt, rng, 2)
        if b.dep_s < a.arr_s:
            a, b = b, a
        if b.dep_s < a.arr_s:
            continue
        ra, rb = ride_legs(tt, [a, b])
        both = ref.single_ticket([ref_leg(ra), ref_leg(rb)])
        split = ref.single_ticket([ref_leg(ra)]) + ref.single_ticket([ref_leg(rb)])
        want = split if both is None else min(both, split)
        got = price_journey([ra, rb], fares)
        assert got.fare == pytest.approx(want)
        n_one += len(got.tickets) == 1
        n_two += len(got.tickets) == 2
    assert n_one > 10 and n_two > 10


def test_helsinki_exact_contains_reading_leaves_single_zone_rides_unpriced():
    """With the GTFS reference reading (zones passed == the rule's set) a ride within zone
    A matches no HSL fare (every set has two or more zones): fare NaN, leg unpriced."""
    path = GTFS_DATA / "helsinki_gtfs_2022.zip"
    feed = read_feed(path)
    fares = fare_systems_from_feeds(feed, contains="exact")
    zone = {r["stop_id"]: r["zone_id"] for r in _csv(path, "stops.txt")}
    a_stops = [s for s, z in zone.items() if z == "A"][:2]
    ns = feed.feed_id + ":"
    leg = RideLeg(ns + "1001", ns + a_stops[0], ns + a_stops[1], 8 * 3600, 8 * 3600 + 600)
    price = price_journey([leg], fares)
    assert np.isnan(price.fare) and price.unpriced_legs == (0,)
    both = RideLeg(ns + "1001", ns + a_stops[0], ns + next(s for s, z in zone.items() if z == "B"), 8 * 3600, 8 * 3600 + 600)
    assert price_journey([both], fares).fare == pytest.approx(2.8)


# --------------------------------------------------------------------------------------
# Google sample feed: fares by route, no transfers
# --------------------------------------------------------------------------------------


def test_google_sample_route_fares():
    path = GTFS_DATA / "google_sample_gtfs.zip"
    price = {r["fare_id"]: (float(r["price"]), r["transfers"]) for r in _csv(path, "fare_attributes.txt")}
    by_route = {r["route_id"]: price[r["fare_id"]] for r in _csv(path, "fare_rules.txt")}
    assert all(t == "0" for _p, t in price.values())
    feed = read_feed(path)
    tt = build_timetable(feed, "2008-06-02")
    fares = fare_systems_from_feeds(feed)
    model = build_fare_model(tt, fares, params=NO_PENALTY)
    assert model.tariff.exact
    rng = np.random.default_rng(5)
    for leg in _rides(tt, rng, 60):
        rl = ride_legs(tt, [leg])[0]
        got = price_journey([rl], fares)
        route = rl.route_id.split(":", 1)[1]
        if route in by_route:
            assert got.fare == pytest.approx(by_route[route][0])
        else:  # CITY has no fare rule
            assert np.isnan(got.fare) and got.unpriced_legs == (0,)
    # transfers = 0: two rides, two tickets
    a = next(leg for leg in _rides(tt, rng, 40) if tt.route_ids[leg.route].endswith(":AB"))
    b = next(leg for leg in _rides(tt, rng, 40) if tt.route_ids[leg.route].endswith(":BFC"))
    two = price_journey(ride_legs(tt, [a, b]), fares)
    assert two.fare == pytest.approx(by_route["AB"][0] + by_route["BFC"][0]) and len(two.tickets) == 2
    # every option of the search costs its journey's fare (NaN through CITY)
    fp = Footpaths.empty(tt.n_stops)
    for origin in range(tt.n_stops):
        res = pareto_arrivals(tt, fp, 60, [origin], [0], 6 * 3600, model, max_rounds=3)
        for i in range(len(res)):
            priced = price_legs(tt, res.journey(i, tt, fp, [origin], [0]), model)
            assert (priced.fare_minor if priced.fare_minor is not None else -1) == res.fare_minor[i]


# --------------------------------------------------------------------------------------
# distance-based intercity rail (the bundled Northeast China feed)
# --------------------------------------------------------------------------------------


def test_rail_distance_fares_from_km_marks():
    """CNY 285 / 921 km per km (sourced), rounded to CNY 0.5, km from the feed's km marks."""
    st = _csv(BUNDLED_RAIL, "stop_times.txt")
    km: dict[str, dict[int, float]] = {}
    for r in st:
        km.setdefault(r["trip_id"], {})[int(r["stop_sequence"])] = float(r["km"])
    feed = read_feed(BUNDLED_RAIL)
    tt = build_timetable(feed, "2025-06-17")
    fares = fare_systems_from_feeds(feed, distance={feed.feed_id: {"*": CHINA_RAIL_SECOND_CLASS}})
    model = build_fare_model(tt, fares, params=NO_PENALTY, feeds=feed, distance_column="km", distance_unit_m=1000.0)
    assert model.tariff.exact and fares.currency == "CNY"
    assert CHINA_RAIL_SECOND_CLASS.rate_per_km == pytest.approx(0.3094, abs=1e-4)
    rng = np.random.default_rng(7)
    for leg in _rides(tt, rng, 80):
        rl = ride_legs(tt, [leg], model.cum_m)[0]
        trip = str(tt.trip_ids[leg.trip]).split(":", 1)[1].split("@")[0]
        marks = [km[trip][q] for q in sorted(km[trip])]
        dist = marks[leg.alight_pos] - marks[leg.board_pos]
        want = np.floor(dist * 285 / 921 / 0.5 + 0.5) * 0.5
        assert price_journey([rl], fares).fare == pytest.approx(want)
    # the search prices a direct train the same way
    harbin_west = int(np.flatnonzero(tt.stop_ids == f"{feed.feed_id}:VAB")[0])
    res = pareto_arrivals(tt, Footpaths.empty(tt.n_stops), 600, [harbin_west], [0], 7 * 3600, model, max_rounds=2,
                          max_duration_s=12 * 3600)
    assert len(res) > 10
    for i in range(len(res)):
        legs = res.journey(i, tt, Footpaths.empty(tt.n_stops), [harbin_west], [0])
        assert price_legs(tt, legs, model).fare_minor == res.fare_minor[i]


# --------------------------------------------------------------------------------------
# GTFS Fares v2 (a small inline feed; expected values by hand from the reference)
# --------------------------------------------------------------------------------------

V2_FILES = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nA,A,https://a.example,Europe/Helsinki\n",
    "stops.txt": ("stop_id,stop_name,stop_lat,stop_lon\nS1,One,60.10,24.90\nS2,Two,60.11,24.91\n"
                  "S3,Three,60.12,24.92\nS4,Four,60.13,24.93\n"),
    "routes.txt": "route_id,agency_id,route_short_name,route_type\nBUS,A,1,3\nMETRO,A,M,1\n",
    "trips.txt": "route_id,service_id,trip_id\nBUS,D,b1\nMETRO,D,m1\n",
    "stop_times.txt": ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                       "b1,08:00:00,08:00:00,S1,1\nb1,08:10:00,08:10:00,S2,2\n"
                       "m1,08:20:00,08:20:00,S2,1\nm1,08:30:00,08:30:00,S3,2\nm1,08:40:00,08:40:00,S4,3\n"),
    "calendar_dates.txt": "service_id,date,exception_type\nD,20240102,1\n",
    "networks.txt": "network_id,network_name\nbus,Bus\nmetro,Metro\n",
    "route_networks.txt": "network_id,route_id\nbus,BUS\nmetro,METRO\n",
    "areas.txt": "area_id,area_name\ninner,Inner\nouter,Outer\n",
    "stop_areas.txt": "area_id,stop_id\ninner,S1\ninner,S2\ninner,S3\nouter,S4\n",
    "fare_media.txt": "fare_media_id,fare_media_name,fare_media_type\ncard,Card,2\npaper,Paper,1\n",
    "fare_products.txt": ("fare_product_id,fare_product_name,amount,currency,fare_media_id\n"
                          "bus_single,Bus,2.00,EUR,card\nbus_single,Bus,2.50,EUR,paper\n"
                          "metro_inner,Metro inner,3.00,EUR,card\nmetro_both,Metro both,4.50,EUR,card\n"
                          "transfer_fee,Transfer,0.50,EUR,card\n"),
    "fare_leg_rules.txt": ("leg_group_id,network_id,from_area_id,to_area_id,fare_product_id\n"
                           "g_bus,bus,,,bus_single\n"
                           "g_metro,metro,inner,inner,metro_inner\n"
                           "g_metro,metro,inner,outer,metro_both\n"
                           "g_metro,metro,outer,inner,metro_both\n"),
    "fare_transfer_rules.txt": ("from_leg_group_id,to_leg_group_id,duration_limit,duration_limit_type,"
                                "fare_transfer_type,fare_product_id\n"
                                "g_bus,g_metro,3600,1,0,transfer_fee\n"
                                "g_metro,g_bus,3600,1,0,\n"),
}


def test_fares_v2_leg_and_transfer_rules(tmp_path):
    feed = read_feed(write_feed(tmp_path / "v2", V2_FILES), feed_id="v2")
    fares = fare_systems_from_feeds(feed)
    assert fares.summary()["kind"].tolist() == ["gtfs_v2"]
    ns = "v2:"

    def leg(route, a, b, dep, arr=None):
        return RideLeg(ns + route, ns + a, ns + b, dep, arr if arr is not None else dep + 600)

    bus = leg("BUS", "S1", "S2", 8 * 3600)
    assert price_journey([bus], fares).fare == pytest.approx(2.00)  # the cheapest medium
    assert price_journey([leg("METRO", "S2", "S3", 8 * 3600)], fares).fare == pytest.approx(3.00)
    assert price_journey([leg("METRO", "S2", "S4", 8 * 3600)], fares).fare == pytest.approx(4.50)
    # bus then metro within the hour: bus + the transfer product (type 0: A + AB)
    assert price_journey([bus, leg("METRO", "S2", "S4", 8 * 3600 + 1200)], fares).fare == pytest.approx(2.50)
    # after the hour: two fares
    assert price_journey([bus, leg("METRO", "S2", "S4", 8 * 3600 + 3601)], fares).fare == pytest.approx(6.50)
    # metro then bus: free transfer
    assert price_journey([leg("METRO", "S2", "S3", 8 * 3600), leg("BUS", "S1", "S2", 8 * 3600 + 900)],
                         fares).fare == pytest.approx(3.00)
    # paper only: the bus costs 2.50, and products sold on cards only leave the metro unpriced
    paper = fare_systems_from_feeds(feed, fare_media=["paper"])
    assert price_journey([bus], paper).fare == pytest.approx(2.50)
    assert np.isnan(price_journey([leg("METRO", "S2", "S3", 8 * 3600)], paper).fare)
    # in the search: leg prices by network and area are exact; these transfer rules differ by
    # leg group, so the search prices without transfers and says so
    tt = build_timetable(feed, "2024-01-02")
    model = build_fare_model(tt, fares, params=NO_PENALTY)
    assert any("transfer rules" in n for n in model.tariff.notes)
    fp = Footpaths.empty(tt.n_stops)
    s1 = int(np.flatnonzero(tt.stop_ids == "v2:S1")[0])
    s4 = int(np.flatnonzero(tt.stop_ids == "v2:S4")[0])
    res = pareto_arrivals(tt, fp, 60, [s1], [0], 7 * 3600, model, max_rounds=2)
    i = int(res.options(s4)[0])
    assert res.fare_minor[i] == 650
    assert price_legs(tt, res.journey(i, tt, fp, [s1], [0]), model).fare == pytest.approx(2.50)
