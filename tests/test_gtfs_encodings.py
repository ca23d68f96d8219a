"""Feeds as they come (issue 21): files in Latin-1, Windows-1252, GB18030 or UTF-16 load
whole, each reported once; bad bytes cost a row only where the value is an id or a required
typed field; binary files and feeds packed in subfolders are refused with their place named.

The AtB feed (``tests/data/gtfs/atb_region_nord_v2_latin1_gtfs.zip``, partridge's
``region-nord-v2`` fixture, its six files zipped unchanged) is a real Latin-1 ``stops.txt``.
"""

from __future__ import annotations

import json
import random
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli.main import main
from planner.config import Config
from planner.errors import ConfigError, FeedError
from planner.ingest.gtfs import read_feed, read_feeds
from planner.ingest.gtfs._encoding import decode_file
from tests.conftest import GTFS_DATA, write_feed

ATB = GTFS_DATA / "atb_region_nord_v2_latin1_gtfs.zip"


def run(*args) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


def _tables(feed) -> dict[str, pd.DataFrame]:
    return {name: df.drop(columns="_line").reset_index(drop=True) for name, df in feed.tables.items()}


def _loud(feed) -> list[tuple]:
    return [(n.code, n.file, n.line, n.field, n.value) for n in feed.notices.sorted() if n.severity >= 1]


# ---------------------------------------------------------------- the AtB feed (Latin-1 stops.txt)
def test_atb_latin1_feed_loads_whole(tmp_path):
    """``plan gtfs check`` on the AtB folder: every stop, route and trip kept, names decoded,
    exit 0, and one WARNING naming stops.txt and Latin-1."""
    folder = tmp_path / "region_nord_v2_latin1"
    with zipfile.ZipFile(ATB) as zf:
        zf.extractall(folder)
    code, out = run("gtfs", "check", folder, "--notices", tmp_path / "n.json")
    assert code == 0, out
    assert "routes       181 " in out
    assert "stops        3,693 " in out
    assert "trips        1,098  (dropped for errors: 0)" in out
    notices = json.loads((tmp_path / "n.json").read_text(encoding="utf-8"))["notices"]
    assert [n for n in notices if n["severity"] == "ERROR"] == []
    loud = [(n["code"], n["file"], n["value"]) for n in notices if n["severity"] == "WARNING"]
    assert loud == [("planner_file_encoding", "stops.txt", "ISO-8859-1 (Latin-1)")]

    feed = read_feed(ATB)
    assert (len(feed.stops), len(feed.routes), len(feed.trips)) == (3693, 181, 1098)
    assert feed.dropped_trips == {}
    names = set(feed.stops["stop_name"])
    assert {"Olsøya", "Hjørundhølen bru"} <= names
    assert not any("\ufffd" in n for n in names)
    # every stop id that stop_times.txt names exists in stops.txt, as the issue found reading it as Latin-1
    assert set(feed.stop_times["stop_id"]) <= set(feed.stops["stop_id"])


def test_atb_forced_utf8_keeps_rows_with_replacement_characters():
    """Read as UTF-8 (as the canonical validator does), the 964 bad names are WARNINGs whose
    value is the name, not the row, and no stop is lost."""
    feed = read_feed(ATB, config=Config(encodings={"*": "utf-8"}))
    assert (len(feed.stops), len(feed.trips)) == (3693, 1098)
    bad = [n for n in feed.notices.sorted() if n.code == "invalid_character"]
    assert {(n.severity.name, n.file, n.field, n.action) for n in bad} == {("WARNING", "stops.txt", "stop_name", "fixed")}
    assert feed.notices.count(code="invalid_character") == 964
    first = min((n for n in bad if n.line), key=lambda n: n.line)  # (past 100 samples: one summary notice)
    assert (first.line, first.value) == (2, "Ols\ufffdya")
    assert feed.notices.count(code="planner_file_encoding") == 0


# ---------------------------------------------------------------- one small feed, five encodings
EUROPE = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nA,Trafikk Sør–Øst,https://a.example,Europe/Oslo\n",
    "stops.txt": (
        "stop_id,stop_name,stop_lat,stop_lon\n"
        "S1,Olsøya,63.672,10.211\n"
        "S2,Hjørundhølen bru,63.695,10.276\n"
        "S3,Café Größe « Nord »,63.700,10.300\n"
    ),
    "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type\nR1,A,1,Sør – Nord (€ 3),3\n",
    "trips.txt": "route_id,service_id,trip_id,trip_headsign\nR1,WD,T1,Ærø\n",
    "stop_times.txt": (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "T1,08:00:00,08:00:00,S1,1\nT1,08:10:00,08:10:00,S2,2\nT1,08:20:00,08:20:00,S3,3\n"
    ),
    "calendar.txt": (
        "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
        "WD,1,1,1,1,1,0,0,20240101,20241231\n"
    ),
}
CHINA = {
    **EUROPE,
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nA,哈尔滨地铁,https://a.example,Asia/Shanghai\n",
    "stops.txt": (
        "stop_id,stop_name,stop_lat,stop_lon\n"
        "S1,哈尔滨西站,45.7075,126.5960\n"
        "S2,长春站,43.9068,125.3250\n"
        "S3,沈阳北站,41.8167,123.4370\n"
    ),
    "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type\nR1,A,1,京哈高铁（哈尔滨—沈阳）,3\n",
    "trips.txt": "route_id,service_id,trip_id,trip_headsign\nR1,WD,T1,沈阳北\n",
}


