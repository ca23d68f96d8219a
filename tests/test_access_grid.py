"""Accessibility building blocks without a network: the grid, opportunity aggregation
(points, polygons, count rasters; checked against hand-made layouts and geopandas overlay),
the decay functions (against R5's formulas written out here), the GeoTIFF writer and the
PNG previews."""

from __future__ import annotations

import math

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine

from planner.analyses.access.accessibility import AccessResult, Band, Decay
from planner.analyses.access.grid import (
    Grid,
    make_grid,
    opportunities_from_points,
    opportunities_from_polygons,
    opportunities_from_raster,
    read_opportunities,
)
from planner.analyses.access.problem import decay_weight
from planner.analyses.access.results import difference, read_result
from planner.errors import InputError
from planner.outputs.raster import write_geotiff, write_png, write_result
from tests.conftest import DATA

POP_GPKG = DATA / "helsinki_population_grid_2020.gpkg"


def _grid(res=100.0, w=10, h=8, crs="EPSG:32652", west=500_000.0, north=5_070_000.0, area=None):
    return Grid(crs, west, north, res, w, h, area=area)


# ---------------------------------------------------------------------- grid

def test_grid_alignment_indexing_and_crs():
    g = make_grid(250, bbox=(126.55, 45.70, 126.70, 45.80))
    assert g.crs == "EPSG:32652"  # UTM zone 52N for Harbin
    assert g.west % 250 == 0 and g.north % 250 == 0
    x, y = g.centroids()
    assert len(x) == g.n_cells == g.width * g.height
    np.testing.assert_array_equal(g.cell_index(x, y), np.arange(g.n_cells))
    assert g.cell_index([g.west - 1], [g.north - 1])[0] == -1
    # cell (r, c) is row-major from the north-west corner
    assert g.cell_index([g.west + 1.5 * 250], [g.north - 2.5 * 250])[0] == 2 * g.width + 1
    lon, lat = g.lonlat()
    assert 126.54 < lon.min() < lon.max() < 126.71 and 45.69 < lat.min() < lat.max() < 45.81
    # the bbox covers the centre; corner cells of the aligned rectangle may be outside it
    inside = g.inside()
    assert inside[g.n_cells // 2 + g.width // 2] and inside.mean() > 0.8
    t = g.transform
    assert (t.a, t.e, t.c, t.f) == (250.0, -250.0, g.west, g.north)
    assert make_grid(250, bbox=(24.90, 60.15, 24.96, 60.18)).crs == "EPSG:32635"
    assert make_grid(1000, bbox=(126.55, 45.70, 126.70, 45.80), crs="EPSG:3857").crs == "EPSG:3857"


@pytest.mark.parametrize("crs", ["EPSG:4326", "not-a-crs"])
def test_grid_refuses_unprojected_or_unknown_crs(crs):
    with pytest.raises(InputError) as err:
        make_grid(250, bbox=(126.55, 45.70, 126.70, 45.80), crs=crs)
    assert err.value.code == "invalid_crs"


def test_grid_refuses_bad_inputs():
    with pytest.raises(InputError):
        make_grid(0, bbox=(126.55, 45.70, 126.70, 45.80))
    with pytest.raises(InputError):
        make_grid(250, bbox=(126.70, 45.70, 126.55, 45.80))
    with pytest.raises(InputError) as err:
        make_grid(1, bbox=(120.0, 40.0, 130.0, 50.0))
    assert err.value.code == "grid_too_large"


# ---------------------------------------------------------------------- opportunities

def test_points_sum_into_their_cells_and_report_outside():
    g = _grid()
    x = [g.west + 50, g.west + 60, g.west + 950, g.west - 10, g.west + 150]
    y = [g.north - 50, g.north - 90, g.north - 750, g.north - 50, g.north - 150]
    lay = opportunities_from_points("jobs", x, y, [1, 2, 4, 8, 16], g)
    v = lay.values.reshape(g.shape)
    assert v[0, 0] == 3 and v[7, 9] == 4 and v[1, 1] == 16
    assert v.sum() == 23 and lay.total == 31
    # the point outside the grid stays a destination at its own place, or is dropped
    assert lay.outside == 0 and lay.external.tolist() == [[g.west - 10, g.north - 50, 8.0]]
    lay = opportunities_from_points("jobs", x, y, [1, 2, 4, 8, 16], g, keep_outside=False)
    assert lay.outside == 8 and len(lay.external) == 0 and lay.values.sum() == 23
    with pytest.raises(InputError):
        opportunities_from_points("jobs", [g.west + 1], [g.north - 1], [-1], g)


def test_polygons_split_by_area_exactly():
    g = _grid()
    # 1.5 cells wide, 1 cell high, aligned with row 2: 2/3 in column 3, 1/3 in column 4
    a = shapely.box(g.west + 300, g.north - 300, g.west + 450, g.north - 200)
    # half outside the grid on the west side
    b = shapely.box(g.west - 100, g.north - 100, g.west + 100, g.north)
    lay = opportunities_from_polygons("pop", [a, b], [90.0, 10.0], g)
    v = lay.values.reshape(g.shape)
    assert v[2, 3] == pytest.approx(60.0) and v[2, 4] == pytest.approx(30.0)
    assert v[0, 0] == pytest.approx(5.0)
    assert lay.outside == pytest.approx(5.0) and v.sum() == pytest.approx(95.0)


def test_polygon_file_matches_geopandas_overlay():
    """The Helsinki population grid on a 100 m UTM grid, checked against an area-weighted
    overlay done with geopandas."""
    import geopandas as gpd

    g = make_grid(100, bbox=(24.90, 60.15, 24.965, 60.18))
    lay = read_opportunities(f"{POP_GPKG}:population", g)
    src = gpd.read_file(POP_GPKG).to_crs(g.crs)
    assert lay.total == src["population"].sum() == 71724
    assert lay.outside == pytest.approx(0.0, abs=1e-6)
    x, y = g.centroids()
    r = g.resolution / 2
    cells = gpd.GeoDataFrame({"cell": np.arange(g.n_cells)}, geometry=shapely.box(x - r, y - r, x + r, y + r),
                             crs=g.crs)
    src["area0"] = src.area
    ov = gpd.overlay(src, cells, how="intersection")
    expect = np.zeros(g.n_cells)
    np.add.at(expect, ov["cell"].to_numpy(), (ov["population"] * ov.area / ov["area0"]).to_numpy())
    np.testing.assert_allclose(lay.values, expect, atol=1e-6)
    with pytest.raises(InputError) as err:
        read_opportunities(f"{POP_GPKG}:nope", g)
    assert "population" in str(err.value)


def test_count_raster_aligned_and_reprojected(tmp_path):
    g = _grid(res=100.0)
    rng = np.random.default_rng(1)
    # aligned: 50 m pixels in the grid's CRS, 2 x 2 per cell, exact sums per cell
    src = rng.integers(0, 10, size=(2 * g.height, 2 * g.width)).astype(float)
    tr = Affine(50.0, 0, g.west, 0, -50.0, g.north)
    lay = opportunities_from_raster("pop", src, tr, g.crs, g)
    expect = src.reshape(g.height, 2, g.width, 2).sum(axis=(1, 3))
    np.testing.assert_allclose(lay.values.reshape(g.shape), expect)
    assert lay.outside == 0
    # a WGS84 raster, written to a GeoTIFF: the total is kept, the mass stays in place
    lon, lat = g.lonlat()
    w, e, s, n = lon.min() - 0.01, lon.max() + 0.01, lat.min() - 0.01, lat.max() + 0.01
    nx, ny = 60, 40
    vals = np.zeros((ny, nx))
    vals[10:30, 15:45] = rng.uniform(0, 5, size=(20, 30))
    tif = tmp_path / "pop.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=nx, height=ny, count=1, dtype="float64", crs="EPSG:4326",
                       transform=Affine((e - w) / nx, 0, w, 0, -(n - s) / ny, n), nodata=-1) as dst:
        vals[0, 0] = -1  # nodata
        dst.write(vals, 1)
    lay = read_opportunities(str(tif), g)
    assert lay.name == "pop"
    total = vals[vals > 0].sum()
    assert lay.total == pytest.approx(total) and lay.values.sum() + lay.outside == pytest.approx(total)
    # centre of mass within one cell of the source's
    px, py = np.meshgrid(np.arange(nx) + 0.5, np.arange(ny) + 0.5)
    pos = vals > 0
    sx, sy = w + px[pos] * (e - w) / nx, n - py[pos] * (n - s) / ny
    from planner.analyses.access.grid import transform_xy

    sx, sy = transform_xy("EPSG:4326", g.crs, sx, sy)
    cx, cy = g.centroids()
    got = (np.average(cx, weights=lay.values), np.average(cy, weights=lay.values))
    want = (np.average(sx, weights=vals[pos]), np.average(sy, weights=vals[pos]))
    assert math.dist(got, want) < g.resolution


