"""``plan gtfs check`` through click's CliRunner: exit codes, output, notices files."""

from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner

from planner.cli.main import main
from tests.conftest import GTFS_DATA, MINI


def run(*args):
    return CliRunner().invoke(main, list(map(str, args)), catch_exceptions=False)


def test_check_prints_summary_and_notices(tmp_path):
    out = tmp_path / "n.csv"
    r = run("gtfs", "check", GTFS_DATA / "helsinki_gtfs_2022.zip", "--notices", out)
    assert r.exit_code == 0, r.output
    assert "Feed helsinki_gtfs_2022" in r.output
    assert "routes       200" in r.output
    assert "2022-02-22 .. 2022-02-22 (1 day)" in r.output
    assert "overlapping_frequency" in r.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert {"code", "severity", "file", "line", "field", "value", "action"} <= set(rows[0])
    assert any(r["code"] == "unusable_trip" and r["file"] == "trips.txt" for r in rows)


def test_check_json_notices_and_overwrite(tmp_path):
    out = tmp_path / "n.json"
    feed = GTFS_DATA / "caltrain_2009_gtfs.zip"
    assert run("gtfs", "check", feed, "--notices", out).exit_code == 0
    doc = json.loads(out.read_text())
    assert doc["summary"][0]["code"] == "leading_or_trailing_whitespaces"
    r = run("gtfs", "check", feed, "--notices", out)
    assert r.exit_code == 2 and "already exists" in r.output
    assert run("gtfs", "check", feed, "--notices", out, "--overwrite").exit_code == 0


def test_unusable_feed_exit_code_2_no_traceback(make_feed):
    feed = make_feed({"stop_times.txt": None})
    r = run("gtfs", "check", feed)
    assert r.exit_code == 2
    assert "Error [missing_required_file]" in r.output
    assert "stop_times.txt" in r.output
    assert "Traceback" not in r.output


def test_strict_turns_errors_fatal(make_feed):
    stops = MINI["stops.txt"] + "Z,Nowhere,91.0,126.0,0,\n"
    feed = make_feed({"stops.txt": stops})
    assert run("gtfs", "check", feed).exit_code == 0
    r = run("gtfs", "check", "--strict", feed)
    assert r.exit_code == 2
    assert "number_out_of_range" in r.output


def test_several_feeds_and_consolidation(tmp_path):
    r = run("gtfs", "check", GTFS_DATA / "caltrain_2009_gtfs.zip", GTFS_DATA / "caltrain_2017-07-24_gtfs.zip")
    assert r.exit_code == 0
    assert "consolidation candidates, not merged): 53" in r.output


def test_help_has_examples():
    r = run("gtfs", "check", "--help")
    assert r.exit_code == 0
    assert "Examples:" in r.output and "plan gtfs check" in r.output


def test_version():
    r = run("--version")
    assert r.exit_code == 0 and "plan" in r.output
