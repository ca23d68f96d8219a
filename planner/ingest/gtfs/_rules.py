"""The row-level rules of a GTFS feed: what each table must hold and what a bad row drops.

:class:`FeedRules` is the half of :class:`~planner.ingest.gtfs._load.FeedLoader` that checks
the typed tables: foreign keys, agencies, stops, routes, calendars, trips, stop times,
blocks, frequencies, references, and the share of trips dropped. Every problem is a notice
with file, line, field and value (``_report``); rows are dropped, never repaired in silence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from planner.common.notices import Severity
from planner.ingest.gtfs import _convert as cv
from planner.ingest.gtfs.schema import TABLES

__all__ = ["FeedRules", "isin"]


def isin(values: pd.Series, pool) -> np.ndarray:
    """Fast exact string membership (pandas' isin on arrow strings goes through Python)."""
    if len(values) == 0:
        return np.zeros(0, bool)
    arr = cv.arrow_strings(values)
    pool_arr = pc.unique(cv.arrow_strings(pool if isinstance(pool, pd.Series) else pd.Index(pool).astype("str")))
    return pc.is_in(arr, value_set=pool_arr).to_numpy(zero_copy_only=False).astype(bool)


def _take_rows(df: pd.DataFrame, order: np.ndarray) -> pd.DataFrame:
    """``df.take(order)`` with a fresh index, built column by column while the columns of
    ``df`` are let go, so that a large table is not held twice (issue 17); ``df`` is left
    without columns."""
    cols = {}
    for name in list(df.columns):
        cols[name] = df.pop(name).take(order).reset_index(drop=True)
    return pd.DataFrame(cols)


class FeedRules:
    """The checks of :class:`~planner.ingest.gtfs._load.FeedLoader` (a mixin: it works on the
    loader's ``tables``, ``notices`` and reporting methods)."""

    def _drop(self, name: str, mask: np.ndarray) -> None:
        if mask.any():
            self.tables[name] = self.tables[name].loc[~mask].reset_index(drop=True)

    def _fk(self, child: str, col: str, parent: str, pcol: str, *, action: str = "dropped",
            parent_values: pd.Series | None = None) -> np.ndarray:
        """Mask of child rows whose non-empty ``col`` is not in the parent; reported."""
        df = self.tables[child]
        if df.empty or col not in df:
            return np.zeros(len(df), bool)
        values = df[col]
        present = (values != "").to_numpy(dtype=bool)
        pool = parent_values if parent_values is not None else self.tables[parent][pcol]
        bad = present & ~isin(values, pool)
        if bad.any():
            self._report("foreign_key_violation", Severity.ERROR,
                         f"{col} not found in {parent}.txt ({pcol})", f"{child}.txt", df, np.flatnonzero(bad),
                         field=col, values=values, action=action)
        return bad

    # -- table checks --------------------------------------------------------------------
    def _check_agency(self) -> None:
        ag = self.tables["agency"]
        if ag.empty:
            self._fatal("missing_required_file", "agency.txt has no usable rows", file="agency.txt")
            return
        bad_tz = cv.to_timezone(ag["agency_timezone"])
        for i in np.flatnonzero(bad_tz):
            self._fatal("invalid_timezone", "agency_timezone is not an IANA time zone name (e.g. Asia/Shanghai)",
                        file="agency.txt", line=int(ag["_line"].iloc[i]), field="agency_timezone",
                        value=ag["agency_timezone"].iloc[i])
        zones = ag["agency_timezone"].unique()
        if len(zones) > 1 and not bad_tz.any():
            self._fatal("inconsistent_agency_timezone",
                        f"agencies of one feed use different time zones: {', '.join(sorted(zones))}",
                        file="agency.txt", field="agency_timezone")
        if len(ag) > 1 and (ag["agency_id"] == "").any():
            i = int(np.flatnonzero((ag["agency_id"] == "").to_numpy())[0])
            self._fatal("missing_required_field", "agency_id is required when the feed has several agencies",
                        file="agency.txt", line=int(ag["_line"].iloc[i]), field="agency_id")

    def _check_stops(self) -> None:
        st = self.tables["stops"]
        fn = "stops.txt"
        lt = st["location_type"].fillna(0).astype(np.int64).to_numpy()
        st["location_type"] = pd.array(lt, dtype="Int64")
        lat = st["stop_lat"].to_numpy()
        lon = st["stop_lon"].to_numpy()
        needs_loc = lt <= 2
        no_loc = needs_loc & (np.isnan(lat) | np.isnan(lon))
        self._report("stop_without_location", Severity.ERROR, "stop, station or entrance has no stop_lat/stop_lon",
                     fn, st, np.flatnonzero(no_loc), field="stop_lat")
        with np.errstate(invalid="ignore"):
            origin = ~no_loc & (np.abs(lat) <= 1.0) & (np.abs(lon) <= 1.0)
            pole = ~no_loc & (np.abs(lat) >= 89.0)
        self._report("point_near_origin", Severity.ERROR, "stop is near (0, 0): coordinates missing or swapped?",
                     fn, st, np.flatnonzero(origin), field="stop_lat", values=st["stop_lat"].astype(str))
        self._report("point_near_pole", Severity.ERROR, "stop is near a pole: lat/lon swapped?", fn, st,
                     np.flatnonzero(pole), field="stop_lat", values=st["stop_lat"].astype(str))
        no_name = needs_loc & (st["stop_name"] == "").to_numpy(dtype=bool)
        self._report("missing_required_field", Severity.ERROR, "stop_name is required for stops, stations and entrances",
                     fn, st, np.flatnonzero(no_name), field="stop_name", action="kept")
        drop = no_loc | origin | pole
        self._drop("stops", drop)
        st = self.tables["stops"]
        lt = st["location_type"].astype(np.int64).to_numpy()
        # parent_station hierarchy
        ids = st["stop_id"]
        parent = st["parent_station"].copy()
        has_parent = (parent != "").to_numpy(dtype=bool)
        index = pd.Series(np.arange(len(st)), index=ids.to_numpy())
        pidx = index.reindex(parent.to_numpy()).to_numpy()
        found = ~np.isnan(pidx)
        clear = np.zeros(len(st), bool)
        bad_ref = has_parent & ~found
        self._report("foreign_key_violation", Severity.ERROR, "parent_station not found in stops.txt; cleared", fn, st,
                     np.flatnonzero(bad_ref), field="parent_station", values=parent, action="fixed")
        clear |= bad_ref
        self_ref = has_parent & (parent == ids).to_numpy(dtype=bool)
        self._report("wrong_parent_location_type", Severity.ERROR, "stop is its own parent_station; cleared", fn, st,
                     np.flatnonzero(self_ref), field="parent_station", values=parent, action="fixed")
        clear |= self_ref
        station_with_parent = has_parent & (lt == 1)
        self._report("station_with_parent_station", Severity.ERROR, "a station (location_type 1) cannot have a parent_station; cleared",
                     fn, st, np.flatnonzero(station_with_parent & ~clear), field="parent_station", values=parent, action="fixed")
        clear |= station_with_parent
        ok = has_parent & found & ~clear
        plt = np.full(len(st), -1)
        plt[ok] = lt[pidx[ok].astype(np.int64)]
        # expected parent types: stop/entrance/generic node -> station (1); boarding area (4) -> stop (0)
        expected = np.where(lt == 4, 0, 1)
        wrong = ok & (plt != expected)
        self._report("wrong_parent_location_type", Severity.ERROR, "parent_station has the wrong location_type; cleared", fn, st,
                     np.flatnonzero(wrong), field="parent_station", values=parent, action="fixed")
        clear |= wrong
        parent[clear] = ""
        st["parent_station"] = parent
        needs_parent = np.isin(lt, [2, 3, 4]) & (parent == "").to_numpy(dtype=bool)
        self._report("location_without_parent_station", Severity.ERROR,
                     "entrances, generic nodes and boarding areas need a parent_station", fn, st,
                     np.flatnonzero(needs_parent), field="parent_station", action="kept")
        self.tables["stops"] = st

    def _check_routes(self) -> None:
        ro = self.tables["routes"]
        ag = self.tables["agency"]
        fn = "routes.txt"
        if len(ag) == 1:
            only = ag["agency_id"].iloc[0]
            empty = (ro["agency_id"] == "").to_numpy(dtype=bool)
            ro.loc[empty, "agency_id"] = only
            # an agency with no id: routes naming some other id are still violations
            bad = self._fk("routes", "agency_id", "agency", "agency_id")
        else:
            empty = (ro["agency_id"] == "").to_numpy(dtype=bool)
            self._report("missing_required_field", Severity.ERROR, "agency_id is required when the feed has several agencies",
                         fn, ro, np.flatnonzero(empty), field="agency_id")
            bad = self._fk("routes", "agency_id", "agency", "agency_id") | empty
        no_name = ((ro["route_short_name"] == "") & (ro["route_long_name"] == "")).to_numpy(dtype=bool)
        self._report("route_both_short_and_long_name_missing", Severity.ERROR, "route has neither a short nor a long name",
                     fn, ro, np.flatnonzero(no_name & ~bad), field="route_short_name", action="kept")
        self.tables["routes"] = ro
        self._drop("routes", bad)

    def _check_calendar(self) -> None:
        cal = self.tables["calendar"]
        if not cal.empty:
            rev = (cal["start_date"] > cal["end_date"]).to_numpy(dtype=bool)
            self._report("start_and_end_range_out_of_order", Severity.ERROR, "start_date is after end_date",
                         "calendar.txt", cal, np.flatnonzero(rev), field="start_date", values=cal["start_date"].astype(str))
            self._drop("calendar", rev)
            cal = self.tables["calendar"]
            days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
            none = (cal[days].fillna(0).astype(np.int64).sum(axis=1) == 0).to_numpy()
            in_dates = isin(cal["service_id"], self.tables["calendar_dates"]["service_id"])
            self._report("service_has_no_active_day_of_the_week", Severity.WARNING,
                         "service runs on no day of the week and has no calendar_dates", "calendar.txt", cal,
                         np.flatnonzero(none & ~in_dates), field="service_id", values=cal["service_id"], action="kept")

    def _check_trips(self) -> None:
        tr = self.tables["trips"]
        self.trips_in_file = len(tr)
        bad_route = self._fk("trips", "route_id", "routes", "route_id")
        services = pd.concat([self.tables["calendar"]["service_id"], self.tables["calendar_dates"]["service_id"]])
        bad_service = self._fk("trips", "service_id", "calendar", "service_id", parent_values=services) & ~bad_route
        bad = bad_route | bad_service
        for i in np.flatnonzero(bad):
            self.dropped_trips[tr["trip_id"].iloc[i]] = "foreign_key_violation"
        if not self.tables["shapes"].empty or "shapes" in self.present:
            bad_shape = self._fk("trips", "shape_id", "shapes", "shape_id", action="fixed")
            if bad_shape.any():
                tr.loc[bad_shape, "shape_id"] = ""
        self._drop("trips", bad)

    def _drop_trips(self, trip_ids, code: str) -> None:
        for t in trip_ids:
            self.dropped_trips.setdefault(t, code)

    def _check_stop_times(self) -> None:
        st = self.tables["stop_times"]
        fn = "stop_times.txt"
        trips = self.tables["trips"]
        # rows lost to typing errors (bad time, missing stop_id...) take their trip with them
        typed_bad = self._lost_rows_trips()
        bad_trip = self._fk("stop_times", "trip_id", "trips", "trip_id")
        bad_stop = self._fk("stop_times", "stop_id", "stops", "stop_id", action="dropped")
        self._drop_trips(st.loc[bad_stop & ~bad_trip, "trip_id"].unique(), "foreign_key_violation")
        self._drop_trips(typed_bad, "planner_trip_with_bad_stop_time")
        self._drop("stop_times", bad_trip | bad_stop)
        st = self.tables["stop_times"]
        if st.empty:
            self._fatal("planner_feed_unusable", "stop_times.txt has no usable rows", file=fn)
            return
        # sorted by trip_id then stop_sequence (stable), on integer codes: trip_id codes in
        # sorted order, no Python string per row (issue 17)
        tcode, _uniq = pd.factorize(st["trip_id"], sort=True)
        order = np.lexsort((st["stop_sequence"].to_numpy(dtype=np.int64, na_value=0), tcode))
        trip = tcode[order]  # trip code per row: equal codes, equal trip_id
        del tcode
        if not np.array_equal(order, np.arange(len(order))):
            st = _take_rows(st, order)
            self.tables["stop_times"] = st  # (the unsorted frame is gone: one copy of it at a time)
        del order
        arr = st["arrival_time"].to_numpy(dtype=np.float64, na_value=np.nan)
        dep = st["departure_time"].to_numpy(dtype=np.float64, na_value=np.nan)
        only_arr = ~np.isnan(arr) & np.isnan(dep)
        only_dep = np.isnan(arr) & ~np.isnan(dep)
        self._report("stop_time_with_only_arrival_or_departure_time", Severity.ERROR,
                     "only one of arrival_time and departure_time is set; copied to the other", fn, st,
                     np.flatnonzero(only_arr | only_dep), field="arrival_time", action="fixed")
        dep = np.where(only_arr, arr, dep)
        arr = np.where(only_dep, dep, arr)
        n = len(st)

        def trip_ids(mask: np.ndarray) -> np.ndarray:
            """The sorted distinct trip_ids of the rows in ``mask``."""
            return np.unique(st["trip_id"][mask].to_numpy(dtype=object))

        first = np.ones(n, bool)
        first[1:] = trip[1:] != trip[:-1]
        last = np.ones(n, bool)
        last[:-1] = trip[1:] != trip[:-1]
        edge = (first | last) & np.isnan(arr)
        self._report("missing_trip_edge", Severity.ERROR, "first or last stop of a trip has no times; trip dropped", fn, st,
                     np.flatnonzero(edge), field="arrival_time")
        self._drop_trips(trip_ids(edge), "missing_trip_edge")
        reversed_ = arr > dep
        self._report("start_and_end_range_out_of_order", Severity.ERROR, "arrival_time is after departure_time; trip dropped",
                     fn, st, np.flatnonzero(reversed_), field="arrival_time")
        self._drop_trips(trip_ids(reversed_), "start_and_end_range_out_of_order")
        # time travel: an arrival before the last known departure of the same trip
        known = ~np.isnan(dep)
        last_dep = pd.Series(np.where(known, dep, np.nan)).groupby(trip).ffill().shift(1).to_numpy(copy=True)
        last_dep[first] = np.nan
        backwards = arr < last_dep
        self._report("stop_time_with_arrival_before_previous_departure_time", Severity.ERROR,
                     "arrival_time is before the previous stop's departure_time; trip dropped", fn, st,
                     np.flatnonzero(backwards), field="arrival_time")
        self._drop_trips(trip_ids(backwards), "stop_time_with_arrival_before_previous_departure_time")
        # shape_dist_traveled must increase along a trip; where it does not, it is ignored
        sdt = st["shape_dist_traveled"].to_numpy(dtype=np.float64)
        prev = np.r_[np.nan, sdt[:-1]]
        prev[first] = np.nan
        with np.errstate(invalid="ignore"):
            bad_sdt = ~np.isnan(sdt) & ~np.isnan(prev) & (sdt <= prev)
        if bad_sdt.any():
            self._report("decreasing_or_equal_stop_time_distance", Severity.ERROR,
                         "shape_dist_traveled does not increase along the trip; ignored for this trip", fn, st,
                         np.flatnonzero(bad_sdt), field="shape_dist_traveled",
                         values=st["shape_dist_traveled"].astype(str), action="fixed")
            bad_trips = np.unique(trip[bad_sdt])
            st.loc[np.isin(trip, bad_trips), "shape_dist_traveled"] = np.nan  # trip codes
        st["arrival_time"] = pd.array(np.where(np.isnan(arr), 0, arr).astype(np.int64), dtype="Int64")
        st.loc[np.isnan(arr), "arrival_time"] = pd.NA
        st["departure_time"] = pd.array(np.where(np.isnan(dep), 0, dep).astype(np.int64), dtype="Int64")
        st.loc[np.isnan(dep), "departure_time"] = pd.NA
        counts = st.groupby("trip_id", sort=False).size()
        short = counts[counts < 2].index
        if len(short):
            tr = trips.set_index("trip_id")
            rows = np.flatnonzero(isin(trips["trip_id"], short))
            self._report("unusable_trip", Severity.WARNING, "trip has fewer than two stop_times; dropped", "trips.txt",
                         trips, rows, field="trip_id", values=trips["trip_id"])
            del tr
            self._drop_trips(short, "unusable_trip")
        unused = ~isin(trips["trip_id"], counts.index)
        unused &= ~isin(trips["trip_id"], list(self.dropped_trips))
        self._report("unused_trip", Severity.WARNING, "trip has no stop_times; dropped", "trips.txt", trips,
                     np.flatnonzero(unused), field="trip_id", values=trips["trip_id"])
        self._drop_trips(trips["trip_id"].to_numpy()[unused], "unused_trip")
        self.tables["stop_times"] = st
        self._apply_trip_drops()
        self._check_blocks()

    def _check_blocks(self) -> None:
        """Trips of one block on one service must not overlap in time (reported, kept)."""
        tr = self.tables["trips"]
        if tr.empty or not (tr["block_id"] != "").any():
            return
        st = self.tables["stop_times"]
        span = st.groupby("trip_id", sort=False).agg(first=("departure_time", "min"), last=("arrival_time", "max"))
        b = tr.loc[tr["block_id"] != "", ["trip_id", "block_id", "service_id", "_line"]].merge(
            span, left_on="trip_id", right_index=True, how="inner")
        b = b.sort_values(["block_id", "service_id", "first", "_line"], kind="stable")
        idx = []
        for _key, g in b.groupby(["block_id", "service_id"], sort=False):
            if len(g) < 2:
                continue
            first = g["first"].to_numpy(dtype=np.float64)
            last = g["last"].to_numpy(dtype=np.float64)
            running = np.maximum.accumulate(last)
            overlap = np.r_[False, first[1:] < running[:-1]]
            idx.extend(g.index[overlap].tolist())
        if idx:
            rows = np.flatnonzero(tr.index.isin(idx))
            self._report("block_trips_with_overlapping_stop_times", Severity.ERROR,
                         "trip overlaps in time with another trip of the same block", "trips.txt", tr, rows,
                         field="block_id", values=tr["block_id"], action="kept")

    def _lost_rows_trips(self) -> list[str]:
        """Trips that lost stop_times rows while typing (invalid time, stop_sequence...)."""
        return sorted(self._typing_dropped_trips)

    def _apply_trip_drops(self) -> None:
        if not self.dropped_trips:
            return
        dropped = pd.Index(list(self.dropped_trips))
        for name in ("trips", "stop_times", "frequencies"):
            df = self.tables[name]
            if df.empty:
                continue
            self._drop(name, isin(df["trip_id"], dropped))

    def _check_frequencies(self) -> None:
        fr = self.tables["frequencies"]
        if fr.empty:
            return
        fn = "frequencies.txt"
        bad_trip = self._fk("frequencies", "trip_id", "trips", "trip_id")
        fr = fr.loc[~bad_trip].reset_index(drop=True)
        rev = (fr["start_time"] >= fr["end_time"]).to_numpy(dtype=bool)
        self._report("start_and_end_range_out_of_order", Severity.ERROR, "start_time is not before end_time", fn, fr,
                     np.flatnonzero(rev), field="start_time")
        fr = fr.loc[~rev].sort_values(["trip_id", "start_time", "_line"], kind="stable").reset_index(drop=True)
        trip = fr["trip_id"].to_numpy(dtype=object)
        start = fr["start_time"].to_numpy(dtype=np.int64)
        end = fr["end_time"].to_numpy(dtype=np.int64)
        overlap = np.zeros(len(fr), bool)
        running_end = -1
        for i in range(len(fr)):
            if i > 0 and trip[i] == trip[i - 1]:
                if start[i] < running_end:
                    overlap[i] = True
                running_end = max(running_end, end[i])
            else:
                running_end = end[i]
        # kept: real feeds (HSL 2022) overlap windows by a minute; expansion drops any
        # departure that would duplicate one of an earlier window of the same trip
        self._report("overlapping_frequency", Severity.ERROR,
                     "frequency window overlaps an earlier one of the same trip; kept, duplicate departures removed",
                     fn, fr, np.flatnonzero(overlap), field="start_time", action="kept")
        self.tables["frequencies"] = fr
        self._check_frequency_volume(fr)

    def _check_frequency_volume(self, fr: pd.DataFrame) -> None:
        """Refuse a frequencies.txt that would expand to more stop times than the limit."""
        if fr.empty:
            return
        start = fr["start_time"].to_numpy(dtype=np.int64)
        end = fr["end_time"].to_numpy(dtype=np.int64)
        hw = np.maximum(fr["headway_secs"].to_numpy(dtype=np.int64), 1)
        departures = np.maximum((end - start + hw - 1) // hw, 0)
        stops = self.tables["stop_times"].groupby("trip_id", sort=False).size()
        per_row = departures * stops.reindex(fr["trip_id"]).fillna(0).to_numpy(dtype=np.int64)
        total = int(per_row.sum())
        limit = self.config.max_frequency_stop_times
        if total > limit:
            i = int(np.argmax(per_row))
            self._fatal("planner_too_many_frequency_trips",
                        f"frequencies.txt expands to {total:,} stop times, more than the {limit:,} allowed; the "
                        f"largest row makes {int(departures[i]):,} departures of trip {fr['trip_id'].iloc[i]} "
                        f"(every {int(hw[i])} s for {(end[i] - start[i]) / 3600:,.1f} h)",
                        file="frequencies.txt", line=int(fr["_line"].iloc[i]), field="headway_secs",
                        value=str(int(hw[i])))

    def _check_references(self) -> None:
        """Generic foreign keys declared in the schema for the remaining tables."""
        stops = self.tables["stops"]
        zones = stops["zone_id"][stops["zone_id"] != ""]
        fr = self.tables["fare_rules"]
        if not fr.empty:
            bad = self._fk("fare_rules", "fare_id", "fare_attributes", "fare_id")
            bad |= self._fk("fare_rules", "route_id", "routes", "route_id")
            # unknown zones are kept: dropping a contains_id row would change which fare a rule
            # describes, and a rule naming a zone no stop is in simply never matches
            for col in ("origin_id", "destination_id", "contains_id"):
                self._fk("fare_rules", col, "stops", "zone_id", parent_values=zones, action="kept")
            self._drop("fare_rules", bad)
        fa = self.tables["fare_attributes"]
        if not fa.empty and len(self.tables["agency"]) > 1:
            self._drop("fare_attributes", self._fk("fare_attributes", "agency_id", "agency", "agency_id"))
        tf = self.tables["transfers"]
        if not tf.empty:
            bad = np.zeros(len(tf), bool)
            for col, parent, pcol in (("from_stop_id", "stops", "stop_id"), ("to_stop_id", "stops", "stop_id"),
                                      ("from_route_id", "routes", "route_id"), ("to_route_id", "routes", "route_id"),
                                      ("from_trip_id", "trips", "trip_id"), ("to_trip_id", "trips", "trip_id")):
                bad |= self._fk("transfers", col, parent, pcol)
            tf_types = tf["transfer_type"].fillna(0).astype(np.int64).to_numpy()
            no_time = (tf_types == 2) & tf["min_transfer_time"].isna().to_numpy()
            self._report("missing_required_field", Severity.ERROR,
                         "transfer_type 2 needs min_transfer_time; treated as 0 s", "transfers.txt", tf,
                         np.flatnonzero(no_time & ~bad), field="min_transfer_time", action="kept")
            self._drop("transfers", bad)
        for name in ("pathways", "stop_areas", "route_networks", "fare_products", "fare_leg_rules", "levels"):
            t = TABLES[name]
            if self.tables[name].empty:
                continue
            bad = np.zeros(len(self.tables[name]), bool)
            for c in t.columns:
                if c.ref is None:
                    continue
                ptable, pcol = c.ref
                if ptable not in self.present and ptable not in {"stops", "routes", "trips"}:
                    continue
                bad |= self._fk(name, c.name, ptable, pcol)
            self._drop(name, bad)
        # stops.level_id
        if "levels" in self.present:
            bad = self._fk("stops", "level_id", "levels", "level_id", action="fixed")
            if bad.any():
                self.tables["stops"].loc[bad, "level_id"] = ""
        self._check_pathway_levels()

    def _check_pathway_levels(self) -> None:
        """Pathways that contradict levels.txt (issue 19's "level cycle"): stairs, an escalator
        or an elevator (pathway_mode 2, 4, 5) whose two ends are on the same level, so that
        taking it leads back to the level it left. (A parent_station cycle cannot get this far:
        a station may have no parent, and every parent must be a station or a platform.)"""
        pw, lv, st = self.tables["pathways"], self.tables["levels"], self.tables["stops"]
        if not pw.empty and "location_type" in st:
            # GTFS: a pathway never ends at a station (location_type 1); walk to its platforms instead
            lt = dict(zip(st["stop_id"], pd.to_numeric(st["location_type"], errors="coerce").fillna(0), strict=True))
            station = np.array([lt.get(x, 0) == 1 or lt.get(y, 0) == 1
                                for x, y in zip(pw["from_stop_id"], pw["to_stop_id"], strict=True)], bool)
            self._report("pathway_to_wrong_location_type", Severity.ERROR,
                         "a pathway ends at a station (location_type 1); dropped", "pathways.txt", pw,
                         np.flatnonzero(station), field="from_stop_id", values=pw["from_stop_id"].astype(str))
            self._drop("pathways", station)
            pw = self.tables["pathways"]
        if pw.empty or lv.empty or "level_id" not in st:
            return
        index = dict(zip(lv["level_id"], pd.to_numeric(lv["level_index"], errors="coerce"), strict=True))
        level_of = dict(zip(st["stop_id"], st["level_id"], strict=True))

        def level(col: str) -> np.ndarray:
            return np.array([index.get(level_of.get(s, ""), np.nan) for s in pw[col]], dtype=np.float64)

        a, b = level("from_stop_id"), level("to_stop_id")
        mode = pd.to_numeric(pw["pathway_mode"], errors="coerce").to_numpy()
        same = np.isin(mode, (2, 4, 5)) & np.isfinite(a) & (a == b)
        self._report("pathway_level_mismatch", Severity.ERROR,
                     "stairs, escalator or elevator (pathway_mode 2, 4, 5) between two stops on the same level; "
                     "kept as a walkway", "pathways.txt", pw, np.flatnonzero(same), field="pathway_mode",
                     values=pw["pathway_mode"].astype(str), action="kept")

    def _check_dropped_share(self) -> None:
        total = max(self.trips_in_file, 1)
        dropped = len(self.dropped_trips)
        share = dropped / total
        if dropped and share > self.config.max_dropped_trip_share:
            codes = pd.Series(list(self.dropped_trips.values())).value_counts()
            why = ", ".join(f"{c} {n}" for c, n in codes.items())
            self._fatal("planner_too_many_dropped_trips",
                        f"{dropped:,} of {self.trips_in_file:,} trips ({share:.0%}) had to be dropped ({why}), more than "
                        f"the {self.config.max_dropped_trip_share:.0%} allowed", file="trips.txt")
        if self.tables["trips"].empty:
            self._fatal("planner_feed_unusable", "no usable trips remain after validation", file="trips.txt")
        if dropped:
            self.notices.add("planner_trips_dropped", Severity.INFO,
                             f"{dropped:,} of {self.trips_in_file:,} trips dropped for errors (see the notices above)",
                             feed=self.feed, file="trips.txt", count=1)
