"""Transfers between stations of different modes: measure, classify, weight, place (``plan transfers``).

:func:`analyse_transfers` takes a built :class:`~planner.network.build.Network` and returns a
:class:`TransferResult`:

1. **Stations and candidate pairs** (:mod:`planner.analyses.transfers.stations`): boarding stops
   grouped into stations per feed and mode (parent stations; same-name stops of one feed
   within 250 m); pairs of stations of different modes, operators or feeds within
   ``radius_m`` (default 1.5 km), plus stations sharing a parent station or a normalised
   name (within 5 km) and pairs named in transfers.txt. A radius pair is kept when one of
   its stations is among the ``nearest_per_mode`` (default 1) nearest of its kind (mode and
   feed) seen from the other -- a bus stop 1.4 km from a metro station is no transfer when
   another is 300 m away (``0`` keeps every pair in the radius).
   The analysis area is the walk network's extent unless ``bbox`` says otherwise.
2. **Walks** (:mod:`planner.analyses.transfers.walks`): walking distance and time on the walk
   network between the nearest entrances (GTFS entrances and pathways.txt, OSM subway
   entrances, OSM stop positions, else the stops), platform to platform; the straight line
   between the stations' points and the detour ratio.
3. **Timetable** (:mod:`planner.analyses.transfers.timing`): per direction, the transfers.txt
   rule, the typical wait for the connecting services over the window, the time the
   timetable forces (``max(walk + change time, transfers.txt minimum) + wait``) and the risk
   of missing the connection at the scheduled slack under the delay model.
4. **Standard** (:mod:`planner.analyses.transfers.standard`): each pair's class by walking distance.
5. **Use** (:mod:`planner.analyses.transfers.use`): the journeys of an OD set that pass through each
   directed pair and the traveller-minutes lost against the standard: ``journeys x
   max(0, walk time - acceptable_max_m / walk speed)``.
6. **Placement**: for each pair that fails the standard, the street node within
   ``TransferStandard.connector_max_m`` of either station where a new entrance (a straight
   passage from the station's nearest platform at walking speed) maximises the
   use-weighted walking time saved over *all* pairs of that station -- among the nodes that
   shorten the failing pair; without routed use, the failing pair alone decides. Ties go to
   the larger saving on the failing pair, then to the shorter connector. Rail and metro
   stations (and stations with mapped entrances) get entrances; a bus or tram stop would
   have to move instead, which is not suggested. The new entrance must save at least
   ``TransferStandard.connector_min_saving_min`` on the failing pair.

The pair table (:attr:`TransferResult.pairs`, one row per *directed* pair, ranked) has the
columns

============================ =====================================================
``rank``                     1 = most traveller-minutes lost, then worst class
``pair_id``                  ``T0001``... (the unordered pair; both directions share it)
``from_station`` ...         ``from_``/``to_`` ``station`` (id), ``name``, ``mode``,
                             ``operator``, ``feed``
``found_by``                 radius / parent / name / transfers_txt (``;``-joined)
``straight_m``               straight line between the stations' points (m)
``walk_m``, ``walk_min``     walk platform to platform (m, min); NaN: no path within 4 x the
                             straight line + 300 m (at least 3 km)
``detour_ratio``             ``walk_m / straight_m``
``in_station_m``             of ``walk_m``, inside the stations (entrance to platform)
``walk_method``              street / straight_line (off the walk network) / none / observed
``from_access``, ``to_access`` kind of access point used: gtfs_entrance, osm_entrance,
                             osm_stop, stop
``gtfs_rule``                transfers.txt between the stations: min_time, timed,
                             recommended, not_possible or empty
``gtfs_transfer_min``        its ``min_transfer_time`` (min), NaN when none
``change_min``               minimum change time added to the walk (min)
``arrivals``, ``services``   arrivals at ``from`` in the window; connecting services at ``to`` running in it
``wait_min``, ``wait_basis`` typical wait (min) and what it is based on
``forced_min``               connection time the timetable forces (min)
``miss_risk``                mean probability of missing the planned connection (0-1)
``miss_delay_min``           expected extra wait from missed connections (min)
``class``, ``fails``         class under the standard; worse than acceptable
``detour_flag``              OpenTripPlanner's detour rule (ratio >= 2 and >= 100 m)
``data_check``               "check the map data": the walk is likely an artefact of the
                             map (:mod:`planner.analyses.transfers.quality`); such pairs are
                             ranked after all others and get no suggestion unless trusted
``data_issues``              what is missing in the map data, in words (may be set when
                             ``data_check`` is not: a missing link without a long detour)
``walk_source``              ``--observed``: where the observed walk comes from
``excess_walk_min``          walk time beyond the standard's acceptable walk (min)
``journeys``                 weighted journeys through this direction
``traveller_min_lost``       ``journeys x excess_walk_min``
``suggest_station``          station that gets the new entrance (empty: none)
``suggest_lon``/``_lat``     the entrance's street-side point (WGS84)
``connector_m``              length of the new passage (m)
``new_walk_m``/``_min``      the pair's walk with it (m, min)
``saved_min``                per traveller on this pair (min)
``saved_traveller_min``      use-weighted minutes saved over all pairs of that station
============================ =====================================================
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.analyses.transfers.observed import read_observed
from planner.analyses.transfers.outputs import report_section, scenario_yaml, write_outputs
from planner.analyses.transfers.quality import data_checks
from planner.analyses.transfers.standard import CLASSES, DelayModel, TransferStandard, load_standard
from planner.analyses.transfers.stations import (
    build_access,
    build_stations,
    candidate_pairs,
    feed_stops,
)
from planner.analyses.transfers.timing import connection, unit_times
from planner.analyses.transfers.use import count_use, station_od
from planner.analyses.transfers.walks import (
    Walk,
    measure_walks,
    search_connectors,
    snap_access,
    straight_m,
)
from planner.common.atomic import write_text
from planner.errors import ConfigError, OSMError
from planner.ingest.gtfs.consolidation import normalise_name
from planner.ingest.osm.rail import rail_layer
from planner.network.pathways import pathway_graph

if TYPE_CHECKING:
    from planner.analyses.transfers.stations import AccessPoints, Stations
    from planner.analyses.transfers.use import OD, UseCount
    from planner.analyses.transfers.walks import Connector
    from planner.network.model import Network

__all__ = ["DelayModel", "TransferResult", "TransferStandard", "analyse_transfers", "load_standard",
           "write_connector_scenario"]

log = logging.getLogger(__name__)

_RULE = {0: "recommended", 1: "timed", 2: "min_time", 3: "not_possible"}


@dataclass
class TransferResult:
    """Everything :func:`analyse_transfers` found (see the module docstring)."""

    pairs: pd.DataFrame
    stations: pd.DataFrame
    access_points: pd.DataFrame
    suggestions: pd.DataFrame
    standard: TransferStandard
    delay: DelayModel
    params: dict
    net: Network
    walks: list = field(default_factory=list)            # Walk per unordered pair (pair_id order)
    connectors: dict = field(default_factory=dict)       # pair_id -> Connector
    units: Stations | None = None
    access: AccessPoints | None = None
    use: UseCount | None = None
    pair_units: pd.DataFrame | None = None               # a, b (unit indices), found_by per pair_id order
    english_names: dict = field(default_factory=dict)    # (normalised name, family) -> English OSM name

    def summary(self) -> dict:
        """Counts by class, failing pairs, journeys routed and minutes lost."""
        und = self.pairs.drop_duplicates("pair_id")
        ok = ~self.pairs["data_check"].astype(bool)
        und_ok = ~und["data_check"].astype(bool)
        return {
            "stations": len(self.stations), "pairs": len(und),
            "by_class": {c: int((und["class"] == c).sum()) for c in CLASSES},
            "failing": int((und["fails"] & und_ok).sum()), "detour_flags": int(und["detour_flag"].sum()),
            "data_checks": int((~und_ok).sum()), "observed": int((und["walk_method"] == "observed").sum()),
            "suggestions": len(self.suggestions),
            "journeys_routed": float(self.use.journeys_routed) if self.use else 0.0,
            "traveller_min_lost": float(self.pairs.loc[ok, "traveller_min_lost"].fillna(0).sum()),
            "traveller_min_lost_check": float(self.pairs.loc[~ok, "traveller_min_lost"].fillna(0).sum()),
        }

    def write(self, out_dir: str | Path, *, overwrite: bool = False, maps: int = 6,
              settings: dict | None = None) -> list[Path]:
        """Write every output (CSV, GeoPackage, PNG maps, HTML) to ``out_dir`` at once;
        ``settings``: the run's configuration record, a section of the report."""
        return write_outputs(self, Path(out_dir), overwrite=overwrite, maps=maps, settings=settings)

    def report_section(self, report, *, maps: int = 3):
        """Add this analysis as a section of a :class:`planner.outputs.report.Report`."""
        return report_section(self, report, maps=maps)