def test_opportunity_files_errors(tmp_path):
    g = _grid()
    with pytest.raises(InputError):
        read_opportunities(str(tmp_path / "missing.gpkg"), g)
    csv = tmp_path / "jobs.csv"
    csv.write_text("id,lon,lat,jobs,shops\na,129.0,45.7,10,1\n")
    with pytest.raises(InputError) as err:
        read_opportunities(str(csv), g)  # two numeric columns: which one?
    assert "jobs" in str(err.value) and "shops" in str(err.value)
    lay = read_opportunities(f"{csv}:jobs", g)
    assert lay.name == "jobs" and lay.total == 10
    bad = tmp_path / "bad.csv"
    bad.write_text("lon,lat,jobs\n129.0,north,1\n")
    with pytest.raises(InputError) as err:
        read_opportunities(f"{bad}:jobs", g)
    assert "row 2" in str(err.value)


# ---------------------------------------------------------------------- decay

def test_decay_functions_follow_r5():
    T = 30.0
    c = 1800
    # step: 1 strictly below the cutoff
    np.testing.assert_array_equal(decay_weight(Decay("step"), T, [0, c - 1, c, c + 1]), [1, 1, 0, 0])
    # linear, width 10 min: 1 until T - 5 min, R5's table value 1 - (i + 0.5) / w after, 0 from T + 5 min
    lin = Decay("linear", width_min=10)
    w = 600
    got = decay_weight(lin, T, [c - 301, c - 300, c, c + 299, c + 300])
    np.testing.assert_allclose(got, [1.0, 1 - 0.5 / w, 1 - 300.5 / w, 1 - 599.5 / w, 0.0])
    # exponential: half-life T, and no two-hour cut (R5 returns 0 from 120 min)
    ex = decay_weight(Decay("exponential"), T, [0, c, 2 * c, 3 * 3600])
    np.testing.assert_allclose(ex, [1.0, 0.5, 0.25, 0.5 ** 6])
    # logistic: 1 at t = 0, inflection at T, symmetric around it
    sd = 8.0
    s = sd * 60 * math.sqrt(3) / math.pi
    lg = decay_weight(Decay("logistic", sd_min=sd), T, [0, c - 600, c, c + 600])

    def f(t):
        return (1 + math.exp(-c / s)) / (1 + math.exp((t - c) / s))

    np.testing.assert_allclose(lg, [1.0, f(c - 600), f(c), f(c + 600)])
    assert lg[2] == pytest.approx(0.5 * (1 + math.exp(-c / s)))
    with pytest.raises(InputError):
        Decay("gaussian")
    with pytest.raises(InputError):
        Decay("logistic", sd_min=0)


