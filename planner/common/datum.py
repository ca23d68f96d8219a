"""WGS84, GCJ-02 and BD-09 coordinates (Chinese map services), vectorised.

Maps published in mainland China use an obfuscated datum: GCJ-02 (AMap/Gaode, Tencent,
Google Maps in China) shifts WGS84 points by roughly 300-700 m in a direction that varies
smoothly with position; BD-09 (Baidu) applies a further rotation and offset on top of
GCJ-02. Coordinates copied from those services must be converted before they are matched
with OSM or GTFS data, which are WGS84.

The formulas are the widely published ones (e.g. github.com/googollee/eviltransform):

* WGS84 -> GCJ-02: the offset polynomial on the Krasovsky 1940 ellipsoid
  (``a = 6378245``, ``ee = 0.00669342162296594323``), applied only inside a bounding box
  of China (longitude 72.004-137.8347, latitude 0.8293-55.8271); outside it the point is
  returned unchanged.
* GCJ-02 -> BD-09: ``x_pi = pi * 3000 / 180``, ``z = sqrt(x^2 + y^2) + 2e-5 sin(y x_pi)``,
  ``theta = atan2(y, x) + 3e-6 cos(x x_pi)``, plus (0.0065, 0.006).
* The inverses have no closed form; they are solved by fixed-point iteration (start at the
  approximate inverse, correct by the forward error) until the forward transform of the
  result is within 1e-9 degrees (about 0.1 mm) of the input.

Outside China both GCJ-02 and BD-09 are treated as WGS84 (no offset), as the services do
for the rest of the world.

>>> lon, lat = wgs84_to_gcj02(126.6254465, 45.7600422)
>>> round(float(lon), 6), round(float(lat), 6)   # Harbin station, OSM node 334358067
(126.631382, 45.761969)
"""

from __future__ import annotations

import numpy as np

from planner.common.geodesy import EARTH_RADIUS_M
from planner.errors import InputError

