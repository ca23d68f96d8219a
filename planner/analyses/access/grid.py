"""The grid of an accessibility analysis and the opportunities on it.

* :class:`Grid` / :func:`make_grid`: square cells of ``resolution`` metres in a projected
  CRS (default: the UTM zone of the study area), aligned on multiples of the resolution,
  over a study area: a polygon (:func:`read_area`), a WGS84 bounding box, or by default the
  convex hull of the walk network (of the stops when there is none or with local access).
* :class:`Opportunities`: one layer of counts per cell, aggregated so that sums are exact:
  points fall in the cell that holds them (:func:`opportunities_from_points`), polygons are
  split by area share (:func:`opportunities_from_polygons`), a count raster is resampled by
  sub-pixel sampling (:func:`opportunities_from_raster`). What falls outside the grid is
  reported (``outside``), never silently dropped. :func:`read_opportunities` reads
  ``FILE[:COLUMN]`` (GeoTIFF, GeoPackage, GeoJSON, Shapefile, CSV);
  :func:`census_opportunities` the bundled census populations (``gtfs/cities.csv``).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from planner.common.bundled import data_root
from planner.common.geodesy import utm_crs
from planner.errors import InputError
from planner.ingest.rasters import read_count_raster

if TYPE_CHECKING:
    from planner.network.model import Network

__all__ = [
    "MAX_CELLS",
    "Grid",
    "Opportunities",
    "census_opportunities",
    "check_crs",
    "make_grid",
    "opportunities_from_points",
    "opportunities_from_polygons",
    "opportunities_from_raster",
    "read_area",
    "read_opportunities",
    "split_spec",
    "transform_xy",
]

#: largest grid accepted (cells); beyond it the resolution is almost certainly a mistake
MAX_CELLS = 20_000_000


# ---------------------------------------------------------------------- the grid

@dataclass(frozen=True)
class Grid:
    """Square cells of ``resolution`` metres in the projected CRS ``crs``.

    Cells are numbered row-major from the north-west corner (``west``, ``north``): cell
    ``r * width + c`` has its centroid at ``(west + (c + 0.5) * res, north - (r + 0.5) * res)``.
    ``area`` is the study area (a shapely geometry in ``crs``) or None for the whole grid.
    """

    crs: str
    west: float
    north: float
    resolution: float
    width: int
    height: int
    area: Any = field(default=None, compare=False, repr=False)

    @property
    def n_cells(self) -> int:
        return self.width * self.height

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    @property
    def transform(self):
        """The rasterio (affine) transform of the grid."""
        return Affine(self.resolution, 0.0, self.west, 0.0, -self.resolution, self.north)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return (self.west, self.north - self.height * self.resolution,
                self.west + self.width * self.resolution, self.north)

    def record(self) -> dict:
        """The grid as the summaries' JSON holds it: CRS, cell size (m), size in cells and the
        first six terms of the affine transform."""
        return {"crs": self.crs, "resolution_m": self.resolution, "width": self.width, "height": self.height,
                "transform": list(self.transform)[:6]}

    def cell_size_text(self) -> str:
        """The cell size in words: "250 m", "10 km"."""
        return f"{self.resolution / 1000:g} km" if self.resolution >= 1000 else f"{self.resolution:g} m"

    def centroids(self) -> tuple[np.ndarray, np.ndarray]:
        """x, y (grid CRS) of every cell centroid, row-major."""
        res = self.resolution
        x = self.west + (np.arange(self.width) + 0.5) * res
        y = self.north - (np.arange(self.height) + 0.5) * res
        xx, yy = np.meshgrid(x, y)
        return xx.ravel(), yy.ravel()

    def lonlat(self) -> tuple[np.ndarray, np.ndarray]:
        """WGS84 lon, lat of every cell centroid, row-major."""
        return transform_xy(self.crs, "EPSG:4326", *self.centroids())

    def cell_index(self, x, y) -> np.ndarray:
        """Flat cell index of points given in the grid CRS; -1 outside the grid."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        col = np.floor((x - self.west) / self.resolution)
        row = np.floor((self.north - y) / self.resolution)
        ok = np.isfinite(col) & np.isfinite(row) & (col >= 0) & (col < self.width) & (row >= 0) & (row < self.height)
        out = np.full(x.shape, -1, np.int64)
        out[ok] = row[ok].astype(np.int64) * self.width + col[ok].astype(np.int64)
        return out

    def inside(self) -> np.ndarray:
        """Bool per cell: the centroid lies in the study area."""
        if self.area is None:
            return np.ones(self.n_cells, bool)

        x, y = self.centroids()
        return shapely.contains_xy(self.area, x, y)

    def same_as(self, other: Grid) -> bool:
        return (self.crs == other.crs and self.shape == other.shape
                and np.allclose([self.west, self.north, self.resolution], [other.west, other.north, other.resolution]))


