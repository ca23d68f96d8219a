"""GTFS ingest: read, validate and clean one or several feeds.

>>> from planner.ingest.gtfs import read_feed            # doctest: +SKIP
>>> feed = read_feed("gtfs/harbin_metro.zip")     # doctest: +SKIP
>>> feed.stops.head()                             # doctest: +SKIP

See :mod:`planner.ingest.gtfs.feed` for the data model, :mod:`planner.ingest.gtfs.schema` for the declared
schema and :mod:`planner.common.notices` for the validation notices.
"""

from planner.ingest.gtfs.consolidation import consolidation_candidates, normalise_name
from planner.ingest.gtfs.feed import Feed, FeedSet, feed_id_from_path, read_feed, read_feeds
from planner.ingest.gtfs.service import active_services, service_date_range, service_dates

__all__ = [
    "Feed",
    "FeedSet",
    "active_services",
    "consolidation_candidates",
    "feed_id_from_path",
    "normalise_name",
    "read_feed",
    "read_feeds",
    "service_date_range",
    "service_dates",
]