# ---------------------------------------------------------------------- rasters and previews

def _result(g, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 1000, size=g.shape)
    a[0, :3] = np.nan
    b = rng.uniform(0, 60, size=g.shape)
    b[1, 1] = np.nan
    valid = np.ones(g.shape, bool)
    valid[0, :3] = False
    bands = [Band("jobs_30min_p50", a, "jobs", "jobs reachable within 30 min", {"cutoff_min": "30"}),
             Band("jobs_60min_p50", b, "jobs", "jobs reachable within 60 min", {"cutoff_min": "60"})]
    return AccessResult(g, bands, valid, {"scenario": "baseline", "service_date": "2024-05-06"}, {})


def test_geotiff_has_crs_transform_nodata_bands_tags(tmp_path):
    g = _grid(res=250.0, w=300, h=280)  # more than one 256 x 256 tile
    res = _result(g)
    path = write_geotiff(tmp_path / "a.tif", g, res.bands, tags=res.tags, dtype="float64")
    with rasterio.open(path) as ds:
        assert ds.crs.to_epsg() == 32652
        assert ds.transform == Affine(250.0, 0, g.west, 0, -250.0, g.north)
        assert (ds.width, ds.height, ds.count) == (300, 280, 2)
        assert math.isnan(ds.nodata)
        assert ds.descriptions == ("jobs_30min_p50", "jobs_60min_p50")
        assert ds.units == ("jobs", "jobs")
        assert ds.tags()["scenario"] == "baseline" and ds.tags()["service_date"] == "2024-05-06"
        assert ds.tags(2)["cutoff_min"] == "60" and ds.tags(1)["description"].startswith("jobs reachable")
        assert ds.compression.value.lower() == "deflate"
        assert ds.block_shapes == [(256, 256), (256, 256)]
        assert ds.profile["tiled"]
        a = ds.read(1)
        np.testing.assert_array_equal(np.isnan(a), np.isnan(res.bands[0].values))
        np.testing.assert_array_equal(a[~np.isnan(a)], res.bands[0].values[~np.isnan(a)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tif"]  # no temp file left
    back = read_result(path)
    assert back.grid.same_as(g) and [b.name for b in back.bands] == ["jobs_30min_p50", "jobs_60min_p50"]
    assert back.bands[1].unit == "jobs" and back.tags["scenario"] == "baseline"


def test_difference_of_results_and_files(tmp_path):
    g = _grid()
    base, scn = _result(g, 0), _result(g, 1)
    d = difference(scn, base)
    want = scn.bands[0].values - base.bands[0].values
    np.testing.assert_array_equal(d.bands[0].values, want)
    assert d.bands[0].unit == "change in jobs"
    assert d.tags["scenario_scenario"] == "baseline" and d.tags["difference"] == "scenario - baseline"
    write_result(tmp_path, "base", base, png=False)
    write_result(tmp_path, "scn", scn, png=False)
    d2 = difference(read_result(tmp_path / "scn.tif"), read_result(tmp_path / "base.tif"))
    np.testing.assert_allclose(d2.bands[0].values, want, atol=1e-3, equal_nan=True)
    with pytest.raises(InputError):
        difference(scn, _result(_grid(res=50.0)))


def test_png_previews(tmp_path):
    import matplotlib

    backend = matplotlib.get_backend()
    g = _grid(area=shapely.box(500_050, 5_069_250, 500_950, 5_069_950))
    res = _result(g)
    names = write_result(tmp_path, "access", res)
    assert names == ["access.tif", "access_jobs_30min_p50.png", "access_jobs_60min_p50.png"]
    for n in names[1:]:
        data = (tmp_path / n).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    write_png(tmp_path / "d.png", g, res.bands[0], diverging=True, marker=(500_500.0, 5_069_500.0))
    assert (tmp_path / "d.png").stat().st_size > 5000
    assert matplotlib.get_backend() == backend  # the global backend is left alone
