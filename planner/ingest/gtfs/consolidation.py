"""Find stations that appear in two feeds (consolidation candidates); never merge them.

Two stations of different feeds are a candidate when their normalised names match and they
are within ``Config.consolidation_radius_m``, or when they are closer than
``Config.consolidation_same_point_m`` whatever their names. Stations are stops with
``location_type`` 1 and stops (type 0) without a parent station.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from planner.common.geodesy import EARTH_RADIUS_M

if TYPE_CHECKING:
    from planner.config import Config
    from planner.ingest.gtfs.feed import FeedSet

__all__ = ["consolidation_candidates", "normalise_name"]

_SUFFIXES = (
    "railway station", "train station", "metro station", "subway station", "bus station",
    "station", "stn", "railway", "火车站", "高铁站", "地铁站", "客运站", "站",
)
COLUMNS = ["feed_a", "stop_id_a", "name_a", "feed_b", "stop_id_b", "name_b", "distance_m", "reason"]


def normalise_name(name: str) -> str:
    """Case-folded, accent-free name without punctuation and station suffixes.

    >>> normalise_name("Harbin West Railway Station")
    'harbinwest'
    >>> normalise_name("哈尔滨西站")
    '哈尔滨西'
    """
    text = unicodedata.normalize("NFKC", name).casefold().strip()
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    changed = True
    while changed:
        changed = False
        for suffix in _SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)].rstrip()
                changed = True
    return re.sub(r"[\W_]+", "", text)


def local_xy(lat: np.ndarray, lon: np.ndarray, lat0: float | None = None) -> np.ndarray:
    """Equirectangular metres around ``lat0`` (good to a few 0.1% over tens of km)."""
    lat0 = float(np.nanmean(lat)) if lat0 is None else lat0
    k = np.pi / 180.0 * EARTH_RADIUS_M
    return np.column_stack([lon * k * np.cos(np.radians(lat0)), lat * k])


def consolidation_candidates(feeds: FeedSet, config: Config) -> pd.DataFrame:
    """Candidate pairs as a DataFrame with columns :data:`COLUMNS` (``distance_m`` in metres)."""
    parts = []
    for f in feeds:
        st = f.stops
        lt = st["location_type"].fillna(0).astype(np.int64).to_numpy()
        keep = (lt == 1) | ((lt == 0) & (st["parent_station"] == "").to_numpy(dtype=bool))
        sub = st.loc[keep, ["stop_id", "stop_name", "stop_lat", "stop_lon"]].copy()
        sub.insert(0, "feed", f.feed_id)
        parts.append(sub)
    if len(parts) < 2:
        return pd.DataFrame(columns=COLUMNS)
    allst = pd.concat(parts, ignore_index=True)
    if allst.empty:
        return pd.DataFrame(columns=COLUMNS)
    lat = allst["stop_lat"].to_numpy(dtype=float)
    lon = allst["stop_lon"].to_numpy(dtype=float)
    xy = local_xy(lat, lon)
    radius = max(config.consolidation_radius_m, config.consolidation_same_point_m)
    pairs = cKDTree(xy).query_pairs(radius, output_type="ndarray")
    if len(pairs) == 0:
        return pd.DataFrame(columns=COLUMNS)
    feed = allst["feed"].to_numpy(dtype=object)
    pairs = pairs[feed[pairs[:, 0]] != feed[pairs[:, 1]]]
    names = [normalise_name(n) for n in allst["stop_name"].tolist()]
    rows = []
    for i, j in pairs:
        d = float(np.hypot(*(xy[i] - xy[j])))
        same_name = names[i] != "" and names[i] == names[j] and d <= config.consolidation_radius_m
        same_point = d <= config.consolidation_same_point_m
        if not (same_name or same_point):
            continue
        a, b = (i, j) if (feed[i], allst["stop_id"].iat[i]) <= (feed[j], allst["stop_id"].iat[j]) else (j, i)
        rows.append({
            "feed_a": feed[a], "stop_id_a": allst["stop_id"].iat[a], "name_a": allst["stop_name"].iat[a],
            "feed_b": feed[b], "stop_id_b": allst["stop_id"].iat[b], "name_b": allst["stop_name"].iat[b],
            "distance_m": round(d, 1),
            "reason": "same name" if same_name else "same point",
        })
    out = pd.DataFrame(rows, columns=COLUMNS)
    return out.sort_values(["feed_a", "stop_id_a", "feed_b", "stop_id_b"], kind="stable").reset_index(drop=True)
