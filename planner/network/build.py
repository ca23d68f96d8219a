"""Build the multimodal network of a service date, or reload it from the cache.

:func:`build_network` takes GTFS feeds, an optional OSM extract, a service date and a
window, and returns a :class:`~planner.network.model.Network`: the timetable of the date
(:mod:`planner.network.timetable`), the walk street network (and optionally the drive
network, for park-and-ride access to stations; :mod:`planner.network.streets`), and the
stop snaps, footpaths and change times of :mod:`planner.network.footpaths`.

The network is saved to a content-addressed cache (input digests + parameters + planner
version + schema: :func:`network_key`) and reloaded from it in well under a second
(:mod:`planner.network.store`). ``use_cache=False`` neither reads nor writes it.

Access and egress from arbitrary points (:meth:`Network.access`) are in
:mod:`planner.network.places`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from planner import __version__
from planner.common.memory import release_free_memory
from planner.common.notices import Severity
from planner.config import Config
from planner.errors import FeedError, OutputError
from planner.ingest.gtfs.feed import FeedSet, feed_id_from_path, read_feeds, split_feed_spec
from planner.network import store
from planner.network.footpaths import link_network
from planner.network.model import Network
from planner.network.store import NETWORK_SCHEMA
from planner.network.streets import build_street_network
from planner.network.timetable import build_timetable, rail_stop_mask

if TYPE_CHECKING:
    from collections.abc import Sequence

    from planner.network.streets import StreetNetwork

__all__ = ["attach_drive", "build_network", "feed_digests", "network_key"]

log = logging.getLogger(__name__)


def feed_digests(specs: list[str]) -> dict[str, str]:
    """{feed id: SHA-256 of the feed's bytes} without parsing the feeds (zip: the file;
    folder: every top-level file's name and bytes, sorted)."""
    out = {}
    for spec in specs:
        fid, path = split_feed_spec(spec)
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
            msg = f"cannot read {path}: {err.strerror or err}"
            raise FeedError(msg, code="input_unreadable") from err
        out[fid] = h.hexdigest()
    return out


def network_key(feed_digests: dict[str, str], osm_digest: str, date, window, config: Config) -> str:
    """Content address of a network: inputs, parameters, planner version, schema."""
    relevant = {k: v for k, v in asdict(config).items() if k not in {"progress", "threads"}}
    if not relevant["encodings"]:  # no forced encoding: the keys of networks cached before issue 21 stay valid
        del relevant["encodings"]
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
    cache_dir, use_cache
        Folder of the network cache (default ``osm_cache/``); with ``use_cache=False`` the
        networks (multimodal, walk and drive) are neither read from nor written to it.
    preloaded
        The feeds of ``feeds`` (specs) already read, used if the network must be built; the
        cache key still comes from the files' digests, so both paths share one entry.
    """
    config = config or Config()
    if isinstance(feeds, FeedSet):
        fs = feeds
        digests = {f.feed_id: f.digest for f in fs}
    else:
        fs = preloaded
        specs = [str(x) for x in feeds]
        digests = feed_digests(specs)
    window = window or (0, 36 * 3600)
    if walk is None and osm is not None:
        walk = build_street_network(osm, "walk", config=config, cache_dir=cache_dir, use_cache=use_cache)
    osm_digest = "" if walk is None else f"{walk.meta.get('input_sha256', '')}|{walk.n_nodes}|{walk.n_edges}"
    key = network_key(digests, osm_digest, date, window, config)
    cache = Path(cache_dir) if cache_dir is not None else store.default_cache_dir()
    net = store.load(cache, key, config) if use_cache else None
    if net is None:
        if fs is None:
            fs = read_feeds(specs, config=config)
        tt = build_timetable(fs, date, window)
        release_free_memory()  # the timetable's intermediates (issue 17)
        net = link_network(tt, walk, config, progress=config.progress if progress is None else progress, feeds=fs)
        net.key = key
        net.inputs = {"feeds": {f.feed_id: {"path": str(f.path), "digest": f.digest} for f in fs},
                      "osm": osm_digest, "date": str(tt.service_date), "window": list(window)}
        if use_cache:
            try:
                store.save(net, cache)
            except (OutputError, OSError) as err:  # read-only or full disk: carry on uncached
                net.notices.add("cache_write_failed", Severity.WARNING,
                                f"the network could not be cached ({err}); it was built but not saved",
                                file=str(cache), action="kept")
    net.walk = walk
    net.feeds = fs
    net.feed_specs = [f"{f.feed_id}={f.path}" for f in fs] if fs is not None else specs
    if drive and osm is not None:
        drive_net = build_street_network(osm, "drive", config=config, cache_dir=cache_dir, use_cache=use_cache)
        attach_drive(net, drive_net, config)
    return net





def attach_drive(net: Network, drive: StreetNetwork, config: Config) -> None:
    """Give ``net`` a drive network (park-and-ride to its rail stations), e.g. a baseline's
    for a scenario's network."""
    tt = net.timetable
    node, _d = drive.snap_index(tt.stop_lon, tt.stop_lat, max_distance_m=config.snap_max_m, config=config)
    rail_stop = rail_stop_mask(tt)
    net.drive = drive
    net.stop_drive_node = np.where(rail_stop, node, -1).astype(np.int32)
