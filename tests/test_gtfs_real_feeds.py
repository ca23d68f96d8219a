"""The loader against the real feeds in tests/data/gtfs, checked by an independent reading.

The expected values are derived here with nothing but the standard library (``zipfile``,
``csv``, ``datetime``), so they do not share code with the loader.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections import Counter

import numpy as np
import pytest

from planner.ingest.gtfs import read_feed, service_date_range, service_dates
from planner.ingest.gtfs.frequencies import frequency_departures
from planner.network.timetable import build_timetable
from tests.conftest import GTFS_DATA, REAL_FEEDS


def _rows(zip_path, name):
    with zipfile.ZipFile(zip_path) as zf:
        if name not in zf.namelist():
            return []
        text = zf.read(name).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _secs(t):
    h, m, s = (int(x) for x in t.strip().split(":"))
    return h * 3600 + m * 60 + s


def _independent_service_dates(zip_path):
    """{(service_id, date)} from calendar + calendar_dates, by the GTFS rules."""
    out = set()
    names = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    for r in _rows(zip_path, "calendar.txt"):
        d = dt.datetime.strptime(r["start_date"].strip(), "%Y%m%d").date()
        end = dt.datetime.strptime(r["end_date"].strip(), "%Y%m%d").date()
        while d <= end:
            if r[names[d.weekday()]].strip() == "1":
                out.add((r["service_id"].strip(), d))
            d += dt.timedelta(days=1)
    for r in _rows(zip_path, "calendar_dates.txt"):
        key = (r["service_id"].strip(), dt.datetime.strptime(r["date"].strip(), "%Y%m%d").date())
        if r["exception_type"].strip() == "1":
            out.add(key)
        else:
            out.discard(key)
    return out


@pytest.fixture(scope="module", params=sorted(REAL_FEEDS))
def real(request):
    path = GTFS_DATA / request.param
    return path, read_feed(path)


@pytest.mark.slow
def test_counts_match_plain_csv_reading(real):
    path, feed = real
    stops = _rows(path, "stops.txt")
    routes = _rows(path, "routes.txt")
    trips = _rows(path, "trips.txt")
    st = _rows(path, "stop_times.txt")
    assert len(feed.stops) == len(stops)
    assert len(feed.routes) == len(routes)
    # every trip that is kept is in the file; the ones not kept are exactly the dropped ones
    assert len(feed.trips) + len(feed.dropped_trips) == len(trips)
    kept = {r["trip_id"].strip() for r in trips} - set(feed.dropped_trips)
    assert set(feed.trips["trip_id"]) == kept
    assert len(feed.stop_times) == sum(1 for r in st if r["trip_id"].strip() in kept)
    # IDs are kept exactly as written
    assert set(feed.stops["stop_id"]) == {r["stop_id"].strip() for r in stops}


@pytest.mark.slow
def test_dropped_trips_are_only_the_unusable_ones(real):
    path, feed = real
    counts = Counter(r["trip_id"].strip() for r in _rows(path, "stop_times.txt"))
    for trip_id, code in feed.dropped_trips.items():
        assert code == "unusable_trip"
        assert counts[trip_id] < 2


def test_service_days_match_independent_calendar(real):
    path, feed = real
    expected = _independent_service_dates(path)
    got = {(s, d.astype("datetime64[D]").item()) for s, d in zip(service_dates(feed)["service_id"],
                                                                 service_dates(feed)["date"].to_numpy(), strict=True)}
    assert got == expected
    first, last, n = service_date_range(feed)
    days = {d for _, d in expected}
    assert (first.item(), last.item(), n) == (min(days), max(days), len(days))


def test_stop_times_typed_seconds(real):
    path, feed = real
    rows = _rows(path, "stop_times.txt")[:2000]
    by_key = {(r["trip_id"].strip(), int(r["stop_sequence"])): r for r in rows}
    st = feed.stop_times
    sub = st[st["trip_id"].isin({k[0] for k in by_key})]
    checked = 0
    for trip, seq, arr, dep in zip(sub["trip_id"], sub["stop_sequence"], sub["arrival_time"], sub["departure_time"], strict=True):
        r = by_key.get((trip, int(seq)))
        if r is None:
            continue
        if r["arrival_time"].strip():
            assert arr == _secs(r["arrival_time"])
        if r["departure_time"].strip():
            assert dep == _secs(r["departure_time"])
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("name", ["google_sample_gtfs.zip", "helsinki_gtfs_2022.zip"])
def test_frequencies_expansion_counts(name):
    """Departures per template = sum over windows of ceil((end - start) / headway), minus duplicates."""
    path = GTFS_DATA / name
    feed = read_feed(path)
    expected = {}
    for r in _rows(path, "frequencies.txt"):
        trip = r["trip_id"].strip()
        if trip in feed.dropped_trips:
            continue
        start, end, hw = _secs(r["start_time"]), _secs(r["end_time"]), int(r["headway_secs"])
        t = start
        while t < end:
            expected.setdefault(trip, set()).add(t)
            t += hw
    deps = frequency_departures(feed.frequencies)
    got = {}
    for trip, s in zip(deps["trip_id"], deps["start_s"], strict=True):
        got.setdefault(trip, set()).add(int(s))
    assert got == expected
    assert len(deps) == sum(len(v) for v in expected.values())


def test_google_sample_frequency_trips_in_timetable():
    """Google's sample: route STBA runs every 30 min 06:00-22:00 (exact_times 0)."""
    feed = read_feed(GTFS_DATA / "google_sample_gtfs.zip")
    tt = build_timetable(feed, "2008-06-02", window=(0, 24 * 3600 - 1))
    stba = [t for t in tt.trip_ids if t.startswith("google_sample_gtfs:STBA#")]
    # 06:00 to 22:00 with a 1800 s headway: departures 06:00, 06:30, ..., 21:30
    assert len(stba) == 32
    first_stop_deps = sorted(
        int(tt.departure[tt.pattern_times_ptr[tt.trip_pattern[i]] + (i - tt.pattern_trips_ptr[tt.trip_pattern[i]])
                         * (tt.pattern_stops_ptr[tt.trip_pattern[i] + 1] - tt.pattern_stops_ptr[tt.trip_pattern[i]])])
        for i, t in enumerate(tt.trip_ids) if t.startswith("google_sample_gtfs:STBA#")
    )
    assert first_stop_deps == list(range(6 * 3600, 22 * 3600, 1800))


