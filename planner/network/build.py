"""The multimodal network: street networks + timetable + the links between them.

:func:`build_network` takes GTFS feeds, an optional OSM extract, a service date and a
window, and returns a :class:`Network`:

* the :class:`~planner.network.timetable.Timetable` of the date;
* the walk :class:`~planner.network.streets.StreetNetwork` (and optionally the drive network, for
  park-and-ride access to stations);
* every stop snapped to the walk network within ``Config.snap_max_m``; stops that cannot be
  snapped are reported (``planner_stop_not_snapped``) and linked by the straight-line
  approximation instead, never dropped;
* footpaths between stops: walking on the street network up to ``Config.footpath_max_s``,
  or, where a stop is not on the street network, the straight-line distance times
  ``Config.straight_line_detour`` at ``Config.walk_speed_mps``; merged with transfers.txt
  (its ``min_transfer_time`` wins where given; ``transfer_type`` 3 removes a link; rules on
  one stop set that stop's change time);
* per-stop minimum change times (``Config.change_time_s`` unless transfers.txt says); a
  footpath between two stops takes at least that change time too (walking 20 m to the
  next platform does not make a change faster than staying at the same stop).

The network is saved to a content-addressed cache (input digests + parameters + planner
version) and reloaded from it in well under a second (:mod:`planner.network.store`).

Access and egress from arbitrary points (:meth:`Network.access`) walk on the street network
(or the straight-line approximation where there is none), and may drive to rail stations
(park-and-ride) on the drive network.
"""

from __future__ import annotations

import hashlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from planner import __version__
from planner.common.geodesy import arc_m, sphere_xyz
from planner.common.notices import Notices, Severity
from planner.config import Config
from planner.errors import InputError, OutputError
from planner.ingest.gtfs.modes import MODES
from planner.routing.raptor import Footpaths

if TYPE_CHECKING:
    from collections.abc import Sequence

    from planner.ingest.gtfs.feed import FeedSet
    from planner.network.streets import StreetNetwork
    from planner.network.timetable import Timetable

__all__ = ["Access", "Network", "attach_drive", "build_network", "network_key"]

log = logging.getLogger(__name__)

NETWORK_SCHEMA = 2
#: link methods per stop / footpath / access leg
LINK_STREET = 1
LINK_STRAIGHT = 0
LINK_TRANSFERS_TXT = 2
LINK_DRIVE = 3
LINK_LOCAL = 4
_RAIL_MODES = {MODES.index(m) for m in ("rail", "high_speed_rail", "intercity_rail")}


@dataclass
class Access:
    """Access (or egress) legs of one point: stops reachable and how long it takes.

    ``stops`` int32 stop indices, ``seconds`` int32, ``metres`` float64 (walking or driving
    distance), ``method`` int8 (1 street network, 0 straight-line walking approximation,
    3 drive (park-and-ride), 4 local taxi/bus approximation). ``snapped`` tells whether the point is on the walk network;
    ``snap_m`` is its distance to it.
    """

    stops: np.ndarray
    seconds: np.ndarray
    metres: np.ndarray
    method: np.ndarray
    snapped: bool
    snap_m: float
    node: int = -1

    @classmethod
    def empty(cls) -> Access:
        return cls(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0), np.zeros(0, np.int8), False, np.nan)


