"""Content checksums of the planner's output files, for determinism checks (issue 11).

Every file of an output folder gets a SHA-256 of its *data*, so two runs can be compared
file by file:

* CSV, PNG, JSON, YAML, text: the bytes (none of them carries a timestamp);
* ``report.html`` / ``report.md``: the bytes with the ``created: YYYY-MM-DD`` header entry
  removed (the only timestamp the planner writes itself);
* Parquet: the table's rows (pandas row hashes in order) and column names and dtypes; the
  file's bytes are recorded too (``bytes``) but not part of the contract;
* GeoTIFF: per band, the pixel array (dtype, shape, bytes), plus the CRS, the transform and
  the dataset and band tags;
* GeoPackage: per layer, the features (attribute rows and geometry WKB in order) and the
  CRS; the file's bytes differ between runs because ``gpkg_contents.last_change`` is a
  timestamp, so they are not compared.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np

CREATED = re.compile(r"created: \d{4}-\d{2}-\d{2}")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _frame_sha(df) -> str:
    import pandas as pd

    h = hashlib.sha256()
    h.update(json.dumps([[str(c), str(t)] for c, t in df.dtypes.items()]).encode())
    if len(df):
        h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()


def file_checksum(path: Path) -> dict:
    """``{"data": sha256, ...}`` for one output file (see the module docstring)."""
    suffix = path.suffix.lower()
    raw = path.read_bytes()
    if suffix in {".html", ".md"}:
        text = CREATED.sub("created: <date>", raw.decode("utf-8"))
        return {"data": _sha(text.encode("utf-8"))}
    if suffix == ".parquet":
        import pandas as pd

        df = pd.read_parquet(path)
        return {"data": _frame_sha(df), "rows": len(df), "bytes": _sha(raw)}
    if suffix in {".tif", ".tiff"}:
        import rasterio

        with rasterio.open(path) as src:
            bands = {}
            for i in range(1, src.count + 1):
                a = src.read(i)
                bands[src.descriptions[i - 1] or str(i)] = _sha(f"{a.dtype}|{a.shape}".encode() + a.tobytes())
            meta = {"crs": str(src.crs), "transform": list(src.transform)[:6], "tags": src.tags(),
                    "band_tags": [src.tags(i) for i in range(1, src.count + 1)]}
        return {"data": _sha(json.dumps([bands, meta], sort_keys=True, default=str).encode()),
                "bands": bands}
    if suffix == ".gpkg":
        import pyogrio

        layers = {}
        for name, _geom_type in pyogrio.list_layers(path):
            df = pyogrio.read_dataframe(path, layer=name)
            geom = df.geometry
            attrs = df.drop(columns=[geom.name])
            wkb = b"".join(g.wkb if g is not None else b"" for g in geom)
            layers[str(name)] = _sha(_frame_sha(attrs).encode() + wkb + str(df.crs).encode())
        return {"data": _sha(json.dumps(layers, sort_keys=True).encode()), "layers": layers}
    return {"data": _sha(raw)}


def folder_checksums(folder: Path) -> dict[str, dict]:
    """``{file name: checksum dict}`` for every file directly in ``folder``."""
    return {p.name: file_checksum(p) for p in sorted(Path(folder).iterdir()) if p.is_file()}


def cache_checksums(cache: Path) -> dict[str, str]:
    """SHA-256 of every cached network file (``networks/*.npz`` bytes, ``*.json`` without
    the paths of the inputs, which name the run's folders)."""
    out = {}
    for p in sorted((Path(cache) / "networks").glob("*")):
        if p.suffix == ".npz":
            out[p.name] = _sha(p.read_bytes())
        elif p.suffix == ".json":
            doc = json.loads(p.read_text(encoding="utf-8"))
            doc.get("inputs", {}).pop("from_cache", None)
            out[p.name] = _sha(json.dumps(doc, sort_keys=True).encode())
    return out


def differences(a: dict[str, dict], b: dict[str, dict]) -> list[str]:
    """Readable differences between two :func:`folder_checksums` results."""
    out = []
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            out.append(f"{name}: only in {'the first' if name in a else 'the second'} run")
        elif a[name]["data"] != b[name]["data"]:
            detail = {k: v for k, v in a[name].items() if k != "data" and b[name].get(k) != v}
            out.append(f"{name}: data differ {detail or ''}".rstrip())
    return out


def first_csv_difference(a: Path, b: Path) -> str:
    """The first differing row of two CSV files (for a readable failure)."""
    la = a.read_text(encoding="utf-8").splitlines()
    lb = b.read_text(encoding="utf-8").splitlines()
    for i, (x, y) in enumerate(zip(la, lb, strict=False)):
        if x != y:
            return f"{a.name} line {i + 1}:\n  {x}\n  {y}"
    return f"{a.name}: {len(la)} vs {len(lb)} lines"


def pixel_difference(a: Path, b: Path) -> str:
    import rasterio

    with rasterio.open(a) as sa, rasterio.open(b) as sb:
        x, y = sa.read(), sb.read()
    if x.shape != y.shape:
        return f"{a.name}: shapes {x.shape} vs {y.shape}"
    ne = ~((x == y) | (np.isnan(x) & np.isnan(y)))
    return f"{a.name}: {int(ne.sum())} pixels differ, max |diff| {float(np.nanmax(np.abs(x - y)[ne])) if ne.any() else 0}"
