"""Fuzz targets for the input readers (issue 11), shared by ``tests/test_fuzz.py`` (a short,
time-budgeted run in every test run) and ``scripts/fuzz.py`` (long runs).

Every target is a hypothesis strategy that builds one hostile input plus a check that feeds
it to the library. The property is the same everywhere: **the input either loads or raises
a** :class:`planner.errors.PlannerError` **whose message names the input** (the file, and
the line/field where there is one). Any other exception, a warning (pytest turns warnings
into errors), an input slower than ``max_example_s`` or a broken invariant is a finding.

Targets (``TARGETS``):

``gtfs_fields``
    the scalar GTFS time/date parsers against the vectorised converters (differential), on
    arbitrary and near-valid text;
``gtfs_csv``
    the CSV tokeniser on arbitrary bytes and CSV-like text: invariants of the result, and
    the fast (pyarrow) tokeniser against the exact one wherever both apply;
``gtfs_feed``
    ``read_feed`` on a small valid feed after random cell, row, column, header, byte and
    encoding mutations (folder or zip), then the timetable of its busiest day;
``gtfs_zip``
    the zip member reader: archives written field by field with odd, nested, unsafe and
    duplicate member names, all compression methods, forged sizes/CRCs/offsets/flags and
    entry counts, then byte flips and truncation;
``osm_xml``
    ``read_osm`` on generated OSM XML (random ids, coordinates and tags, unknown and nested
    elements, DTDs and entities, odd encodings) after byte mutations, plain or gz/bz2
    (intact or corrupt), then the walk and drive networks of what loaded;
``osm_pbf``
    ``read_osm`` on blocks of the test PBFs whose *decompressed* content was mutated and
    re-framed, with forged ``datasize``/``raw_size``/header lengths, dropped or repeated
    blocks, and byte-level damage to the file;
``scenario``
    ``load_scenario`` on arbitrary text, YAML-like token soup (anchors, aliases, tags,
    deep nesting) and structured random scenarios, which are also applied to a feed.

A run is a sequence of hypothesis runs of ``chunk`` examples with seeds ``seed, seed+1, ...``
until the time budget is spent: deterministic for a given number of chunks, never writes a
hypothesis database (``database=None``), and its files live in one temporary folder.
"""

from __future__ import annotations

import bz2
import gzip
import json
import os
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hypothesis
import numpy as np
import pandas as pd
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from planner.config import Config
from planner.errors import PlannerError
from tests import fuzz_codecs as zc
from tests.conftest import MINI, OSM_DATA

FUZZ_SECONDS_ENV = "PLAN_FUZZ_SECONDS"
DEFAULT_SECONDS = 30.0


def fuzz_seconds(default: float = DEFAULT_SECONDS) -> float:
    """Seconds per target: ``$PLAN_FUZZ_SECONDS`` or ``default``."""
    raw = os.environ.get(FUZZ_SECONDS_ENV, "")
    try:
        return max(float(raw), 0.0) if raw else default
    except ValueError:
        return default


# ================================================================================ runner
@dataclass
class FuzzStats:
    target: str
    seconds: float = 0.0
    examples: int = 0
    chunks: int = 0
    slowest_s: float = 0.0
    outcomes: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        top = ", ".join(f"{k} {v}" for k, v in self.outcomes.most_common(8))
        return (f"{self.target}: {self.examples} examples in {self.seconds:.1f} s ({self.chunks} chunks), "
                f"slowest {self.slowest_s * 1000:.0f} ms; outcomes: {top}")


@dataclass(frozen=True)
class Target:
    name: str
    strategy: Callable[[], st.SearchStrategy]
    check: Callable[[Any, Path], str]
    chunk: int = 50


def run_target(target: Target, seconds: float, *, seed: int = 0, max_example_s: float = 10.0,
               verbose: bool = False) -> FuzzStats:
    """Fuzz ``target`` for about ``seconds`` (at least one chunk); raise on the first finding."""
    stats = FuzzStats(target.name)
    start = time.monotonic()
    strategy = target.strategy()
    with tempfile.TemporaryDirectory(prefix=f"plan_fuzz_{target.name}_") as tmp:
        work = Path(tmp)
        k = 0
        while True:
            @hypothesis.seed(seed * 1_000_003 + k)
            @settings(max_examples=target.chunk, deadline=None, database=None, derandomize=False,
                      suppress_health_check=list(HealthCheck), phases=(Phase.generate, Phase.shrink),
                      print_blob=True)
            @given(strategy)
            def one(example):
                t0 = time.perf_counter()
                outcome = target.check(example, work)
                dt = time.perf_counter() - t0
                stats.examples += 1
                stats.outcomes[outcome] += 1
                stats.slowest_s = max(stats.slowest_s, dt)
                if dt > max_example_s:
                    msg = f"{target.name}: one input took {dt:.1f} s (limit {max_example_s:.0f} s)"
                    raise AssertionError(msg)

            one()
            k += 1
            stats.chunks = k
            stats.seconds = time.monotonic() - start
            if verbose:
                print(f"  {stats.summary()}", flush=True)
            if time.monotonic() - start >= seconds:
                break
    stats.seconds = time.monotonic() - start
    return stats


def expect_planner_error(err: PlannerError, *names: str) -> str:
    """Check the error names the input; return its code for the statistics."""
    text = str(err)
    assert err.code and isinstance(err.code, str), f"error without a code: {text!r}"
    assert text.strip(), "error without a message"
    if names:
        assert any(n in text for n in names), f"the message does not name {names[0]!r}: {text[:300]!r}"
    return err.code


