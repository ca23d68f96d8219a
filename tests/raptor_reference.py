"""Slow, obviously-correct references for the RAPTOR kernels, written only for the tests,
and a generator of random small GTFS feeds.

Semantics (the same as planner.kernels.raptor): access legs (plus one footpath), a change
time after alighting at a stop, one footpath after alighting, no footpath chaining.
"""

from __future__ import annotations

import numpy as np

INF = 2_000_000_000


def trips_of(tt):
    """Every trip as (stops, board, alight, arr, dep) Python lists, from the timetable arrays."""
    out = []
    for p in range(tt.n_patterns):
        a, b = tt.pattern_stops_ptr[p], tt.pattern_stops_ptr[p + 1]
        stops = tt.pattern_stops[a:b].tolist()
        board = tt.pattern_board[a:b].tolist()
        alight = tt.pattern_alight[a:b].tolist()
        A, D = tt.pattern_trip_times(p)
        for k in range(A.shape[0]):
            out.append((stops, board, alight, A[k].tolist(), D[k].tolist()))
    return out


def fp_dict(fp):
    d = {}
    for s in range(len(fp.ptr) - 1):
        for j in range(fp.ptr[s], fp.ptr[s + 1]):
            d.setdefault(s, []).append((int(fp.to[j]), int(fp.seconds[j])))
    return d


def csa(trips, n_stops, fps, change, access, dep, max_duration):
    """Connection scan, unlimited transfers: earliest time at every stop."""
    conns = []
    for ti, (stops, _board, _alight, arr, dp) in enumerate(trips):
        for i in range(len(stops) - 1):
            conns.append((dp[i], arr[i + 1], stops[i], stops[i + 1], ti, i))
    conns.sort(key=lambda c: (c[0], c[1]))
    walk = [INF] * n_stops     # arrived on foot: can board, cannot walk on
    veh = [INF] * n_stops      # arrived by vehicle: change or walk on
    for s, t in access:
        walk[s] = min(walk[s], dep + t)
    for s, t in access:
        for s2, w in fps.get(s, []):
            walk[s2] = min(walk[s2], dep + t + w)
    on_trip = set()
    for d, a, s_from, s_to, ti, i in conns:
        stops, board, alight, arr, dp = trips[ti]
        ready = min(walk[s_from], veh[s_from] + change[s_from] if veh[s_from] < INF else INF)
        if ti not in on_trip and board[i] and ready <= d:
            on_trip.add(ti)
        if ti in on_trip and alight[i + 1] and a < veh[s_to]:
            veh[s_to] = a
            for s2, w in fps.get(s_to, []):
                walk[s2] = min(walk[s2], a + w)
    best = [min(w, v) for w, v in zip(walk, veh, strict=True)]
    return [t if t <= dep + max_duration else INF for t in best]


def rounds_bruteforce(trips, n_stops, fps, change, access, dep, max_rounds, max_duration):
    """Per-round earliest time at each stop with at most k trips (list of lists)."""
    walk = [INF] * n_stops
    for s, t in access:
        walk[s] = min(walk[s], dep + t)
    for s, t in access:
        for s2, w in fps.get(s, []):
            walk[s2] = min(walk[s2], dep + t + w)
    veh = [INF] * n_stops
    ready = list(walk)
    result = [[min(a, b) for a, b in zip(walk, veh, strict=True)]]
    for _k in range(max_rounds):
        new_veh = list(veh)
        for stops, board, alight, arr, dp in trips:
            on = False
            for i, s in enumerate(stops):
                if on and alight[i]:
                    new_veh[s] = min(new_veh[s], arr[i])
                if not on and board[i] and ready[s] <= dp[i]:
                    on = True
        new_walk = list(walk)
        for s in range(n_stops):
            if new_veh[s] < INF:
                for s2, w in fps.get(s, []):
                    new_walk[s2] = min(new_walk[s2], new_veh[s] + w)
        veh, walk = new_veh, new_walk
        ready = [min(walk[s], veh[s] + change[s] if veh[s] < INF else INF) for s in range(n_stops)]
        result.append([min(a, b) for a, b in zip(walk, veh, strict=True)])
    return [[t if t <= dep + max_duration else INF for t in row] for row in result]


def random_feed(rng: np.random.Generator, n_stops=12, n_routes=5, trips_per_route=(3, 8), p_no_pickup=0.1):
    """Files of a random small GTFS feed (all on one service day, 2024-01-02)."""
    lat0, lon0 = 45.75, 126.6
    stops = "stop_id,stop_name,stop_lat,stop_lon\n" + "".join(
        f"s{i},Stop {i},{lat0 + rng.uniform(0, 0.05):.6f},{lon0 + rng.uniform(0, 0.05):.6f}\n" for i in range(n_stops)
    )
    routes = "route_id,agency_id,route_short_name,route_type\n"
    trips = "route_id,service_id,trip_id\n"
    st = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type,drop_off_type"]
    for r in range(n_routes):
        routes += f"r{r},A,{r},3\n"
        length = int(rng.integers(2, min(7, n_stops) + 1))
        seq = rng.choice(n_stops, size=length, replace=False)
        base_seg = rng.integers(60, 900, size=length - 1)
        for t in range(int(rng.integers(*trips_per_route))):
            tid = f"t{r}_{t}"
            trips += f"r{r},D,{tid}\n"
            time = int(rng.integers(7 * 3600, 9 * 3600))
            speed = rng.uniform(0.6, 1.4)  # different speeds: some trips overtake
            for i, s in enumerate(seq):
                dwell = int(rng.integers(0, 120))
                pick = 1 if rng.random() < p_no_pickup else 0
                drop = 1 if rng.random() < p_no_pickup else 0
                st.append(f"{tid},{_fmt(time)},{_fmt(time + dwell)},s{s},{i + 1},{pick},{drop}")
                time += dwell
                if i < length - 1:
                    time += max(30, int(base_seg[i] * speed))
    return {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nA,A,https://a.example,Asia/Shanghai\n",
        "stops.txt": stops,
        "routes.txt": routes,
        "trips.txt": trips,
        "stop_times.txt": "\n".join(st) + "\n",
        "calendar_dates.txt": "service_id,date,exception_type\nD,20240102,1\n",
    }


def _fmt(t):
    return f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"


def random_footpaths(rng, n_stops, p=0.2):
    src, dst, sec = [], [], []
    for a in range(n_stops):
        for b in range(a + 1, n_stops):
            if rng.random() < p:
                w = int(rng.integers(30, 900))
                src += [a, b]
                dst += [b, a]
                sec += [w, w]
    return src, dst, sec
