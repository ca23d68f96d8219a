"""Foundations every stage may use, with no planner dependency but the errors and the config.

* :mod:`~planner.common.geodesy`: great-circle distances (the one haversine), UTM zones;
* :mod:`~planner.common.timeofday`: times of day (parse, format) and departure windows;
* :mod:`~planner.common.datum`: WGS84 / GCJ-02 / BD-09 coordinates;
* :mod:`~planner.common.atomic`: crash-safe writes of every output and cache file;
* :mod:`~planner.common.memory`: freed memory given back to the system between build stages;
* :mod:`~planner.common.safe_yaml`: YAML that remembers the line of every value;
* :mod:`~planner.common.progress`, :mod:`~planner.common.notices`, :mod:`~planner.common.bundled`,
  :mod:`~planner.common.lazy`: progress bars, validation notices, where the bundled sample is,
  lazy package namespaces.
"""

from typing import TYPE_CHECKING

from planner.common.lazy import attach

if TYPE_CHECKING:
    from planner.common import (
        atomic,
        bundled,
        datum,
        geodesy,
        lazy,
        memory,
        notices,
        progress,
        safe_yaml,
        timeofday,
    )

__all__ = ["atomic", "bundled", "datum", "geodesy", "lazy", "memory", "notices", "progress", "safe_yaml",
           "timeofday"]
__getattr__, __dir__ = attach(__name__, submodules=__all__)