def weighted(*choices: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """``st.one_of`` with weights (``one_of`` treats a repeated strategy object as one branch)."""
    index = st.sampled_from([i for i, (w, _s) in enumerate(choices) for _ in range(w)])
    return index.flatmap(lambda i: choices[i][1])


# ================================================================================ GTFS
# a pool of cell values: valid ids of MINI (so references sometimes resolve), times, dates,
# numbers, and the values the anchors list as trouble (§8 B12, C31, C32, §3 #12-#15)
CELLS = [
    "", " ", "S", "S1", "S2", "B", "C", "T1", "T2", "R1", "A", "WD", "WE", "F", "SH", "0", "1", "2", "3", "4",
    "-1", "7", "99999999999999999999", "1.0", "1,5", "1e5", "1e400", "nan", "inf", "-inf", "NA", "null", "007",
    "00:00:00", "08:00:00", "24:00:00", "25:35:00", "100:35:00", "999:59:59", "1000:00:00", "25:61:00", "7:5:3",
    "-1:00:00", "12:00", "08:00:00.5", "00:26:106", " 08:00:00 ", "20240101", "20241231", "20240230",
    "19691231", "22000101", "2024-01-01", "00000000", "99999999", "45.76", "126.62", "91", "-181", "0.0",
    "Asia/Shanghai", "Europe/Helsinki", "Mars/Olympus", "../../etc", "https://a.example", "x@y", "EUR",
    '"', '""', '"a,b"', "a\nb", "\x00", "é", "\ufeff", "\u2028", "=HYPERLINK(1)", "<script>", "A" * 300,
]
EXTRA_FILES = {
    "calendar_dates.txt": "service_id,date,exception_type\nWD,20240102,2\nWE,20240106,1\n",
    "frequencies.txt": "trip_id,start_time,end_time,headway_secs,exact_times\nT1,08:00:00,10:00:00,600,0\n",
    "transfers.txt": "from_stop_id,to_stop_id,transfer_type,min_transfer_time\nS1,S2,2,120\nB,C,0,\n",
    "fare_attributes.txt": "fare_id,price,currency_type,payment_method,transfers\nF,2.5,EUR,0,\n",
    "fare_rules.txt": "fare_id,route_id,origin_id,destination_id\nF,R1,,\n",
    "shapes.txt": "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence,shape_dist_traveled\nSH,45.76,126.62,1,0\nSH,45.77,126.64,2,1500\n",
    "feed_info.txt": "feed_publisher_name,feed_publisher_url,feed_lang,feed_start_date,feed_end_date\nP,https://p.example,en,20240101,20241231\n",
}
FILE_NAMES = sorted({*MINI, *EXTRA_FILES})

_cell = st.one_of(st.sampled_from(CELLS), st.text(max_size=12))
_idx = st.integers(min_value=0, max_value=63)
_file = st.sampled_from(FILE_NAMES)
_feed_op = st.one_of(
    st.tuples(st.just("cell"), _file, _idx, _idx, _cell),
    st.tuples(st.just("cell"), _file, _idx, _idx, _cell),
    st.tuples(st.just("del_row"), _file, _idx),
    st.tuples(st.just("dup_row"), _file, _idx, st.integers(1, 200)),
    st.tuples(st.just("swap_rows"), _file, _idx, _idx),
    st.tuples(st.just("del_col"), _file, _idx),
    st.tuples(st.just("del_cell"), _file, _idx, _idx),
    st.tuples(st.just("header"), _file, _idx, _cell),
    st.tuples(st.just("bytes"), _file, st.integers(0, 4096), st.binary(min_size=1, max_size=6)),
    st.tuples(st.just("truncate"), _file, st.integers(0, 4096)),
    st.tuples(st.just("drop_file"), _file),
    st.tuples(st.just("encoding"), _file, st.sampled_from(["bom", "crlf", "cr", "utf16", "latin1", "nul"])),
)


def _rows(text: str) -> list[list[str]]:
    return [line.split(",") for line in text.split("\n")]


def _unrows(rows: list[list[str]]) -> str:
    return "\n".join(",".join(r) for r in rows)


def apply_feed_op(files: dict[str, bytes], op: tuple) -> None:
    """Apply one mutation to the feed ``files`` (name -> bytes), in place."""
    kind, name = op[0], op[1]
    if name not in files:
        return
    data = files[name]
    if kind in {"bytes", "truncate", "drop_file", "encoding"}:
        if kind == "bytes":
            pos = op[2] % (len(data) + 1)
            files[name] = data[:pos] + op[3] + data[pos:]
        elif kind == "truncate":
            files[name] = data[: op[2] % (len(data) + 1)]
        elif kind == "drop_file":
            del files[name]
        else:
            enc = op[2]
            text = data.decode("utf-8", "replace")
            files[name] = {"bom": lambda: b"\xef\xbb\xbf" + data, "crlf": lambda: data.replace(b"\n", b"\r\n"),
                           "cr": lambda: data.replace(b"\n", b"\r"), "utf16": lambda: text.encode("utf-16"),
                           "latin1": lambda: text.encode("latin-1", "replace"),
                           "nul": lambda: data.replace(b",", b"\x00,", 1)}[enc]()
        return
    rows = _rows(data.decode("utf-8", "surrogateescape"))
    n = len(rows)
    if kind == "cell":
        r = rows[op[2] % n]
        r[op[3] % len(r)] = op[4]
    elif kind == "del_row" and n > 1:
        del rows[1 + op[2] % (n - 1)]
    elif kind == "dup_row" and n > 1:
        k = 1 + op[2] % (n - 1)
        rows[k + 1:k + 1] = [list(rows[k]) for _ in range(op[3])]
    elif kind == "swap_rows" and n > 2:
        a, b = 1 + op[2] % (n - 1), 1 + op[3] % (n - 1)
        rows[a], rows[b] = rows[b], rows[a]
    elif kind == "del_col":
        c = op[2] % len(rows[0])
        for r in rows:
            if len(r) > c:
                del r[c]
    elif kind == "del_cell":
        r = rows[op[2] % n]
        if len(r) > 1:
            del r[op[3] % len(r)]
    elif kind == "header":
        rows[0][op[2] % len(rows[0])] = op[3]
    files[name] = _unrows(rows).encode("utf-8", "surrogateescape")


@dataclass
class FeedCase:
    files: dict[str, bytes]
    as_zip: bool
    strict: bool
    share: float


@st.composite
def feed_cases(draw) -> FeedCase:
    files = {k: v.encode() for k, v in MINI.items()}
    for name, text in EXTRA_FILES.items():
        if draw(st.booleans()):
            files[name] = text.encode()
    for op in draw(st.lists(_feed_op, max_size=8)):
        apply_feed_op(files, op)
    return FeedCase(files, draw(st.booleans()), draw(st.booleans()),
                    draw(st.sampled_from([0.05, 0.5, 1.0])))


def write_feed_case(case: FeedCase, work: Path) -> Path:
    import shutil

    folder = work / "feed"
    shutil.rmtree(folder, ignore_errors=True)
    zpath = work / "feed.zip"
    zpath.unlink(missing_ok=True)
    if case.as_zip:
        zpath.write_bytes(zc.build_zip([zc.deflated(n, d) for n, d in sorted(case.files.items())]))
        return zpath
    folder.mkdir()
    for n, d in case.files.items():
        (folder / n).write_bytes(d)
    return folder


def check_feed_path(path: Path, config: Config) -> str:
    """read_feed, then the timetable of the busiest day: loads or a PlannerError naming the feed."""
    from planner.ingest.gtfs import read_feed
    from planner.ingest.gtfs.service import busiest_date
    from planner.network.timetable import build_timetable

    try:
        feed = read_feed(path, config=config)
    except PlannerError as err:
        return "feed:" + expect_planner_error(err, path.name)
    try:
        day = busiest_date([feed])
        tt = build_timetable(feed, day)
    except PlannerError as err:
        return "timetable:" + expect_planner_error(err)
    assert tt.n_trips > 0
    assert np.all(np.diff(tt.pattern_stops_ptr) >= 2)
    return "loaded"


def check_feed_case(case: FeedCase, work: Path) -> str:
    path = write_feed_case(case, work)
    return check_feed_path(path, Config(strict=case.strict, max_dropped_trip_share=case.share, progress=False))


# ---------------------------------------------------------------------------- fields
_time_like = st.builds(
    lambda sign, h, m, s, sep, pad: f"{pad}{sign}{h}{sep}{m}{sep}{s}{pad}",
    st.sampled_from(["", "-", "+"]), st.sampled_from(["0", "7", "07", "24", "99", "100", "999", "1000", "", "٣"]),
    st.sampled_from(["00", "05", "59", "60", "5", "", "5x"]), st.sampled_from(["00", "03", "59", "60", "3", "106"]),
    st.sampled_from([":", ".", "：", ""]), st.sampled_from(["", " ", "\t", "\n", "\x1c", "\u00a0", "\u3000"]))
_date_like = st.builds(
    lambda y, m, d, pad: f"{pad}{y}{m}{d}{pad}",
    st.sampled_from(["1969", "1970", "2024", "2199", "2200", "0000", "9999", "202"]),
    st.sampled_from(["01", "02", "12", "13", "00", "1"]), st.sampled_from(["01", "28", "29", "30", "31", "32", "00"]),
    st.sampled_from(["", " ", "\n", "\x1c"]))
field_texts = st.one_of(_time_like, _date_like, st.text(max_size=14), st.from_regex(r"\A[0-9:]{0,12}\Z"),
                        st.integers(-10**20, 10**20).map(str), st.floats(allow_nan=True).map(repr))


def check_field(text: str, work: Path) -> str:
    """Scalar parsers agree with the vectorised converters after the tokeniser's strip."""
    from planner.errors import InputError
    from planner.ingest.gtfs import _convert as cv

    stripped = pd.Series([text], dtype="str").str.strip()
    vec_t, _bad_t = cv.to_time(stripped)
    try:
        t = cv.parse_time(text)
    except InputError:
        t = None
    same_strip = stripped.iloc[0] == text.strip()
    if same_strip:
        assert (t is None) == (vec_t[0] < 0), f"parse_time and to_time disagree on {text!r}: {t} vs {vec_t[0]}"
        assert t is None or t == vec_t[0]
    if t is not None:
        assert 0 <= t < 1000 * 3600
        assert cv.parse_time(cv.format_time(t)) == t
    vec_d, _bad_d = cv.to_date(stripped)
    try:
        d = cv.parse_date(text)
    except InputError:
        d = None
    if same_strip:
        assert (d is None) == bool(np.isnat(vec_d[0])), f"parse_date and to_date disagree on {text!r}: {d} vs {vec_d[0]}"
        assert d is None or np.datetime64(d.isoformat(), "D") == vec_d[0]
    vals, ok, _bad = cv.to_int(stripped)
    if ok[0]:
        assert vals[0] == int(stripped.iloc[0])
    fl, _bad_f = cv.to_float(stripped)
    assert np.isnan(fl[0]) or np.isfinite(fl[0])
    return ("time " if t is not None else "") + ("date" if d is not None else "") or "neither"


# ---------------------------------------------------------------------------- CSV
_csv_cell = st.one_of(st.sampled_from(CELLS), st.text(alphabet=st.sampled_from('ab ,"\r\n\t\x00é\ufeff'), max_size=6))
csv_payloads = st.one_of(
    st.binary(max_size=300),
    st.builds(
        lambda header, rows, nl, bom, tail: ((b"\xef\xbb\xbf" if bom else b"")
                                             + nl.join(",".join(r).encode("utf-8", "surrogateescape")
                                                       for r in [header, *rows]) + tail),
        st.one_of(st.lists(st.sampled_from(["stop_id", "stop_name", "a", " b ", '"q"', "c d"]), min_size=1, max_size=4,
                           unique=True),
                  st.lists(st.sampled_from(["stop_id", "", " ", '"', "\x00", "é"]), min_size=1, max_size=3)),
        st.lists(st.lists(_csv_cell, max_size=5), max_size=8),
        st.sampled_from([b"\n", b"\r\n", b"\r"]), st.booleans(),
        st.sampled_from([b"", b"\n", b"\xff", b'"', b"\n\n"])),
)


@dataclass
class CsvCase:
    data: bytes
    max_cell: int


@st.composite
def csv_cases(draw) -> CsvCase:
    return CsvCase(draw(csv_payloads), draw(st.sampled_from([4096, 8, 1])))


def check_csv(case: CsvCase, work: Path) -> str:
    """tokenize: a RawTable with consistent lines and cells, or CsvFatal; fast == exact."""
    from planner.common.notices import Notices
    from planner.ingest.gtfs import _csv

    try:
        raw = _csv.tokenize(case.data, feed="f", file="x.txt", notices=Notices(), max_cell_chars=case.max_cell)
    except _csv.CsvFatal as err:
        assert err.code and err.message
        return "fatal:" + err.code
    n = len(raw.lines)
    assert all(name and name == name.strip() for name in raw.header)
    assert len(set(raw.header)) == len(raw.header)
    assert n == 0 or (raw.lines[0] >= 2 and np.all(np.diff(raw.lines) > 0))
    for name in raw.header:
        col = raw.columns[name]
        assert len(col) == n
        assert all(len(v) <= case.max_cell and "\x00" not in v and v == v.strip() for v in col)
    # differential: where the fast tokeniser accepts the body, it must equal the exact one
    text, bad = _csv.decode(case.data)
    header, header_len = _csv._header(text)
    body = text[header_len:]
    if not bad and "\x00" not in body and _csv._simple_quoting(body) and len(set(header)) == len(header) and all(header):
        fast = _csv._fast(body, header)
        if fast is not None:
            exact = _csv._exact(body, header, feed="f", file="x.txt", notices=Notices(), bad_lines={})
            assert list(fast.lines) == list(exact.lines), (fast.lines, exact.lines)
            for h in header:
                assert list(fast.columns[h]) == list(exact.columns[h]), h
            return f"rows {min(n, 3)}+ (fast)"
    return f"rows {min(n, 3)}+"


# ================================================================================ zip
_GTFS_NAMES = ["agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt", "calendar.txt",
               "calendar_dates.txt", "transfers.txt", "frequencies.txt", "shapes.txt"]
_member_name = st.one_of(
    st.sampled_from(_GTFS_NAMES),
    st.sampled_from(_GTFS_NAMES).map(str.upper),
    st.sampled_from(_GTFS_NAMES).map(lambda n: "gtfs/" + n),
    st.sampled_from(_GTFS_NAMES).map(lambda n: "a/b/c/" + n),
    st.sampled_from(["../evil.txt", "/etc/x.txt", "..\\x.txt", "C:x.txt", "a\x00b.txt", "stops.txt/", "gtfs/",
                     "__MACOSX/._stops.txt", ".DS_Store", "x" * 300 + ".txt", "stops.txt ", "./stops.txt",
                     "sub/../stops.txt", "Stops.TXT", "inner.zip", "", "\u00e9.txt", "stops.txt\n"]),
    st.text(max_size=20),
)


@st.composite
def raw_members(draw) -> zc.RawMember:
    name = draw(_member_name)
    pick = draw(st.sampled_from(["mini", "mini", "random", "empty", "zip"]))
    base = MINI.get(name.lower().rsplit("/", 1)[-1], MINI["stops.txt"]).encode()
    data = {"mini": base, "random": draw(st.binary(max_size=200)), "empty": b"",
            "zip": zc.build_zip([zc.stored("stops.txt", base)])}[pick]
    method = draw(st.sampled_from([0, 8, 8, 12, 14, 99]))
    if method == 8:
        m = zc.deflated(name, data)
    elif method == 12:
        m = zc.RawMember(name.encode("utf-8", "surrogateescape"), bz2.compress(data), 12, file_size=len(data),
                         crc=_crc(data))
    elif method == 14:
        comp = zipfile.LZMACompressor()
        m = zc.RawMember(name.encode("utf-8", "surrogateescape"), comp.compress(data) + comp.flush(), 14,
                         file_size=len(data), crc=_crc(data))
    else:
        m = zc.RawMember(name.encode("utf-8", "surrogateescape"), data, method, file_size=len(data), crc=_crc(data))
    forge = draw(st.lists(st.sampled_from(["file_size", "compress_size", "crc", "flags", "local_name", "offset",
                                           "extra"]), max_size=2, unique=True))
    if "file_size" in forge:
        m.file_size = draw(st.sampled_from([0, 1, 1000, 2**20, 2**31, 2**32 - 1, 2**32, 10 * 2**30, 2**40]))
    if "compress_size" in forge:
        m.compress_size = draw(st.sampled_from([0, 1, len(m.data) + 1, max(len(m.data) - 1, 0), 2**32 - 2, 2**33]))
    if "crc" in forge:
        m.crc = draw(st.integers(0, 2**32 - 1))
    if "flags" in forge:
        m.flags = draw(st.sampled_from([1, 8, 0x800, 0x41, 0xFFFF]))
    if "local_name" in forge:
        m.local_name = draw(st.sampled_from([b"other.txt", b"", b"../x"]))
    if "offset" in forge:
        m.header_offset = draw(st.sampled_from([0, 1, 30, 2**31, 2**32 - 1, 2**33]))
    if "extra" in forge:
        m.extra = draw(st.sampled_from([b"\x01\x00\x08\x00" + b"\xff" * 8, b"\x01\x00\xff\xff", b"\x00",
                                        b"\x01\x00\x18\x00" + b"\x00" * 24]))
    return m


def _crc(data: bytes) -> int:
    import zlib

    return zlib.crc32(data)


@dataclass
class ZipCase:
    data: bytes


@st.composite
def zip_cases(draw) -> ZipCase:
    members = draw(st.lists(raw_members(), max_size=8))
    if draw(st.booleans()):  # usually also a loadable core, so checks past the container run
        members = [zc.deflated(n, MINI[n].encode()) for n in sorted(MINI)] + members
    data = zc.build_zip(members, eocd_entries=draw(st.one_of(st.none(), st.sampled_from([0, 1, 5, 0xFFFF]))),
                        prefix=draw(st.sampled_from([b""] * 6 + [b"junk", b"PK\x03\x04"])),
                        comment=draw(st.sampled_from([b"", b"", b"PK\x05\x06" + b"\x00" * 18])))
    for pos, value in draw(st.lists(st.tuples(st.integers(0, 2**31), st.integers(0, 255)), max_size=3)):
        if len(data) > 4:  # keep the magic number: a non-zip is refused at once and tests little
            b = bytearray(data)
            b[4 + pos % (len(b) - 4)] = value
            data = bytes(b)
    if draw(st.integers(0, 9)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return ZipCase(data)


def check_zip(case: ZipCase, work: Path) -> str:
    path = work / "feed.zip"
    path.write_bytes(case.data)
    return check_feed_path(path, Config(progress=False, max_dropped_trip_share=1.0))


# ================================================================================ OSM XML
_odd_int = st.one_of(st.integers(-(2**63), 2**63 - 1).map(str),
                     st.sampled_from(["", "x", "1.5", "1e3", " 1", "1_000", "9" * 25, "-0", "٣", "0x10", "-1"]))
_osm_int = weighted((20, st.integers(1, 12).map(str)), (1, _odd_int))
_odd_coord = st.one_of(st.floats(-200, 200).map(lambda f: f"{f:.7f}"), st.floats().map(repr),
                       st.sampled_from(["", "nan", "inf", "1,5", "abc", "91", "-180", "1e999", "60.17"]))
_lat = weighted((8, st.floats(60.160, 60.175).map(lambda f: f"{f:.7f}")), (1, _odd_coord))
_lon = weighted((8, st.floats(24.930, 24.955).map(lambda f: f"{f:.7f}")), (1, _odd_coord))
_tag_key = st.sampled_from(["highway", "name", "oneway", "maxspeed", "railway", "public_transport", "station",
                            "junction", "access", "foot", "area", "service", "sidewalk", "motor_vehicle", "ref",
                            "maxspeed:forward", "layer", "", "k"])
_TAG_VALUES = st.sampled_from(["footway", "residential", "motorway", "primary", "service", "steps", "path", "platform",
                     "yes", "no", "-1", "reverse", "1", "true", "T", "F", "reversible", "alternating", "yes;no",
                     "50", "30 mph", "20 knots", "RU:urban", "DE:zone30", "none", "signals", "walk", "50;70",
                     "60|40", "50,5", "fast", "0", "-5", "1e9", "nan", "inf", "station", "halt", "rail",
                     "subway", "roundabout", "private", ""])
_tag_value = weighted((8, _TAG_VALUES), (2, st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=10)),
                      (1, st.text(max_size=4)))


@st.composite
def osm_elements(draw) -> list[str]:
    out = []
    chaos = draw(st.integers(0, 3)) == 0  # odd ids and coordinates in a quarter of the documents
    ids = _osm_int if chaos else st.integers(1, 12).map(str)
    lats = _lat if chaos else st.floats(60.160, 60.175).map(lambda f: f"{f:.7f}")
    lons = _lon if chaos else st.floats(24.930, 24.955).map(lambda f: f"{f:.7f}")
    for k in range(draw(st.integers(0, 10))):
        tags = draw(st.lists(st.tuples(_tag_key, _tag_value), max_size=3))
        attrs = {"id": draw(ids) if chaos else str(k + 1), "lat": draw(lats), "lon": draw(lons)}
        if chaos and draw(st.integers(0, 9)) == 0:
            del attrs[draw(st.sampled_from(["id", "lat", "lon"]))]
        out.append(("node", attrs, [("tag", {"k": k, "v": v}, []) for k, v in tags]))
    for _ in range(draw(st.integers(0, 4))):
        tags = draw(st.lists(st.tuples(_tag_key, _tag_value), max_size=4))
        refs = draw(st.lists(ids, min_size=draw(st.sampled_from([0, 2, 2])), max_size=6))
        if draw(st.integers(0, 2)) > 0:
            tags.insert(0, ("highway", draw(st.sampled_from(["footway", "residential", "primary", "motorway"]))))
        kids = [("nd", {"ref": r}, []) for r in refs] + [("tag", {"k": k, "v": v}, []) for k, v in tags]
        out.append(("way", {"id": draw(ids)}, kids))
    if draw(st.booleans()):
        out.append(("relation", {"id": "1"}, [("member", {"type": "way", "ref": "1", "role": ""}, [])]))
    if draw(st.booleans()):
        out.append(("bounds", {k: draw(_lat if "lat" in k else _lon) for k in ("minlat", "minlon", "maxlat", "maxlon")}, []))
    if draw(st.integers(0, 4)) == 0:
        out.append((draw(st.sampled_from(["note", "meta", "x", "node2"])), {}, []))
    if draw(st.integers(0, 9)) == 0:  # nesting: an element inside an element inside ...
        depth = draw(st.integers(2, 80))
        out.append(("nest", {"depth": str(depth)}, []))
    return out


def _xml_attr(value: str, escape: bool) -> str:
    if not escape:
        return value
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
            .replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;"))


def _render(elem, escape: bool) -> str:
    tag, attrs, kids = elem
    if tag == "nest":
        n = int(attrs["depth"])
        return "<a>" * n + "</a>" * n
    a = "".join(f' {k}="{_xml_attr(v, escape)}"' for k, v in attrs.items())
    if not kids:
        return f"<{tag}{a}/>"
    return f"<{tag}{a}>" + "".join(_render(k, escape) for k in kids) + f"</{tag}>"


_PROLOGS = [
    "", "<?xml version='1.0' encoding='UTF-8'?>", '<?xml version="1.0"?>', '<?xml version="1.1"?>',
    "<?xml version='1.0' encoding='ISO-8859-1'?>", "<?xml version='1.0' encoding='UTF-16'?>",
    "<?xml version='1.0' encoding='bogus-42'?>", "<?xml version='1.0' encoding='utf-32'?>",
    '<!DOCTYPE osm SYSTEM "osm.dtd">', '<!DOCTYPE osm [<!ENTITY a "ha">]>',
    '<!DOCTYPE osm [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE osm [<!ENTITY a0 "ha"><!ENTITY a1 "&a0;&a0;&a0;&a0;&a0;&a0;&a0;&a0;"><!ENTITY a2 "&a1;&a1;&a1;&a1;&a1;&a1;&a1;">]>',
    '<!DOCTYPE osm [<!ENTITY % p SYSTEM "http://example.invalid/p">%p;]>', "<!-- comment -->", "<?pi data?>",
    "\ufeff",
]


@dataclass
class XmlCase:
    data: bytes
    suffix: str
    cap: int
    streets: bool


@st.composite
def xml_cases(draw) -> XmlCase:
    escape = draw(st.integers(0, 19)) > 0
    body = "".join(_render(e, escape) for e in draw(osm_elements()))
    if draw(st.integers(0, 19)) == 0:
        body += draw(st.sampled_from(["&a;", "&a2;", "&e;", "<![CDATA[x]]>", "text", "&#0;", "&#x110000;", "&amp;"]))
    root = draw(st.sampled_from(["osm"] * 12 + ["OSM", "graphml", "osm xmlns='x'"]))
    root_attrs = draw(st.sampled_from(['', ' version="0.6"', ' version="0.6" generator="OSMnx 2.0"', ' generator="&a;"']))
    prolog = draw(st.one_of(st.sampled_from(_PROLOGS[:3]), st.sampled_from(_PROLOGS)))
    text = f"{prolog}\n<{root}{root_attrs}>{body}</{root.split()[0]}>\n"
    encoding = draw(st.sampled_from(["utf-8"] * 6 + ["utf-16", "latin-1"]))
    data = text.encode(encoding, "surrogatepass" if encoding != "latin-1" else "replace")
    damage = draw(st.lists(st.tuples(st.sampled_from(["flip", "insert", "delete", "truncate"]),
                                     st.integers(0, 2**20), st.binary(min_size=1, max_size=4)), max_size=3))
    for kind, pos, blob in damage if draw(st.integers(0, 2)) == 0 else []:
        p = pos % (len(data) + 1)
        if kind == "flip" and data:
            b = bytearray(data)
            b[p % len(b)] ^= blob[0] or 1
            data = bytes(b)
        elif kind == "insert":
            data = data[:p] + blob + data[p:]
        elif kind == "delete":
            data = data[:p] + data[p + len(blob):]
        else:
            data = data[:p]
    wrap = draw(st.sampled_from(["plain"] * 5 + ["gz", "bz2", "gz_bad", "bz2_bad", "gz_as_plain"]))
    suffix = ".osm"
    if wrap in {"gz", "gz_bad", "gz_as_plain"}:
        data = gzip.compress(data, mtime=0)
        suffix = ".osm" if wrap == "gz_as_plain" else ".osm.gz"
    elif wrap in {"bz2", "bz2_bad"}:
        data = bz2.compress(data)
        suffix = ".osm.bz2"
    if wrap.endswith("_bad") and data:
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=4)) if draw(st.booleans()) else data[:cut]
    if draw(st.integers(0, 9)) == 0:
        suffix = draw(st.sampled_from(["", ".xml", ".dat"]))
    return XmlCase(data, suffix, draw(st.sampled_from([4 * 1024**3] * 4 + [200, 5000])), draw(st.booleans()))


