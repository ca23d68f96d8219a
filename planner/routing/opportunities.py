"""Opportunities reached from a chunk of origins: the boundary around
:mod:`planner.kernels.opportunities`.

:func:`opportunities_reached` takes arrival times at stops (from range-RAPTOR or the fare
searches), the destinations' egress legs, the chunk's direct legs and the opportunity layers,
and returns per origin the decay-weighted opportunities reached for every layer, percentile
and cutoff (and, when asked, the travel-time percentiles to every destination).
:func:`decay_weights` evaluates one decay function for inspection and tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from planner.kernels import opportunities as _k
from planner.kernels.options import numba_threads

if TYPE_CHECKING:
    from planner.routing.batch import OriginChunk

__all__ = ["UNREACHED", "decay_weights", "opportunities_reached"]

#: a travel time that is not one, in the kernels' int64 travel times
UNREACHED = int(_k.UNREACHED)


def opportunities_reached(arrivals: np.ndarray, deps: np.ndarray, egress: tuple[np.ndarray, np.ndarray, np.ndarray],
                          chunk: OriginChunk, opportunities: np.ndarray, ranks: np.ndarray, cutoffs_s: np.ndarray, *,
                          decay_code: int, decay_param: float, max_duration_s: int, want_times: bool = False,
                          threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Opportunities reached by the origins of ``chunk``.

    Parameters
    ----------
    arrivals
        int32 (origins, departures, stops): arrival at every stop, ``INF`` when not reached.
    deps
        The departures (s after midnight).
    egress
        The destinations' egress legs as CSR (``ptr``, ``stop``, ``seconds``).
    chunk
        The origins' direct legs (``dir_*``).
    opportunities
        float64 (layers, destinations).
    ranks
        1-based nearest ranks of the percentiles among the departures.
    cutoffs_s
        Cutoffs in seconds.
    decay_code, decay_param
        The decay function (:data:`planner.analyses.access.problem.DECAYS` index) and its
        parameter in seconds.
    max_duration_s
        Longer travel times are not reached.
    want_times
        Also the travel-time percentiles to every destination.
    threads
        Numba threads (``None``: as set; capped inside a Dask worker's ceiling).

    Returns
    -------
    access, times
        float64 (origins, layers, percentiles, cutoffs); int32 (origins, percentiles,
        destinations) travel seconds, -1 when not reached (empty unless ``want_times``).
    """
    eg_ptr, eg_stop, eg_s = egress
    with numba_threads(threads):
        return _k.opportunities_reached(np.ascontiguousarray(arrivals), np.asarray(deps, np.int64), eg_ptr, eg_stop, eg_s,
                                        chunk.dir_ptr, chunk.dir_dest, chunk.dir_s, opportunities, ranks, cutoffs_s,
                                        np.int64(decay_code), float(decay_param), np.int64(max_duration_s),
                                        bool(want_times))


def decay_weights(decay_code: int, param_s: float, cutoff_s: int, seconds) -> np.ndarray:
    """Weights of travel times ``seconds`` (whole seconds) for one cutoff (seconds)."""
    t = np.atleast_1d(np.asarray(seconds, dtype=np.int64))
    return np.array([_k.weight(decay_code, param_s, np.int64(cutoff_s), v) for v in t])