@dataclass
class Network:
    """A multimodal network for one service date (see the module docstring)."""

    timetable: Timetable
    footpaths: Footpaths
    footpath_method: np.ndarray   # int8 per footpath: LINK_*
    change_s: np.ndarray          # int32 per stop
    stop_node: np.ndarray         # int32 per stop: walk-network node index, -1 not snapped
    stop_snap_m: float | np.ndarray
    config: Config
    walk: StreetNetwork | None = None
    drive: StreetNetwork | None = None
    notices: Notices = field(default_factory=Notices)
    key: str = ""
    inputs: dict = field(default_factory=dict)
    feeds: FeedSet | None = None
    stop_drive_node: np.ndarray | None = None
    feed_specs: list[str] = field(default_factory=list)

    def load_feeds(self) -> FeedSet:
        """The GTFS feeds behind the network (read on first use after a cache reload)."""
        if self.feeds is None:
            from planner.ingest.gtfs.feed import read_feeds

            self.feeds = read_feeds(self.feed_specs, config=self.config)
        return self.feeds

    # ------------------------------------------------------------------ basics
    @property
    def n_stops(self) -> int:
        return self.timetable.n_stops

    def stop_index(self, stop_id: str) -> int:
        """Index of a stop given as ``feed:id`` or a bare id that is unique across feeds."""
        ids = self.timetable.stop_ids
        hits = np.flatnonzero(ids == stop_id)
        if len(hits) == 0:
            suffix = np.char.endswith(ids.astype(str), ":" + stop_id)
            hits = np.flatnonzero(suffix)
        if len(hits) == 1:
            return int(hits[0])
        if len(hits) > 1:
            msg = f"stop id {stop_id!r} exists in several feeds: {', '.join(ids[hits][:5])}"
            raise InputError(msg, code="ambiguous_stop", hint="write it as FEED:ID")
        msg = f"no stop with id {stop_id!r}"
        raise InputError(msg, code="unknown_stop", hint="see 'plan network export' for the stop ids")

    def summary(self) -> dict:
        tt = self.timetable
        snapped = int((self.stop_node >= 0).sum())
        return {
            "service_date": str(tt.service_date), "stops": tt.n_stops, "stops_snapped": snapped,
            "stops_not_snapped": tt.n_stops - snapped, "patterns": tt.n_patterns, "trips": tt.n_trips,
            "stop_events": tt.n_stop_events, "footpaths": self.footpaths.n_links,
            "footpaths_street": int((self.footpath_method == LINK_STREET).sum()),
            "footpaths_straight_line": int((self.footpath_method == LINK_STRAIGHT).sum()),
            "footpaths_transfers_txt": int((self.footpath_method == LINK_TRANSFERS_TXT).sum()),
            "walk_nodes": self.walk.n_nodes if self.walk is not None else 0,
            "walk_edges": self.walk.n_edges if self.walk is not None else 0,
        }

    # ------------------------------------------------------------------ access / egress
    def access(self, lon: float, lat: float, *, max_s: float | None = None, park_and_ride: bool = False,
               local: bool = False) -> Access:
        """Stops reachable from a point (walking; optionally driving to rail stations).

        Walking uses the street network when the point snaps to it (the straight leg to the
        snapped node at walking speed included), and the straight-line approximation for
        stops that are not on the street network or when the point is not. The walk network
        is treated as symmetric, so the same legs serve as egress to the point.
        """
        cfg = self.config
        limit = float(cfg.access_max_s if max_s is None else max_s)
        speed = cfg.walk_speed_mps
        parts_s, parts_t, parts_m, parts_k = [], [], [], []
        snapped = False
        snap_m = np.nan
        node = -1
        if self.walk is not None:
            n, d = self.walk.snap_index([lon], [lat], max_distance_m=cfg.snap_max_m, config=cfg)
            node = int(n[0])
            if node >= 0:
                snapped = True
                snap_m = float(d[0])
                nodes, cost, metres, _pred = self.walk.reach_index([node], source_cost=[snap_m / speed], cutoff=limit)
                st, tt_s, mm = self._stops_at_nodes(nodes, cost, metres + snap_m)
                parts_s.append(st)
                parts_t.append(tt_s)
                parts_m.append(mm)
                parts_k.append(np.full(len(st), LINK_STREET, np.int8))
        # straight line: to every stop when the point is off the network, else to the
        # stops that are off the network
        target = np.ones(self.n_stops, bool) if not snapped else (self.stop_node < 0)
        if target.any():
            st, tt_s, mm = self._straight_line(lon, lat, target, limit)
            parts_s.append(st)
            parts_t.append(tt_s)
            parts_m.append(mm)
            parts_k.append(np.full(len(st), LINK_STRAIGHT, np.int8))
        if local:
            st, tt_s, mm = self._local_access(lon, lat)
            parts_s.append(st)
            parts_t.append(tt_s)
            parts_m.append(mm)
            parts_k.append(np.full(len(st), LINK_LOCAL, np.int8))
        if park_and_ride and self.drive is not None:
            st, tt_s, mm = self._drive_to_rail(lon, lat)
            parts_s.append(st)
            parts_t.append(tt_s)
            parts_m.append(mm)
            parts_k.append(np.full(len(st), 3, np.int8))
        if not parts_s:
            return Access.empty()
        s = np.concatenate(parts_s).astype(np.int32)
        t = np.ceil(np.concatenate(parts_t)).astype(np.int32)
        m = np.concatenate(parts_m)
        k = np.concatenate(parts_k)
        order = np.lexsort((t, s))
        s, t, m, k = s[order], t[order], m[order], k[order]
        first = np.ones(len(s), bool)
        first[1:] = s[1:] != s[:-1]
        return Access(s[first], t[first], m[first], k[first], snapped, snap_m, node)

    def _stops_at_nodes(self, nodes: np.ndarray, cost: np.ndarray, metres: np.ndarray):
        """Stops snapped to the settled ``nodes``: (stop, seconds incl. the stop's own snap leg, metres)."""
        ptr, stops = self._node_stops()
        out_s, out_t, out_m = [], [], []
        speed = self.config.walk_speed_mps
        counts = ptr[nodes + 1] - ptr[nodes]
        has = np.flatnonzero(counts > 0)
        for i in has:
            v = nodes[i]
            for k in range(ptr[v], ptr[v + 1]):
                s = stops[k]
                snap = float(self.stop_snap_m[s])
                out_s.append(s)
                out_t.append(cost[i] + snap / speed)
                out_m.append(metres[i] + snap)
        return np.asarray(out_s, np.int32), np.asarray(out_t, np.float64), np.asarray(out_m, np.float64)

    def _node_stops(self):
        cached = getattr(self, "_node_stops_cache", None)
        if cached is not None:
            return cached
        n = self.walk.n_nodes
        snapped = np.flatnonzero(self.stop_node >= 0)
        nodes = self.stop_node[snapped]
        order = np.argsort(nodes, kind="stable")
        ptr = np.zeros(n + 1, np.int64)
        np.add.at(ptr, nodes.astype(np.int64) + 1, 1)
        out = (np.cumsum(ptr), snapped[order].astype(np.int32))
        self._node_stops_cache = out
        return out

    def _stop_xyz(self) -> np.ndarray:
        """Stop positions on the sphere (x, y, z metres; see :func:`planner.common.geodesy.sphere_xyz`) and their tree.

        Straight-line distances are great-circle distances computed from these, so they do
        not depend on the other stops: an equirectangular projection around the stops' mean
        latitude (as before issue 11) made a stop nobody uses shift every walking time by a
        rounding second, and erred by several per cent far from the mean latitude of a
        country-wide network (found by ``tests/test_properties.py``).
        """
        cached = getattr(self, "_stop_xyz_cache", None)
        if cached is None:
            tt = self.timetable
            cached = sphere_xyz(tt.stop_lat, tt.stop_lon)
            self._stop_xyz_cache = cached
            self._stop_tree = cKDTree(cached)
        return cached

    def _straight_line(self, lon, lat, target_mask, limit_s):
        cfg = self.config
        xy = self._stop_xyz()
        p = sphere_xyz(np.array([lat]), np.array([lon]))[0]
        radius = limit_s * cfg.walk_speed_mps / cfg.straight_line_detour
        idx = np.asarray(self._stop_tree.query_ball_point(p, radius), dtype=np.int64)
        idx = idx[target_mask[idx]] if len(idx) else idx
        d = arc_m(xy[idx], p) * cfg.straight_line_detour if len(idx) else np.zeros(0)
        return idx.astype(np.int32), d / cfg.walk_speed_mps, d

    def _local_access(self, lon, lat):
        """Urban access by taxi/bus where no model of it exists: straight-line distance times
        the detour factor at ``Config.local_access_speed_kmh``, up to ``local_access_max_s``."""
        cfg = self.config
        xy = self._stop_xyz()
        p = sphere_xyz(np.array([lat]), np.array([lon]))[0]
        speed = cfg.local_access_speed_kmh / 3.6
        radius = cfg.local_access_max_s * speed / cfg.straight_line_detour
        idx = np.asarray(self._stop_tree.query_ball_point(p, radius), dtype=np.int64)
        d = arc_m(xy[idx], p) * cfg.straight_line_detour if len(idx) else np.zeros(0)
        return idx.astype(np.int32), d / speed, d

    def _drive_to_rail(self, lon, lat):
        cfg = self.config
        n, _d = self.drive.snap_index([lon], [lat], max_distance_m=cfg.snap_max_m, config=cfg)
        if n[0] < 0 or self.stop_drive_node is None:
            return np.zeros(0, np.int32), np.zeros(0), np.zeros(0)
        nodes, cost, metres, _ = self.drive.reach_index([int(n[0])], cutoff=cfg.drive_access_max_s)
        where = {int(v): (c, m) for v, c, m in zip(nodes, cost, metres, strict=True)}
        out_s, out_t, out_m = [], [], []
        for s in np.flatnonzero(self.stop_drive_node >= 0):
            hit = where.get(int(self.stop_drive_node[s]))
            if hit is not None:
                out_s.append(s)
                out_t.append(hit[0] + cfg.park_ride_penalty_s)
                out_m.append(hit[1])
        return np.asarray(out_s, np.int32), np.asarray(out_t, np.float64), np.asarray(out_m, np.float64)

    def access_many(self, lon, lat, *, max_s: float | None = None, park_and_ride: bool = False,
                    local: bool = False, threads: int | None = None) -> tuple[np.ndarray, list[Access]]:
        """Access legs of many points as CSR (``ptr``) plus the per-point :class:`Access`."""
        lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        self._stop_xyz()
        if self.walk is not None:
            self._node_stops()
        workers = threads or self.config.threads or 2
        with ThreadPoolExecutor(max_workers=max(1, workers)) as ex:
            acc = list(ex.map(lambda q: self.access(q[0], q[1], max_s=max_s, park_and_ride=park_and_ride,
                                                    local=local),
                              zip(lon, lat, strict=True)))
        ptr = np.zeros(len(acc) + 1, np.int64)
        ptr[1:] = np.cumsum([len(a.stops) for a in acc])
        return ptr, acc


