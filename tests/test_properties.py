"""Property tests of the GTFS loader and the network built from it (issue 11;
``anchors/reliability.md`` §9 G6).

* times: ``parse(format(t)) == t`` and ``format(parse(s)) == s`` for **every** second from
  00:00:00 to 999:59:59 (vectorised, exhaustive), and every malformed minute/second form of
  a few hours is refused;
* random small valid feeds (stops with odd ids such as ``NA`` and ``007``, a parent
  station, routes, trips with non-contiguous ``stop_sequence``, untimed intermediate stops,
  trips past midnight, frequencies and transfers), for which:

  - shuffling the rows of ``stop_times.txt`` gives identical tables, timetable arrays and
    network (footpaths, change times);
  - an extra stop that nothing references changes nothing routable: the same patterns,
    trips and times, and the same earliest arrivals between the other stops;
  - removing a stop that ``stop_times.txt`` references gives a ``foreign_key_violation``
    notice naming the stop and drops exactly the trips that call there, and never raises
    anything but a :class:`~planner.errors.FeedError` (all trips gone, or more dropped
    than ``max_dropped_trip_share`` allows).

Examples per property: ``$PLAN_PROPERTY_EXAMPLES`` (default 60; each example loads two
feeds and builds their timetables and networks, about 0.2 s), derandomised so that every
run checks the same feeds.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.common.notices import Notices
from planner.config import Config
from planner.errors import FeedError, NoServiceError
from planner.ingest.gtfs import FeedSet, read_feed
from planner.ingest.gtfs import _convert as cv
from planner.network.build import build_network
from planner.network.timetable import Timetable, build_timetable
from planner.routing.raptor import earliest_arrival

pytestmark = pytest.mark.slow  # hypothesis runs of minutes: the full suite only (README, Development)

EXAMPLES = int(os.environ.get("PLAN_PROPERTY_EXAMPLES", "60"))
PROPERTY = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
CFG = Config(progress=False)
DATE = "2024-06-03"  # a Monday


# ---------------------------------------------------------------------------- times
def _two(a: np.ndarray) -> pa.Array:
    return pc.utf8_lpad(pa.array(a).cast(pa.string()), 2, "0")


def test_time_round_trip_every_second_to_999_59_59():
    t = np.arange(1000 * 3600, dtype=np.int64)
    h, rem = np.divmod(t, 3600)
    m, s = np.divmod(rem, 60)
    text = pc.binary_join_element_wise(_two(h), _two(m), _two(s), ":")
    values, bad = cv.to_time(pd.Series(text.to_pandas(), dtype="str"))
    assert not bad.any()
    assert np.array_equal(values, t)  # parse(format(t)) == t, all 3,600,000 values
    # the scalar formatter (the GTFS writer's) gives the same text; stride 61 visits every
    # second and minute value and every hour
    sample = t[::61]
    assert [cv.format_time(int(v)) for v in sample] == text.take(pa.array(sample)).to_pylist()
    assert all(cv.parse_time(cv.format_time(int(v))) == v for v in t[::3601])
    # single-digit hours parse to the same seconds
    short = pc.binary_join_element_wise(pa.array(h[:36000]).cast(pa.string()), _two(m[:36000]), _two(s[:36000]), ":")
    v2, bad2 = cv.to_time(pd.Series(short.to_pandas(), dtype="str"))
    assert not bad2.any() and np.array_equal(v2, t[:36000])


@pytest.mark.parametrize("hour", ["0", "07", "24", "100", "999"])
def test_every_malformed_minute_or_second_is_refused(hour):
    mm = np.repeat(np.arange(100), 100)
    ss = np.tile(np.arange(100), 100)
    text = pc.binary_join_element_wise(pa.array(np.full(10_000, hour)), _two(mm), _two(ss), ":")
    values, bad = cv.to_time(pd.Series(text.to_pandas(), dtype="str"))
    valid = (mm < 60) & (ss < 60)
    assert np.array_equal(~bad, valid)
    assert np.array_equal(values[valid], int(hour) * 3600 + mm[valid] * 60 + ss[valid])
    for txt in ("1000:00:00", "-1:00:00", "7:5:3", "12:00", "08:00:00.5", "00:26:106", "+1:00:00"):
        assert cv.to_time(pd.Series([txt], dtype="str"))[1][0], txt


# ---------------------------------------------------------------------------- random feeds
_STOP_IDS = ["NA", "007", "7", "null", "s1", "s2", "s3", "s4", "s5", "Z-9", "é", "1e5", "a.b"]


@st.composite
def random_feeds(draw) -> dict[str, list[list[str]]]:
    """A small valid feed as rows (header first) per file."""
    n = draw(st.integers(3, 7))
    ids = draw(st.lists(st.sampled_from(_STOP_IDS), min_size=n, max_size=n, unique=True))
    station = draw(st.booleans())
    stops = [["stop_id", "stop_name", "stop_lat", "stop_lon", "location_type", "parent_station"]]
    if station:
        stops.append(["STA", "Station", "60.1700", "24.9400", "1", ""])
    for i, sid in enumerate(ids):
        lat = 60.1700 + draw(st.integers(0, 40)) * 0.0007 + i * 0.00001
        lon = 24.9400 + draw(st.integers(0, 40)) * 0.0011
        parent = "STA" if station and i < 2 else ""
        stops.append([sid, f"Stop {i}", f"{lat:.6f}", f"{lon:.6f}", "0", parent])
    n_routes = draw(st.integers(1, 3))
    routes = [["route_id", "agency_id", "route_short_name", "route_type"]]
    routes += [[f"R{r}", "A", str(r), draw(st.sampled_from(["3", "1", "2", "0"]))] for r in range(n_routes)]
    trips = [["route_id", "service_id", "trip_id"]]
    st_rows = [["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence", "timepoint"]]
    for k in range(draw(st.integers(1, 7))):
        tid = f"T{k}"
        trips.append([f"R{draw(st.integers(0, n_routes - 1))}", "WD", tid])
        seq_stops = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=min(n, 5), unique=True))
        t = draw(st.integers(0, 30 * 3600))
        seq = draw(st.integers(0, 3))
        for j, si in enumerate(seq_stops):
            if j:
                t += draw(st.integers(60, 900))
            dwell = draw(st.integers(0, 120)) if 0 < j < len(seq_stops) - 1 else 0
            untimed = 0 < j < len(seq_stops) - 1 and draw(st.integers(0, 4)) == 0
            seq += draw(st.integers(1, 5))
            a, d = ("", "") if untimed else (cv.format_time(t), cv.format_time(t + dwell))
            st_rows.append([tid, a, d, ids[si], str(seq), "0" if untimed else "1"])
            t += dwell
    files = {
        "agency.txt": [["agency_id", "agency_name", "agency_url", "agency_timezone"],
                       ["A", "Agency", "https://a.example", "Europe/Helsinki"]],
        "stops.txt": stops, "routes.txt": routes, "trips.txt": trips, "stop_times.txt": st_rows,
        "calendar.txt": [["service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                          "sunday", "start_date", "end_date"], ["WD", "1", "1", "1", "1", "1", "1", "1", "20240101",
                                                                  "20241231"]],
    }
    if draw(st.booleans()):
        start = draw(st.integers(5, 20)) * 3600
        files["frequencies.txt"] = [["trip_id", "start_time", "end_time", "headway_secs"],
                                    ["T0", cv.format_time(start), cv.format_time(start + 3600),
                                     str(draw(st.sampled_from([600, 900, 1200])))]]
    if draw(st.booleans()):
        a, b = draw(st.lists(st.sampled_from(ids), min_size=2, max_size=2, unique=True))
        files["transfers.txt"] = [["from_stop_id", "to_stop_id", "transfer_type", "min_transfer_time"],
                                  [a, b, "2", str(draw(st.integers(0, 600)))]]
    return files


def write_rows(folder: Path, files: dict[str, list[list[str]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for name, rows in files.items():
        (folder / name).write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    return folder


def _tables(feed) -> dict[str, pd.DataFrame]:
    return {k: v.drop(columns="_line").reset_index(drop=True) for k, v in feed.tables.items()}


def assert_same_timetable(a: Timetable, b: Timetable) -> None:
    for name, va in vars(a).items():
        vb = getattr(b, name)
        if isinstance(va, np.ndarray):
            assert va.dtype == vb.dtype and va.shape == vb.shape, name
            if va.dtype.kind == "f":
                assert np.array_equal(va, vb, equal_nan=True), name
            else:
                assert np.array_equal(va, vb), name
        elif not name.startswith("_"):
            assert va == vb, name


def _network(feed):
    return build_network(FeedSet([feed], Notices()), DATE, config=CFG, use_cache=False, progress=False)


@PROPERTY
@given(random_feeds(), st.randoms(use_true_random=False))
def test_shuffled_stop_times_give_the_identical_network(tmp_path_factory, files, rnd):
    work = tmp_path_factory.mktemp("shuffle")
    base = write_rows(work / "base", files)
    rows = files["stop_times.txt"]
    body = rows[1:]
    rnd.shuffle(body)
    shuffled = write_rows(work / "shuffled", {**files, "stop_times.txt": [rows[0], *body]})
    fa, fb = read_feed(base, "f", config=CFG), read_feed(shuffled, "f", config=CFG)
    ta, tb = _tables(fa), _tables(fb)
    for name in ta:
        pd.testing.assert_frame_equal(ta[name], tb[name], obj=name)
    assert fa.dropped_trips == fb.dropped_trips == {}
    na, nb = _network(fa), _network(fb)
    assert_same_timetable(na.timetable, nb.timetable)
    for field in ("ptr", "to", "seconds", "metres"):
        assert np.array_equal(getattr(na.footpaths, field), getattr(nb.footpaths, field), equal_nan=field == "metres")
    assert np.array_equal(na.change_s, nb.change_s) and np.array_equal(na.footpath_method, nb.footpath_method)


def _earliest(net, origins: list[int], departures: list[int]) -> np.ndarray:
    tt = net.timetable
    return np.stack([earliest_arrival(tt, net.footpaths, net.change_s, [o], [0], d, max_rounds=4).best
                     for o in origins for d in departures])


@PROPERTY
@given(random_feeds(), st.data())
def test_an_unreferenced_stop_changes_nothing_routable(tmp_path_factory, files, data):
    work = tmp_path_factory.mktemp("extra")
    base = write_rows(work / "base", files)
    stops = files["stops.txt"]
    used = {r[0] for r in stops}
    new_id = data.draw(st.sampled_from([i for i in ["U", "NA", "unused", "007", "0"] if i not in used]))
    near = data.draw(st.sampled_from(stops[1:]))  # somewhere between the others, within walking range
    lat = float(near[2]) + data.draw(st.integers(-5, 5)) * 0.0002
    lon = float(near[3]) + data.draw(st.integers(-5, 5)) * 0.0002
    at = data.draw(st.integers(1, len(stops)))
    extra = [*stops[:at], [new_id, "Unused", f"{lat:.6f}", f"{lon:.6f}", "0", ""], *stops[at:]]
    with_extra = write_rows(work / "extra", {**files, "stops.txt": extra})
    fa, fb = read_feed(base, "f", config=CFG), read_feed(with_extra, "f", config=CFG)
    assert [n.code for n in fa.notices.sorted()] == [n.code for n in fb.notices.sorted()]
    na, nb = _network(fa), _network(fb)
    a, b = na.timetable, nb.timetable
    keep = b.stop_ids != f"f:{new_id}"
    assert keep.sum() == a.n_stops == b.n_stops - 1
    assert np.array_equal(b.stop_ids[keep], a.stop_ids)
    old_of_new = np.cumsum(keep) - 1  # index in a of every stop of b that a has
    assert np.array_equal(old_of_new[b.pattern_stops], a.pattern_stops)
    for name in ("pattern_stops_ptr", "pattern_trips_ptr", "pattern_times_ptr", "arrival", "departure", "trip_ids",
                 "pattern_board", "pattern_alight", "route_ids"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    u = int(np.flatnonzero(~keep)[0])
    assert b.stop_patterns_ptr[u] == b.stop_patterns_ptr[u + 1]  # no pattern serves it
    # routing: the same earliest arrivals at every other stop, from every stop, at two times
    origins_b = np.flatnonzero(keep)
    deps = [6 * 3600, 20 * 3600]
    ea = _earliest(na, list(range(a.n_stops)), deps)
    eb = _earliest(nb, [int(o) for o in origins_b], deps)
    assert np.array_equal(ea, eb[:, keep])


@PROPERTY
@given(random_feeds(), st.data())
def test_removing_a_referenced_stop_drops_its_trips_never_raises(tmp_path_factory, files, data):
    work = tmp_path_factory.mktemp("removed")
    st_rows = files["stop_times.txt"][1:]
    gone = data.draw(st.sampled_from(sorted({r[3] for r in st_rows})))
    stops = [r for r in files["stops.txt"] if r[0] != gone]
    path = write_rows(work / "feed", {**files, "stops.txt": stops})
    calling = {r[0] for r in st_rows if r[3] == gone}
    lenient = replace(CFG, max_dropped_trip_share=1.0)
    try:
        feed = read_feed(path, "f", config=lenient)
    except FeedError as err:  # only when every trip called there
        assert err.code == "planner_feed_unusable", str(err)
        assert calling == {r[2] for r in files["trips.txt"][1:]}
    else:
        fk = [n for n in feed.notices.sorted() if n.code == "foreign_key_violation" and n.file == "stop_times.txt"]
        assert fk and all(n.field == "stop_id" and n.value == gone for n in fk)
        assert set(feed.dropped_trips) == calling
        assert not feed.trips["trip_id"].isin(calling).any()
        assert set(feed.trips["trip_id"]) == {r[2] for r in files["trips.txt"][1:]} - calling
        assert not feed.stop_times["stop_id"].eq(gone).any()
        try:
            build_timetable(feed, DATE)
        except NoServiceError:  # every remaining trip runs outside the default window
            pass
    # the default guard: loads, or refuses with the guard's code
    try:
        read_feed(path, "f", config=CFG)
    except FeedError as err:
        assert err.code in {"planner_too_many_dropped_trips", "planner_feed_unusable"}, str(err)


# ---------------------------------------------------------------------------- calendars
@st.composite
def random_calendars(draw) -> dict[str, list[list[str]]]:
    """calendar.txt / calendar_dates.txt rows over 2023-2025 plus trips on those services."""
    day0 = np.datetime64("2023-12-20")
    n = draw(st.integers(0, 5))
    cal = [["service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
            "start_date", "end_date"]]
    for k in range(n):
        a = day0 + np.timedelta64(draw(st.integers(0, 60)), "D")
        b = a + np.timedelta64(draw(st.integers(0, 40)), "D")
        flags = [str(int(draw(st.booleans()))) for _ in range(7)]
        cal.append([f"S{k}", *flags, str(a).replace("-", ""), str(b).replace("-", "")])
    cd = [["service_id", "date", "exception_type"]]
    seen = set()
    for _ in range(draw(st.integers(0 if n else 1, 8))):
        sid = f"S{draw(st.integers(0, n + 1))}"
        d = day0 + np.timedelta64(draw(st.integers(0, 100)), "D")
        if (sid, d) not in seen:
            seen.add((sid, d))
            cd.append([sid, str(d).replace("-", ""), draw(st.sampled_from(["1", "2"]))])
    services = sorted({r[0] for r in cal[1:]} | {r[0] for r in cd[1:]})
    trips = [["route_id", "service_id", "trip_id"]]
    st_rows = [["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"]]
    for j in range(draw(st.integers(1, 6))):
        trips.append(["R1", draw(st.sampled_from(services)), f"T{j}"])
        st_rows += [[f"T{j}", "08:00:00", "08:00:00", "S1", "1"], [f"T{j}", "08:10:00", "08:10:00", "B", "2"]]
    files = {"calendar.txt": cal, "calendar_dates.txt": cd, "trips.txt": trips, "stop_times.txt": st_rows}
    return {k: v for k, v in files.items() if len(v) > 1 or k in {"trips.txt", "stop_times.txt"}}


def _brute_force(feed):
    """The definitions, by listing every (service, date) pair (service_dates)."""
    from planner.ingest.gtfs import service_dates

    sd = service_dates(feed)
    days = sd["date"].to_numpy(dtype="datetime64[D]")
    per_service = feed.trips["service_id"].value_counts()
    counts: dict = {}
    for sid, d in zip(sd["service_id"], days, strict=True):
        counts[d] = counts.get(d, 0) + int(per_service.get(sid, 0))
    return sd, days, counts


@PROPERTY
@given(random_calendars())
def test_calendar_lookups_agree_with_listing_every_date(tmp_path_factory, files):
    from planner.ingest.gtfs.service import active_services, busiest_date, service_date_range
    from tests.conftest import MINI

    work = tmp_path_factory.mktemp("calendar")
    base = {k: [r.split(",") for r in v.strip().split("\n")] for k, v in MINI.items() if k != "calendar.txt"}
    path = write_rows(work / "feed", {**base, **files})
    try:
        feed = read_feed(path, "f", config=replace(CFG, max_dropped_trip_share=1.0))
    except FeedError:
        return  # no usable trips: nothing to compare
    sd, days, counts = _brute_force(feed)
    first, last, n = service_date_range(feed)
    if len(days):
        assert (first, last, n) == (days.min(), days.max(), len(np.unique(days)))
    else:
        assert (first, last, n) == (None, None, 0)
    for d in np.arange(np.datetime64("2023-12-18"), np.datetime64("2024-04-05")):
        assert active_services(feed, d) == set(sd.loc[days == d, "service_id"]), d
    if counts:
        best = max(counts.values())
        assert busiest_date([feed]) == min(d for d, k in counts.items() if k == best)
    else:
        with pytest.raises(NoServiceError):
            busiest_date([feed])
