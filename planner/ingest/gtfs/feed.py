"""GTFS feeds: :class:`Feed` (one feed) and :class:`FeedSet` (several at once).

IDs are opaque strings and stay exactly as written in the feed. When several feeds are
used together, every ID is namespaced as ``"<feed_id>:<id>"`` (see :meth:`Feed.namespaced`)
so that two feeds may both have a stop ``1``. The feed id is the file or folder name
(without ``.zip``) unless given explicitly as ``ID=PATH``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.common.notices import Notices, Severity
from planner.config import Config
from planner.errors import FeedError
from planner.ingest.gtfs._load import FeedLoader
from planner.ingest.gtfs.consolidation import consolidation_candidates
from planner.ingest.gtfs.schema import TABLES

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["Feed", "FeedSet", "feed_id_from_path", "read_feed", "read_feeds", "split_feed_spec"]

_ID_OK = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass
class Feed:
    """One loaded, validated GTFS feed.

    Attributes
    ----------
    feed_id
        Short name used to namespace IDs (``[A-Za-z0-9._-]``, at most 64 characters).
    path
        Where it was read from.
    tables
        One typed DataFrame per GTFS file (absent optional files are empty frames with the
        declared columns). Column types: IDs and text as strings (``""`` = empty), integers
        and enums as nullable ``Int64``, times as nullable ``Int64`` seconds after midnight
        of the service day (may pass 86,400), dates as ``datetime64[s]``, coordinates and
        other numbers as ``float64``. Every frame has a ``_line`` column: the row's line in
        its file (header = line 1).
    notices
        Everything found while loading.
    digest
        BLAKE2b digest of the files read (for cache keys).
    present
        Names of the tables that were present in the input.
    """

    feed_id: str
    path: Path
    tables: dict[str, pd.DataFrame]
    notices: Notices
    digest: str
    present: frozenset[str] = field(default_factory=frozenset)
    trips_in_file: int = 0
    dropped_trips: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    @property
    def agency(self) -> pd.DataFrame:
        return self.tables["agency"]

    @property
    def stops(self) -> pd.DataFrame:
        return self.tables["stops"]

    @property
    def routes(self) -> pd.DataFrame:
        return self.tables["routes"]

    @property
    def trips(self) -> pd.DataFrame:
        return self.tables["trips"]

    @property
    def stop_times(self) -> pd.DataFrame:
        return self.tables["stop_times"]

    @property
    def calendar(self) -> pd.DataFrame:
        return self.tables["calendar"]

    @property
    def calendar_dates(self) -> pd.DataFrame:
        return self.tables["calendar_dates"]

    @property
    def frequencies(self) -> pd.DataFrame:
        return self.tables["frequencies"]

    @property
    def transfers(self) -> pd.DataFrame:
        return self.tables["transfers"]

    def english_stop_names(self) -> pd.Series:
        """Each stop's English name, aligned with :attr:`stops` (``""`` where there is none):
        the optional ``stop_name_en`` column, else ``translations.txt`` (language ``en`` or
        ``en-*``, table ``stops``, field ``stop_name``; by ``record_id``, else by
        ``field_value``)."""
        st = self.stops
        en = pd.Series([str(v).strip() for v in st["stop_name_en"].fillna("")] if "stop_name_en" in st
                       else [""] * len(st), index=st.index, dtype=object)
        tr = self.tables.get("translations")
        if tr is None or not len(tr) or not (en == "").any():
            return en
        lang = tr["language"].fillna("").astype(str).str.lower()
        t = tr[((lang == "en") | lang.str.startswith("en-")) & (tr["table_name"] == "stops")
               & (tr["field_name"] == "stop_name")]
        by_id = {k: v for k, v in zip(t["record_id"], t["translation"], strict=True) if k}
        by_value = {k: v for k, v in zip(t["field_value"], t["translation"], strict=True) if k}
        found = [str(by_id.get(i) or by_value.get(n) or "").strip() for i, n in zip(st["stop_id"], st["stop_name"],
                                                                                   strict=True)]
        return pd.Series([e or f for e, f in zip(en.tolist(), found, strict=True)], index=st.index, dtype=object)

    @property
    def timezone(self) -> str:
        """The agencies' time zone (all agencies of a feed share one)."""
        return str(self.agency["agency_timezone"].iloc[0])

    def namespaced(self, name: str) -> pd.DataFrame:
        """A copy of table ``name`` with every ID column prefixed ``"<feed_id>:"``.

        Empty IDs stay empty. A ``feed_id`` column is added.
        """
        df = self.tables[name].copy()
        t = TABLES[name]
        prefix = f"{self.feed_id}:"
        for c in t.columns:
            if c.kind != "id" or c.name not in df:
                continue
            col = df[c.name]
            df[c.name] = col.where(col == "", prefix + col)
        df.insert(0, "feed_id", self.feed_id)
        return df