def _nearest_filter(st, pairs: pd.DataFrame, keep_n: int) -> pd.DataFrame:
    """Keep radius-only pairs among each station's ``keep_n`` nearest of each (mode, feed)."""
    if keep_n <= 0 or pairs.empty:
        return pairs

    d = np.array([straight_m(st, int(a), int(b)) for a, b in zip(pairs["a"], pairs["b"], strict=True)])
    keep = pairs["found_by"].to_numpy() != "radius"
    ranks: dict[tuple[int, str, str], list[tuple[float, int]]] = {}
    for i, (a, b) in enumerate(zip(pairs["a"], pairs["b"], strict=True)):
        a, b = int(a), int(b)
        ranks.setdefault((a, st.modes[b], st.feeds[b]), []).append((d[i], i))
        ranks.setdefault((b, st.modes[a], st.feeds[a]), []).append((d[i], i))
    for lst in ranks.values():
        for _d, i in sorted(lst)[:keep_n]:
            keep[i] = True
    return pairs[keep].reset_index(drop=True)


def _english_names(osm: pd.DataFrame | None) -> dict[tuple[str, str], str]:
    """English OSM names by (normalised name or name:zh, "subway"/"rail"), and by (name, "")."""
    out: dict[tuple[str, str], str] = {}
    if osm is None or "name_en" not in osm:
        return out
    for r in osm.sort_values(["osm_type", "osm_id"]).to_dict("records"):
        en = r.get("name_en")
        if not isinstance(en, str) or not en.strip() or r.get("kind") == "subway_entrance":
            continue
        family = "subway" if r.get("station") == "subway" else "rail"
        for c in ("name", "name_zh"):
            v = r.get(c)
            if isinstance(v, str) and v.strip():
                out.setdefault((normalise_name(v), family), en.strip())
                out.setdefault((normalise_name(v), ""), en.strip())
    return out


