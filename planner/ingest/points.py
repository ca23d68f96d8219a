"""Reading points and places from files, with clear errors.

:func:`read_points`: origins/destinations of a matrix or an accessibility surface;
:func:`load_places`: the places of an evaluation (city points with populations, the bundled
``gtfs/cities.csv`` by default); :func:`parse_place`: one ``LON,LAT`` or ``stop:ID``.

Accepted: CSV with ``id`` and ``lon``/``lat`` columns (``lng``/``longitude``/``x`` and
``latitude``/``y`` also recognised) or with a ``stop_id`` column naming GTFS stops; or a
GeoPackage/GeoJSON of points (``id`` column, else the row number). Coordinates are WGS84
unless ``datum`` says GCJ-02 or BD-09 (Chinese map services), in which case they are
converted on load.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from planner.common.bundled import data_root
from planner.common.datum import to_wgs84
from planner.errors import InputError

__all__ = ["add_stop_places", "convert_datum", "load_places", "load_zones", "parse_place", "read_points"]

_LON = ("lon", "lng", "longitude", "x")
_LAT = ("lat", "latitude", "y")


def convert_datum(lon: np.ndarray, lat: np.ndarray, datum: str) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 coordinates of points given in ``datum`` (``wgs84``, ``gcj02`` or ``bd09``)."""
    if datum.lower() in {"wgs84", "epsg:4326"}:
        return lon, lat
    return to_wgs84(lon, lat, datum)


def read_points(path: str | Path, *, datum: str = "wgs84") -> pd.DataFrame:
    """Points of a file as a DataFrame with ``id`` (str), ``lon``, ``lat`` (WGS84, NaN for
    stop rows) and ``stop_id`` (str, empty for coordinate rows).

    Raises
    ------
    InputError
        Naming the file, the row (1-based, header = row 1) and the field, with the fix.
    """
    p = Path(path)
    if not p.is_file():
        msg = f"{p} does not exist" if not p.exists() else f"{p} is not a file"
        raise InputError(msg, code="input_unreadable", hint="give a CSV, GeoPackage or GeoJSON file of points")
    suffix = p.suffix.lower()
    if suffix in {".gpkg", ".geojson", ".json", ".shp"}:
        return _read_vector(p, datum)
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as err:
        msg = f"{p}: cannot read as CSV ({err})"
        raise InputError(msg, code="invalid_points_file", hint="save the file as UTF-8 CSV with a header") from err
    df.columns = [c.strip().lower() for c in df.columns]
    lon_col = next((c for c in _LON if c in df.columns), None)
    lat_col = next((c for c in _LAT if c in df.columns), None)
    has_stop = "stop_id" in df.columns
    if (lon_col is None or lat_col is None) and not has_stop:
        msg = f"{p}: needs lon and lat columns (or a stop_id column); found {', '.join(df.columns) or 'none'}"
        raise InputError(msg, code="missing_required_column", hint="name the columns id, lon, lat")
    ids = df["id"].str.strip() if "id" in df.columns else pd.Series([str(i) for i in range(len(df))])
    if (ids == "").any():
        row = int(np.flatnonzero((ids == "").to_numpy())[0]) + 2
        msg = f"{p}: row {row}: field 'id' is empty"
        raise InputError(msg, code="missing_required_field", hint="give every point an id")
    dup = ids.duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0]) + 2
        msg = f"{p}: row {row}: id '{ids.iloc[row - 2]}' appears twice"
        raise InputError(msg, code="duplicate_key", hint="ids must be unique")
    stop = df["stop_id"].str.strip() if has_stop else pd.Series([""] * len(df))
    lon = np.full(len(df), np.nan)
    lat = np.full(len(df), np.nan)
    if lon_col is not None and lat_col is not None:
        for i, (a, b, s) in enumerate(zip(df[lon_col], df[lat_col], stop, strict=True)):
            if s and not a.strip() and not b.strip():
                continue
            try:
                lon[i] = float(a)
                lat[i] = float(b)
            except ValueError:
                field = lon_col if not _is_float(a) else lat_col
                value = a if field == lon_col else b
                msg = f"{p}: row {i + 2}: field '{field}' is not a number: {value!r}"
                raise InputError(msg, code="invalid_float", hint="use decimal degrees, e.g. 126.6254") from None
            if not (-180 <= lon[i] <= 180 and -90 <= lat[i] <= 90):
                msg = f"{p}: row {i + 2}: ({lon[i]}, {lat[i]}) is not a longitude/latitude pair"
                raise InputError(msg, code="number_out_of_range", hint="columns lon then lat, in degrees (WGS84)")
    missing = np.isnan(lon) & (stop == "").to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0]) + 2
        msg = f"{p}: row {row}: neither coordinates nor a stop_id"
        raise InputError(msg, code="missing_required_field")
    has = ~np.isnan(lon)
    if has.any():
        lon[has], lat[has] = convert_datum(lon[has], lat[has], datum)
    return pd.DataFrame({"id": ids.to_numpy(dtype=object), "lon": lon, "lat": lat, "stop_id": stop.to_numpy(dtype=object)})


def _is_float(x: str) -> bool:
    try:
        float(x)
    except ValueError:
        return False
    return True


def _read_vector(p: Path, datum: str) -> pd.DataFrame:
    import geopandas as gpd  # slow (1.2 s): only GeoPackage/GeoJSON points need it, not CSV

    try:
        gdf = gpd.read_file(p)
    except Exception as err:  # pyogrio raises many types for unreadable files
        msg = f"{p}: cannot read as a vector file ({err})"
        raise InputError(msg, code="invalid_points_file", hint="give a GeoPackage or GeoJSON of points") from err
    if gdf.empty:
        msg = f"{p}: holds no features"
        raise InputError(msg, code="empty_file")
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    geom = gdf.geometry
    if not (geom.geom_type == "Point").all():
        geom = geom.representative_point()
    ids = gdf["id"].astype(str) if "id" in gdf.columns else pd.Series([str(i) for i in range(len(gdf))])
    lon, lat = convert_datum(geom.x.to_numpy(), geom.y.to_numpy(), datum)
    return pd.DataFrame({"id": ids.to_numpy(dtype=object), "lon": lon, "lat": lat,
                         "stop_id": np.array([""] * len(gdf), dtype=object)})


