"""Save and load a :class:`~planner.network.build.Network` (timetable, footpaths, links).

Layout: ``<cache>/networks/multimodal-<key>.npz`` (arrays, no pickle: strings are stored as
fixed-width unicode arrays) and ``.json`` (metadata: inputs, parameters, notices, the npz's
SHA-256). Both are written atomically, JSON last, under an exclusive :func:`entry_lock`
(``flock`` on the ``networks/`` folder) and read under a shared one, so concurrent
processes never pair one write's JSON with another's arrays. An entry whose JSON is
missing, whose checksum does not match (a writer killed between the two files), or whose
schema differs is a miss (and is removed, under the exclusive lock, if it is still bad
then). Orphan temp files of killed writers are swept on each load. The street network
itself is cached by :mod:`planner.network.streets` and attached again after loading.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import logging
from pathlib import Path

import numpy as np

from planner import __version__
from planner.common.atomic import entry_lock, sweep_temp_files, write_bytes, write_text
from planner.common.notices import Notices, Severity
from planner.config import Config
from planner.errors import OutputError
from planner.ingest.osm import DEFAULT_CACHE_DIR
from planner.network.links import Footpaths
from planner.network.model import Network
from planner.network.timetable import Timetable

log = logging.getLogger(__name__)

#: version of the cache layout and of what the cached links mean; a different one is a miss.
#: Bumped when the footpaths are built differently for the same inputs and parameters (the
#: cache key holds the planner version, not the code): 3 = cross-town links chained with
#: the walks at either end (issue 15); 4 = the timetable keeps English stop names (issue 16);
#: 5 = footpaths along GTFS pathways.txt (issue 19)
NETWORK_SCHEMA = 5

_TT_SCALAR = ("timezone", "interpolated_times", "split_patterns")


def default_cache_dir() -> Path:
    return Path(DEFAULT_CACHE_DIR)


def _paths(cache: Path, key: str) -> tuple[Path, Path]:
    stem = cache / "networks" / f"multimodal-{key[:40]}"
    return stem.with_name(stem.name + ".npz"), stem.with_name(stem.name + ".json")


def _lock_path(cache: Path, key: str) -> Path:
    return cache / "networks"  # one lock for the folder (see planner.common.atomic.entry_lock)


def _to_store(a: np.ndarray) -> np.ndarray:
    if a.dtype == object:
        return np.asarray([str(x) for x in a], dtype=np.str_) if len(a) else np.zeros(0, dtype="<U1")
    return a


def save(net, cache: Path) -> Path:
    """Write the network to the cache; returns the JSON path."""
    tt = net.timetable
    arrays = {}
    scalars = {}
    for f in dataclasses.fields(tt):
        v = getattr(tt, f.name)
        if isinstance(v, np.ndarray):
            arrays[f"tt__{f.name}"] = _to_store(v)
        elif f.name in _TT_SCALAR:
            scalars[f.name] = v
    arrays["tt__service_date"] = np.asarray([str(tt.service_date)], dtype=np.str_)
    arrays["tt__feed_ids"] = np.asarray(tt.feed_ids, dtype=np.str_)
    arrays["tt__window"] = np.asarray(tt.window, dtype=np.int64)
    fp = net.footpaths
    arrays.update(fp__ptr=fp.ptr, fp__to=fp.to, fp__seconds=fp.seconds, fp__metres=fp.metres,
                  footpath_method=net.footpath_method, change_s=net.change_s, stop_node=net.stop_node,
                  stop_snap_m=np.asarray(net.stop_snap_m, dtype=np.float64))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    data = buf.getvalue()
    npz, side = _paths(cache, net.key)
    doc = {"kind": "multimodal_network", "schema_version": NETWORK_SCHEMA, "planner_version": __version__,
           "key": net.key, "npz_sha256": hashlib.sha256(data).hexdigest(), "inputs": net.inputs,
           "timetable": scalars, "stats": tt.stats, "notices": net.notices.summary()}
    text = json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False, default=str)
    with entry_lock(_lock_path(cache, net.key)):
        try:
            write_bytes(npz, data)
            write_text(side, text)
        except (OutputError, OSError):  # never leave half a pair behind
            for p in (side, npz):
                with contextlib.suppress(OSError):
                    p.unlink(missing_ok=True)
            raise
    return side


def load(cache: Path, key: str, config: Config):
    """The cached network for ``key``, or None (a corrupt entry is removed and logged)."""
    npz, side = _paths(cache, key)
    sweep_temp_files(npz.parent, recursive=False)
    if not side.exists():
        return None
    with entry_lock(_lock_path(cache, key), shared=True):
        net, err = _read(npz, side, key, config)
    if net is not None:
        return net
    with entry_lock(_lock_path(cache, key)):
        # another process may have rewritten the entry since; remove it only if still bad
        net, err = _read(npz, side, key, config)
        if net is not None:
            return net
        if err is not None:
            log.warning("cached network %s is unusable (%s); rebuilding", side, err)
            for p in (side, npz):
                p.unlink(missing_ok=True)
    return None


def _read(npz: Path, side: Path, key: str, config: Config):
    """(network, None), or (None, the reason) for a bad entry, or (None, None) when absent."""

    try:
        doc = json.loads(side.read_text(encoding="utf-8"))
        data = npz.read_bytes()
    except FileNotFoundError:
        if side.exists():
            return None, "its arrays are missing"
        return None, None
    except (OSError, ValueError) as err:
        return None, err
    try:
        if not isinstance(doc, dict) or doc.get("schema_version") != NETWORK_SCHEMA or doc.get("key") != key:
            msg = "schema or key mismatch"
            raise ValueError(msg)
        if doc.get("npz_sha256") != hashlib.sha256(data).hexdigest():
            msg = "checksum mismatch"
            raise ValueError(msg)
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        kwargs = {}
        for f in dataclasses.fields(Timetable):
            name = f"tt__{f.name}"
            if name in arrays:
                a = arrays[name]
                kwargs[f.name] = a.astype(object) if a.dtype.kind == "U" else a
        kwargs["service_date"] = np.datetime64(str(arrays["tt__service_date"][0]), "D")
        kwargs["feed_ids"] = [str(x) for x in arrays["tt__feed_ids"]]
        kwargs["window"] = tuple(int(x) for x in arrays["tt__window"])
        kwargs.update(doc.get("timetable", {}))
        kwargs["stats"] = doc.get("stats", {})
        tt = Timetable(**kwargs)
        fp = Footpaths(arrays["fp__ptr"], arrays["fp__to"], arrays["fp__seconds"], arrays["fp__metres"])
        notices = Notices()
        for row in doc.get("notices", []):
            notices.add(row["code"], Severity[row["severity"]], row.get("message", ""), feed=row.get("feed", ""),
                        count=int(row.get("count", 1)))
        net = Network(tt, fp, arrays["footpath_method"], arrays["change_s"], arrays["stop_node"],
                      arrays["stop_snap_m"], config, notices=notices, key=key, inputs=doc.get("inputs", {}))
        net.inputs["from_cache"] = str(side)
        return net, None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        return None, err