def _rail_stations(net, osm) -> pd.DataFrame | None:
    """OSM stations/entrances (rail layer) of ``osm`` or of the walk network's source."""
    if osm is None and net.walk is not None:
        src = net.walk.meta.get("source")
        if isinstance(src, str) and Path(src).is_file():
            osm = src
    if osm is None:
        return None
    if isinstance(osm, pd.DataFrame):
        return osm

    try:
        return pd.DataFrame(rail_layer(osm, config=net.config).stations.drop(columns="geometry"))
    except OSMError as err:
        log.warning("OSM entrances not used: %s", err.message)
        return None


def analyse_transfers(net: Network, *, radius_m: float = 1500.0, standard: TransferStandard | None = None,
                      delay: DelayModel | None = None, od: OD | None = None, departure_s: int = 8 * 3600,
                      window_min: int = 60, use_step_min: int = 15, nearest_per_mode: int = 1,
                      name_group_m: float = 250.0, name_max_m: float = 5000.0,
                      bbox: tuple[float, float, float, float] | None = None, osm=None,
                      observed=None, trust_walks: bool = False, progress: bool = False) -> TransferResult:
    """Measure, classify and weight the transfers between stations, and place connectors.

    Parameters
    ----------
    net
        The network (its walk network measures the walks; without one, walks are the
        straight line times ``Config.straight_line_detour``).
    radius_m
        Stations of different modes, operators or feeds within this straight-line
        distance are candidate pairs.
    standard, delay
        Walking-distance classes and the delay model (defaults: see
        :mod:`planner.analyses.transfers.standard`).
    od
        Journeys to weight by (:func:`planner.analyses.transfers.use.read_od`); default: every
        ordered pair of the stations in candidate pairs.
    departure_s, window_min
        The departure window (seconds after midnight, minutes) for waits, miss risk and
        the routed journeys.
    use_step_min
        Minutes between the sampled departures of the routed journeys.
    nearest_per_mode
        Radius pairs kept per station and other (mode, feed); 0 keeps all.
    name_group_m, name_max_m
        Same-name stops within ``name_group_m`` form one station; same-name stations of
        different modes within ``name_max_m`` are candidate pairs.
    bbox
        (west, south, east, north) of the analysis area; default the walk network's extent.
    osm
        OSM file (or its rail-layer stations table) for OSM entrances; default the walk
        network's source file when it still exists.
    observed
        A CSV of observed walks (:mod:`planner.analyses.transfers.observed`) that replace the
        computed ones.
    trust_walks
        Suggest connectors for pairs listed apart as "check the map data" too (the user
        confirms that their walks are real).

    Returns
    -------
    TransferResult
        ``pairs`` as in the module docstring, ``stations``, ``access_points``,
        ``suggestions``.

    Raises
    ------
    ConfigError
        For a non-positive radius, a negative window or step.
    """
    if not radius_m > 0 or window_min < 0 or use_step_min < 1 or nearest_per_mode < 0:
        msg = (f"radius must be positive, window >= 0, step >= 1 and nearest_per_mode >= 0 "
               f"(got {radius_m}, {window_min}, {use_step_min}, {nearest_per_mode})")
        raise ConfigError(msg, code="invalid_parameter")
    standard = standard or TransferStandard()
    delay = delay or DelayModel()
    cfg = net.config
    tt = net.timetable
    speed = cfg.walk_speed_mps
    fstops = feed_stops(net)
    st = build_stations(net, fstops, name_group_m=name_group_m, bbox=bbox)
    osm_st = _rail_stations(net, osm)
    ap = build_access(net, st, fstops, osm_st)
    pairs = candidate_pairs(st, tt, radius_m=radius_m, name_max_m=name_max_m)
    pairs = _nearest_filter(st, pairs, nearest_per_mode)
    walks: list[Walk] = measure_walks(net, st, ap, pairs, progress=progress)
    _apply_pathways(net, st, pairs, walks)
    sources, unused = _apply_observed(st, tt, pairs, walks, observed, speed)
    straight = np.array([straight_m(st, int(a), int(b)) for a, b in zip(pairs["a"], pairs["b"], strict=True)])
    node, snap = snap_access(net, ap)
    checks = data_checks(net, st, ap, pairs, walks, standard, node, snap, straight)
    t0, t1 = int(departure_s), int(departure_s) + 60 * int(window_min)
    in_pairs = sorted({int(x) for x in np.r_[pairs["a"].to_numpy(), pairs["b"].to_numpy()]})
    if od is None:
        od = station_od(st, in_pairs)
    deps = list(range(t0, t1, 60 * use_step_min)) if window_min > 0 else [t0]
    use = count_use(net, st, od, deps, progress=progress)
    times = {u: unit_times(tt, st.stops(u), t0, t1) for u in in_pairs}
    rules = _rules(tt, st)
    # classification and use per unordered pair, then the connector search
    cls = [standard.classify(w.walk_m) for w in walks]
    failing = np.array([standard.fails(c) for c in cls], bool)
    both_ways = np.array([use.through.get((int(a), int(b)), 0.0) + use.through.get((int(b), int(a)), 0.0)
                          for a, b in zip(pairs["a"], pairs["b"], strict=True)])
    searched = failing if trust_walks else failing & ~checks.apart  # no passage for a map artefact
    conns: dict[int, Connector] = search_connectors(net, st, ap, pairs, walks, both_ways, searched,
                                                    standard.connector_max_m, 60.0 * standard.connector_min_saving_min)
    acceptable_s = standard.acceptable_max_m / speed
    rows = []
    for i, (a, b, found) in enumerate(zip(pairs["a"], pairs["b"], pairs["found_by"], strict=True)):
        a, b = int(a), int(b)
        w = walks[i]
        pid = f"T{i + 1:04d}"
        sm = straight_m(st, a, b)
        con = conns.get(i)
        for x, y, ka, kb in ((a, b, w.ap_a, w.ap_b), (b, a, w.ap_b, w.ap_a)):
            rule, rule_min = rules.get((x, y), ("", np.nan))
            change = float(cfg.change_time_s)
            walk_s = w.seconds(x == a)
            connect = (max(walk_s + change, rule_min) if np.isfinite(rule_min) else walk_s + change) \
                if np.isfinite(walk_s) else rule_min
            c = connection(times[x], times[y], connect if rule != "not_possible" else np.nan, t0, t1, delay)
            excess = max(0.0, walk_s - acceptable_s) / 60.0 if np.isfinite(walk_s) else np.nan
            journeys = use.through.get((x, y), 0.0)
            row = {
                "pair_id": pid,
                **_side("from", st, x), **_side("to", st, y),
                "found_by": found, "straight_m": sm, "walk_m": w.walk_m, "walk_min": walk_s / 60.0,
                "detour_ratio": w.walk_m / sm if sm > 0 else np.nan, "in_station_m": w.inside_m,
                "walk_method": w.method,
                "from_access": str(ap.kind[ka]) if ka >= 0 else "", "to_access": str(ap.kind[kb]) if kb >= 0 else "",
                "gtfs_rule": rule, "gtfs_transfer_min": rule_min / 60.0, "change_min": change / 60.0,
                "arrivals": c.arrivals, "services": c.services, "wait_min": c.wait_s / 60.0, "wait_basis": c.basis,
                "forced_min": (connect + c.wait_s) / 60.0 if np.isfinite(c.wait_s) else np.nan,
                "miss_risk": c.miss_risk, "miss_delay_min": c.miss_delay_s / 60.0,
                "class": cls[i], "fails": bool(failing[i]),
                "detour_flag": standard.detour_flag(w.walk_m, sm),
                "data_check": bool(checks.apart[i]), "data_issues": checks.issues[i], "walk_source": sources.get(i, ""),
                "excess_walk_min": excess, "journeys": journeys,
                "traveller_min_lost": journeys * excess if np.isfinite(excess) else np.nan,
            }
            row.update(_suggestion(st, con, i, w, walks, both_ways))
            rows.append(row)
    table = _rank(pd.DataFrame(rows, columns=_COLUMNS))
    result = TransferResult(
        pairs=table, stations=_stations_frame(st, ap, in_pairs), access_points=_access_frame(st, ap, in_pairs),
        suggestions=_suggestions_frame(st, conns, walks, both_ways), standard=standard, delay=delay,
        params={"radius_m": radius_m, "departure_s": t0, "window_min": window_min, "use_step_min": use_step_min,
                "nearest_per_mode": nearest_per_mode, "od": od.label, "service_date": str(tt.service_date),
                "walk_speed_mps": speed, "change_time_s": cfg.change_time_s,
                "walk_network": net.walk is not None, "trust_walks": bool(trust_walks),
                "observed_unused": unused},
        net=net, walks=walks, connectors={f"T{i + 1:04d}": c for i, c in conns.items()}, units=st, access=ap,
        use=use, pair_units=pairs, english_names=_english_names(osm_st))
    return result


