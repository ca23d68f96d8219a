"""Ingest: GTFS feeds, OpenStreetMap extracts, points and places, as read from files."""
