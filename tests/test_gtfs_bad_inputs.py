"""The bad-input GTFS corpus (issue 2; ``anchors/reliability.md`` §3 and §8 A-C).

Every case in ``tests/data/bad_gtfs/cases`` is a malformed (or, for a few controls, a
tricky but valid) feed built from ``tests/data/bad_gtfs/base`` (see the README there).
For each case:

* ``plan gtfs check <feed> --notices n.json`` exits 0 (problem dropped or fixed and
  counted) or 2 (unusable feed), as ``expected.json`` says, never 1 and never with a
  traceback; the expected notice code is reported, at the expected file/line/field;
  nothing is written outside the test's scratch folder except the notices file;
* :func:`planner.ingest.gtfs.read_feed` raises :class:`planner.errors.FeedError` (and nothing
  else) exactly for the exit-2 cases, and the loaded tables hold what the case says. To
  keep the suite fast, ``read_feed`` is observed through a spy during the CLI run (one
  load per case) and called directly for every exit-2 case;
* with ``--strict`` (cases that declare ``strict_exit_code``), every ERROR becomes fatal.

Loader bugs found by the corpus keep their correct expectation and are marked in
:data:`LOADER_BUGS` (strict xfail), so a fix turns them into an XPASS failure that asks for
the mark to be removed.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli.main import main
from planner.config import Config
from planner.errors import FeedError, NoServiceError
from planner.ingest.gtfs import Feed, read_feed, read_feeds
from tests import bad_gtfs_builders as builders

CORPUS = Path(__file__).parent / "data" / "bad_gtfs"
BASE = CORPUS / "base"
CASE_DIR = CORPUS / "cases"
REQUIRED_KEYS = {"description", "exit_code", "code", "severity", "file", "line", "field"}


def _load_cases() -> dict[str, dict]:
    cases = {}
    for d in sorted(CASE_DIR.iterdir()):
        if d.is_dir():
            cases[d.name] = json.loads((d / "expected.json").read_text(encoding="utf-8"))
    return cases


CASES = _load_cases()

_TOKENIZER_ROW_DROP = ("loader bug: a stop_times.txt row dropped by the tokenizer ({what}) does not drop its trip "
                       "{trip}, which silently loses a stop (§3 policy and _load.py docstring: 'a bad stop_time drops "
                       "its trip'; only rows dropped while typing are mapped to trips)")
_NO_FIELD = "loader bug: the {code} notice has no field (expected {field!r}); §3/G2: name the file, line and field"
#: Cases where the loader is wrong today: case id -> {test kind: reason}. Test kinds: "cli"
#: (plan gtfs check, incl. the read_feed spy and the table values), "strict" (--strict),
#: "library" (read_feed called directly on an exit-2 case). Remove an entry once fixed.
LOADER_BUGS: dict[str, dict[str, str]] = {
    # All 17 loader bugs this corpus found were fixed in the loader (symlink loop/dangling
    # link, corrupt LZMA member, bad byte in a header, NUL in a zip member name, tokeniser-
    # dropped stop times now drop their trip, quote open to EOF, UTF-16 without BOM, fields
    # on invalid_character/duplicated_column, decreasing shape_dist_traveled, overlapping
    # block trips). A new finding goes here as {case_id: {"cli"|"library": reason}}.
}


def _params(kind: str, select=lambda exp: True) -> list:
    out = []
    for cid, exp in CASES.items():
        if not select(exp):
            continue
        reason = LOADER_BUGS.get(cid, {}).get(kind)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(cid, id=cid, marks=marks))
    return out


# ---------------------------------------------------------------- building a case
def prepare(case_id: str, work: Path) -> Path:
    """Copy base/ to work/feed, apply the case overlay, run its builder; return the input path."""
    exp = CASES[case_id]
    src = CASE_DIR / case_id
    feed = work / "feed"
    shutil.copytree(BASE, feed)
    delete = src / "_delete"
    if delete.exists():
        for name in delete.read_text(encoding="utf-8").split():
            (feed / name).unlink()
    for p in sorted(src.rglob("*")):
        rel = p.relative_to(src).as_posix()
        if p.is_dir() or rel in {"expected.json", "_delete"}:
            continue
        if rel.endswith(".append"):
            target = feed / rel.removesuffix(".append")
            target.write_bytes(target.read_bytes() + p.read_bytes())
            continue
        dest = feed / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dest)
    if "builder" in exp:
        return builders.BUILDERS[exp["builder"]](work, feed, exp)
    return feed


def feed_args(exp: dict, path: Path) -> list[str]:
    return [a.format(feed=path) for a in exp.get("argv", ["{feed}"])]


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under ``root`` (symlinks not followed) with its type, size and mtime."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = os.lstat(p)
            out[p.relative_to(root).as_posix()] = (stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns)
    return out


class FifoGuard:
    """Unblocks anyone who opens a FIFO under ``root`` for reading, and records it.

    A reader blocked in ``open()`` on a FIFO lets a non-blocking writer open it; the
    guard then closes it at once (the reader sees an empty file), so a loader that
    opens a FIFO fails the test instead of hanging it.
    """

    def __init__(self, root: Path):
        self.fifos = [Path(d) / n for d, ds, fs in os.walk(root) for n in ds + fs
                      if stat.S_ISFIFO(os.lstat(Path(d) / n).st_mode)]
        self.opened: list[Path] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            for f in self.fifos:
                try:
                    fd = os.open(f, os.O_WRONLY | os.O_NONBLOCK)
                except OSError as err:
                    if err.errno in (errno.ENXIO, errno.ENOENT):
                        continue
                    raise
                os.close(fd)
                self.opened.append(f)

    def __enter__(self) -> FifoGuard:
        if self.fifos:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self.fifos:
            self._thread.join(5)


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Scratch folder; the process's cwd and temp dir are empty folders inside it."""
    (tmp_path / "cwd").mkdir()
    (tmp_path / "tmp").mkdir()
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    return tmp_path


