"""Expand frequencies.txt into ordinary trips.

A trip listed in frequencies.txt is a template: its stop_times give the travel and dwell
times relative to its first departure, and each frequencies.txt row says it departs the
first stop at ``start_time``, ``start_time + headway_secs``, ... while the departure is
before ``end_time`` (GTFS reference, frequencies.txt). That rule is the same for
``exact_times`` 0 (frequency-based service, times not exact) and 1 (schedule-based); the
expanded trips keep the flag in ``exact_times`` so analyses can tell them apart.

Expanded trips are named ``<template trip_id>#<HH:MM:SS of the first departure>``; a
departure already produced by an earlier window of the same template (overlapping windows)
is not produced twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.ingest.gtfs._convert import format_time

if TYPE_CHECKING:
    from planner.ingest.gtfs.feed import Feed

__all__ = ["expand_frequencies", "frequency_departures"]


def frequency_departures(frequencies: pd.DataFrame) -> pd.DataFrame:
    """One row per expanded departure: ``trip_id``, ``start_s`` (first departure), ``exact_times``."""
    if frequencies.empty:
        return pd.DataFrame({"trip_id": pd.Series([], dtype="str"), "start_s": np.array([], np.int64),
                             "exact_times": np.array([], np.int8)})
    start = frequencies["start_time"].to_numpy(dtype=np.int64)
    end = frequencies["end_time"].to_numpy(dtype=np.int64)
    hw = frequencies["headway_secs"].to_numpy(dtype=np.int64)
    exact = frequencies["exact_times"].fillna(0).to_numpy(dtype=np.int64)
    counts = np.maximum((end - start + hw - 1) // hw, 0)  # departures with start + k*hw < end
    rep = np.repeat(np.arange(len(frequencies)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    out = pd.DataFrame({
        "trip_id": frequencies["trip_id"].to_numpy(dtype=object)[rep],
        "start_s": start[rep] + offsets * hw[rep],
        "exact_times": exact[rep].astype(np.int8),
    })
    out = out.drop_duplicates(["trip_id", "start_s"], keep="first")
    out["trip_id"] = out["trip_id"].astype("str")
    return out.sort_values(["trip_id", "start_s"], kind="stable").reset_index(drop=True)


def expand_frequencies(feed: Feed) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(trips, stop_times) with every frequency template replaced by its expanded trips.

    Trips not in frequencies.txt are returned unchanged. Expanded trips carry
    ``template_trip_id`` and ``exact_times`` columns; other trips have
    ``template_trip_id == trip_id`` and ``exact_times`` -1 (not frequency-based).
    """
    trips = feed.trips.copy()
    st = feed.stop_times
    trips["template_trip_id"] = trips["trip_id"]
    trips["exact_times"] = np.int8(-1)
    deps = frequency_departures(feed.frequencies)
    if deps.empty:
        return trips, st
    templates = pd.Index(deps["trip_id"].unique())
    is_tpl_trip = trips["trip_id"].isin(templates).to_numpy(dtype=bool)
    is_tpl_st = st["trip_id"].isin(templates).to_numpy(dtype=bool)
    plain_trips = trips.loc[~is_tpl_trip]
    plain_st = st.loc[~is_tpl_st]
    tpl_st = st.loc[is_tpl_st].sort_values(["trip_id", "stop_sequence"], kind="stable")
    # offsets relative to the template's first departure
    first_dep = tpl_st.groupby("trip_id", sort=False)["departure_time"].transform("first")
    tpl_st = tpl_st.assign(
        arr_off=(tpl_st["arrival_time"] - first_dep),
        dep_off=(tpl_st["departure_time"] - first_dep),
    )
    names = np.array([f"{t}#{format_time(s)}" for t, s in zip(deps["trip_id"], deps["start_s"], strict=True)], dtype=object)
    deps = deps.assign(new_trip_id=names)
    new_trips = trips.loc[is_tpl_trip].merge(deps, on="trip_id", how="inner", suffixes=("_tpl", ""))
    new_trips["template_trip_id"] = new_trips["trip_id"]
    new_trips["trip_id"] = new_trips["new_trip_id"].astype("str")
    new_trips = new_trips.drop(columns=["new_trip_id", "start_s", "exact_times_tpl"])
    new_trips = new_trips[list(trips.columns)]
    new_st = tpl_st.merge(deps[["trip_id", "start_s", "new_trip_id"]], on="trip_id", how="inner")
    new_st["arrival_time"] = new_st["arr_off"] + new_st["start_s"]
    new_st["departure_time"] = new_st["dep_off"] + new_st["start_s"]
    new_st["trip_id"] = new_st["new_trip_id"].astype("str")
    new_st = new_st[list(st.columns)]
    out_trips = pd.concat([plain_trips, new_trips], ignore_index=True)
    out_st = pd.concat([plain_st, new_st], ignore_index=True)
    return out_trips, out_st