def check_raw_osm(raw) -> None:
    assert len(raw.way_ptr) == raw.n_ways + 1 and raw.way_ptr[0] == 0
    assert np.all(np.diff(raw.way_ptr) >= 0) and raw.way_ptr[-1] == len(raw.refs) == len(raw.lon) == len(raw.lat)
    finite = np.isfinite(raw.lon)
    assert np.array_equal(finite, np.isfinite(raw.lat))
    assert np.all(np.abs(raw.lon[finite]) <= 180) and np.all(np.abs(raw.lat[finite]) <= 90)


def check_osm_file(path: Path, config: Config, streets: bool, count_all: bool = False) -> str:
    from planner.ingest.osm import read_osm
    from planner.network.streets import street_network_from_raw

    try:
        raw, _digest = read_osm(path, config=config, count_all=count_all)
    except PlannerError as err:
        return "read:" + expect_planner_error(err, path.name)
    check_raw_osm(raw)
    if not streets:
        return "loaded"
    outcome = []
    for mode in ("walk", "drive"):
        try:
            net = street_network_from_raw(raw, mode, config=config)
            assert net.n_nodes > 0
            outcome.append(mode)
        except PlannerError as err:
            outcome.append(expect_planner_error(err))
    return "streets:" + "/".join(outcome)


