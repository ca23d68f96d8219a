"""The declared GTFS schema: every file, column, type, key and reference we read.

Every column is read as text and then converted by the ``kind`` declared here, in one place
(``planner.ingest.gtfs._convert``); the tests use the same table. Kinds:

``id``
    opaque string, kept exactly (``007`` stays ``007``, ``NA`` is a valid id)
``text``
    free text
``int`` / ``float``
    numbers (``1.0`` is not an int, ``1,5`` is not a float, ``nan``/``inf`` are refused)
``enum``
    an int from ``values``
``time``
    ``H:MM:SS`` / ``HH:MM:SS`` / ``HHH:MM:SS`` (hours may pass 24: overnight trips), seconds
``date``
    ``YYYYMMDD``
``lat`` / ``lon``
    WGS84 degrees
``timezone``
    an IANA time zone name
``url``, ``email``, ``phone``, ``lang``, ``color``, ``currency``
    checked lightly; a bad value is reported and kept

``required`` means the column must be present and every value non-empty (a row with an empty
required value is dropped). Conditionally required columns are checked in the loader.
``ref`` names the (file, column) a value must exist in.

Sources: the GTFS Schedule reference (gtfs.org/schedule/reference, revision of 2024-2025)
including Fares v1 and the Fares v2 files adopted by then.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TABLES", "Column", "Table", "column", "table"]


@dataclass(frozen=True)
class Column:
    """One column of a GTFS file."""

    name: str
    kind: str = "text"
    required: bool = False
    values: tuple[int, ...] = ()
    min: float | None = None
    max: float | None = None
    ref: tuple[str, str] | None = None


@dataclass(frozen=True)
class Table:
    """One GTFS file (``name`` without ``.txt``)."""

    name: str
    required: bool
    key: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def filename(self) -> str:
        return f"{self.name}.txt"

    def col(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def column(name: str, kind: str = "text", **kw) -> Column:
    return Column(name, kind, **kw)


def table(name: str, required: bool, key: tuple[str, ...], *cols: Column) -> Table:
    return Table(name, required, key, tuple(cols))


C = column
ENUM01 = (0, 1)
ENUM012 = (0, 1, 2)
PICKUP = (0, 1, 2, 3)

_TABLES = [
    table(
        "agency", True, ("agency_id",),
        C("agency_id", "id"),
        C("agency_name", "text", required=True),
        C("agency_url", "url", required=True),
        C("agency_timezone", "timezone", required=True),
        C("agency_lang", "lang"),
        C("agency_phone", "phone"),
        C("agency_fare_url", "url"),
        C("agency_email", "email"),
    ),
    table(
        "stops", True, ("stop_id",),
        C("stop_id", "id", required=True),
        C("stop_code", "text"),
        C("stop_name", "text"),
        C("tts_stop_name", "text"),
        C("stop_desc", "text"),
        C("stop_lat", "lat"),
        C("stop_lon", "lon"),
        C("zone_id", "id"),
        C("stop_url", "url"),
        C("location_type", "enum", values=(0, 1, 2, 3, 4)),
        C("parent_station", "id"),
        C("stop_timezone", "timezone"),
        C("wheelchair_boarding", "enum", values=ENUM012),
        C("level_id", "id", ref=("levels", "level_id")),
        C("platform_code", "text"),
    ),
    table(
        "routes", True, ("route_id",),
        C("route_id", "id", required=True),
        C("agency_id", "id", ref=("agency", "agency_id")),
        C("route_short_name", "text"),
        C("route_long_name", "text"),
        C("route_desc", "text"),
        C("route_type", "int", required=True, min=0),
        C("route_url", "url"),
        C("route_color", "color"),
        C("route_text_color", "color"),
        C("route_sort_order", "int", min=0),
        C("continuous_pickup", "enum", values=PICKUP),
        C("continuous_drop_off", "enum", values=PICKUP),
        C("network_id", "id"),
    ),
    table(
        "trips", True, ("trip_id",),
        C("route_id", "id", required=True, ref=("routes", "route_id")),
        C("service_id", "id", required=True),
        C("trip_id", "id", required=True),
        C("trip_headsign", "text"),
        C("trip_short_name", "text"),
        C("direction_id", "enum", values=ENUM01),
        C("block_id", "id"),
        C("shape_id", "id"),
        C("wheelchair_accessible", "enum", values=ENUM012),
        C("bikes_allowed", "enum", values=ENUM012),
    ),
    table(
        "stop_times", True, ("trip_id", "stop_sequence"),
        C("trip_id", "id", required=True, ref=("trips", "trip_id")),
        C("arrival_time", "time"),
        C("departure_time", "time"),
        C("stop_id", "id", required=True, ref=("stops", "stop_id")),
        C("stop_sequence", "int", required=True, min=0),
        C("stop_headsign", "text"),
        C("pickup_type", "enum", values=PICKUP),
        C("drop_off_type", "enum", values=PICKUP),
        C("continuous_pickup", "enum", values=PICKUP),
        C("continuous_drop_off", "enum", values=PICKUP),
        C("shape_dist_traveled", "float", min=0),
        C("timepoint", "enum", values=ENUM01),
    ),
    table(
        "calendar", False, ("service_id",),
        C("service_id", "id", required=True),
        *(C(d, "enum", required=True, values=ENUM01) for d in
          ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")),
        C("start_date", "date", required=True),
        C("end_date", "date", required=True),
    ),
    table(
        "calendar_dates", False, ("service_id", "date"),
        C("service_id", "id", required=True),
        C("date", "date", required=True),
        C("exception_type", "enum", required=True, values=(1, 2)),
    ),
    table(
        "fare_attributes", False, ("fare_id",),
        C("fare_id", "id", required=True),
        C("price", "float", required=True, min=0),
        C("currency_type", "currency", required=True),
        C("payment_method", "enum", required=True, values=ENUM01),
        C("transfers", "enum", values=ENUM012),
        C("agency_id", "id", ref=("agency", "agency_id")),
        C("transfer_duration", "int", min=0),
    ),
    table(
        "fare_rules", False, (),
        C("fare_id", "id", required=True, ref=("fare_attributes", "fare_id")),
        C("route_id", "id", ref=("routes", "route_id")),
        C("origin_id", "id"),
        C("destination_id", "id"),
        C("contains_id", "id"),
    ),
    table(
        "shapes", False, ("shape_id", "shape_pt_sequence"),
        C("shape_id", "id", required=True),
        C("shape_pt_lat", "lat", required=True),
        C("shape_pt_lon", "lon", required=True),
        C("shape_pt_sequence", "int", required=True, min=0),
        C("shape_dist_traveled", "float", min=0),
    ),
    table(
        "frequencies", False, ("trip_id", "start_time"),
        C("trip_id", "id", required=True, ref=("trips", "trip_id")),
        C("start_time", "time", required=True),
        C("end_time", "time", required=True),
        C("headway_secs", "int", required=True, min=1),
        C("exact_times", "enum", values=ENUM01),
    ),
    table(
        "transfers", False, (),
        C("from_stop_id", "id", ref=("stops", "stop_id")),
        C("to_stop_id", "id", ref=("stops", "stop_id")),
        C("from_route_id", "id", ref=("routes", "route_id")),
        C("to_route_id", "id", ref=("routes", "route_id")),
        C("from_trip_id", "id", ref=("trips", "trip_id")),
        C("to_trip_id", "id", ref=("trips", "trip_id")),
        C("transfer_type", "enum", values=(0, 1, 2, 3, 4, 5)),
        C("min_transfer_time", "int", min=0),
    ),
    table(
        "pathways", False, ("pathway_id",),
        C("pathway_id", "id", required=True),
        C("from_stop_id", "id", required=True, ref=("stops", "stop_id")),
        C("to_stop_id", "id", required=True, ref=("stops", "stop_id")),
        C("pathway_mode", "enum", required=True, values=(1, 2, 3, 4, 5, 6, 7)),
        C("is_bidirectional", "enum", required=True, values=ENUM01),
        C("length", "float", min=0),
        C("traversal_time", "int", min=1),
        C("stair_count", "int"),
        C("max_slope", "float"),
        C("min_width", "float", min=0),
        C("signposted_as", "text"),
        C("reversed_signposted_as", "text"),
    ),
    table(
        "levels", False, ("level_id",),
        C("level_id", "id", required=True),
        C("level_index", "float", required=True),
        C("level_name", "text"),
    ),
    table(
        "feed_info", False, (),
        C("feed_publisher_name", "text", required=True),
        C("feed_publisher_url", "url", required=True),
        C("feed_lang", "lang", required=True),
        C("default_lang", "lang"),
        C("feed_start_date", "date"),
        C("feed_end_date", "date"),
        C("feed_version", "text"),
        C("feed_contact_email", "email"),
        C("feed_contact_url", "url"),
    ),
    table(
        "attributions", False, (),
        C("attribution_id", "id"),
        C("agency_id", "id"),
        C("route_id", "id"),
        C("trip_id", "id"),
        C("organization_name", "text", required=True),
        C("is_producer", "enum", values=ENUM01),
        C("is_operator", "enum", values=ENUM01),
        C("is_authority", "enum", values=ENUM01),
        C("attribution_url", "url"),
        C("attribution_email", "email"),
        C("attribution_phone", "phone"),
    ),
    table(
        "translations", False, (),
        C("table_name", "text", required=True),
        C("field_name", "text", required=True),
        C("language", "lang", required=True),
        C("translation", "text", required=True),
        C("record_id", "text"),
        C("record_sub_id", "text"),
        C("field_value", "text"),
    ),
    # --- GTFS Fares v2 -----------------------------------------------------------------
    table(
        "areas", False, ("area_id",),
        C("area_id", "id", required=True),
        C("area_name", "text"),
    ),
    table(
        "stop_areas", False, ("area_id", "stop_id"),
        C("area_id", "id", required=True, ref=("areas", "area_id")),
        C("stop_id", "id", required=True, ref=("stops", "stop_id")),
    ),
    table(
        "networks", False, ("network_id",),
        C("network_id", "id", required=True),
        C("network_name", "text"),
    ),
    table(
        "route_networks", False, ("route_id",),
        C("network_id", "id", required=True, ref=("networks", "network_id")),
        C("route_id", "id", required=True, ref=("routes", "route_id")),
    ),
    table(
        "rider_categories", False, ("rider_category_id",),
        C("rider_category_id", "id", required=True),
        C("rider_category_name", "text", required=True),
        C("is_default_fare_category", "enum", values=ENUM01),
        C("eligibility_url", "url"),
    ),
    table(
        "fare_media", False, ("fare_media_id",),
        C("fare_media_id", "id", required=True),
        C("fare_media_name", "text"),
        C("fare_media_type", "enum", required=True, values=(0, 1, 2, 3, 4)),
    ),
    table(
        "fare_products", False, ("fare_product_id", "rider_category_id", "fare_media_id"),
        C("fare_product_id", "id", required=True),
        C("fare_product_name", "text"),
        C("rider_category_id", "id", ref=("rider_categories", "rider_category_id")),
        C("fare_media_id", "id", ref=("fare_media", "fare_media_id")),
        C("amount", "float", required=True),
        C("currency", "currency", required=True),
    ),
    table(
        "timeframes", False, (),
        C("timeframe_group_id", "id", required=True),
        C("start_time", "time"),
        C("end_time", "time"),
        C("service_id", "id", required=True),
    ),
    table(
        "fare_leg_rules", False, (),
        C("leg_group_id", "id"),
        C("network_id", "id"),
        C("from_area_id", "id", ref=("areas", "area_id")),
        C("to_area_id", "id", ref=("areas", "area_id")),
        C("from_timeframe_group_id", "id"),
        C("to_timeframe_group_id", "id"),
        C("fare_product_id", "id", required=True),
        C("rule_priority", "int", min=0),
    ),
    table(
        "fare_transfer_rules", False, (),
        C("from_leg_group_id", "id"),
        C("to_leg_group_id", "id"),
        C("transfer_count", "int", min=-1),
        C("duration_limit", "int", min=1),
        C("duration_limit_type", "enum", values=(0, 1, 2, 3)),
        C("fare_transfer_type", "enum", required=True, values=(0, 1, 2)),
        C("fare_product_id", "id"),
    ),
]

#: every file we read, by name without ``.txt``, in dependency order
TABLES: dict[str, Table] = {t.name: t for t in _TABLES}

#: GTFS files that are part of the spec but that we only recognise (not read)
KNOWN_UNREAD = frozenset(
    {
        "booking_rules.txt", "location_groups.txt", "location_group_stops.txt",
        "locations.geojson",
    }
)
