"""Measures shared by the analyses: a travel-time matrix between places, weighted by population.

``T`` is a (places x places) matrix of travel times in minutes (NaN: unreachable; the
diagonal is ignored) and ``pop`` the places' populations. :func:`measures` gives the net's
figures (population-weighted mean travel time, shares of pairs within 1/2/3 hours) and
:func:`place_measures` each place's (population reachable within 1/2/3 hours, population-
weighted mean travel time to the places it reaches). ``plan evaluate`` and ``plan net`` both
report them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["THRESHOLDS_MIN", "measures", "place_measures"]

#: the travel-time thresholds of the shares and reachable populations (minutes)
THRESHOLDS_MIN = (60, 120, 180)


def measures(T: np.ndarray, pop: np.ndarray, mask: np.ndarray | None = None) -> dict:
    """Net measures of a travel-time matrix (minutes, NaN unreachable, diagonal ignored).

    ``mask`` limits the population-weighted mean to some pairs (e.g. reachable in both).
    """
    n = len(pop)
    off = ~np.eye(n, dtype=bool)
    reach = np.isfinite(T) & off
    m = reach if mask is None else (reach & mask)
    w = np.outer(pop, pop)
    mean = float((w[m] * T[m]).sum() / w[m].sum()) if m.any() else float("nan")
    out = {"pop_weighted_mean_min": mean, "reachable_pairs": int(reach.sum()), "pairs": int(off.sum())}
    for t in THRESHOLDS_MIN:
        out[f"share_within_{t // 60}h"] = float((reach & (T <= t)).sum() / max(off.sum(), 1))
    return out


def place_measures(T: np.ndarray, pop: np.ndarray) -> dict[str, np.ndarray]:
    """Per place: population reachable within 1/2/3 h, and population-weighted mean travel
    time to the other places it reaches."""
    n = len(pop)
    off = ~np.eye(n, dtype=bool)
    reach = np.isfinite(T) & off
    out = {}
    for t in THRESHOLDS_MIN:
        out[f"pop_within_{t // 60}h"] = ((reach & (T <= t)) * pop[None, :]).sum(axis=1)
    w = reach * pop[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["mean_travel_min"] = np.where(w.sum(axis=1) > 0, (np.nan_to_num(T) * w).sum(axis=1) / w.sum(axis=1),
                                          np.nan)
    return out