def check_xml(case: XmlCase, work: Path) -> str:
    path = work / ("map" + case.suffix)
    for old in work.glob("map*"):
        old.unlink()
    path.write_bytes(case.data)
    return check_osm_file(path, Config(osm_max_xml_bytes=case.cap, progress=False), case.streets)


# ================================================================================ OSM PBF
@cache
def pbf_corpus() -> dict[str, list[zc.PbfBlock]]:
    return {p.name: zc.pbf_blocks(p.read_bytes()) for p in sorted(OSM_DATA.glob("*.pbf"))}


_INTERESTING = [0, 1, 2, 127, 128, 2**31 - 1, 2**31, 2**32 - 1, 2**63 - 1, 2**64 - 1, 100, 33554432, 33554433]


def mutate_message(data: bytes, ops: list[tuple[int, int, int, bytes]], depth: int = 0) -> bytes:
    """Protobuf-aware mutation: change, drop, repeat or recurse into fields of ``data``."""
    fields = zc.pb_parse(data)
    if not fields:
        return data
    tail = b""
    for k, (kind, which, value, blob) in enumerate(ops):
        if not fields:
            break
        i = which % len(fields)
        f = fields[i]
        if kind == 0 and f.wire == 2 and depth < 6:  # descend: the remaining ops apply inside
            fields[i] = zc.PbField(f.num, 2, mutate_message(bytes(f.value), ops[k + 1:], depth + 1))
            break
        if kind == 1:
            del fields[i]
        elif kind == 2:
            fields.insert(i, f)
        elif kind == 3 and f.wire == 0:
            fields[i] = zc.PbField(f.num, 0, _INTERESTING[value % len(_INTERESTING)])
        elif kind == 4 and f.wire == 2:
            v = bytes(f.value)
            fields[i] = zc.PbField(f.num, 2, v[: value % (len(v) + 1)])
        elif kind == 5 and f.wire != 0:
            b = bytearray(f.value)
            if b:
                b[value % len(b)] ^= blob[0] or 1
            fields[i] = zc.PbField(f.num, f.wire, bytes(b))
        elif kind == 6:
            fields.insert(i, zc.PbField(1 + value % 30, 2, blob))
        else:
            tail += blob
    return zc.pb_build(fields) + tail


