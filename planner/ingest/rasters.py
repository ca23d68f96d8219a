"""Reading count rasters (a population grid as a GeoTIFF) with rasterio."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioError

from planner.errors import InputError

__all__ = ["read_count_raster"]


def read_count_raster(path: str | os.PathLike, band: int = 1) -> tuple[np.ndarray, object, str]:
    """A count raster (population grid): float64 values (nodata -> NaN), transform, CRS."""
    p = Path(path)
    try:
        with rasterio.open(p) as src:
            if not 1 <= band <= src.count:
                msg = f"{p}: has {src.count} band(s), no band {band}"
                raise InputError(msg, code="invalid_parameter")
            if src.crs is None:
                msg = f"{p}: the raster has no CRS"
                raise InputError(msg, code="invalid_opportunities", hint="assign one, e.g. gdal_edit.py -a_srs EPSG:4326")
            values = src.read(band, masked=True).astype(np.float64).filled(np.nan)
            return values, src.transform, src.crs.to_string()
    except RasterioError as err:
        msg = f"{p}: cannot read as a raster ({err})"
        raise InputError(msg, code="input_unreadable", hint="give a GeoTIFF of counts") from err