_COLUMNS = [
    "pair_id", "from_station", "from_name", "from_mode", "from_operator", "from_feed", "to_station", "to_name",
    "to_mode", "to_operator", "to_feed", "found_by", "straight_m", "walk_m", "walk_min", "detour_ratio",
    "in_station_m", "walk_method", "from_access", "to_access", "gtfs_rule", "gtfs_transfer_min", "change_min",
    "arrivals", "services", "wait_min", "wait_basis", "forced_min", "miss_risk", "miss_delay_min", "class", "fails",
    "detour_flag", "data_check", "data_issues", "walk_source", "excess_walk_min", "journeys", "traveller_min_lost", "suggest_station", "suggest_lon",
    "suggest_lat", "connector_m", "new_walk_m", "new_walk_min", "saved_min", "saved_traveller_min",
]


def _apply_pathways(net, st, pairs, walks: list[Walk]) -> None:
    """Pairs whose stops a feed's pathways.txt joins walk along the pathways (the summed
    traversal times, :mod:`planner.network.pathways`) when that is faster than the street walk
    (or the street has none); the two directions may differ."""
    tt = net.timetable
    graphs: dict[int, object] = {}
    fs = None
    for i, (a, b) in enumerate(zip(pairs["a"], pairs["b"], strict=True)):
        sa, sb = st.stops(int(a)), st.stops(int(b))
        feeds = {int(tt.stop_feed[s]) for s in np.r_[sa, sb]}
        if len(feeds) != 1:
            continue
        f = feeds.pop()
        if f not in graphs:
            fs = fs or net.load_feeds()
            fid = str(tt.feed_ids[f])
            graphs[f] = pathway_graph(fs[fid], net.config.walk_speed_mps) if fid in fs.ids else None
        g = graphs[f]
        if g is None:
            continue
        la, lb = ([str(tt.stop_ids[s]).split(":", 1)[-1] for s in stops] for stops in (sa, sb))
        there, back = g.walks(la, lb), g.walks(lb, la)
        if there is None:
            continue
        w = walks[i]
        if w.method in ("street", "observed") and np.isfinite(w.walk_s) and w.walk_s <= there[0]:
            continue
        coords = there[4] if len(there[4]) >= 2 else \
            [(float(tt.stop_lon[s]), float(tt.stop_lat[s])) for s in (sa[0], sb[0])]
        walks[i] = Walk("pathways", there[0], there[1], there[1], -1, -1, coords,
                        back[0] if back is not None else np.nan)


