"""GTFS ingest: read, validate and clean one or several feeds.

>>> from planner.ingest.gtfs import read_feed            # doctest: +SKIP
>>> feed = read_feed("gtfs/harbin_metro.zip")     # doctest: +SKIP
>>> feed.stops.head()                             # doctest: +SKIP

See :mod:`planner.ingest.gtfs.feed` for the data model, :mod:`planner.ingest.gtfs.schema` for the declared
schema and :mod:`planner.common.notices` for the validation notices.
"""

from typing import TYPE_CHECKING

from planner.common.lazy import attach

if TYPE_CHECKING:
    from planner.ingest.gtfs import (
        consolidation,
        feed,
        frequencies,
        from_timetable,
        modes,
        schema,
        service,
        summary,
        writer,
    )
    from planner.ingest.gtfs.consolidation import consolidation_candidates, normalise_name
    from planner.ingest.gtfs.feed import Feed, FeedSet, feed_id_from_path, read_feed, read_feeds
    from planner.ingest.gtfs.service import active_services, service_date_range, service_dates

__all__ = ["Feed", "FeedSet", "active_services", "consolidation", "consolidation_candidates", "feed", "feed_id_from_path", "frequencies", "from_timetable", "modes", "normalise_name", "read_feed", "read_feeds", "schema", "service", "service_date_range", "service_dates", "summary", "writer"]
__getattr__, __dir__ = attach(__name__, submodules=["consolidation", "feed", "frequencies", "from_timetable", "modes", "schema", "service", "summary", "writer"], names={"consolidation": ["consolidation_candidates", "normalise_name"], "feed": ["Feed", "FeedSet", "feed_id_from_path", "read_feed", "read_feeds"], "service": ["active_services", "service_date_range", "service_dates"]})