# ---------------------------------------------------------------------- building

def _spec_digests(specs: list[str]) -> dict[str, str]:
    """{feed id: SHA-256 of the feed's bytes} without parsing the feeds (zip: the file;
    folder: every top-level file's name and bytes, sorted)."""
    from planner.ingest.gtfs.feed import _split_spec, feed_id_from_path

    out = {}
    for spec in specs:
        fid, path = _split_spec(spec)
        fid = fid or feed_id_from_path(path)
        h = hashlib.sha256()
        try:
            if path.is_dir():
                for p in sorted(path.iterdir()):
                    if p.is_file():
                        h.update(p.name.encode())
                        h.update(p.read_bytes())
            else:
                with open(path, "rb") as fh:
                    for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                        h.update(block)
        except OSError as err:
            from planner.errors import FeedError

            msg = f"cannot read {path}: {err.strerror or err}"
            raise FeedError(msg, code="input_unreadable") from err
        out[fid] = h.hexdigest()
    return out


def network_key(feed_digests: dict[str, str], osm_digest: str, date, window, config: Config) -> str:
    """Content address of a network: inputs, parameters, planner version, schema."""
    relevant = {k: v for k, v in asdict(config).items() if k not in {"progress", "threads"}}
    doc = {"schema": NETWORK_SCHEMA, "version": __version__, "feeds": sorted(feed_digests.items()),
           "osm": osm_digest, "date": str(date), "window": list(map(int, window)), "config": relevant}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def build_network(feeds: FeedSet | Sequence[str], date, *, window: tuple[int, int] | None = None,
                  osm: str | Path | None = None, walk: StreetNetwork | None = None, drive: bool = False,
                  config: Config | None = None, cache_dir: str | Path | None = None, use_cache: bool = True,
                  progress: bool | None = None, preloaded: FeedSet | None = None) -> Network:
    """Build (or reload from the cache) the multimodal network of ``date``.

    Parameters
    ----------
    feeds
        A loaded :class:`~planner.ingest.gtfs.feed.FeedSet` or feed specs (``[ID=]PATH``).
    date
        Service date (``YYYY-MM-DD``).
    window
        Seconds after midnight whose trips are kept (default: 0 to 36 h, the whole service
        day, the trips running past midnight and the next morning's trips).
    osm
        OSM extract (``.osm.pbf``/``.osm``) for the walk (and drive) network; ``None`` links
        everything by the straight-line approximation.
    walk
        An already built walk network (instead of ``osm``).
    drive
        Also build the drive network from ``osm`` (park-and-ride access to rail stations).
    cache_dir
        Folder of the network cache (default ``osm_cache/``).
    preloaded
        The feeds of ``feeds`` (specs) already read, used if the network must be built; the
        cache key still comes from the files' digests, so both paths share one entry.
    """
    from planner.ingest.gtfs.feed import FeedSet, read_feeds
    from planner.network import store as _network_io
    from planner.network.timetable import build_timetable

    config = config or Config()
    if isinstance(feeds, FeedSet):
        fs = feeds
        digests = {f.feed_id: f.digest for f in fs}
    else:
        fs = preloaded
        specs = [str(x) for x in feeds]
        digests = _spec_digests(specs)
    window = window or (0, 36 * 3600)
    if walk is None and osm is not None:
        from planner.network.streets import build_street_network

        walk = build_street_network(osm, "walk", config=config, cache_dir=cache_dir)
    osm_digest = "" if walk is None else f"{walk.meta.get('input_sha256', '')}|{walk.n_nodes}|{walk.n_edges}"
    key = network_key(digests, osm_digest, date, window, config)
    cache = Path(cache_dir) if cache_dir is not None else _network_io.default_cache_dir()
    net = _network_io.load(cache, key, config) if use_cache else None
    if net is None:
        if fs is None:
            fs = read_feeds(specs, config=config)
        tt = build_timetable(fs, date, window)
        net = _link(tt, walk, config, progress=config.progress if progress is None else progress)
        net.key = key
        net.inputs = {"feeds": {f.feed_id: {"path": str(f.path), "digest": f.digest} for f in fs},
                      "osm": osm_digest, "date": str(tt.service_date), "window": list(window)}
        if use_cache:
            try:
                _network_io.save(net, cache)
            except (OutputError, OSError) as err:  # read-only or full disk: carry on uncached
                net.notices.add("cache_write_failed", Severity.WARNING,
                                f"the network could not be cached ({err}); it was built but not saved",
                                file=str(cache), action="kept")
    net.walk = walk
    net.feeds = fs
    net.feed_specs = [f"{f.feed_id}={f.path}" for f in fs] if fs is not None else specs
    if drive and osm is not None:
        _attach_drive(net, osm, config, cache_dir)
    return net