def _apply_observed(st, tt, pairs, walks: list[Walk], observed, speed: float) -> tuple[dict[int, str], int]:
    """Replace the walks of the pairs in ``observed`` (a CSV path or the dict of
    :func:`~planner.analyses.transfers.observed.read_observed`); returns ({row: source},
    number of observed pairs that are no candidate pair)."""
    if observed is None:
        return {}, 0
    obs = observed if isinstance(observed, dict) else read_observed(observed, st, tt)
    rows = {(min(int(a), int(b)), max(int(a), int(b))): i
            for i, (a, b) in enumerate(zip(pairs["a"], pairs["b"], strict=True))}
    sources = {}
    for key, o in obs.items():
        i = rows.get(key)
        if i is None:
            continue
        a, b = int(pairs["a"].iat[i]), int(pairs["b"].iat[i])
        walks[i] = Walk("observed", o.walk_s, o.walk_s * speed, 0.0, -1, -1,
                        [(float(st.lon[a]), float(st.lat[a])), (float(st.lon[b]), float(st.lat[b]))])
        sources[i] = o.source or "observed"
    unused = len(obs) - len(sources)
    if unused:
        log.warning("%d observed walk(s) join stations that are no candidate pair; they are not used", unused)
    return sources, unused


def _side(prefix: str, st, u: int) -> dict:
    return {f"{prefix}_station": str(st.ids[u]), f"{prefix}_name": str(st.names[u]),
            f"{prefix}_mode": str(st.modes[u]), f"{prefix}_operator": str(st.operators[u]),
            f"{prefix}_feed": str(st.feeds[u])}