def run_check(work: Path, args: list[str]) -> tuple[object, list[dict] | None]:
    """Run ``plan gtfs check ARGS --notices out/n.json``; (result, notices or None)."""
    out = work / "out" / "n.json"
    if out.exists():
        out.unlink()
    result = CliRunner().invoke(main, ["gtfs", "check", *args, "--notices", str(out)])
    notices = json.loads(out.read_text(encoding="utf-8"))["notices"] if out.exists() else None
    return result, notices


def matching(notices: list[dict], exp: dict) -> list[dict]:
    found = []
    for n in notices:
        if n["code"] != exp["code"]:
            continue
        if exp["severity"] and n["severity"] != exp["severity"]:
            continue
        if any(exp[k] is not None and n[k] != exp[k] for k in ("file", "line", "field")):
            continue
        found.append(n)
    return found


def _describe(notices: list[dict] | None) -> str:
    if notices is None:
        return "(no notices file)"
    return "\n".join(f"  {n['severity']} {n['code']} {n['file']}:{n['line']} field={n['field']!r} value={n['value']!r}"
                     for n in notices[:30])


def assert_clean_run(result, work: Path, before: dict) -> None:
    """Exit 0 or 2, no traceback, nothing written but the notices file."""
    output = result.output
    assert result.exit_code in (0, 2), f"exit {result.exit_code}:\n{output}"
    assert "Traceback" not in output, output
    assert "Internal error" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    after = snapshot(work)
    new = set(after) - set(before) - {"out/n.json"}
    gone = set(before) - set(after)
    changed = {p for p in set(before) & set(after) if before[p] != after[p] and not p.startswith("out")}
    assert not new, f"stray files written: {sorted(new)}"
    assert not gone, f"files removed: {sorted(gone)}"
    assert not changed, f"input files modified: {sorted(changed)}"
    assert not (work.parent / "evil.txt").exists()


# ---------------------------------------------------------------- the base feed
def test_base_loads_without_notices():
    feed = read_feed(BASE)
    assert [str(n) for n in feed.notices.sorted()] == []
    assert len(feed.trips) == 21
    assert len(feed.stop_times) == 62
    assert feed.stops.set_index("stop_id").loc["S1", "parent_station"] == "STA"
    assert {"calendar", "calendar_dates", "frequencies", "transfers", "fare_attributes", "fare_rules"} <= feed.present


def test_base_cli_exit_0(work):
    before = snapshot(work)
    result, notices = run_check(work, [str(BASE)])
    assert result.exit_code == 0, result.output
    assert notices == []
    assert_clean_run(result, work, before)


def _tables(feed: Feed) -> dict[str, pd.DataFrame]:
    return {name: df.drop(columns="_line").reset_index(drop=True) for name, df in feed.tables.items()}


def test_base_as_zip_loads_the_same(work):
    z = builders.write_zip(work, builders.feed_members(BASE))
    a, b = _tables(read_feed(BASE)), _tables(read_feed(z))
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)