def feed_id_from_path(path: str | Path) -> str:
    """A feed id from a file or folder name: ``gtfs/harbin_metro.zip`` -> ``harbin_metro``."""
    p = Path(path)
    name = p.name
    for suffix in (".zip", ".gtfs"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-") or "feed"
    return name[:64]


def split_feed_spec(spec: str | Path) -> tuple[str | None, Path]:
    """``ID=PATH`` or ``PATH``."""
    text = str(spec)
    if "=" in text and not Path(text).exists():
        fid, _, rest = text.partition("=")
        return fid, Path(rest)
    return None, Path(text)


def read_feed(path: str | Path, feed_id: str | None = None, *, config: Config | None = None,
              notices: Notices | None = None) -> Feed:
    """Load and validate one GTFS feed (a .zip file or a folder).

    Parameters
    ----------
    path
        The feed: a zip archive or a folder of ``.txt`` files.
    feed_id
        Name used to namespace its IDs; defaults to the file name without ``.zip``.
    config
        Limits and policy; ``None`` uses the defaults.
    notices
        Collect notices here (a new collection when ``None``).

    Returns
    -------
    feed
        The typed, cleaned feed with its notices.

    Raises
    ------
    FeedError
        When the feed is unusable (exit code 2 on the command line); the message names the
        file, line and field of every fatal problem.
    """
    config = config or Config()
    fid = feed_id or feed_id_from_path(path)
    if not _ID_OK.match(fid):
        msg = f"invalid feed id {fid!r}: use letters, digits, '.', '_' or '-' (at most 64)"
        raise FeedError(msg, code="planner_invalid_feed_id")
    notices = notices if notices is not None else Notices()
    loader = FeedLoader(path, fid, config, notices)
    tables = loader.load()
    return Feed(fid, Path(path), tables, notices, loader.digest, frozenset(loader.present),
                loader.trips_in_file, dict(loader.dropped_trips))


@dataclass
class FeedSet:
    """Several feeds used together (one per operator or city), each with its own id."""

    feeds: list[Feed]
    notices: Notices

    def __iter__(self):
        return iter(self.feeds)

    def __len__(self) -> int:
        return len(self.feeds)

    def __getitem__(self, feed_id: str) -> Feed:
        for f in self.feeds:
            if f.feed_id == feed_id:
                return f
        raise KeyError(feed_id)

    @property
    def ids(self) -> list[str]:
        return [f.feed_id for f in self.feeds]

    def namespaced(self, name: str) -> pd.DataFrame:
        """Table ``name`` of every feed, IDs namespaced, concatenated."""
        frames = [f.namespaced(name) for f in self.feeds]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def consolidation_candidates(self, config: Config | None = None) -> pd.DataFrame:
        """Stations that probably appear in two feeds (see :func:`consolidation_candidates`)."""
        return consolidation_candidates(self, config or Config())


def read_feeds(specs: Iterable[str | Path], *, config: Config | None = None) -> FeedSet:
    """Load several feeds. Each spec is ``PATH`` or ``ID=PATH``.

    Feed ids must be unique (two feeds named ``gtfs.zip`` need explicit ids). Stations that
    appear in two feeds are reported as ``planner_consolidation_candidate`` notices, never
    merged silently.
    """
    config = config or Config()
    parsed = [split_feed_spec(s) for s in specs]
    if not parsed:
        msg = "no GTFS feed given"
        raise FeedError(msg, code="input_unreadable", hint="pass one or more feed paths")
    ids = [fid or feed_id_from_path(p) for fid, p in parsed]
    seen: dict[str, Path] = {}
    for fid, (_, p) in zip(ids, parsed, strict=True):
        if fid in seen:
            msg = f"two feeds have the id {fid!r}: {seen[fid]} and {p}"
            raise FeedError(msg, code="planner_duplicate_feed_id",
                            hint=f"name them explicitly, e.g. {fid}_a={seen[fid]} {fid}_b={p}")
        seen[fid] = p
    unknown = sorted({k for k, _ in config.encodings} - set(ids) - {"*"})
    if unknown:
        msg = f"--encoding names feed(s) {', '.join(unknown)}, not among the feeds read: {', '.join(ids)}"
        raise FeedError(msg, code="planner_invalid_feed_id",
                        hint=f"use a feed id ({ids[0]}=latin-1), or the encoding alone for every feed")
    notices = Notices()
    feeds = [read_feed(p, fid, config=config, notices=notices) for fid, (_, p) in zip(ids, parsed, strict=True)]
    fs = FeedSet(feeds, notices)
    if len(feeds) > 1:
        zones = {f.feed_id: f.timezone for f in feeds}
        if len(set(zones.values())) > 1:
            notices.add("planner_mixed_timezones", Severity.WARNING,
                        "feeds use different time zones: " + ", ".join(f"{k}={v}" for k, v in zones.items())
                        + "; times are converted to the first feed's zone on the service date")
        cands = fs.consolidation_candidates(config)
        for row in cands.itertuples(index=False):
            notices.add("planner_consolidation_candidate", Severity.INFO,
                        f"'{row.name_a}' ({row.feed_a}) and '{row.name_b}' ({row.feed_b}) are {row.distance_m:.0f} m apart "
                        f"({row.reason}); probably the same station, not merged",
                        feed=row.feed_a, file="stops.txt", field="stop_id", value=f"{row.stop_id_a} ~ {row.feed_b}:{row.stop_id_b}")
    return fs


def stop_coordinates(feed: Feed) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) arrays of the feed's stops, in stops.txt order."""
    st = feed.stops
    return st["stop_lat"].to_numpy(dtype=float), st["stop_lon"].to_numpy(dtype=float)