@dataclass
class PbfCase:
    data: bytes
    count_all: bool
    streets: bool


_pbf_op = st.tuples(st.integers(0, 7), st.integers(0, 2**16), st.integers(0, 2**16), st.binary(min_size=1, max_size=4))


@st.composite
def pbf_cases(draw) -> PbfCase:
    corpus = pbf_corpus()
    name = draw(st.sampled_from(sorted(corpus)))
    blocks = corpus[name]
    picks = draw(st.lists(st.integers(1, len(blocks) - 1), min_size=0, max_size=3))
    chosen = [blocks[0], *(blocks[i] for i in picks)]
    if draw(st.integers(0, 9)) == 0:
        chosen = chosen[1:] + chosen[:1]  # header block not first
    frames = []
    for k, b in enumerate(chosen):
        payload = b.payload
        btype = b.type
        ops = draw(st.lists(_pbf_op, max_size=4))
        if ops and draw(st.booleans()):
            payload = mutate_message(payload, ops)
        raw_size = datasize = header_len = None
        framing = draw(st.sampled_from(["ok"] * 6 + ["raw_size", "datasize", "header_len", "type", "raw", "bomb",
                                                     "lzma", "empty"]))
        blob = None
        if framing == "raw_size":
            raw_size = draw(st.sampled_from([0, 1, len(payload) - 1, len(payload) + 1, 2**25 + 1, 2**31 - 1]))
        elif framing == "datasize":
            datasize = draw(st.sampled_from([0, 1, 2**25 + 1, 2**31 - 1, 2**32 - 1]))
        elif framing == "header_len":
            header_len = draw(st.sampled_from([0, 1, 64 * 1024 + 1, 2**31]))
        elif framing == "type":
            btype = draw(st.sampled_from(["OSMHeader", "OSMData", "", "X" * 100, "OSMData\x00"]))
        elif framing == "raw":
            blob = zc.pbf_blob(payload, compress=False)
        elif framing == "bomb":  # inflates to far more than it declares
            blob = zc.pbf_blob(b"", raw_size=len(payload), zlib_data=zlib_bomb())
        elif framing == "lzma":
            blob = zc.pb_build([zc.PbField(2, 0, len(payload)), zc.PbField(4, 2, b"\x5d\x00\x00" + payload[:64])])
        elif framing == "empty":
            blob = b""
        if blob is None:
            blob = zc.pbf_blob(payload, raw_size=raw_size)
        frames.append(zc.pbf_frame(btype, blob, datasize=datasize, header_len=header_len,
                                   extra_header=b.extra_header))
        del k
    data = b"".join(frames)
    for kind, pos, blob in draw(st.lists(st.tuples(st.sampled_from(["flip", "truncate", "insert", "append"]),
                                                   st.integers(0, 2**24), st.binary(min_size=1, max_size=8)),
                                         max_size=2)):
        p = pos % (len(data) + 1)
        if kind == "flip" and data:
            b = bytearray(data)
            b[p % len(b)] ^= blob[0] or 1
            data = bytes(b)
        elif kind == "truncate":
            data = data[:p]
        elif kind == "insert":
            data = data[:p] + blob + data[p:]
        else:
            data += blob
    return PbfCase(data, draw(st.integers(0, 4)) == 0, draw(st.integers(0, 2)) == 0)


