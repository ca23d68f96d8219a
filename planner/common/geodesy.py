"""Straight-line distances on the sphere, for walking and local-access legs.

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


__all__ = ["EARTH_RADIUS_M", "arc_m", "sphere_xyz"]