def _attach_drive(net: Network, osm, config: Config, cache_dir) -> None:
    from planner.network.streets import build_street_network

    attach_drive(net, build_street_network(osm, "drive", config=config, cache_dir=cache_dir), config)


def attach_drive(net: Network, drive: StreetNetwork, config: Config) -> None:
    """Give ``net`` a drive network (park-and-ride to its rail stations), e.g. a baseline's
    for a scenario's network."""
    tt = net.timetable
    node, _d = drive.snap_index(tt.stop_lon, tt.stop_lat, max_distance_m=config.snap_max_m, config=config)
    rail_stop = np.zeros(tt.n_stops, bool)
    for p in np.flatnonzero(np.isin(tt.pattern_mode, list(_RAIL_MODES))):
        rail_stop[tt.pattern_stops[tt.pattern_stops_ptr[p]:tt.pattern_stops_ptr[p + 1]]] = True
    net.drive = drive
    net.stop_drive_node = np.where(rail_stop, node, -1).astype(np.int32)


def _link(tt: Timetable, walk: StreetNetwork | None, config: Config, *, progress: bool) -> Network:
    notices = Notices()
    S = tt.n_stops
    stop_node = np.full(S, -1, np.int32)
    stop_snap = np.full(S, np.nan)
    if walk is not None and S:
        stop_node, stop_snap = walk.snap_index(tt.stop_lon, tt.stop_lat, max_distance_m=config.snap_max_m, config=config)
        stop_node = stop_node.astype(np.int32)
        missing = np.flatnonzero(stop_node < 0)
        for s in missing[:50]:
            notices.add("planner_stop_not_snapped", Severity.WARNING,
                        f"stop '{tt.stop_names[s]}' is more than {config.snap_max_m:.0f} m from the walk network; "
                        "linked by the straight-line approximation", file="stops.txt", field="stop_id",
                        value=tt.stop_ids[s])
        if len(missing) > 50:
            notices.add("planner_stop_not_snapped", Severity.WARNING,
                        f"{len(missing) - 50:,} more stops are more than {config.snap_max_m:.0f} m from the walk "
                        "network (outside the OSM extract?); linked by the straight-line approximation",
                        count=len(missing) - 50)
    net = Network(tt, Footpaths.empty(S), np.zeros(0, np.int8), np.full(S, config.change_time_s, np.int32),
                  stop_node, stop_snap, config, walk=walk, notices=notices)
    src, dst, sec, met, how = _street_footpaths(net, progress)
    s2, d2, t2, m2 = _straight_footpaths(net)
    src = np.r_[src, s2]
    dst = np.r_[dst, d2]
    sec = np.r_[sec, t2]
    met = np.r_[met, m2]
    how = np.r_[how, np.full(len(s2), LINK_STRAIGHT, np.int8)]
    if config.local_rail_transfers:
        s3, d3, t3, m3 = _local_rail_links(net)
        src = np.r_[src, s3]
        dst = np.r_[dst, d3]
        sec = np.r_[sec, t3]
        met = np.r_[met, m3]
        how = np.r_[how, np.full(len(s3), LINK_LOCAL, np.int8)]
    # changing vehicles via a footpath takes at least the change time at one stop
    sec = np.maximum(sec, float(config.change_time_s))
    src, dst, sec, met, how = _merge_transfers(net, src, dst, sec, met, how)
    # shortest per pair, then CSR
    order = np.lexsort((sec, dst, src))
    src, dst, sec, met, how = src[order], dst[order], sec[order], met[order], how[order]
    keep = np.ones(len(src), bool)
    keep[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    keep &= src != dst
    src, dst, sec, met, how = src[keep], dst[keep], sec[keep], met[keep], how[keep]
    ptr = np.zeros(S + 1, np.int64)
    np.add.at(ptr, src + 1, 1)
    net.footpaths = Footpaths(np.cumsum(ptr).astype(np.int32), dst.astype(np.int32),
                              np.ceil(sec).astype(np.int32), met.astype(np.float64))
    net.footpath_method = how.astype(np.int8)
    return net


def _street_footpaths(net: Network, progress: bool):
    """Stop-to-stop walks on the street network within ``footpath_max_s``."""
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0, np.int8))
    walk = net.walk
    if walk is None:
        return empty
    cfg = net.config
    speed = cfg.walk_speed_mps
    snapped = np.flatnonzero(net.stop_node >= 0)
    if len(snapped) == 0:
        return empty
    ptr, node_stops = net._node_stops()
    uniq = np.unique(net.stop_node[snapped])

    def one(u):
        nodes, cost, metres, _ = walk.reach_index([int(u)], cutoff=cfg.footpath_max_s)
        counts = ptr[nodes + 1] - ptr[nodes]
        has = np.flatnonzero(counts > 0)
        return u, nodes[has], cost[has], metres[has]

    from planner.common.progress import progress as bar

    results = []
    with ThreadPoolExecutor(max_workers=max(1, cfg.threads or 2)) as ex:
        for r in bar(ex.map(one, uniq), total=len(uniq), enabled=progress, desc="footpaths", unit="stop"):
            results.append(r)
    src, dst, sec, met = [], [], [], []
    for u, nodes, cost, metres in results:
        from_stops = node_stops[ptr[u]:ptr[u + 1]]
        for v, c, m in zip(nodes, cost, metres, strict=True):
            to_stops = node_stops[ptr[v]:ptr[v + 1]]
            for a in from_stops:
                for b in to_stops:
                    if a == b:
                        continue
                    snap = float(net.stop_snap_m[a] + net.stop_snap_m[b])
                    t = c + snap / speed
                    if t <= cfg.footpath_max_s:
                        src.append(a)
                        dst.append(b)
                        sec.append(t)
                        met.append(m + snap)
    n = len(src)
    return (np.asarray(src, np.int64), np.asarray(dst, np.int64), np.asarray(sec, np.float64),
            np.asarray(met, np.float64), np.full(n, LINK_STREET, np.int8))


