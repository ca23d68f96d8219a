"""Golden outputs of a small synthetic city (issue 11, G12).

The city, "Gridton", is committed as readable files in ``tests/data/golden/city/`` (GTFS
text files, an OSM XML street grid, places and two scenarios; ``make_city.py`` there wrote
them). The tests compare the network statistics, a travel-time matrix and the tables of the
``plan evaluate`` report with the snapshots in ``tests/data/golden/snapshots/``. Any change
fails until the snapshot is updated on purpose::

    python -m pytest tests/test_golden.py --update-golden     # or PLAN_UPDATE_GOLDEN=1

See ``tests/data/golden/README.md``. A few numbers are also derived by hand from the
timetable below, so the snapshots are known to be right, not only unchanged.

Gridton (north up; street nodes every 0.01 deg lon = 786.05 m and 0.008 deg lat = 889.56 m):

    NG=(4,2) North Gate . . . . . HB=(4,4) Harbour        row 4
    PA=(3,2) Park                                          row 3
    WG . MK . CE/CET (Central) . MU . EG                   row 2 = Main Street (bus B1)
    LI=(1,2) Library                                       row 1
    OT=(0,0) Old Town . . SG=(0,2) South Gate              row 0
    bus B2 runs up Park Avenue (column 2); tram T1 runs OT -> Central -> HB
"""

from __future__ import annotations

import json
import math
import zipfile

import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli.main import main
from tests.conftest import GOLDEN, Golden

CITY = GOLDEN / "city"
DATE = "2025-03-04"  # a Tuesday: weekday service WD runs, the Sunday trip does not


def _zip_feed(tmp_path):
    """The GTFS folder zipped at test time (the committed fixture stays readable)."""
    z = tmp_path / "gridton.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted((CITY / "gtfs").glob("*.txt")):
            zf.write(p, p.name)
    return z


def _network_doc(net) -> dict:
    tt = net.timetable
    ids = [str(s) for s in tt.stop_ids]
    patterns = []
    for p in range(tt.n_patterns):
        stops = tt.pattern_stops[tt.pattern_stops_ptr[p]:tt.pattern_stops_ptr[p + 1]]
        patterns.append({"route": str(tt.route_ids[tt.pattern_route[p]]),
                         "stops": " ".join(ids[s] for s in stops),
                         "trips": int(tt.pattern_trips_ptr[p + 1] - tt.pattern_trips_ptr[p])})
    patterns.sort(key=lambda d: (d["route"], d["stops"]))
    fp = net.footpaths
    footpaths = sorted(f"{ids[a]} -> {ids[int(fp.to[k])]}: {int(fp.seconds[k])} s, {fp.metres[k]:.2f} m"
                       for a in range(tt.n_stops) for k in range(fp.ptr[a], fp.ptr[a + 1]))
    summary = {k: v for k, v in net.summary().items()}
    return {
        "summary": summary,
        "timetable_stats": dict(tt.stats),
        "walk": {"nodes": net.walk.n_nodes, "edges": net.walk.n_edges,
                 "length_m": round(float(net.walk.length_m.sum()), 2)},
        "drive": {"nodes": net.drive.n_nodes, "edges": net.drive.n_edges,
                  "length_m": round(float(net.drive.length_m.sum()), 2)},
        "stops": [f"{ids[i]}: {tt.stop_names[i]}" for i in range(tt.n_stops)],
        "patterns": patterns,
        "footpaths": footpaths,
    }


def test_network_statistics(golden, tmp_path):
    from planner.network.build import build_network

    net = build_network([f"gridton={CITY / 'gtfs'}"], DATE, osm=CITY / "streets.osm", drive=True,
                        cache_dir=tmp_path / "cache")
    doc = _network_doc(net)
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    golden.check("network.json", text)

    # by hand, from the fixture files: 14 stops.txt rows less the station CEN; 7 patterns
    # (B1 east/west, the B1 express, B2 north/south, T1 north/south); 48 weekday trips on the
    # service day and again on the next morning (the 36-hour window), the Sunday trip never
    s = doc["summary"]
    assert (s["stops"], s["patterns"], s["trips"]) == (13, 7, 96)
    # the street grid: 5 x 4 west-east + 5 x 4 south-north segments + the park path, both
    # ways on foot; the motorway is not walkable
    assert (doc["walk"]["nodes"], doc["walk"]["edges"]) == (25, 2 * (20 + 20 + 1))
    # by car: no park path, and Column 4 Avenue one-way (4 segments one way only)
    assert (doc["drive"]["nodes"], doc["drive"]["edges"]) == (25, 2 * 40 - 4)
    # a footpath is the street walk: West Gate -> Market is one block of 0.01 deg of
    # longitude at 45.016 N, 786.05 m, at 1.33 m/s = 591.0 s, rounded up
    block = 6_371_008.8 * math.radians(0.01) * math.cos(math.radians(45.016))
    assert f"gridton:WG -> gridton:MK: {math.ceil(block / 1.33)} s, {block:.2f} m" in doc["footpaths"]

    # the zipped feed gives the same network
    zipped = build_network([f"gridton={_zip_feed(tmp_path)}"], DATE, osm=CITY / "streets.osm", drive=True,
                           cache_dir=tmp_path / "cache2")
    assert _network_doc(zipped) == doc


