"""``plan gtfs from-timetable``: a tabular train timetable to a GTFS zip (a subcommand of
:mod:`planner.cli.gtfs`)."""

from __future__ import annotations

from pathlib import Path

import click

import planner as pl
from planner.common.notices import Severity

#: shown as --agency-url's default (the converter's DEFAULT_AGENCY_URL; a test keeps them equal)
AGENCY_URL = "https://www.12306.cn"


@click.command("from-timetable")
@click.argument("timetable", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("stations", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The GTFS zip to write (OUT.zip).")
@click.option("--start-date", required=True, metavar="YYYY-MM-DD",
              help="First day the timetable is valid (calendar.txt start_date).")
@click.option("--end-date", required=True, metavar="YYYY-MM-DD",
              help="Last day the timetable is valid (calendar.txt end_date).")
@click.option("--timezone", default="Asia/Shanghai", show_default=True,
              help="IANA time zone of the clock times (agency_timezone).")
@click.option("--datum", type=click.Choice(["wgs84", "gcj02", "bd09"], case_sensitive=False), default="wgs84",
              show_default=True, help="Datum of the station coordinates (a 'datum' column overrides it per row).")
@click.option("--route-type", type=click.IntRange(min=0), default=2, show_default=True,
              help="GTFS route_type of trains without a route_type column (2 rail, 101 high-speed, 102 long distance).")
@click.option("--agency-url", default=None,
              help=f"agency_url of operators without an operator_url column.  [default: {AGENCY_URL}]")
@click.option("--lang", default="zh", show_default=True, help="agency_lang and feed_lang.")
@click.option("--publisher-name", default="plan gtfs from-timetable", show_default=True,
              help="feed_info.txt feed_publisher_name.")
@click.option("--publisher-url", default="https://example.invalid/plan", show_default=True,
              help="feed_info.txt feed_publisher_url.")
@click.option("--overwrite", is_flag=True, help="Replace an existing OUT.zip.")
@click.option("--no-check", is_flag=True, help="Do not load the written feed back to validate it.")
def from_timetable(timetable: Path, stations: Path, output: Path, start_date: str, end_date: str, timezone: str,
                   datum: str, route_type: int, agency_url: str, lang: str, publisher_name: str,
                   publisher_url: str, overwrite: bool, no_check: bool) -> None:
    """Convert a tabular train timetable (TIMETABLE.csv + STATIONS.csv) to GTFS.

    TIMETABLE has one row per train and stop: train, seq, station, arrival, departure
    (local HH:MM[:SS]), and optionally day_offset (days after the origin departure; times
    pass 24:00 in GTFS), running_days (daily, a Monday-first mask like 1111100, or Mon-Fri,
    Sat,Sun), operator (one agency each), route_id, route_name, route_type. Columns named
    trip_X are copied to trips.txt as X; any other column to stop_times.txt.

    STATIONS has name (or name_zh), lat, lon and optionally station_id, name_en, quality,
    datum; the timetable's station column names a station_id or a name. GCJ-02 and BD-09
    coordinates (Chinese map services) are converted to WGS84.

    Every problem is listed with its file, line and field (exit code 2); nothing is written
    then. The zip is written atomically and is identical for identical inputs.

    \b
    Examples:
      plan gtfs from-timetable trains.csv stations.csv -o rail.zip \\
          --start-date 2025-01-01 --end-date 2025-12-31
      plan gtfs from-timetable trains.csv stations_amap.csv --datum gcj02 --route-type 101 \\
          -o rail.zip --start-date 2025-01-01 --end-date 2025-12-31 --overwrite
      plan gtfs check rail.zip

    \b
    TIMETABLE.csv:
      train,seq,station,arrival,departure,day_offset,running_days,operator
      G1,0,哈尔滨西,,06:30,0,daily,中国铁路哈尔滨局集团有限公司
      G1,1,长春西,07:32,07:36,0,daily,中国铁路哈尔滨局集团有限公司
      G1,2,沈阳北,09:05,,0,daily,中国铁路哈尔滨局集团有限公司

    \b
    STATIONS.csv:
      station_id,name_zh,name,lat,lon
      VAB,哈尔滨西,Harbin West,45.705144,126.572324
      CRT,长春西,Changchun West,43.874940,125.193900
      SBT,沈阳北,Shenyang North,41.817330,123.429430
    """
    summary = pl.ingest.gtfs.from_timetable.convert_timetable(
        timetable, stations, output, overwrite=overwrite, start_date=start_date, end_date=end_date,
        timezone=timezone, datum=datum.lower(), route_type=route_type, lang=lang,
        agency_url=agency_url or pl.ingest.gtfs.from_timetable.DEFAULT_AGENCY_URL,
        publisher_name=publisher_name, publisher_url=publisher_url)
    click.echo(f"Wrote {summary.path}: {summary.agencies} agencies, {summary.routes} routes, {summary.trips:,} trips, "
               f"{summary.stops:,} stops, {summary.stop_times:,} stop times, {summary.services} service calendars "
               f"({summary.start_date} .. {summary.end_date}).")
    if no_check:
        return

    feed = pl.ingest.gtfs.feed.read_feed(summary.path)
    n = feed.notices
    click.echo(f"Checked: {n.count(severity=Severity.ERROR)} errors, {n.count(severity=Severity.WARNING)} warnings, "
               f"{n.count(severity=Severity.INFO)} info (details: plan gtfs check {summary.path}).")