def transform_xy(src: str, dst: str, x, y) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates ``x``, ``y`` from CRS ``src`` to ``dst`` (lon/lat order for WGS84)."""
    tr = Transformer.from_crs(src, dst, always_xy=True)
    a, b = tr.transform(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)


def check_crs(crs: str) -> str:
    """The CRS as ``AUTHORITY:CODE`` (or WKT) after checking that it is projected in metres."""
    try:
        c = CRS.from_user_input(crs)
    except CRSError as err:
        msg = f"unknown CRS {crs!r} ({err})"
        raise InputError(msg, code="invalid_crs", hint="give a projected CRS such as EPSG:32652") from None
    units = {a.unit_name for a in c.axis_info}
    if not c.is_projected or not units <= {"metre", "meter"}:
        msg = f"CRS {crs!r} is not a projected CRS in metres (axis units: {', '.join(sorted(units)) or '?'})"
        raise InputError(msg, code="invalid_crs", hint="grid cells are square metres: use e.g. the local UTM zone")
    auth = c.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else c.to_wkt()


def read_area(path: str | Path):
    """The union of the polygons of a vector file (GeoPackage, GeoJSON, Shapefile), in WGS84."""
    p = Path(path)
    if not p.is_file():
        msg = f"{p} does not exist"
        raise InputError(msg, code="input_unreadable", hint="give a GeoPackage or GeoJSON of the study area")
    try:
        gdf = gpd.read_file(p)
    except Exception as err:  # pyogrio raises many types for unreadable files
        msg = f"{p}: cannot read as a vector file ({err})"
        raise InputError(msg, code="input_unreadable", hint="give a GeoPackage or GeoJSON polygon") from err
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    polys = gdf.geometry[gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polys.empty:
        msg = f"{p}: holds no polygons (found {', '.join(sorted(set(gdf.geometry.geom_type.astype(str)))) or 'nothing'})"
        raise InputError(msg, code="invalid_area", hint="the study area must be a polygon layer")
    return shapely.union_all(polys.make_valid().to_numpy())


def make_grid(resolution: float, *, crs: str | None = None, bbox=None, area=None, net: Network | None = None,
              local_access: bool = False) -> Grid:
    """A grid over the study area.

    Parameters
    ----------
    resolution
        Cell size in metres (of the CRS).
    crs
        Projected CRS of the grid; default the UTM zone of the study area's centre.
    bbox
        ``(west, south, east, north)`` in WGS84 degrees.
    area
        A shapely (multi)polygon in WGS84 (see :func:`read_area`); wins over ``bbox``.
    net
        Without ``area`` and ``bbox``: the convex hull of the walk network's nodes (of the
        stops when there is no walk network or with ``local_access``), one cell wider.
    """
    if not (isinstance(resolution, int | float) and math.isfinite(resolution) and resolution > 0):
        msg = f"resolution must be a positive number of metres, got {resolution!r}"
        raise InputError(msg, code="invalid_parameter")
    res = float(resolution)
    pad = 0.0
    if area is not None:
        geo = area
    elif bbox is not None:
        w, s, e, n = (float(v) for v in bbox)
        if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
            msg = f"bounding box {bbox} is not WEST,SOUTH,EAST,NORTH in degrees"
            raise InputError(msg, code="invalid_bbox", hint="e.g. --bbox 126.5,45.65,126.8,45.85")
        geo = shapely.segmentize(shapely.box(w, s, e, n), max(e - w, n - s) / 64)
    elif net is not None:
        if net.walk is not None and not local_access:
            lon, lat = net.walk.lon, net.walk.lat
        else:
            lon, lat = net.timetable.stop_lon, net.timetable.stop_lat
        ok = np.isfinite(lon) & np.isfinite(lat)
        if not ok.any():
            msg = "the network has no located nodes or stops to put a grid on"
            raise InputError(msg, code="invalid_area", hint="pass --bbox or --area")
        geo = shapely.MultiPoint(np.column_stack([lon[ok], lat[ok]]))
        pad = res
    else:
        msg = "make_grid needs an area, a bounding box or a network"
        raise InputError(msg, code="invalid_area")
    if crs is None:

        c = geo.centroid
        crs = utm_crs(c.x, c.y)
    crs = check_crs(crs)
    geo_t = _to_crs(geo, crs)
    if isinstance(geo_t, shapely.MultiPoint | shapely.Point):
        geo_t = geo_t.convex_hull.buffer(pad) if pad else geo_t.convex_hull
    minx, miny, maxx, maxy = geo_t.bounds
    west = math.floor(minx / res) * res
    north = math.ceil(maxy / res) * res
    width = max(1, math.ceil((maxx - west) / res))
    height = max(1, math.ceil((north - miny) / res))
    if width * height > MAX_CELLS:
        msg = f"a {res:g} m grid over this area has {width * height:,} cells (limit {MAX_CELLS:,})"
        raise InputError(msg, code="grid_too_large", hint="use a coarser --resolution or a smaller area")
    return Grid(crs, float(west), float(north), res, int(width), int(height), area=geo_t)


def _to_crs(geom, crs: str):
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


# ---------------------------------------------------------------------- opportunities

@dataclass
class Opportunities:
    """One opportunity layer on a grid: ``values`` float64 per cell (row-major).

    ``total`` is the count in the input. Points outside the grid stay destinations at their
    own location: ``external`` is float64 (n, 3) of ``x``, ``y`` (grid CRS) and count.
    ``outside`` is the part of polygons and rasters that fell outside the grid (reported,
    not counted). ``points`` holds the x, y of a point layer's points (for maps).
    """

    name: str
    values: np.ndarray
    unit: str
    source: str
    digest: str = ""
    total: float = 0.0
    outside: float = 0.0
    external: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))

    @property
    def external_total(self) -> float:
        return float(self.external[:, 2].sum())

    def provenance(self) -> dict:
        return {"source": Path(self.source).name if self.digest else self.source, "sha256": self.digest,
                "unit": self.unit, "total": round(self.total, 6), "outside_grid_dropped": round(self.outside, 6),
                "outside_grid_points_kept": round(self.external_total, 6)}


def _counts(values, where: str) -> np.ndarray:
    c = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(c) | (c < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        msg = f"{where}: item {i + 1}: count {c[i]!r} is not a non-negative number"
        raise InputError(msg, code="invalid_opportunities", hint="opportunity counts must be >= 0")
    return c


def opportunities_from_points(name: str, x, y, counts, grid: Grid, *, unit: str = "", source: str = "",
                              digest: str = "", keep_outside: bool = True) -> Opportunities:
    """Point counts (``x``, ``y`` in the grid CRS) summed into the cells that hold them.

    Points outside the grid remain destinations at their own location (``external``), so
    a grid over one city still reaches the other cities of an agglomeration; with
    ``keep_outside=False`` they are dropped and reported in ``outside``.
    """
    c = _counts(counts, source or name)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    idx = grid.cell_index(x, y)
    ok = idx >= 0
    vals = np.bincount(idx[ok], weights=c[ok], minlength=grid.n_cells).astype(np.float64)
    out = ~ok & (c > 0)
    pts = np.column_stack([x[c > 0], y[c > 0]])
    if keep_outside:
        ext = np.column_stack([x[out], y[out], c[out]])
        return Opportunities(name, vals, unit or name, source, digest, float(c.sum()), 0.0, ext, pts)
    return Opportunities(name, vals, unit or name, source, digest, float(c.sum()), float(c[~ok].sum()), points=pts)


def opportunities_from_polygons(name: str, geoms, counts, grid: Grid, *, unit: str = "", source: str = "",
                                digest: str = "") -> Opportunities:
    """Polygon counts (geometries in the grid CRS) split over cells by exact area share.

    A polygon without area counts as its representative point.
    """
    c = _counts(counts, source or name)
    geoms = np.asarray(geoms, dtype=object)
    vals = np.zeros(grid.n_cells)
    outside = 0.0
    res = grid.resolution
    areas = shapely.area(geoms)
    for g, n, a in zip(geoms, c, areas, strict=True):
        if n == 0:
            continue
        if g is None or shapely.is_empty(g):
            outside += n
            continue
        if not a > 0:
            p = shapely.get_coordinates(shapely.point_on_surface(g))[0]
            i = grid.cell_index([p[0]], [p[1]])[0]
            if i >= 0:
                vals[i] += n
            else:
                outside += n
            continue
        minx, miny, maxx, maxy = shapely.bounds(g)
        c0 = max(0, math.floor((minx - grid.west) / res))
        c1 = min(grid.width - 1, math.floor((maxx - grid.west) / res))
        r0 = max(0, math.floor((grid.north - maxy) / res))
        r1 = min(grid.height - 1, math.floor((grid.north - miny) / res))
        if c0 > c1 or r0 > r1:
            outside += n
            continue
        cols, rows = np.meshgrid(np.arange(c0, c1 + 1), np.arange(r0, r1 + 1))
        cols, rows = cols.ravel(), rows.ravel()
        x0 = grid.west + cols * res
        y1 = grid.north - rows * res
        boxes = shapely.box(x0, y1 - res, x0 + res, y1)
        share = shapely.area(shapely.intersection(boxes, g)) / a
        np.add.at(vals, rows * grid.width + cols, n * share)
        outside += n * max(0.0, 1.0 - float(share.sum()))
    return Opportunities(name, vals, unit or name, source, digest, float(c.sum()), float(outside))


def _pixel_xy(t, col, row) -> tuple[np.ndarray, np.ndarray]:
    """Affine transform ``t`` applied to pixel coordinates (column, row)."""
    col = np.asarray(col, dtype=np.float64)
    row = np.asarray(row, dtype=np.float64)
    return t.a * col + t.b * row + t.c, t.d * col + t.e * row + t.f


def opportunities_from_raster(name: str, values, transform, crs: str, grid: Grid, *, unit: str = "",
                              source: str = "", digest: str = "") -> Opportunities:
    """A count raster (2-D ``values``, NaN = none) resampled onto the grid, sum-preserving.

    Each source pixel is split into ``k x k`` sub-pixels (``k`` chosen so that a sub-pixel
    is at most half a grid cell) whose centres fall into grid cells, each carrying
    ``1 / k**2`` of the pixel's count.
    """
    v = np.asarray(values, dtype=np.float64)
    v = np.where(np.isfinite(v), v, 0.0)
    _counts(v[v != 0], source or name)
    rows, cols = np.nonzero(v)
    out = np.zeros(grid.n_cells)
    if len(rows) == 0:
        return Opportunities(name, out, unit or name, source, digest, 0.0, 0.0)
    # size of a source pixel in grid units, measured at the raster's centre
    r_mid, c_mid = v.shape[0] / 2, v.shape[1] / 2
    px, py = (np.array([c_mid, c_mid + 1, c_mid]), np.array([r_mid, r_mid, r_mid + 1]))
    sx, sy = _pixel_xy(transform, px, py)
    gx, gy = transform_xy(crs, grid.crs, sx, sy)
    size = max(math.hypot(gx[1] - gx[0], gy[1] - gy[0]), math.hypot(gx[2] - gx[0], gy[2] - gy[0]))
    k = int(min(32, max(1, math.ceil(2.0 * size / grid.resolution))))
    sub = (np.arange(k) + 0.5) / k
    du, dv = np.meshgrid(sub, sub)
    du, dv = du.ravel(), dv.ravel()
    counts = v[rows, cols]
    outside = 0.0
    block = max(1, 2_000_000 // (k * k))
    for a in range(0, len(rows), block):
        rr, cc, nn = rows[a:a + block], cols[a:a + block], counts[a:a + block]
        xs, ys = _pixel_xy(transform, (cc[:, None] + du[None, :]).ravel(), (rr[:, None] + dv[None, :]).ravel())
        gx, gy = transform_xy(crs, grid.crs, xs, ys)
        w = np.repeat(nn / (k * k), k * k)
        idx = grid.cell_index(gx, gy)
        ok = idx >= 0
        out += np.bincount(idx[ok], weights=w[ok], minlength=grid.n_cells)
        outside += float(w[~ok].sum())
    return Opportunities(name, out, unit or name, source, digest, float(counts.sum()), outside)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def split_spec(spec: str) -> tuple[Path, str | None]:
    """``FILE[:COLUMN]`` -> (path, column or None); a path that exists as given wins."""
    p = Path(spec)
    if p.exists() or ":" not in spec:
        return p, None
    head, col = spec.rsplit(":", 1)
    return Path(head), (col.strip() or None)


_NUMERIC_SKIP = {"id", "fid", "ogc_fid", "lon", "lat", "lng", "longitude", "latitude", "x", "y"}


def _pick_column(df, column: str | None, where: str) -> str:
    if column is not None:
        if column not in df.columns:
            msg = f"{where}: no column {column!r} (columns: {', '.join(map(str, df.columns))})"
            raise InputError(msg, code="missing_required_column", hint="write FILE:COLUMN with an existing column")
        return column
    numeric = [c for c in df.columns if c != "geometry" and str(c).lower() not in _NUMERIC_SKIP
               and pd.api.types.is_numeric_dtype(df[c])]
    if len(numeric) == 1:
        return numeric[0]
    msg = f"{where}: say which column holds the counts (numeric columns: {', '.join(map(str, numeric)) or 'none'})"
    raise InputError(msg, code="missing_required_column", hint="write FILE:COLUMN, e.g. grid.gpkg:population")


def read_opportunities(spec: str, grid: Grid) -> Opportunities:
    """An opportunity layer from ``FILE[:COLUMN]``, aggregated to ``grid``.

    ``.tif``/``.tiff``: a count raster (``:N`` picks band N, default 1), named after the
    file. GeoPackage/GeoJSON/Shapefile/FlatGeobuf: points or polygons with a count column.
    CSV: ``lon``/``lat`` (WGS84) and a count column. The layer is named after the column.
    """
    path, column = split_spec(spec)
    if not path.is_file():
        msg = f"{path} does not exist" if not path.exists() else f"{path} is not a file"
        raise InputError(msg, code="input_unreadable", hint="give a GeoTIFF, GeoPackage, GeoJSON or CSV of counts")
    digest = _sha256(path)
    suffix = path.suffix.lower()
    if suffix in {".tif", ".tiff"}:

        try:
            band = int(column) if column else 1
        except ValueError:
            msg = f"{spec}: a raster layer takes a band number after the colon, got {column!r}"
            raise InputError(msg, code="invalid_parameter") from None
        values, transform, crs = read_count_raster(path, band)
        name = path.stem if band == 1 else f"{path.stem}_b{band}"
        return opportunities_from_raster(name, values, transform, crs, grid, source=str(path), digest=digest)
    if suffix == ".csv":

        try:
            df = pd.read_csv(path, encoding="utf-8-sig")
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as err:
            msg = f"{path}: cannot read as CSV ({err})"
            raise InputError(msg, code="input_unreadable", hint="save it as UTF-8 CSV with a header") from err
        df.columns = [str(c).strip() for c in df.columns]
        low = {c.lower(): c for c in df.columns}
        lon_c = next((low[c] for c in ("lon", "lng", "longitude", "x") if c in low), None)
        lat_c = next((low[c] for c in ("lat", "latitude", "y") if c in low), None)
        if lon_c is None or lat_c is None:
            msg = f"{path}: needs lon and lat columns (WGS84); found {', '.join(df.columns)}"
            raise InputError(msg, code="missing_required_column")
        col = _pick_column(df, column, str(path))
        lon = pd.to_numeric(df[lon_c], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(df[lat_c], errors="coerce").to_numpy(float)
        bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + 2
            msg = f"{path}: row {row}: '{lon_c}'/'{lat_c}' is not a longitude/latitude pair"
            raise InputError(msg, code="invalid_float", hint="decimal degrees, WGS84")
        counts = pd.to_numeric(df[col], errors="coerce").to_numpy(float)
        x, y = transform_xy("EPSG:4326", grid.crs, lon, lat)
        return opportunities_from_points(col, x, y, counts, grid, source=str(path), digest=digest)

    try:
        gdf = gpd.read_file(path)
    except Exception as err:  # pyogrio raises many types for unreadable files
        msg = f"{path}: cannot read as a vector file ({err})"
        raise InputError(msg, code="input_unreadable", hint="give a GeoPackage, GeoJSON or CSV") from err
    if gdf.empty:
        msg = f"{path}: holds no features"
        raise InputError(msg, code="empty_file")
    col = _pick_column(gdf, column, str(path))
    counts = gdf[col].to_numpy(dtype=float)
    gdf = gdf.set_crs("EPSG:4326") if gdf.crs is None else gdf
    geom = gdf.geometry.to_crs(grid.crs)
    kinds = set(geom.geom_type.dropna().astype(str))
    if kinds <= {"Point"}:
        return opportunities_from_points(col, geom.x.to_numpy(), geom.y.to_numpy(), counts, grid, source=str(path),
                                         digest=digest)
    if kinds <= {"Polygon", "MultiPolygon"}:
        return opportunities_from_polygons(col, geom.to_numpy(), counts, grid, source=str(path), digest=digest)
    msg = f"{path}: mixes or uses unsupported geometry types ({', '.join(sorted(kinds))})"
    raise InputError(msg, code="invalid_opportunities", hint="use one layer of points or one of polygons")


def census_opportunities(grid: Grid, path: str | Path | None = None) -> Opportunities:
    """The bundled census populations (``gtfs/cities.csv``: city points with a population
    column) as an opportunity layer named ``population``."""
    if path is None:

        root = data_root()
        path = root / "gtfs" / "cities.csv" if root is not None else None
    if path is None or not Path(path).is_file():
        msg = "the bundled census figures (gtfs/cities.csv) are not there"
        raise InputError(msg, code="input_not_found", hint="pass --opportunities FILE[:COLUMN] or --population-grid FILE")
    p = Path(path)
    df = pd.read_csv(p, encoding="utf-8-sig")
    low = {str(c).lower(): c for c in df.columns}
    pop = [c for c in df.columns if "pop" in str(c).lower() and pd.api.types.is_numeric_dtype(df[c])]
    pop.sort(key=lambda c: str(c).lower() != "population")  # the column named population first
    lon_c, lat_c = low.get("lon") or low.get("longitude"), low.get("lat") or low.get("latitude")
    if not pop or lon_c is None or lat_c is None:
        msg = f"{p}: expected lon, lat and a population column; found {', '.join(map(str, df.columns))}"
        raise InputError(msg, code="missing_required_column")
    df = df[df[pop[0]].notna() & df[lon_c].notna() & df[lat_c].notna()]
    x, y = transform_xy("EPSG:4326", grid.crs, df[lon_c].to_numpy(float), df[lat_c].to_numpy(float))
    return opportunities_from_points("population", x, y, df[pop[0]].to_numpy(float), grid, unit="people",
                                     source=f"census ({p.name}, column {pop[0]})", digest=_sha256(p))