def _encode(files: dict[str, str], encoding: str) -> dict[str, bytes]:
    if encoding == "utf-8-bom":
        return {k: b"\xef\xbb\xbf" + v.encode("utf-8") for k, v in files.items()}
    return {k: v.encode(encoding) for k, v in files.items()}  # "utf-16" writes its BOM


@pytest.mark.parametrize(("base", "encoding", "label"), [
    (EUROPE, "utf-8", None), (EUROPE, "utf-8-bom", None), (EUROPE, "utf-16", "UTF-16"),
    (EUROPE, "cp1252", "Windows-1252"), (EUROPE, "latin-1", "ISO-8859-1 (Latin-1)"),
    (CHINA, "utf-8", None), (CHINA, "utf-8-bom", None), (CHINA, "utf-16", "UTF-16"), (CHINA, "gb18030", "GB18030"),
], ids=["eu-utf8", "eu-utf8bom", "eu-utf16", "eu-cp1252", "eu-latin1", "cn-utf8", "cn-utf8bom", "cn-utf16", "cn-gb18030"])
def test_same_feed_in_every_encoding_loads_the_same(tmp_path, base, encoding, label):
    if encoding == "latin-1":  # Latin-1 has neither '–' nor '€' nor '«'
        base = {k: v.replace("–", "-").replace("€", "EUR") for k, v in base.items()}
    reference = read_feed(write_feed(tmp_path / "utf8", base))
    data = _encode(base, encoding)
    feed = read_feed(write_feed(tmp_path / "feed", data))
    for name, df in _tables(reference).items():
        pd.testing.assert_frame_equal(_tables(feed)[name], df, obj=name)
    assert _loud(reference) == []
    # one notice per file that is not UTF-8, naming the file and the encoding; nothing else
    not_utf8 = set()
    for name, raw in data.items():
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            not_utf8.add(name)
    if encoding == "cp1252":  # a file without bytes 0x80-0x9F (where the two differ) is named Latin-1
        labels = {f: label if re.search(rb"[\x80-\x9f]", data[f]) else "ISO-8859-1 (Latin-1)" for f in not_utf8}
        assert set(labels.values()) == {"Windows-1252", "ISO-8859-1 (Latin-1)"}
    else:
        labels = dict.fromkeys(not_utf8, label)
    got = [(n.code, n.file, n.value) for n in feed.notices.sorted() if n.severity >= 1]
    assert sorted(got) == sorted(("planner_file_encoding", f, labels[f]) for f in not_utf8)
    assert (label is None) == (not not_utf8)
    assert "stops.txt" in not_utf8 or label is None
    for n in feed.notices.sorted():
        if n.code == "planner_file_encoding":
            assert n.file in n.message and labels[n.file] in n.message and n.severity.name == "WARNING"


def test_guess_prefers_gb18030_only_for_chinese_text():
    zh = "stop_id,stop_name\nS1,哈尔滨西站\nS2,齐齐哈尔南\n"
    assert decode_file(zh.encode("gb18030")).codec == "gb18030"
    assert decode_file(zh.encode("gbk")).codec == "gb18030"
    # Latin-1 bytes that happen to decode as GB18030 ('øy' is one rare ideograph) stay Latin-1
    latin = "stop_id,stop_name\nS1,Olsøya\nS2,Kjøpmannsgata\n"
    assert latin.encode("latin-1").decode("gb18030")  # the trap
    assert decode_file(latin.encode("latin-1")).text == latin
    # a byte 0x80-0x9F that Windows-1252 defines ('€') makes it Windows-1252
    assert decode_file("a,b\n1,€ 3\n".encode("cp1252")).codec == "cp1252"


def test_utf8_files_are_decoded_once_and_unreported():
    data = "stop_id,stop_name\nS1,Zürich\n".encode()
    dec = decode_file(data)
    assert (dec.codec, dec.how, dec.bad_lines, dec.notice("stops.txt")) == ("utf_8", "", {}, None)
    assert decode_file(b"\xef\xbb\xbf" + data).text == data.decode()


# ---------------------------------------------------------------- bad bytes in UTF-8 files: by field kind
def test_bad_byte_in_a_text_field_keeps_the_row_and_shows_the_value(make_feed):
    stops = ("stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
             "S,Central,45.7600,126.6250,1,\n"
             "S1,Central platform 1,45.7601,126.6251,0,S\n"
             "S2,Central platform 2,45.7599,126.6249,0,S\n"
             "B,Brücke Süd,45.7700,126.6400,0,\n").encode() + b"C,Castle \xe9,45.7800,126.6550,0,\n"
    feed = read_feed(make_feed({"stops.txt": stops}))
    assert len(feed.stops) == 5 and feed.dropped_trips == {}
    assert _loud(feed) == [("invalid_character", "stops.txt", 6, "stop_name", "Castle \ufffd")]
    assert feed.stops.set_index("stop_id").loc["C", "stop_name"] == "Castle \ufffd"


