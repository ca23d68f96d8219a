"""Great-circle distances on the sphere: the one haversine, and the 3-D form for k-d trees.

:func:`haversine_m` measures between latitude/longitude pairs (street edges, rail segments,
city-to-city crow-fly distances); ``radius`` selects the sphere (street edges keep osmnx's
:data:`OSMNX_EARTH_RADIUS_M` so that edge lengths equal osmnx's).

Points become 3-D coordinates in metres on a sphere of the Earth's mean radius
(:func:`sphere_xyz`). The chord between two of them is never longer than the great-circle
arc, so a k-d tree query with a radius in metres finds every pair within that distance on
the ground; :func:`arc_m` then turns chords into great-circle metres. Nothing depends on a
reference latitude: an equirectangular projection around the mean latitude of the stops
(what this replaced in issue 11) made distances depend on which other stops a feed holds,
and erred by 5-14 % east-west across a country-wide network.
"""

from __future__ import annotations

import numpy as np

#: mean Earth radius (IUGG); the sphere of every haversine and local projection here
EARTH_RADIUS_M = 6_371_008.8
#: the radius osmnx uses for edge lengths (``osmnx.distance.EARTH_RADIUS_M``)
OSMNX_EARTH_RADIUS_M = 6_371_009.0


def haversine_m(lat1, lon1, lat2, lon2, *, radius: float = EARTH_RADIUS_M, radians: bool = False) -> np.ndarray:
    """Great-circle distance between WGS84 points (broadcasting), in the unit of ``radius``
    (metres by default; pass a radius in km to get km).

    Coordinates are in degrees, or in radians with ``radians=True`` (converted once for many
    segments, as the street builder does: its lengths then equal osmnx's bit for bit).
    """
    if radians:
        p1, p2, dlmb = np.asarray(lat1), np.asarray(lat2), np.subtract(lon2, lon1)
    else:
        p1, p2 = np.radians(lat1), np.radians(lat2)
        dlmb = np.radians(np.subtract(lon2, lon1))
    dphi = p2 - p1
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * radius * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def sphere_xyz(lat, lon) -> np.ndarray:
    """Points on the sphere in metres, shape (n, 3), from latitudes and longitudes in degrees."""
    la = np.radians(np.asarray(lat, dtype=np.float64))
    lo = np.radians(np.asarray(lon, dtype=np.float64))
    c = np.cos(la)
    return np.column_stack([c * np.cos(lo), c * np.sin(lo), np.sin(la)]).reshape(-1, 3) * EARTH_RADIUS_M


def arc_m(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle metres between points of :func:`sphere_xyz` (broadcast over the last axis)."""
    chord = np.linalg.norm(np.asarray(a) - np.asarray(b), axis=-1)
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(chord / (2.0 * EARTH_RADIUS_M), 1.0))


__all__ = ["EARTH_RADIUS_M", "OSMNX_EARTH_RADIUS_M", "arc_m", "haversine_m", "sphere_xyz", "utm_crs"]


def utm_crs(lon: float, lat: float) -> str:
    """``EPSG:326zz`` (north) or ``EPSG:327zz`` (south): the UTM zone of a WGS84 point.

    The regular 6-degree zones; the Norway/Svalbard exceptions are ignored (the error is a
    slightly larger scale distortion there, not a wrong answer).
    """
    zone = int(np.floor((lon + 180.0) / 6.0)) % 60 + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"
