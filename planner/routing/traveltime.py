"""Travel-time statistics over a departure window, as R5/r5py report them.

For each origin-destination pair, the travel time is computed for every departure minute of
the window; unreachable departures count as infinitely long. The ``p``-th percentile uses
the nearest-rank method: the value at rank ``ceil(p / 100 * n)`` of the sorted travel times
(rank 1 for ``p = 0``), so a percentile is unreachable (NaN) when more than ``100 - p`` % of
the departures cannot reach the destination. There is no ceiling on travel time: intercity
journeys of many hours count like any other.
"""

from __future__ import annotations

import numpy as np

from planner.errors import InputError

__all__ = ["nearest_rank", "nearest_ranks", "number_label", "travel_time_stats"]


def nearest_rank(times: np.ndarray, percentiles, axis: int = 0) -> np.ndarray:
    """Nearest-rank percentiles of ``times`` (inf = unreachable) along ``axis``.

    Returns an array with the percentiles on a new first axis; inf becomes NaN.

    >>> nearest_rank(np.array([10.0, 20.0, np.inf, 40.0]), [0, 50, 75, 100])
    array([10., 20., 40., nan])
    """
    t = np.sort(np.asarray(times, dtype=np.float64), axis=axis)
    out = [np.take(t, rank - 1, axis=axis) for rank in nearest_ranks(np.atleast_1d(percentiles), t.shape[axis])]
    res = np.stack(out)
    res[np.isinf(res)] = np.nan
    return res


def nearest_ranks(percentiles, n: int) -> np.ndarray:
    """The 1-based nearest rank of each percentile (0-100) among ``n`` sorted values:
    ``ceil(p / 100 * n)``, at least 1 (int64)."""
    out = []
    for p in percentiles:
        if not 0 <= p <= 100:
            msg = f"percentile {p} outside 0-100"
            raise InputError(msg, code="invalid_parameter")
        out.append(max(int(np.ceil(p / 100.0 * n)), 1))
    return np.asarray(out, np.int64)


def travel_time_stats(arrivals: np.ndarray, departures: np.ndarray, *, percentiles=(50,), cutoffs_min=(),
                      unreachable: int) -> dict[str, np.ndarray]:
    """Statistics of travel times over departures.

    Parameters
    ----------
    arrivals
        (n_departures, ...) arrival times in seconds; ``unreachable`` marks no arrival.
    departures
        (n_departures,) departure times in seconds.
    percentiles
        Percentiles (0-100) to report.
    cutoffs_min
        For each cutoff T (minutes), the share of departures arriving within T.

    Returns
    -------
    stats
        ``min_min`` (minimum travel time, minutes, NaN if never reachable),
        ``p{p}_min`` per percentile (minutes), ``share_within_{T}`` per cutoff (0-1).
    """
    arr = np.asarray(arrivals)
    dep = np.asarray(departures, dtype=np.float64).reshape((-1,) + (1,) * (arr.ndim - 1))
    tt = np.where(arr >= unreachable, np.inf, arr.astype(np.float64) - dep) / 60.0
    out: dict[str, np.ndarray] = {}
    mn = tt.min(axis=0)
    out["min_min"] = np.where(np.isinf(mn), np.nan, mn)
    for p, row in zip(percentiles, nearest_rank(tt, percentiles, axis=0), strict=True):
        out[f"p{number_label(p)}_min"] = row
    for c in cutoffs_min:
        out[f"share_within_{number_label(c)}"] = (tt <= c).mean(axis=0)
    return out


def number_label(x) -> str:
    """A number as it appears in column and band names: ``50`` -> ``"50"``, ``2.5`` -> ``"2_5"``."""
    return str(int(x)) if float(x).is_integer() else str(x).replace(".", "_")