def _straight_footpaths(net: Network):
    """Straight-line footpaths for pairs where at least one stop is off the street network."""
    cfg = net.config
    off = net.stop_node < 0
    if not off.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    xy = net._stop_xyz()
    radius = cfg.footpath_max_s * cfg.walk_speed_mps / cfg.straight_line_detour
    pairs = net._stop_tree.query_pairs(radius, output_type="ndarray")
    if len(pairs) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    pairs = pairs[off[pairs[:, 0]] | off[pairs[:, 1]]]
    d = arc_m(xy[pairs[:, 0]], xy[pairs[:, 1]]) * cfg.straight_line_detour
    src = np.r_[pairs[:, 0], pairs[:, 1]]
    dst = np.r_[pairs[:, 1], pairs[:, 0]]
    dd = np.r_[d, d]
    return src.astype(np.int64), dst.astype(np.int64), dd / cfg.walk_speed_mps, dd


def _local_rail_links(net: Network):
    """Cross-town links between rail stations (urban taxi/bus approximation), for intercity
    analyses (``Config.local_rail_transfers``)."""
    cfg = net.config
    tt = net.timetable
    rail = np.zeros(tt.n_stops, bool)
    for p in np.flatnonzero(np.isin(tt.pattern_mode, list(_RAIL_MODES))):
        rail[tt.pattern_stops[tt.pattern_stops_ptr[p]:tt.pattern_stops_ptr[p + 1]]] = True
    idx = np.flatnonzero(rail)
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    if len(idx) < 2:
        return empty
    xy = net._stop_xyz()[idx]
    speed = cfg.local_access_speed_kmh / 3.6
    radius = cfg.local_access_max_s * speed / cfg.straight_line_detour
    pairs = cKDTree(xy).query_pairs(radius, output_type="ndarray")
    if len(pairs) == 0:
        return empty
    d = arc_m(xy[pairs[:, 0]], xy[pairs[:, 1]]) * cfg.straight_line_detour
    a, b = idx[pairs[:, 0]], idx[pairs[:, 1]]
    return (np.r_[a, b].astype(np.int64), np.r_[b, a].astype(np.int64), np.r_[d, d] / speed, np.r_[d, d])