@cache
def zlib_bomb() -> bytes:
    """zlib data of 64 MiB of zeros (about 64 kB)."""
    import struct
    import zlib

    n = 64 << 20
    return b"\x78\x9c" + zc.deflate_zeros(n) + struct.pack(">I", zlib.adler32(bytes(n)))


def check_pbf(case: PbfCase, work: Path) -> str:
    path = work / "map.osm.pbf"
    path.write_bytes(case.data)
    return check_osm_file(path, Config(progress=False), case.streets, case.count_all)


# ================================================================================ scenarios
_yaml_tokens = st.sampled_from([
    "name: ", "changes:", "- ", "  ", "    ", "\n", "add_line:", "adjust_headway:", "remove_route:", "add_transfer:",
    "fare_policy:", "id: ", "stops: ", "[", "]", "{", "}", ", ", ": ", "&a ", "*a", "&b ", "*b", "!!binary ",
    "!!python/object:os.system ", "!!str ", "!!int ", "!!float ", "!!timestamp ", "!!set ", "!!omap ", "<<: ",
    "? ", "|", ">", "'", '"', "#", "---", "...", "%YAML 1.1", "%TAG ! tag:x,2024:", ".nan", ".inf", "-.inf",
    "1e999", "0x7f", "0o17", "1_000", "12:30", "07:30:00", "2024-13-45", "2024-01-01T25:00:00", "~", "null",
    "true", "yes", "on", "\t", "\ufeff", "\x00", "\x85", "é", "哈尔滨", "speed_class_kmh: ", "headway_min: ",
    "departures: ", "route: ", "walk_s: ", "lon: ", "lat: ", "datum: gcj02", "1" * 5000, "[" * 40, "]" * 40,
])
yaml_soup = st.lists(st.one_of(_yaml_tokens, st.text(max_size=6)), max_size=40).map("".join)