def test_travel_time_matrix(golden, tmp_path):
    out = tmp_path / "matrix.csv"
    r = CliRunner().invoke(main, ["matrix", "-q", "--gtfs", f"gridton={_zip_feed(tmp_path)}", "--osm",
                                  str(CITY / "streets.osm"), "--origins", str(CITY / "places.csv"), "--depart",
                                  "07:00", "--date", DATE, "-o", str(out), "--cache-dir", str(tmp_path / "c")])
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8")
    golden.check("matrix.csv", text)

    t = pd.read_csv(out).set_index(["from_id", "to_id"])["travel_time_min"]
    # By hand from stop_times.txt, leaving at 07:00 (the places sit on the stops' street nodes):
    # Old Town -> Central: tram T1N0700 OT 07:00 -> CET 07:06.
    assert t[("oldtown", "central")] == 6.0
    # Old Town -> West Gate: the same tram to Central (07:06), 120 s to change, bus B1W0705
    # (East Gate 07:05, Museum 07:08, Central 07:11/07:12, Market 07:15) -> West Gate 07:18;
    # walking (2 blocks north, 1779 m) would take 22.3 min.
    assert t[("oldtown", "westgate")] == 18.0
    # Central -> North Gate: bus B2N0655 leaves Central at 07:02 (07:01 + 1 min dwell),
    # Park 07:05, North Gate 07:08.
    assert t[("central", "northgate")] == 8.0
    # East Gate -> Harbour: no line joins them; 2 blocks of 889.56 m on foot at 1.33 m/s.
    block = 6_371_008.8 * math.radians(0.008)
    assert t[("eastgate", "harbour")] == pytest.approx(2 * block / 1.33 / 60, abs=0.006)


def test_report_tables(golden, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")  # the report's "created" date: 1970-01-01
    out = tmp_path / "ev"
    r = CliRunner().invoke(main, ["evaluate", "-q", str(CITY / "crosstown.yaml"), str(CITY / "tram_frequency.yaml"),
                                  "--gtfs", f"gridton={CITY / 'gtfs'}", "--osm", str(CITY / "streets.osm"),
                                  "--places", str(CITY / "places.csv"), "--date", DATE, "--window", "60",
                                  "-o", str(out), "--cache-dir", str(tmp_path / "c")])
    assert r.exit_code == 0, r.output
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "created: 1970-01-01" in md
    golden.check("report_tables.md", md)
    # the ranking's numbers to 4 decimals (the last digits of a float mean depend on the order of
    # summation, which may differ between NumPy builds; the report's tables show 1 decimal)
    ranking = pd.read_csv(out / "ranking.csv")
    golden.check("ranking.csv", ranking.to_csv(index=False, float_format="%.4f", lineterminator="\n"))
    # the report's baseline table holds the same counts as the network statistics
    assert "| 2025-03-04 | 13 | 13 | 0 | 7 | 96 | 424 | 26 |" in md


def test_snapshot_change_needs_an_update(tmp_path):
    snap = Golden(tmp_path, update=False)
    (tmp_path / "x.txt").write_text("a\nb\n", encoding="utf-8")
    snap.check("x.txt", "a\nb\n")
    with pytest.raises(pytest.fail.Exception, match="--update-golden"):
        snap.check("x.txt", "a\nc\n")
    with pytest.raises(pytest.fail.Exception, match="no golden snapshot"):
        snap.check("missing.txt", "new\n")
    Golden(tmp_path, update=True).check("x.txt", "a\nc\n")
    assert (tmp_path / "x.txt").read_text(encoding="utf-8") == "a\nc\n"
