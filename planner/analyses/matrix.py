"""Door-to-door public transport travel-time matrices (``plan matrix``).

For every origin: walking (or park-and-ride) access to stops, range-RAPTOR over the
departure window at ``step_min`` steps, egress to every destination, and the direct walk
when it is faster; then travel-time statistics over the window
(:mod:`planner.routing.traveltime`). Origins run in parallel numba threads, in chunks, and the
result does not depend on the number of threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.common.timeofday import departures
from planner.routing.batch import door_to_door
from planner.routing.raptor import INF
from planner.routing.traveltime import travel_time_stats

if TYPE_CHECKING:
    from planner.network.model import Network

__all__ = ["MatrixResult", "travel_time_matrix"]


@dataclass
class MatrixResult:
    """Arrival times behind a matrix: int32 (origins, departures, destinations)."""

    arrivals: np.ndarray
    departures: np.ndarray
    origin_ids: np.ndarray
    destination_ids: np.ndarray


def travel_time_matrix(net: Network, origins: pd.DataFrame, destinations: pd.DataFrame, *, departure_s: int,
                       window_min: int = 0, step_min: int = 1, percentiles=(50,), cutoffs_min=(),
                       park_and_ride: bool = False, local_access: bool = False, progress: bool = False,
                       chunk: int | None = None, executor=None,
                       return_arrivals: bool = False) -> pd.DataFrame | tuple[pd.DataFrame, MatrixResult]:
    """Travel times between every origin and destination.

    Parameters
    ----------
    net
        The network (its timetable fixes the service date).
    origins, destinations
        DataFrames with ``id``, ``lon``, ``lat`` (WGS84) and optionally ``stop_id``
        (see :func:`planner.ingest.points.read_points`).
    departure_s
        First departure, seconds after midnight of the service date.
    window_min
        Length of the departure window in minutes; 0 means a single departure.
    step_min
        Minutes between departures in the window.
    percentiles, cutoffs_min
        Statistics over the window (ignored for a single departure).
    park_and_ride
        Origins may also drive to rail stations (needs the drive network).
    local_access
        Origins and destinations also reach stops by the urban taxi/bus approximation
        (``Config.local_access_speed_kmh``), as city-to-city evaluation does.
    chunk
        Origins per task; default: sized from a pilot origin so a task runs about 0.75 s.
    executor
        Where chunks run (:func:`planner.routing.execution.executor`); default: here, on numba
        threads. The result is the same either way.

    Returns
    -------
    DataFrame
        One row per (origin, destination), origins outer, in input order: ``from_id``,
        ``to_id`` and, for a single departure, ``travel_time_min`` (minutes, NaN when
        unreachable); for a window, ``min_min`` and ``p{p}_min`` per percentile (minutes,
        nearest-rank over the departures, NaN when unreachable at that percentile) and
        ``share_within_{T}`` per cutoff (0-1).
    """
    deps = departures(departure_s, window_min, step_min)
    arrivals = door_to_door(net, origins, destinations, deps, park_and_ride=park_and_ride,
                            local_access=local_access, progress=progress, chunk=chunk, executor=executor)
    n_o, n_d = arrivals.shape[0], arrivals.shape[2]
    from_id = np.repeat(origins["id"].to_numpy(dtype=object), n_d)
    to_id = np.tile(destinations["id"].to_numpy(dtype=object), n_o)
    data = {"from_id": from_id, "to_id": to_id}
    if window_min == 0:
        a = arrivals[:, 0, :].astype(np.float64)
        t = np.where(a >= INF, np.nan, (a - deps[0]) / 60.0)
        data["travel_time_min"] = t.ravel()
    else:
        stats = travel_time_stats(arrivals.transpose(1, 0, 2), deps, percentiles=percentiles,
                                  cutoffs_min=cutoffs_min, unreachable=INF)
        for name, values in stats.items():
            data[name] = values.ravel()
    df = pd.DataFrame(data)
    if return_arrivals:
        return df, MatrixResult(arrivals, deps, origins["id"].to_numpy(dtype=object),
                                destinations["id"].to_numpy(dtype=object))
    return df