def parse_place(text: str, *, datum: str = "wgs84") -> tuple[float, float] | str:
    """``LON,LAT`` -> (lon, lat) in WGS84; ``stop:ID`` -> the stop id string."""
    t = text.strip()
    if t.lower().startswith("stop:"):
        sid = t[5:].strip()
        if not sid:
            msg = f"'{text}': give the stop id after 'stop:'"
            raise InputError(msg, code="invalid_place")
        return sid
    parts = t.split(",")
    if len(parts) != 2:
        msg = f"'{text}' is neither LON,LAT nor stop:ID"
        raise InputError(msg, code="invalid_place", hint="e.g. --from 126.6254,45.7600 or --from stop:northeast_rail:VAB")
    try:
        lon, lat = float(parts[0]), float(parts[1])
    except ValueError:
        msg = f"'{text}': LON,LAT must be numbers"
        raise InputError(msg, code="invalid_place", hint="e.g. 126.6254,45.7600") from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        msg = f"'{text}' is not LON,LAT in degrees (longitude first)"
        raise InputError(msg, code="invalid_place")
    a, b = convert_datum(np.array([lon]), np.array([lat]), datum)
    return float(a[0]), float(b[0])


def load_places(path: str | Path | None = None) -> pd.DataFrame:
    """Places with ``id``, ``name``, ``lon``, ``lat``, ``population`` (default: the bundled
    ``gtfs/cities.csv``). Also accepts ``city_id``/``name_en``/``name_zh`` column names."""
    if path is None:
        root = data_root()
        path = root / "gtfs" / "cities.csv" if root else None
        if path is None or not Path(path).exists():
            msg = "no --places file given and no bundled gtfs/cities.csv"
            raise InputError(msg, code="input_unreadable", hint="pass --places FILE with id, lon, lat, population")
    p = Path(path)
    df = _read_text_csv(p, "places")
    ren = {"city_id": "id", "name_en": "name"}
    df = df.rename(columns={k: v for k, v in ren.items() if k in df.columns and v not in df.columns})
    if "name" not in df.columns:
        df["name"] = df.get("name_zh", df.get("id", ""))
    _require_columns(df, p, ("id", "lon", "lat", "population"), "columns: id, name, lon, lat, population")
    out = pd.DataFrame({"id": df["id"].str.strip(), "name": df["name"]})
    for c in ("lon", "lat", "population"):
        vals = pd.to_numeric(df[c], errors="coerce")
        bad = vals.isna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            msg = f"{p}: row {row}: field '{c}' is not a number: {df[c].iloc[row - 2]!r}"
            raise InputError(msg, code="invalid_float")
        out[c] = vals.to_numpy(dtype=float)
    if "name_zh" in df.columns:
        out["name_zh"] = df["name_zh"]
    out["stop_id"] = ""
    return out


def add_stop_places(places: pd.DataFrame, stop_ids) -> pd.DataFrame:
    """``places`` (as :func:`load_places` returns them) and one more place at each stop of
    ``stop_ids`` (``FEED:ID``): named after the stop id, population 0, its coordinates left
    NaN until the network resolves the stop."""
    stops = list(stop_ids)
    extra = pd.DataFrame({"id": stops, "name": stops, "lon": np.nan, "lat": np.nan, "population": 0.0,
                          "stop_id": stops})
    return pd.concat([places, extra], ignore_index=True)


def load_zones(path: str | Path) -> pd.DataFrame:
    """Weighted points of places (CSV: ``place_id``, ``lon``, ``lat``, ``weight``, optional
    ``name``): a place with rows here is routed from and to these points, its travel times
    the weighted mean over them (``plan evaluate --zones``). Weights are e.g. residents."""
    p = Path(path)
    df = _read_text_csv(p, "zones", hint="a CSV with place_id, lon, lat, weight")
    _require_columns(df, p, ("place_id", "lon", "lat", "weight"), "columns: place_id, lon, lat, weight")
    out = pd.DataFrame({"place_id": df["place_id"].str.strip(), "name": df.get("name", df["place_id"])})
    limits = {"lon": (-180.0, 180.0), "lat": (-90.0, 90.0), "weight": (0.0, np.inf)}
    for c, (lo, hi) in limits.items():
        vals = pd.to_numeric(df[c], errors="coerce")
        bad = vals.isna() | (vals < lo) | (vals > hi)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            msg = f"{p}: row {row + 2}: field '{c}' must be a number in [{lo:g}, {hi:g}], got {df[c].iloc[row]!r}"
            raise InputError(msg, code="invalid_float", hint="weights are people (or another count), not negative")
        out[c] = vals.to_numpy(dtype=float)
    return out


def _read_text_csv(p: Path, kind: str, *, hint: str | None = None) -> pd.DataFrame:
    """A CSV file of ``kind`` (places, zones) as text columns, or a clear error naming it."""
    try:
        return pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        msg = f"cannot read {kind} file {p}: {err}"
        raise InputError(msg, code="invalid_points_file", hint=hint) from err


def _require_columns(df: pd.DataFrame, p: Path, columns: tuple[str, ...], hint: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        msg = f"{p}: missing column(s) {', '.join(missing)} (found {', '.join(df.columns)})"
        raise InputError(msg, code="missing_required_column", hint=hint)