@pytest.mark.slow
def test_helsinki_timetable_against_stop_times():
    """Every trip of the service date appears once; its times equal the feed's (frequency
    templates shifted to each departure)."""
    path = GTFS_DATA / "helsinki_gtfs_2022.zip"
    feed = read_feed(path)
    tt = build_timetable(feed, "2022-02-22", window=(0, 48 * 3600))
    # independent count: plain trips + expanded departures
    freq_rows = _rows(path, "frequencies.txt")
    templates = {r["trip_id"].strip() for r in freq_rows} - set(feed.dropped_trips)
    deps = set()
    for r in freq_rows:
        trip = r["trip_id"].strip()
        if trip in templates:
            t = _secs(r["start_time"])
            while t < _secs(r["end_time"]):
                deps.add((trip, t))
                t += int(r["headway_secs"])
    plain = len(feed.trips) - len(templates)
    assert tt.n_trips == plain + len(deps)
    assert len(set(tt.trip_ids)) == tt.n_trips
    # check 200 plain trips against stop_times
    st = feed.stop_times.sort_values(["trip_id", "stop_sequence"])
    times = {t: (g["arrival_time"].to_numpy(dtype=np.int64), g["departure_time"].to_numpy(dtype=np.int64))
             for t, g in st.groupby("trip_id")}
    rng = np.random.default_rng(7)
    plain_idx = [i for i, t in enumerate(tt.trip_ids) if "#" not in t]
    for i in rng.choice(plain_idx, size=200, replace=False):
        p = tt.trip_pattern[i]
        k = i - tt.pattern_trips_ptr[p]
        A, D = tt.pattern_trip_times(p)
        arr, dep = times[tt.trip_ids[i].split(":", 1)[1]]
        np.testing.assert_array_equal(A[k], arr)
        np.testing.assert_array_equal(D[k], dep)