def test_bad_byte_in_an_id_drops_the_row_and_its_trip(make_feed):
    stop_times = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence,stop_headsign\n"
                  "T1,08:00:00,08:00:00,S1,1,Brücke Süd\n"
                  "T1,08:10:00,08:11:00,B,2,Brücke Süd\n"
                  "T1,08:20:00,08:20:00,C,3,\n"
                  "T2,09:00:00,09:00:00,S1,1,\n").encode() + b"T2,09:10:00,09:11:00,B\xff,2,\n" \
        + b"T2,09:20:00,09:20:00,C,3,\n"
    feed = read_feed(make_feed({"stop_times.txt": stop_times}), config=Config(max_dropped_trip_share=0.6))
    assert feed.dropped_trips == {"T2": "planner_trip_with_bad_stop_time"}
    bad = [n for n in feed.notices.sorted() if n.code == "invalid_character"]
    assert [(n.severity.name, n.line, n.field, n.value, n.action) for n in bad] == [
        ("ERROR", 6, "stop_id", "B\ufffd", "dropped")]


# ---------------------------------------------------------------- refused, with the place named
def test_random_bytes_named_stops_txt_exit_2_located(make_feed):
    path = make_feed({"stops.txt": random.Random(21).randbytes(4096)})
    result = CliRunner().invoke(main, ["gtfs", "check", str(path)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert "invalid_encoding" in result.output and "[stops.txt:1]" in result.output
    assert "file is not text" in result.output and "byte offset" in result.output
    with pytest.raises(FeedError) as err:
        read_feed(path)
    assert err.value.code == "invalid_encoding"


def test_feed_nested_in_subfolders_is_named(make_feed):
    """partridge's ``nested`` fixture: the feed four folders down."""
    inner = make_feed(name="caltrain")
    outer = inner.parent / "nested"
    (outer / "a" / "b" / "c").mkdir(parents=True)
    inner.rename(outer / "a" / "b" / "c" / "caltrain")
    code, out = run("gtfs", "check", outer)
    assert code == 2, out
    assert "invalid_input_files_in_subfolder" in out and "found them in a/b/c/caltrain/" in out
    feed = read_feed(outer, config=Config(allow_subfolder=True))
    assert len(feed.trips) == 2
    assert feed.notices.count(code="invalid_input_files_in_subfolder") == 1


# ---------------------------------------------------------------- --encoding
def test_encoding_option_forces_a_codec_per_feed(make_feed):
    data = {k: v.encode("cp1252") for k, v in EUROPE.items()}
    path = make_feed(data, name="eu", base={})
    code, out = run("gtfs", "check", f"eu={path}", "--encoding", "eu=cp1252")
    assert code == 0, out
    assert "planner_file_encoding" in out
    feed = read_feed(path, config=Config(encodings={"*": "cp1252"}))
    assert feed.stops.set_index("stop_id").loc["S1", "stop_name"] == "Olsøya"
    code, out = run("gtfs", "check", f"eu={path}", "--encoding", "other=latin-1")
    assert code == 2 and "planner_invalid_feed_id" in out, out
    code, out = run("gtfs", "check", f"eu={path}", "--encoding", "eu=base64")
    assert code == 2 and "not a text encoding" in out, out
    with pytest.raises(ConfigError):
        Config(encodings={"*": "no-such-codec"})


def test_encoding_is_part_of_the_network_cache_key():
    from planner.network.build import network_key

    a = network_key({"f": "d"}, "", "2024-01-02", (0, 1), Config())
    b = network_key({"f": "d"}, "", "2024-01-02", (0, 1), Config(encodings={"f": "latin-1"}))
    assert a != b


def test_read_feeds_with_one_latin1_and_one_utf8_feed(make_feed, tmp_path):
    eu = make_feed({k: v.encode("cp1252") for k, v in EUROPE.items()}, name="eu", base={})
    cn = make_feed(CHINA, name="cn", base={})
    fs = read_feeds([f"eu={eu}", f"cn={cn}"])
    assert fs["eu"].stops["stop_name"].tolist()[0] == "Olsøya"
    assert fs["cn"].stops["stop_name"].tolist()[0] == "哈尔滨西站"
    assert {n.feed for n in fs.notices.sorted() if n.code == "planner_file_encoding"} == {"eu"}


def test_atb_zip_is_the_shared_fixture_unchanged():
    with zipfile.ZipFile(ATB) as zf:
        names = sorted(zf.namelist())
        assert names == ["agency.txt", "calendar_dates.txt", "routes.txt", "stop_times.txt", "stops.txt", "trips.txt"]
        stops = zf.read("stops.txt")
    assert b"Ols\xf8ya" in stops
    assert Path(ATB).stat().st_size < 300_000