def _suggestion(st, con, i: int, w, walks, use_both_ways: np.ndarray) -> dict:
    if con is None or i not in con.new_walk_s:
        return {"suggest_station": "", "suggest_lon": np.nan, "suggest_lat": np.nan, "connector_m": np.nan,
                "new_walk_m": np.nan, "new_walk_min": np.nan, "saved_min": np.nan, "saved_traveller_min": np.nan}
    cur = w.walk_s if np.isfinite(w.walk_s) else np.nan
    return {"suggest_station": str(st.ids[con.side]), "suggest_lon": con.lon, "suggest_lat": con.lat,
            "connector_m": con.connector_m, "new_walk_m": con.new_walk_m[i], "new_walk_min": con.new_walk_s[i] / 60.0,
            "saved_min": (cur - con.new_walk_s[i]) / 60.0,
            "saved_traveller_min": _use_saving(con, walks, use_both_ways)}


def _use_saving(con, walks, use_both_ways: np.ndarray) -> float:
    """Journeys x minutes saved, summed over every pair the new entrance shortens."""
    total = 0.0
    for k, t in con.new_walk_s.items():
        if np.isfinite(walks[k].walk_s):
            total += float(use_both_ways[k]) * (walks[k].walk_s - t) / 60.0
    return total


def _rules(tt, st) -> dict[tuple[int, int], tuple[str, float]]:
    """transfers.txt between the stops of two units: (rule, min_transfer_time s)."""
    out: dict[tuple[int, int], tuple[str, float]] = {}
    for f, t, m, ty in zip(tt.transfer_from, tt.transfer_to, tt.transfer_min_s, tt.transfer_type, strict=True):
        a, b = int(st.stop_unit[f]), int(st.stop_unit[t])
        if a < 0 or b < 0 or a == b:
            continue
        rule = _RULE.get(int(ty), "")
        old = out.get((a, b))
        value = float(m) if int(ty) == 2 else np.nan
        if old is None or (rule == "min_time" and (not np.isfinite(old[1]) or value < old[1])):
            out[(a, b)] = (rule, value)
    return out