__all__ = [
    "DATUMS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_wgs84",
    "gcj02_offset_m",
    "gcj02_offset_suspect",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

#: the datums accepted by :func:`to_wgs84` and :func:`from_wgs84` (lower case)
DATUMS = ("wgs84", "gcj02", "bd09")

_A = 6378245.0                     # Krasovsky 1940 semi-major axis (m)
_EE = 0.00669342162296594323       # Krasovsky 1940 first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0     # BD-09 constant
_TOL_DEG = 1e-9                    # inverse iterations stop below this forward error
_MAX_ITER = 60

_ALIASES = {
    "wgs84": "wgs84", "wgs-84": "wgs84", "wgs_84": "wgs84", "epsg:4326": "wgs84",
    "gcj02": "gcj02", "gcj-02": "gcj02", "gcj_02": "gcj02", "gcj": "gcj02",
    "bd09": "bd09", "bd-09": "bd09", "bd_09": "bd09", "bd09ll": "bd09",
}


def _arrays(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    if x.shape != y.shape:
        x, y = np.broadcast_arrays(x, y)
    return x, y


def in_china(lon, lat) -> np.ndarray:
    """True where the point lies inside the bounding box in which GCJ-02 applies.

    The box is the one of the published reference implementations (longitude
    72.004-137.8347, latitude 0.8293-55.8271). NaN coordinates are outside.
    """
    x, y = _arrays(lon, lat)
    with np.errstate(invalid="ignore"):
        return (x >= 72.004) & (x <= 137.8347) & (y >= 0.8293) & (y <= 55.8271)


def _transform_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj_delta(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dlon, dlat) in degrees that WGS84 -> GCJ-02 adds at WGS84 point (x, y)."""
    dlat = _transform_lat(x - 105.0, y - 35.0)
    dlon = _transform_lon(x - 105.0, y - 35.0)
    rad = y / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def _out(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if x.ndim == 0:
        return np.float64(x), np.float64(y)
    return x, y


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 (lon, lat) of WGS84 points; points outside China are returned unchanged."""
    x, y = _arrays(lon, lat)
    inside = in_china(x, y)
    dlon, dlat = _gcj_delta(x, y)
    return _out(np.where(inside, x + dlon, x), np.where(inside, y + dlat, y))


def _invert(forward, x: np.ndarray, y: np.ndarray, x0: np.ndarray, y0: np.ndarray):
    """Solve forward(u, v) = (x, y) for (u, v) by fixed-point iteration from (x0, y0)."""
    u, v = x0.copy(), y0.copy()
    for _ in range(_MAX_ITER):
        fx, fy = forward(u, v)
        ex, ey = fx - x, fy - y
        err = np.nanmax(np.maximum(np.abs(ex), np.abs(ey)), initial=0.0)
        u = u - ex
        v = v - ey
        if err < _TOL_DEG:
            break
    return u, v


def gcj02_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 (lon, lat) of GCJ-02 points (iterated to < 1e-9 degrees); outside China unchanged."""
    x, y = _arrays(lon, lat)
    x1, y1 = np.atleast_1d(x).astype(np.float64), np.atleast_1d(y).astype(np.float64)
    inside = in_china(x1, y1)
    ox, oy = x1.copy(), y1.copy()
    if inside.any():
        xi, yi = x1[inside], y1[inside]
        dlon, dlat = _gcj_delta(xi, yi)

        def fwd(u, v):
            du, dv = _gcj_delta(u, v)
            return u + du, v + dv

        u, v = _invert(fwd, xi, yi, xi - dlon, yi - dlat)
        ox[inside], oy[inside] = u, v
    return _out(ox.reshape(x.shape), oy.reshape(y.shape))


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 (lon, lat) of GCJ-02 points; points outside China are returned unchanged."""
    x, y = _arrays(lon, lat)
    inside = in_china(x, y)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    bx = z * np.cos(theta) + 0.0065
    by = z * np.sin(theta) + 0.006
    return _out(np.where(inside, bx, x), np.where(inside, by, y))


def _bd_forward(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 (lon, lat) of BD-09 points (iterated to < 1e-9 degrees); outside China unchanged."""
    x, y = _arrays(lon, lat)
    x1, y1 = np.atleast_1d(x).astype(np.float64), np.atleast_1d(y).astype(np.float64)
    # a point is "in China" when its approximate GCJ-02 position is
    ax, ay = x1 - 0.0065, y1 - 0.006
    z = np.sqrt(ax * ax + ay * ay) - 0.00002 * np.sin(ay * _X_PI)
    theta = np.arctan2(ay, ax) - 0.000003 * np.cos(ax * _X_PI)
    gx, gy = z * np.cos(theta), z * np.sin(theta)
    inside = in_china(gx, gy)
    ox, oy = x1.copy(), y1.copy()
    if inside.any():
        u, v = _invert(_bd_forward, x1[inside], y1[inside], gx[inside], gy[inside])
        ox[inside], oy[inside] = u, v
    return _out(ox.reshape(x.shape), oy.reshape(y.shape))


def wgs84_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 (lon, lat) of WGS84 points (via GCJ-02)."""
    gx, gy = wgs84_to_gcj02(lon, lat)
    return gcj02_to_bd09(gx, gy)


def bd09_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 (lon, lat) of BD-09 points (via GCJ-02)."""
    gx, gy = bd09_to_gcj02(lon, lat)
    return gcj02_to_wgs84(gx, gy)


def _datum(datum: str) -> str:
    key = str(datum).strip().lower()
    if key not in _ALIASES:
        msg = f"unknown datum {datum!r} (expected one of {', '.join(DATUMS)})"
        raise InputError(msg, code="invalid_datum",
                         hint="use wgs84 (GPS, OSM), gcj02 (AMap/Gaode, Tencent) or bd09 (Baidu)")
    return _ALIASES[key]


def to_wgs84(lon, lat, datum: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert (lon, lat) given in ``datum`` to WGS84.

    Parameters
    ----------
    lon, lat
        Degrees; scalars or arrays of the same shape. NaN stays NaN.
    datum
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"`` (case-insensitive; ``gcj-02``, ``bd-09``
        and ``epsg:4326`` are accepted too).

    Returns
    -------
    (lon, lat)
        WGS84 degrees, float64 arrays (NumPy scalars for scalar input).

    Raises
    ------
    InputError
        ``invalid_datum`` for any other datum name.
    """
    d = _datum(datum)
    if d == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if d == "bd09":
        return bd09_to_wgs84(lon, lat)
    return _out(*_arrays(lon, lat))


def from_wgs84(lon, lat, datum: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 (lon, lat) to ``datum`` (the inverse of :func:`to_wgs84`)."""
    d = _datum(datum)
    if d == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if d == "bd09":
        return wgs84_to_bd09(lon, lat)
    return _out(*_arrays(lon, lat))


def _local_m(lon0, lat0, lon1, lat1) -> tuple[np.ndarray, np.ndarray]:
    """East/north metres from point 0 to point 1 (equirectangular; fine for a few km)."""
    k = np.pi / 180.0 * EARTH_RADIUS_M
    return (lon1 - lon0) * k * np.cos(np.radians(lat0)), (lat1 - lat0) * k


def gcj02_offset_m(lon, lat) -> np.ndarray:
    """Length in metres of the GCJ-02 shift at WGS84 points (0 outside China)."""
    x, y = _arrays(lon, lat)
    gx, gy = wgs84_to_gcj02(x, y)
    e, n = _local_m(x, y, gx, gy)
    return np.hypot(e, n)


def gcj02_offset_suspect(lon, lat, ref_lon, ref_lat, *, tolerance_m: float | None = None,
                         min_offset_m: float = 100.0) -> np.ndarray:
    """True where a point sits at the GCJ-02 offset from its matching reference point.

    A point given as WGS84 but copied from AMap/Gaode or Tencent lies where GCJ-02 puts the
    true (reference, e.g. OSM) location: about 300-700 m away in the direction of the GCJ
    shift. This tells such points apart from ordinary disagreement: the point must be
    closer to the GCJ-02 image of its reference than ``tolerance_m`` (default: a third of
    the local shift, at least 60 m) *and* closer to that image than to the reference
    itself, where the local shift is at least ``min_offset_m``.

    Parameters
    ----------
    lon, lat
        The points as given (believed WGS84), degrees.
    ref_lon, ref_lat
        The matching reference points (WGS84, e.g. the OSM station of the same name),
        same shape.
    tolerance_m
        How close to the GCJ-02 image counts as "at the offset".
    min_offset_m
        Points where the shift is smaller (outside China, near its edge) are never suspect.

    Returns
    -------
    numpy.ndarray of bool
        One flag per point; False where any coordinate is NaN.
    """
    x, y = _arrays(lon, lat)
    rx, ry = _arrays(ref_lon, ref_lat)
    gx, gy = wgs84_to_gcj02(rx, ry)
    se, sn = _local_m(rx, ry, gx, gy)
    shift = np.hypot(se, sn)
    de, dn = _local_m(gx, gy, x, y)
    to_image = np.hypot(de, dn)
    pe, pn = _local_m(rx, ry, x, y)
    to_ref = np.hypot(pe, pn)
    tol = np.maximum(shift / 3.0, 60.0) if tolerance_m is None else np.full_like(shift, float(tolerance_m))
    with np.errstate(invalid="ignore"):
        out = (shift >= min_offset_m) & (to_image <= tol) & (to_image < to_ref)
    return np.asarray(out & np.isfinite(to_image) & np.isfinite(to_ref), dtype=bool)