def _merge_transfers(net: Network, src, dst, sec, met, how):
    """transfers.txt: min_transfer_time wins; type 3 removes a link; same-stop rules set
    the stop's change time (type 1, timed transfer: 0 s; type 3: no change possible)."""
    tt = net.timetable
    if len(tt.transfer_from) == 0:
        return src, dst, sec, met, how
    pair_sec = {}
    for a, b, m, ty in zip(tt.transfer_from, tt.transfer_to, tt.transfer_min_s, tt.transfer_type, strict=True):
        a, b, m, ty = int(a), int(b), int(m), int(ty)
        if a == b:
            net.change_s[a] = {0: net.change_s[a], 1: 0, 2: m, 3: 2_000_000_000 // 4}[ty]
            continue
        pair_sec[(a, b)] = (m, ty)
    if not pair_sec:
        return src, dst, sec, met, how
    keys = np.array(list(pair_sec), dtype=np.int64).reshape(-1, 2)
    code = src * net.n_stops + dst
    rule_code = keys[:, 0] * net.n_stops + keys[:, 1]
    has_rule = np.isin(code, rule_code)
    keep = ~has_rule
    new_src, new_dst, new_sec, new_met = [], [], [], []
    walk_lookup = {(int(a), int(b)): (float(s), float(m)) for a, b, s, m in
                   zip(src[has_rule], dst[has_rule], sec[has_rule], met[has_rule], strict=True)}
    for (a, b), (m, ty) in pair_sec.items():
        if ty == 3:
            continue
        walked = walk_lookup.get((a, b))
        if ty == 2:
            new_src.append(a)
            new_dst.append(b)
            new_sec.append(float(m))
            new_met.append(walked[1] if walked else np.nan)
        else:  # 0/1: recommended or timed: keep the walk (or add one at walking speed)
            if walked is None:
                xy = net._stop_xyz()
                d = float(arc_m(xy[a], xy[b])) * net.config.straight_line_detour
                walked = (d / net.config.walk_speed_mps, d)
            new_src.append(a)
            new_dst.append(b)
            new_sec.append(walked[0] if ty == 0 else 0.0)
            new_met.append(walked[1])
    n = len(new_src)
    return (np.r_[src[keep], np.asarray(new_src, np.int64)], np.r_[dst[keep], np.asarray(new_dst, np.int64)],
            np.r_[sec[keep], np.asarray(new_sec)], np.r_[met[keep], np.asarray(new_met)],
            np.r_[how[keep], np.full(n, LINK_TRANSFERS_TXT, np.int8)])
