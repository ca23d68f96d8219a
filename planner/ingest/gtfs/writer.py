"""Write a :class:`~planner.ingest.gtfs.feed.Feed` (or its tables) back to a GTFS zip.

Values are formatted by the declared schema (times ``HH:MM:SS`` past 24 h allowed, dates
``YYYYMMDD``, integers without ``.0``); empty values stay empty; the loader's ``_line``
column is dropped; extra (non-schema) columns are kept. The zip is deterministic (sorted
members, fixed timestamps) and written atomically.
"""

from __future__ import annotations

import csv
import io
import zipfile
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.common.atomic import write_bytes
from planner.ingest.gtfs._convert import format_time
from planner.ingest.gtfs.schema import TABLES

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["table_to_csv", "write_feed_zip"]

_FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def _format_column(s: pd.Series, kind: str) -> list[str]:
    if kind == "time":
        return ["" if pd.isna(v) else format_time(int(v)) for v in s]
    if kind == "date":
        vals = s.to_numpy(dtype="datetime64[D]")
        return ["" if np.isnat(v) else str(v).replace("-", "") for v in vals]
    if kind in {"int", "enum"}:
        return ["" if pd.isna(v) else str(int(v)) for v in s]
    if kind in {"float", "lat", "lon"}:
        return ["" if pd.isna(v) else repr(float(v)) for v in s]
    return ["" if pd.isna(v) else str(v) for v in s]


def table_to_csv(name: str, df: pd.DataFrame) -> bytes:
    """CSV bytes of one GTFS table (UTF-8, ``\\n`` line ends, minimal quoting).

    Declared columns that hold no value at all are left out unless required; extra
    columns are kept as text.
    """
    t = TABLES.get(name)
    kinds = {c.name: c.kind for c in t.columns} if t else {}
    required = {c.name for c in t.columns if c.required} if t else set()
    cols = [c for c in df.columns if c not in {"_line", "feed_id"}
            and (c not in kinds or c in required or _has_values(df[c]))]
    cols += [c for c in sorted(required) if c not in cols]
    data = [_format_column(df[c], kinds.get(c, "text")) if c in df.columns else [""] * len(df) for c in cols]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for row in zip(*data, strict=True):
        w.writerow(row)
    return buf.getvalue().encode("utf-8")


def _has_values(s: pd.Series) -> bool:
    if s.dtype.kind in "fiuM" or isinstance(s.dtype, pd.Int64Dtype):
        return bool(s.notna().any())
    return bool((s.fillna("").astype(str) != "").any())


def write_feed_zip(tables: dict[str, pd.DataFrame], path: str | Path) -> None:
    """Write ``tables`` (name without ``.txt`` -> DataFrame) as a GTFS zip at ``path``.

    Empty optional tables are left out; the zip is deterministic and written atomically.
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(tables):
            df = tables[name]
            t = TABLES.get(name)
            if df is None or (df.empty and (t is None or not t.required)):
                continue
            info = zipfile.ZipInfo(f"{name}.txt", date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, table_to_csv(name, df))
    write_bytes(path, buf.getvalue())