def _rank(df: pd.DataFrame) -> pd.DataFrame:
    if df.empty:
        df.insert(0, "rank", pd.Series(dtype=np.int64))
        return df
    severity = df["class"].map({c: i for i, c in enumerate(CLASSES)}).to_numpy()
    lost = df["traveller_min_lost"].fillna(0.0).to_numpy()
    walk = df["walk_m"].fillna(np.inf).to_numpy()
    apart = df["data_check"].to_numpy(dtype=bool)  # "check the map data": after every real finding
    order = np.lexsort((df["to_station"].to_numpy(dtype=str), df["from_station"].to_numpy(dtype=str),
                        -np.nan_to_num(walk, posinf=1e12), -severity, -lost, apart))
    out = df.iloc[order].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


def _stations_frame(st, ap, units) -> pd.DataFrame:
    rows = []
    for u in units:
        kinds = sorted({str(ap.kind[k]) for k in ap.of(u)})
        rows.append({"station": str(st.ids[u]), "name": str(st.names[u]), "mode": str(st.modes[u]),
                     "operator": str(st.operators[u]), "feed": str(st.feeds[u]), "lon": float(st.lon[u]),
                     "lat": float(st.lat[u]), "stops": len(st.stops(u)),
                     "access_points": int(ap.ptr[u + 1] - ap.ptr[u]), "access_kinds": ";".join(kinds)})
    return pd.DataFrame(rows, columns=["station", "name", "mode", "operator", "feed", "lon", "lat", "stops",
                                       "access_points", "access_kinds"])


def _access_frame(st, ap, units) -> pd.DataFrame:
    rows = []
    for u in units:
        for k in ap.of(u):
            rows.append({"station": str(st.ids[u]), "kind": str(ap.kind[k]), "ref": str(ap.ref[k]),
                         "lon": float(ap.lon[k]), "lat": float(ap.lat[k]), "in_station_m": float(ap.inside_m[k]),
                         "in_station_s": float(ap.inside_s[k])})
    return pd.DataFrame(rows, columns=["station", "kind", "ref", "lon", "lat", "in_station_m", "in_station_s"])


def _suggestions_frame(st, conns: dict, walks, use_both_ways: np.ndarray) -> pd.DataFrame:
    rows = []
    for i, c in sorted(conns.items()):
        if i not in c.new_walk_s:
            continue
        w = walks[i]
        rows.append({"pair_id": f"T{i + 1:04d}", "station": str(st.ids[c.side]), "station_name": str(st.names[c.side]),
                     "lon": c.lon, "lat": c.lat, "connector_m": c.connector_m, "pairs_improved": len(c.new_walk_s),
                     "walk_m": w.walk_m, "new_walk_m": c.new_walk_m[i], "new_walk_min": c.new_walk_s[i] / 60.0,
                     "saved_min": (w.walk_s - c.new_walk_s[i]) / 60.0 if math.isfinite(w.walk_s) else np.nan,
                     "saved_traveller_min": _use_saving(c, walks, use_both_ways)})
    return pd.DataFrame(rows, columns=["pair_id", "station", "station_name", "lon", "lat", "connector_m",
                                       "pairs_improved", "walk_m", "new_walk_m", "new_walk_min", "saved_min",
                                       "saved_traveller_min"])


def write_connector_scenario(result: TransferResult, path: str | Path, *, pair_ids=None, top: int = 1,
                             name: str | None = None) -> Path:
    """Write suggested connectors as an ``add_transfer`` scenario for ``plan evaluate``.

    Parameters
    ----------
    result
        An analysis with suggestions.
    path
        The YAML file to write (atomically; ``yaml.safe_dump``).
    pair_ids
        The failing pairs whose suggestion to write; default the ``top`` suggestions by
        use-weighted minutes saved, then minutes saved per traveller.
    name
        Scenario name (default ``connector_<station>``).

    Returns
    -------
    Path
        ``path``. Each connector becomes one ``add_transfer`` per pair of boarding stops of
        the two stations of every pair the new entrance shortens, both ways, with the new
        walk (``walk_s`` rounded up, ``walk_m``); a stop pair whose existing footpath is
        already at least as fast is left out.

    Raises
    ------
    ConfigError
        ``no_suggestion`` when there is nothing to write.
    """
    text = scenario_yaml(result, pair_ids=pair_ids, top=top, name=name)
    p = Path(path)
    write_text(p, text)
    return p
