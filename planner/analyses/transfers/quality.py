"""Is a transfer walk a finding, or an artefact of the map data? (issue 19)

A walk measured on OpenStreetMap is only as good as the map: a station hall or platforms that
touch no walkable way, or an entrance node drawn beside the footway instead of on it, send the
walk around the station complex. Every pair gets ``data_issues`` (what is missing, in words;
empty when nothing is) and ``data_check`` (the pair is listed apart, "check the map data"):

* the walk is at least ``TransferStandard.data_detour_ratio`` (3) times the straight line and at
  least ``detour_min_m`` long -- stations a few hundred metres apart are rarely that far apart on
  foot, and OpenTripPlanner already logs walks of twice the straight line as suspicious; or
* the walk is at least ``detour_ratio_flag`` (OpenTripPlanner's 2) times the straight line and a
  station of the pair has a missing link:

  - **station complex not linked**: a rail or metro station without mapped entrances (its
    walk starts at the station point) has platforms among the walk network's areas
    (:func:`planner.ingest.osm.area_links`) within :data:`STATION_AREA_M` of its stops (outline
    bounding boxes), or railway station halls (not a bus station's) that near its stops or
    platforms, and none of them is linked to the walk network (the builder dropped them with the small
    components). A station with entrances is reached through them (metro platforms below the
    street are seldom linked in OSM, and need not be);
  - **entrance no way reaches**: an entrance (an OSM node on no walkable way, or a GTFS
    entrance) more than :data:`ENTRANCE_GAP_M` from the nearest walk node.

Missing links without a long detour are still written in ``data_issues`` (the walk may be
right, the map is still incomplete). Pairs with ``data_check`` get no suggested connector unless
the user trusts the walks (``plan transfers --trust-walks``): a passage that "saves" a detour the
real station does not have would be money spent on an artefact. Observed walks
(``--observed``) replace the measured ones and are never flagged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from planner.analyses.transfers.stations import RAIL_LIKE
from planner.common.geodesy import haversine_m

__all__ = ["ENTRANCE_GAP_M", "STATION_AREA_M", "DataChecks", "data_checks"]

#: station halls and platforms within this distance of a station's stops belong to it (metres)
STATION_AREA_M = 150.0
#: a GTFS entrance farther than this from the nearest walk node is not reached by any way (metres)
ENTRANCE_GAP_M = 25.0


@dataclass
class DataChecks:
    """Per unordered pair: ``issues`` (text, ``"; "``-joined) and ``apart`` (listed apart)."""

    issues: list[str] = field(default_factory=list)
    apart: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    unit_issues: dict[int, list[str]] = field(default_factory=dict)


def _gap_m(box, others) -> float:
    """Metres between bounding box ``box`` and the nearest of ``others`` (0 when they overlap)."""
    best = math.inf
    for o in others:
        dx = max(0.0, o[0] - box[2], box[0] - o[2])
        dy = max(0.0, o[1] - box[3], box[1] - o[3])
        lat = 0.5 * (box[1] + box[3])
        best = min(best, float(haversine_m(lat, 0.0, lat + dy, dx)))
    return best


def _unit_issues(net, st, ap, node, snap, u: int) -> list[str]:
    out: list[str] = []
    walk = net.walk
    tt = net.timetable
    has_entrance = any(str(ap.kind[k]) in ("osm_entrance", "gtfs_entrance") for k in ap.of(u))
    if st.modes[u] in RAIL_LIKE and walk is not None and not has_entrance:
        stops = st.stops(u)
        rows = [r for r in walk.meta.get("walk_areas", []) if r.get("kind") in ("station_hall", "platform",
                                                                                "platform_line") and "bbox" in r]
        boxes = [(float(lon), float(lat), float(lon), float(lat)) for lon, lat in
                 zip(tt.stop_lon[stops], tt.stop_lat[stops], strict=True)]
        near = [r for r in rows if r["kind"] != "station_hall" and _gap_m(r["bbox"], boxes) <= STATION_AREA_M]
        # a hall belongs to the station when it is near a stop or one of its platforms
        boxes += [tuple(r["bbox"]) for r in near]
        near += [r for r in rows if r["kind"] == "station_hall" and r.get("rail")
                 and _gap_m(r["bbox"], boxes) <= STATION_AREA_M]
        if near and not any(r["linked"] for r in near):
            halls = [r["ref"] for r in near if r["kind"] == "station_hall"]
            n_plat = sum(r["kind"] != "station_hall" for r in near)
            parts = []
            if halls:
                parts.append(f"station hall {', '.join(halls)}")
            if n_plat:
                parts.append(f"{n_plat} platform(s)")
            out.append(f"{st.names[u]}: {' and '.join(parts)} touch no walkable way "
                       "(no walkable link between platforms and street)")
    if walk is not None:
        known = np.sort(walk.node_osm_id)
        for k in ap.of(u):
            kind, ref = str(ap.kind[k]), str(ap.ref[k])
            gap = float(snap[k]) if np.isfinite(snap[k]) else math.inf
            if kind == "osm_entrance" and ref.startswith("osm:node/"):
                nid = int(ref.rsplit("/", 1)[1])
                pos = int(np.searchsorted(known, nid))
                if not (pos < known.size and known[pos] == nid) and gap > ENTRANCE_GAP_M:
                    out.append(f"{st.names[u]}: entrance {ref} is on no walkable way ({gap:.0f} m to the nearest)")
            elif kind == "gtfs_entrance" and gap > ENTRANCE_GAP_M:
                out.append(f"{st.names[u]}: entrance {ref} is {gap:.0f} m from the nearest walkable way")
    return out


def data_checks(net, st, ap, pairs, walks, standard, node: np.ndarray, snap: np.ndarray,
                straight: np.ndarray) -> DataChecks:
    """The checks of every pair row (see the module docstring); ``node``/``snap`` from
    :func:`planner.analyses.transfers.walks.snap_access`, ``straight`` metres per pair."""
    units = sorted({int(x) for x in np.r_[pairs["a"].to_numpy(), pairs["b"].to_numpy()]})
    per_unit = {u: _unit_issues(net, st, ap, node, snap, u) for u in units}
    issues, apart = [], np.zeros(len(pairs), bool)
    for i, (a, b) in enumerate(zip(pairs["a"], pairs["b"], strict=True)):
        w = walks[i]
        text = []
        ratio = w.walk_m / straight[i] if straight[i] > 0 and np.isfinite(w.walk_m) else np.nan
        long_walk = bool(np.isfinite(ratio) and w.walk_m >= standard.detour_min_m)
        if w.method == "observed":
            issues.append("")
            continue
        missing = per_unit[int(a)] + per_unit[int(b)]
        if long_walk and ratio >= standard.data_detour_ratio:
            text.append(f"walk {ratio:.1f} x the straight line (>= {standard.data_detour_ratio:g})")
            apart[i] = True
        elif long_walk and ratio >= standard.detour_ratio_flag and missing:
            text.append(f"walk {ratio:.1f} x the straight line with a missing link")
            apart[i] = True
        if w.method == "none" and missing:
            text.append("no walk found")
            apart[i] = True
        issues.append("; ".join(text + missing))
    return DataChecks(issues, apart, per_unit)