_num = st.one_of(st.integers(-5, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                 st.sampled_from([0, 0.5, 1e300, -1e-300, 2**63, 10**30]))
_anything = st.recursive(st.one_of(st.none(), st.booleans(), _num, st.text(max_size=8)),
                         lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                 st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                         max_leaves=6)

def _field(valid: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly a plausible value, sometimes anything at all."""
    return weighted((7, valid), (1, _anything))


_hhmm = st.one_of(st.sampled_from(["06:00", "7:30", "23:59", "24:00", "99:99", "6", "", "06:00:00"]),
                  st.integers(0, 5000), st.text(max_size=6))
_stop = st.one_of(st.sampled_from(["Central", "Bridge", "Castle", "feed:S1", "feed:B", "Nowhere", "feed:", ""]),
                  st.fixed_dictionaries({"lon": _field(st.floats(-190, 190)), "lat": _field(st.floats(-95, 95))},
                                        optional={"name": _field(st.text(max_size=6)),
                                                  "datum": _field(st.sampled_from(["wgs84", "gcj02", "bd09", "x"]))}))
_add_line = st.fixed_dictionaries(
    {"id": _field(st.sampled_from(["new", "x.y-1", "bad id", ""])), "stops": _field(st.lists(_stop, max_size=5))},
    optional={"name": _field(st.text(max_size=8)), "mode": _field(st.sampled_from(["bus", "metro", "high_speed_rail", "x"])),
              "route_type": _field(st.integers(-1, 2000)), "speed_class_kmh": _field(_num),
              "run_times_min": _field(st.lists(_num, max_size=5)), "dwell_min": _field(_num),
              "headway_min": _field(st.one_of(_num, st.dictionaries(st.sampled_from(["06:00-09:00", "09:00-06:00",
                                                                                      "x", "00:00-47:59"]), _num,
                                                                    max_size=2))),
              "service": _field(st.fixed_dictionaries({}, optional={"start": _hhmm, "end": _hhmm})),
              "departures": _field(st.lists(_hhmm, max_size=4)), "both_directions": _field(st.booleans()),
              "accel_mps2": _field(_num), "brake_mps2": _field(_num), "alignment_factor": _field(_num),
              "cost_per_km_million": _field(_num)})
_pos = st.one_of(st.integers(1, 300), st.floats(0.1, 300))
_stop_plausible = st.one_of(st.sampled_from(["Central", "Bridge", "Castle", "feed:S1", "feed:B"]),
                            st.fixed_dictionaries({"lon": st.floats(126.5, 126.8), "lat": st.floats(45.6, 45.9)},
                                                  optional={"name": st.text(max_size=6),
                                                            "datum": st.sampled_from(["wgs84", "gcj02", "bd09"])}))
_add_line_plausible = st.fixed_dictionaries(
    {"id": st.sampled_from(["new", "x.y-1"]), "mode": st.sampled_from(["bus", "metro", "high_speed_rail"]),
     "stops": st.lists(weighted((4, _stop_plausible), (1, _stop)), min_size=2, max_size=4),
     "speed_class_kmh": _field(_pos)},
    optional={"dwell_min": _field(st.floats(0, 10)), "both_directions": st.booleans(),
              "accel_mps2": _field(st.floats(0.1, 2)), "alignment_factor": _field(st.floats(1, 2)),
              "service": _field(st.fixed_dictionaries({"start": _hhmm, "end": _hhmm}))}).flatmap(
    lambda d: st.one_of(st.just({**d, "headway_min": 30}), _field(_pos).map(lambda h: {**d, "headway_min": h}),
                        st.lists(_hhmm, min_size=1, max_size=3).map(lambda x: {**d, "departures": x})))
_plausible_change = st.one_of(
    st.fixed_dictionaries({"add_line": _add_line_plausible}),
    st.fixed_dictionaries({"adjust_headway": st.fixed_dictionaries(
        {"route": st.sampled_from(["feed:R1", "R1", "1", "Line 1"])},
        optional={"factor": _field(_pos)})}),
    st.fixed_dictionaries({"remove_route": st.fixed_dictionaries({"route": st.sampled_from(["feed:R1", "R1"])})}),
    st.fixed_dictionaries({"add_transfer": st.fixed_dictionaries(
        {"from_stop": st.sampled_from(["feed:S1", "feed:B"]), "to_stop": st.sampled_from(["feed:C", "feed:S2"]),
         "walk_s": _field(_pos)})}),
)
plausible_scenarios = st.fixed_dictionaries({"name": st.sampled_from(["s1", "s.2-x"]),
                                             "changes": st.lists(_plausible_change, min_size=1, max_size=2)})
_change = st.one_of(
    st.fixed_dictionaries({"add_line": _add_line}),
    st.fixed_dictionaries({"add_line": _add_line_plausible}),
    st.fixed_dictionaries({"add_line": _add_line_plausible}),
    st.fixed_dictionaries({"adjust_headway": st.fixed_dictionaries(
        {"route": _field(st.sampled_from(["feed:R1", "R1", "1", "Line 1", "none"]))},
        optional={"factor": _field(_num), "headway_min": _field(_num)})}),
    st.fixed_dictionaries({"remove_route": st.fixed_dictionaries({"route": _field(st.sampled_from(["feed:R1", "R1", "x"]))})}),
    st.fixed_dictionaries({"add_transfer": st.fixed_dictionaries(
        {"from_stop": _field(st.sampled_from(["feed:S1", "feed:B", "x"])), "to_stop": _field(st.sampled_from(["feed:C", "y"]))},
        optional={"walk_m": _field(_num), "walk_s": _field(_num), "both_ways": _field(st.booleans())})}),
    st.fixed_dictionaries({"fare_policy": _anything}),
    _anything,
)
structured_scenarios = st.one_of(
    st.fixed_dictionaries({"changes": st.lists(_change, min_size=1, max_size=3)},
                          optional={"name": _field(st.sampled_from(["s1", "s.2-x"])),
                                    "description": _field(st.text(max_size=10))}),
    st.fixed_dictionaries({"changes": _field(st.lists(_change, max_size=3))},
                          optional={"name": _field(st.sampled_from(["s1", "bad name", ""])),
                                    "description": _field(st.text(max_size=10)), "extra": _anything}))


@dataclass
class ScenarioCase:
    text: str
    apply: bool


def _dump(data: Any, style: int) -> str:
    if style == 0:
        return json.dumps(data, allow_nan=True)
    return yaml.safe_dump(data, allow_unicode=True, default_flow_style=style == 2, sort_keys=False)


@st.composite
def scenario_cases(draw) -> ScenarioCase:
    kind = draw(st.sampled_from(["plausible", "plausible", "structured", "structured", "soup", "text"]))
    if kind == "plausible":
        return ScenarioCase(_dump(draw(plausible_scenarios), draw(st.integers(0, 2))), True)
    if kind == "structured":
        return ScenarioCase(_dump(draw(structured_scenarios), draw(st.integers(0, 2))), True)
    if kind == "soup":
        return ScenarioCase(draw(yaml_soup), False)
    return ScenarioCase(draw(st.text(max_size=80)), False)


@cache
def _scenario_feeds():
    from planner.ingest.gtfs import read_feeds
    from tests.conftest import write_feed

    folder = Path(tempfile.mkdtemp(prefix="plan_fuzz_feed_")) / "feed"
    write_feed(folder, MINI)
    return read_feeds([f"feed={folder}"], config=Config(progress=False))


def check_scenario(case: ScenarioCase, work: Path) -> str:
    from planner.scenarios.spec import load_scenario

    try:
        scn = load_scenario("fuzz.yaml", text=case.text)
    except PlannerError as err:
        return "load:" + expect_planner_error(err, "fuzz.yaml")
    if not case.apply:
        return "loaded"
    import warnings

    from planner.scenarios.apply import ScenarioWarning, apply_to_feeds

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScenarioWarning)  # a documented warning, not a failure
            new, _report = apply_to_feeds(_scenario_feeds(), scn)
    except PlannerError as err:
        return "apply:" + expect_planner_error(err, "fuzz.yaml")
    assert len(new) >= 1
    return "applied"


# ================================================================================ registry
TARGETS: dict[str, Target] = {t.name: t for t in [
    Target("gtfs_fields", lambda: field_texts, check_field, chunk=500),
    Target("gtfs_csv", csv_cases, check_csv, chunk=200),
    Target("gtfs_feed", feed_cases, check_feed_case, chunk=25),
    Target("gtfs_zip", zip_cases, check_zip, chunk=25),
    Target("osm_xml", xml_cases, check_xml, chunk=50),
    Target("osm_pbf", pbf_cases, check_pbf, chunk=25),
    Target("scenario", scenario_cases, check_scenario, chunk=100),
]}

__all__ = ["DEFAULT_SECONDS", "FUZZ_SECONDS_ENV", "TARGETS", "FuzzStats", "Target", "fuzz_seconds", "run_target"]
