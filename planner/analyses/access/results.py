"""Results of an accessibility run: bands on a grid with their provenance, read and written.

:class:`AccessResult` holds :class:`~planner.outputs.raster.Band` s on a
:class:`~planner.analyses.access.grid.Grid`, the origin cells and provenance tags
(:func:`provenance`); :func:`planner.outputs.raster.write_result` writes it as a GeoTIFF with PNG previews and
:func:`read_result` reads such a GeoTIFF back; :func:`difference` is scenario minus baseline.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import rasterio
from rasterio.errors import RasterioError

from planner import __version__
from planner.analyses.access.grid import Grid
from planner.errors import InputError
from planner.outputs.raster import Band

if TYPE_CHECKING:
    from planner.network.model import Network

__all__ = ["AccessResult", "difference", "provenance", "read_result"]


@dataclass
class AccessResult:
    """Bands on a grid, the origin cells (``valid``), provenance ``tags`` and a ``report``."""

    grid: Grid
    bands: list[Band]
    valid: np.ndarray
    tags: dict[str, str] = field(default_factory=dict)
    report: dict = field(default_factory=dict)

    def band(self, name: str) -> Band:
        for b in self.bands:
            if b.name == name:
                return b
        msg = f"no band {name!r} (bands: {', '.join(b.name for b in self.bands)})"
        raise KeyError(msg)


def provenance(net: Network, params: dict, *, layers=(), scenario: str = "baseline") -> dict[str, str]:
    """GeoTIFF metadata tags: inputs' digests, scenario, parameters, service date."""
    feeds = {k: v.get("digest", "") if isinstance(v, dict) else str(v)
             for k, v in (net.inputs.get("feeds") or {}).items()}
    return {
        "planner_version": __version__, "service_date": str(net.timetable.service_date),
        "network_key": net.key, "gtfs_digests": json.dumps(feeds, sort_keys=True),
        "osm": str(net.inputs.get("osm", "")), "scenario": scenario,
        "parameters": json.dumps(params, sort_keys=True, default=str),
        "opportunities": json.dumps({lay.name: lay.provenance() for lay in layers}, sort_keys=True),
    }


def read_result(path: str | os.PathLike) -> AccessResult:
    """A GeoTIFF written by :func:`write_result` back as an :class:`AccessResult`."""
    p = Path(path)
    try:
        with rasterio.open(p) as src:
            t = src.transform
            if not (math.isclose(t.a, -t.e) and t.b == 0 and t.d == 0) or src.crs is None:
                msg = f"{p}: not a north-up square grid with a CRS"
                raise InputError(msg, code="invalid_raster")
            auth = src.crs.to_authority()
            crs = f"{auth[0]}:{auth[1]}" if auth else src.crs.to_wkt()
            grid = Grid(crs, t.c, t.f, t.a, src.width, src.height)
            bands = []
            for i in range(1, src.count + 1):
                btags = src.tags(i)
                unit = btags.pop("units", "")
                desc = btags.pop("description", "")
                bands.append(Band(src.descriptions[i - 1] or f"band{i}", src.read(i).astype(np.float64), unit, desc,
                                  btags))
            tags = src.tags()
    except RasterioError as err:
        msg = f"{p}: cannot read as a raster ({err})"
        raise InputError(msg, code="input_unreadable") from err
    valid = np.zeros(grid.shape, bool)
    for b in bands:
        valid |= np.isfinite(b.values)
    return AccessResult(grid, bands, valid, tags, {})


def difference(scenario: AccessResult, baseline: AccessResult) -> AccessResult:
    """Scenario minus baseline, band by band (same grid and bands required).

    A cell is NaN where either side is NaN (not an origin; for travel times, also
    unreachable on either side). Units become "change in ...".
    """
    if not scenario.grid.same_as(baseline.grid):
        msg = "the scenario and baseline results are on different grids"
        raise InputError(msg, code="grid_mismatch", hint="use the same area, resolution and CRS for both runs")
    names_s = [b.name for b in scenario.bands]
    names_b = [b.name for b in baseline.bands]
    if names_s != names_b:
        msg = f"the results have different bands ({names_s} vs {names_b})"
        raise InputError(msg, code="band_mismatch", hint="use the same cutoffs, percentiles and layers for both runs")
    bands = []
    for s, b in zip(scenario.bands, baseline.bands, strict=True):
        bands.append(Band(s.name, s.values - b.values, f"change in {s.unit}", f"change in {s.description}",
                          {**s.tags, "difference": "scenario - baseline"}))
    tags = {f"scenario_{k}": v for k, v in scenario.tags.items()}
    tags.update({f"baseline_{k}": v for k, v in baseline.tags.items()})
    tags["difference"] = "scenario - baseline"
    return AccessResult(scenario.grid, bands, scenario.valid & baseline.valid, tags,
                        {"scenario": scenario.report, "baseline": baseline.report})