# ---------------------------------------------------------------- the corpus
def test_corpus_is_complete():
    malformed = [cid for cid, e in CASES.items() if e["code"] is not None]
    assert len(malformed) >= 40, len(malformed)
    assert len(CASES) >= 60
    for cid, exp in CASES.items():
        assert REQUIRED_KEYS <= set(exp), cid
        assert exp["exit_code"] in (0, 2), cid
        assert exp["severity"] in (None, "ERROR", "WARNING", "INFO"), cid
        assert (exp["code"] is None) == (exp["severity"] is None), cid
        if exp["exit_code"] == 2:
            assert exp["code"] is not None and exp["severity"] == "ERROR", cid
        if "builder" in exp:
            assert exp["builder"] in builders.BUILDERS, cid
        if "strict_exit_code" in exp:  # --strict makes every ERROR fatal, and only ERRORs
            assert exp["exit_code"] == 0, cid
            assert exp["strict_exit_code"] == (2 if exp["severity"] == "ERROR" else 0), cid
    assert set(LOADER_BUGS) <= set(CASES)
    used = {e["builder"] for e in CASES.values() if "builder" in e}
    assert used == set(builders.BUILDERS), set(builders.BUILDERS) - used


class ReadFeedSpy:
    """Wraps :func:`planner.ingest.gtfs.feed.read_feed` (what ``read_feeds`` and the CLI call)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        import planner.ingest.gtfs.feed as feed_module

        self.original = feed_module.read_feed
        self.feeds: list[Feed] = []
        self.errors: list[BaseException] = []
        monkeypatch.setattr(feed_module, "read_feed", self)

    def __call__(self, *args, **kwargs):
        try:
            feed = self.original(*args, **kwargs)
        except BaseException as err:
            self.errors.append(err)
            raise
        self.feeds.append(feed)
        return feed


@pytest.mark.slow
@pytest.mark.parametrize("case_id", _params("cli"))
def test_cli(case_id: str, work: Path, monkeypatch: pytest.MonkeyPatch):
    exp = CASES[case_id]
    path = prepare(case_id, work)
    before = snapshot(work)
    spy = ReadFeedSpy(monkeypatch)
    with FifoGuard(work) as guard:
        t = time.perf_counter()
        result, notices = run_check(work, feed_args(exp, path))
        elapsed = time.perf_counter() - t
    assert not guard.opened, f"the loader opened FIFO(s) {guard.opened}"
    assert elapsed < 10, elapsed
    assert_clean_run(result, work, before)
    for err in spy.errors:  # library level: read_feed raises FeedError and nothing else
        assert isinstance(err, FeedError), f"read_feed raised {type(err).__name__}: {err}"
    output = result.output
    assert result.exit_code == exp["exit_code"], f"exit {result.exit_code}, expected {exp['exit_code']}:\n{output}\n{_describe(notices)}"
    if exp["exit_code"] == 2:
        assert "Error [" in output, output
        assert exp["code"] in output, f"{exp['code']} not in:\n{output}"
        if notices is not None or any(exp[k] is not None for k in ("file", "line", "field")):
            assert notices is not None, f"no notices written for a fatal feed:\n{output}"
            assert matching(notices, exp), f"no {exp['code']} at {exp['file']}:{exp['line']} field={exp['field']}:\n{_describe(notices)}"
        return
    assert not spy.errors
    assert len(spy.feeds) == 1
    assert notices is not None, output
    if exp["code"] is None:
        loud = [n for n in notices if n["severity"] in ("ERROR", "WARNING")]
        assert not loud, _describe(loud)
    else:
        assert matching(notices, exp), f"no {exp['severity']} {exp['code']} at {exp['file']}:{exp['line']} field={exp['field']}:\n{_describe(notices)}"
    for code in exp.get("forbid_codes", []):
        assert not [n for n in notices if n["code"] == code], _describe(notices)
    _check_values(spy.feeds[0], exp)


@pytest.mark.parametrize("case_id", _params("strict", lambda e: "strict_exit_code" in e))
def test_cli_strict(case_id: str, work: Path):
    exp = CASES[case_id]
    path = prepare(case_id, work)
    before = snapshot(work)
    with FifoGuard(work):
        result, notices = run_check(work, [*feed_args(exp, path), "--strict"])
    assert_clean_run(result, work, before)
    assert result.exit_code == exp["strict_exit_code"], f"{result.output}\n{_describe(notices)}"
    if result.exit_code == 2:
        assert exp["code"] in result.output or matching(notices or [], exp), result.output


def _library_load(exp: dict, path: Path):
    args = feed_args(exp, path)
    config = Config(allow_subfolder="--allow-subfolder" in args)
    specs = [a for a in args if not a.startswith("--")]
    if len(specs) == 1 and "=" not in specs[0]:
        return read_feed(specs[0], config=config)
    return read_feeds(specs, config=config)


def _check_values(feed: Feed, exp: dict) -> None:
    for check in exp.get("values", []):
        df = feed.tables[check["table"]]
        mask = pd.Series(True, index=df.index)
        for col, value in check["where"].items():
            mask &= df[col].astype(str) == str(value)
        rows = df.loc[mask, check["column"]]
        assert len(rows) == 1, f"{check}: {len(rows)} rows match"
        assert str(rows.iloc[0]) == str(check["equals"]), f"{check}: got {rows.iloc[0]!r}"
    for trip in exp.get("dropped_trips", []):
        assert trip in feed.dropped_trips, f"trip {trip} not dropped (dropped: {feed.dropped_trips})"
        assert trip not in set(feed.trips["trip_id"])
        assert trip not in set(feed.stop_times["trip_id"])


@pytest.mark.parametrize("case_id", _params("library", lambda e: e["exit_code"] == 2))
def test_library_fatal(case_id: str, work: Path):
    """read_feed / read_feeds raise FeedError, and never another exception, for every exit-2 case."""
    exp = CASES[case_id]
    path = prepare(case_id, work)
    with FifoGuard(work) as guard:
        try:
            _library_load(exp, path)
        except Exception as err:
            assert isinstance(err, FeedError), f"{type(err).__name__} raised instead of FeedError: {err}"
            codes = {err.code} | {n.code for n in err.notices}
            assert exp["code"] in codes, (codes, str(err))
        else:
            pytest.fail("read_feed did not raise for an unusable feed")
    assert not guard.opened


# ---------------------------------------------------------------- special properties
def test_shuffled_stop_times_give_identical_tables(work):
    """C36: the row order of stop_times.txt changes nothing but the _line column."""
    path = prepare("c36_stop_times_shuffled", work)
    base, shuffled = read_feed(BASE), read_feed(path)
    a, b = _tables(base), _tables(shuffled)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)
    assert base.dropped_trips == shuffled.dropped_trips == {}


@pytest.mark.parametrize("case_id", ["a05_zip_bomb_ratio", "a05_zip_bomb_declared_10gb", "a08_zip_forged_compress_size",
                                     "a07_zip_quoted_overlap", "a07_zip_overlapping_entries"])
def test_zip_bombs_rejected_fast_and_small(case_id: str, work: Path):
    """A05/A07/A08 (G7): rejected in < 2 s without inflating or allocating much."""
    exp = CASES[case_id]
    path = prepare(case_id, work)
    tracemalloc.start()
    try:
        t = time.perf_counter()
        with pytest.raises(FeedError) as info:
            read_feed(path)
        elapsed = time.perf_counter() - t
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.code == exp["code"], str(info.value)
    assert elapsed < 2.0, elapsed
    assert peak < 64 * 1024**2, f"peak {peak / 1024**2:.0f} MiB"


def test_analysis_date_without_service():
    """§3 #29 / C38: a date with no active trip is fatal, naming the date and the service range."""
    from planner.network.timetable import build_timetable

    feed = read_feed(BASE)
    with pytest.raises(NoServiceError) as info:
        build_timetable(feed, "2030-06-03")
    assert info.value.code == "planner_no_service_on_date"
    assert "2030-06-03" in str(info.value)
    assert "2024-01-01" in str(info.value) and "2024-12-31" in str(info.value)
    assert build_timetable(feed, "2024-06-03").n_trips > 0  # a Monday in range


def test_calendar_without_active_days_has_no_service(work):
    """C37: a feed whose services never run loads (with warnings) but has no service on any date."""
    from planner.network.timetable import build_timetable

    feed = read_feed(prepare("c37_calendar_all_zero_no_dates", work))
    with pytest.raises(NoServiceError):
        build_timetable(feed, "2024-06-03")


def test_duplicate_feed_id_library():
    """C41 at library level: read_feeds refuses two feeds with one id before loading either."""
    with pytest.raises(FeedError) as info:
        read_feeds([BASE, BASE])
    assert info.value.code == "planner_duplicate_feed_id"
    fs = read_feeds([f"a={BASE}", f"b={BASE}"])
    assert fs.ids == ["a", "b"]
