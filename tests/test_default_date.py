"""The commands' default service date: a representative weekday, never a public holiday
(issue 15: the bundled sample's default resolved to 2025-01-01, New Year's Day).

Data: the tiny inline feed ``MINI`` (tests/conftest.py) with calendars written here; the
holidays are the ``holidays`` package's (China: New Year's Day 2025-01-01, Spring Festival
2025-01-28..02-04; the United States: Independence Day 2025-07-04).
"""

from __future__ import annotations

import numpy as np
import pytest

from planner.ingest.gtfs.feed import read_feed
from planner.ingest.gtfs.service import busiest_date, country_of_timezone, representative_date
from tests.conftest import MINI

DAILY = ("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
         "WD,1,1,1,1,1,1,1,{start},{end}\n")


def _feed(make_feed, start: str, end: str, **files):
    return read_feed(make_feed({"calendar.txt": DAILY.format(start=start, end=end), **files}))


def test_daily_service_from_new_year_skips_the_holiday_and_its_neighbours(make_feed):
    feed = _feed(make_feed, "20250101", "20250131")
    assert busiest_date([feed]) == np.datetime64("2025-01-01")  # the old default: a public holiday
    got = representative_date([feed])
    # 01-01 (Wed) is New Year's Day, 01-02 (Thu) the day after; the first Tuesday is 01-07
    assert got.date == np.datetime64("2025-01-07")
    assert "Tuesday" in got.reason and "CN" in got.reason and "median" in got.reason


def test_extra_trains_on_one_day_do_not_make_it_the_default(make_feed):
    # service WD every day; service X adds two trips on Wednesday 2025-03-12 only (a special day)
    trips = MINI["trips.txt"] + "R1,X,T3\nR1,X,T4\n"
    times = MINI["stop_times.txt"] + "".join(
        f"{t},10:0{k}:00,10:0{k}:00,S1,1\n{t},10:1{k}:00,10:1{k}:00,B,2\n" for k, t in enumerate(("T3", "T4")))
    cal_dates = "service_id,date,exception_type\nX,20250312,1\n"
    feed = _feed(make_feed, "20250303", "20250328", **{"trips.txt": trips, "stop_times.txt": times,
                                                          "calendar_dates.txt": cal_dates})
    assert busiest_date([feed]) == np.datetime64("2025-03-12")
    assert representative_date([feed]).date == np.datetime64("2025-03-04")  # the first Tuesday


def test_country_comes_from_the_agency_time_zone(make_feed):
    agency = "agency_id,agency_name,agency_url,agency_timezone\nA,Agency A,https://a.example,America/Los_Angeles\n"
    # 2025-07-01 (Tue) .. 07-10: 07-03 (Thu) is the day before Independence Day (Fri 07-04)
    feed = _feed(make_feed, "20250701", "20250710", **{"agency.txt": agency})
    got = representative_date([feed])
    # Tue-Thu not next to the holiday: 07-01, 07-02, 07-08, 07-09, 07-10; all equal: the earliest
    assert got.date == np.datetime64("2025-07-01")
    assert "US" in got.reason
    # the same days with the holidays of China: 07-03 is an ordinary Thursday
    assert representative_date([feed], country="CN").date == np.datetime64("2025-07-01")


@pytest.mark.parametrize(("tz", "cc"), [("Asia/Shanghai", "CN"), ("Europe/Helsinki", "FI"),
                                        ("America/Los_Angeles", "US"), ("Nowhere/Atlantis", None)])
def test_country_of_timezone(tz, cc):
    assert country_of_timezone(tz) == cc


def test_weekends_only_falls_back_to_the_busiest_date_and_says_so(make_feed):
    cal = ("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
           "WD,0,0,0,0,0,1,1,20250301,20250331\n")
    feed = read_feed(make_feed({"calendar.txt": cal}))
    got = representative_date([feed])
    assert got.date == np.datetime64("2025-03-01")
    assert "busiest" in got.reason


def test_bundled_sample_default_is_an_ordinary_tuesday():
    from planner.common.bundled import data_root
    from planner.ingest.gtfs.feed import read_feeds

    root = data_root()
    if root is None:
        pytest.skip("no bundled sample")
    feeds = read_feeds(sorted(str(p) for p in (root / "gtfs").glob("*.zip")))
    got = representative_date(feeds)
    assert got.date == np.datetime64("2025-01-07")
