"""Slow, obviously-correct references for the fare-aware kernels (tests only), and random
tariffs for random timetables.

Semantics are those of planner.kernels.fare_raptor (module docstring): RAPTOR's movement
rules, a penalty when boarding a pattern whose ticketing group differs from the one held,
and the kernel tariff (tickets = runs of rides in one system, zone prices by ticket origin
and current zone, a ride part for the first ride, continued rides within a window).
"""

from __future__ import annotations

import math

import numpy as np

from planner.routing.tariff import pattern_distances_m, tariff_from_arrays

INF = 2_000_000_000
FREE = 1 << 50
UNLIMITED = 1 << 40
FARE_NA = 1_000_000_000


def pattern_trips(tt):
    """Every trip as (pattern, stops, board, alight, arr, dep) with Python lists."""
    out = []
    for p in range(tt.n_patterns):
        a, b = tt.pattern_stops_ptr[p], tt.pattern_stops_ptr[p + 1]
        stops = tt.pattern_stops[a:b].tolist()
        board = tt.pattern_board[a:b].tolist()
        alight = tt.pattern_alight[a:b].tolist()
        A, D = tt.pattern_trip_times(p)
        for k in range(A.shape[0]):
            out.append((p, k, stops, board, alight, A[k].tolist(), D[k].tolist()))
    return out


def _penalty(tar, g_held, p, none):
    gp = int(tar.pattern_gate[p])
    if g_held == gp:
        return 0
    if g_held == none and not tar.first_penalty:
        return 0
    return int(tar.pattern_penalty_s[p])


def penalised_bruteforce(tt, tar, fps, change, access, dep, max_rounds, max_duration):
    """Earliest time per round and stop over the expanded state (stop, group held, time):
    every trip is tried from every state, no pruning. Returns (K+1, S) lists."""
    S = tt.n_stops
    none = len(tar.gate_ids)
    trips = pattern_trips(tt)
    horizon = dep + max_duration
    walk: dict[tuple[int, int], int] = {}
    for s, t in access:
        if dep + t <= horizon:
            walk[(s, none)] = min(walk.get((s, none), INF), dep + t)
    for s, t in access:
        for s2, w in fps.get(s, []):
            if dep + t + w <= horizon:
                walk[(s2, none)] = min(walk.get((s2, none), INF), dep + t + w)
    veh: dict[tuple[int, int], int] = {}

    def snapshot():
        row = [INF] * S
        for (s, _g), t in list(walk.items()) + list(veh.items()):
            row[s] = min(row[s], t)
        return row

    rows = [snapshot()]
    for _k in range(max_rounds):
        ready: dict[tuple[int, int], int] = dict(walk)
        for (s, g), t in veh.items():
            ready[(s, g)] = min(ready.get((s, g), INF), t + change[s])
        new_veh = dict(veh)
        for p, _k2, stops, board, alight, arr, dp in trips:
            gp = int(tar.pattern_gate[p])
            for i, s in enumerate(stops):
                if not board[i]:
                    continue
                can = any(r + _penalty(tar, g, p, none) <= dp[i] for (s1, g), r in ready.items() if s1 == s)
                if not can:
                    continue
                for j in range(i + 1, len(stops)):
                    if alight[j] and arr[j] <= horizon:
                        key = (stops[j], gp)
                        new_veh[key] = min(new_veh.get(key, INF), arr[j])
        new_walk = dict(walk)
        for (s, g), t in new_veh.items():
            for s2, w in fps.get(s, []):
                if t + w <= horizon:
                    new_walk[(s2, g)] = min(new_walk.get((s2, g), INF), t + w)
        veh, walk = new_veh, new_walk
        rows.append(snapshot())
    return rows


def ride_part(tar, tt, p, ib, ia):
    """The kernel's ride part, written out (same floating-point steps)."""
    s0 = int(tt.pattern_stops_ptr[p])
    zb = int(tar.stop_zone[tt.pattern_stops[s0 + ib]])
    za = int(tar.stop_zone[tt.pattern_stops[s0 + ia]])
    price = int(tar.ride_od[tar.pattern_ride_table[p], zb, za])
    rate = float(tar.pattern_rate[p])
    mn = int(tar.pattern_min[p])
    if rate > 0.0 or mn > 0:
        x = rate * (float(tar.pattern_cum_m[s0 + ia]) - float(tar.pattern_cum_m[s0 + ib])) / 1000.0
        step = int(tar.pattern_round[p])
        price += max(mn, math.floor(x / step + 0.5) * step)
    return price


def mc_bruteforce(tt, tar, fps, change, access, dep, max_rounds, max_duration, *, prune=False):
    """Every journey of up to ``max_rounds`` trips as expanded states; returns
    {stop: set of (arrival, fare, trips)} Pareto sets.

    A state is (stop, arrived by vehicle, time, fare, fare without the open ticket, system,
    group held, ticket origin zone, ticket expiry, transfers left). Without ``prune`` only
    identical states are merged. With ``prune`` a state is also dropped when another one
    with the *same* stop, vehicle flag, system, group, zone, expiry and transfers left (so
    the same futures) is no later, no dearer and has no more trips: obviously safe, and
    independent of the kernel's rules across different ticket states.
    """
    none = len(tar.gate_ids)
    trips = pattern_trips(tt)
    horizon = dep + max_duration
    seen: dict[tuple, list[tuple[int, int, int, int]]] = {}

    def keep(level, k):
        if not prune:
            return level
        out = set()
        for st in sorted(level, key=lambda x: (x[2], x[3], x[4])):
            key = (st[0], st[1], *st[5:])
            bag = seen.setdefault(key, [])
            if any(a <= st[2] and f <= st[3] and c <= st[4] and r <= k for a, f, c, r in bag):
                continue
            bag.append((st[2], st[3], st[4], k))
            out.add(st)
        return out

    level = set()
    for s, t in access:
        if dep + t <= horizon:
            level.add((s, 0, dep + t, 0, 0, -1, none, -1, -1, 0))
    for s, t in access:
        for s2, w in fps.get(s, []):
            if dep + t + w <= horizon:
                level.add((s2, 0, dep + t + w, 0, 0, -1, none, -1, -1, 0))
    level = keep(level, 0)
    ends = {(st[0], st[2], st[3], 0) for st in level}
    # (pattern, position) boardable at each stop, with that pattern's trips
    by_stop: dict[int, list] = {}
    for p in range(tt.n_patterns):
        ptrips = [tr for tr in trips if tr[0] == p]
        for i, s in enumerate(ptrips[0][2]):
            if ptrips[0][3][i]:
                by_stop.setdefault(s, []).append((p, i, ptrips))
    for k in range(1, max_rounds + 1):
        vehicles = set()
        for (s, veh, t, fare, closed, q, g, zo, texp, nleft) in level:
            for p, i, ptrips in by_stop.get(s, []):
                ready = t + (change[s] if veh else 0) + _penalty(tar, g, p, none)
                for _p, _tk, stops, _board, alight, arr, dp in ptrips:  # any vehicle: waiting is allowed
                    if dp[i] < ready:
                        continue
                    qp = int(tar.pattern_system[p])
                    gp = int(tar.pattern_gate[p])
                    options = []
                    if q == qp and zo >= 0 and dp[i] <= texp and nleft != 0:
                        options.append(("cont", closed + int(tar.sys_fee[qp]), zo, texp, nleft - 1 if nleft > 0 else -1))
                    window, maxtr = int(tar.sys_window[qp]), int(tar.sys_max_transfers[qp])
                    if window >= 0 and maxtr != 0:
                        options.append(("new", fare, int(tar.stop_zone[s]), dp[i] + window, maxtr))
                    else:
                        options.append(("new", fare, int(tar.stop_zone[s]), -1, 0))
                    for j in range(i + 1, len(stops)):
                        if not alight[j] or arr[j] > horizon:
                            continue
                        rp = ride_part(tar, tt, p, i, j)
                        zj = int(tar.stop_zone[stops[j]])
                        for kind, base, zo2, texp2, nl2 in options:
                            c2 = base + rp if kind == "new" else base + max(0, rp - int(tar.sys_discount[qp]))
                            f2 = c2 + int(tar.ticket_od[qp, zo2, zj])
                            vehicles.add((stops[j], 1, arr[j], f2, c2, qp, gp, zo2, texp2, nl2))
        vehicles = keep(vehicles, k)
        walks = set()
        for st in vehicles:
            s, _v, t, fare, closed, q, g, zo, texp, nleft = st
            for s2, w in fps.get(s, []):
                if t + w <= horizon:
                    walks.add((s2, 0, t + w, fare, closed, q, g, zo, texp, nleft))
        level = vehicles | keep(walks, k)
        ends |= {(st[0], st[2], st[3], k) for st in level}
    front: dict[int, set] = {}
    for s, t, f, k in ends:
        front.setdefault(s, set()).add((t, f, k))
    return {s: {x for x in pts if not any(y != x and y[0] <= x[0] and y[1] <= x[1] and y[2] <= x[2] for y in pts)}
            for s, pts in front.items()}


def partition_fare(tt, tar, rides):
    """Fare of a ride sequence [(pattern, board pos, alight pos, dep, arr)] as the cheapest
    split into tickets (runs of one system; each ticket checked whole), written without
    the kernel's incremental state."""
    n = len(rides)
    best = [0] + [None] * n
    for i in range(1, n + 1):
        for j in range(i):
            if best[j] is None:
                continue
            seg = rides[j:i]
            q = int(tar.pattern_system[seg[0][0]])
            if any(int(tar.pattern_system[r[0]]) != q for r in seg):
                continue
            window, maxtr = int(tar.sys_window[q]), int(tar.sys_max_transfers[q])
            if len(seg) > 1:
                if window < 0 or maxtr == 0:
                    continue
                if maxtr > 0 and len(seg) - 1 > maxtr:
                    continue
                if any(r[3] - seg[0][3] > window for r in seg[1:]):
                    continue
            s0 = lambda p: int(tt.pattern_stops_ptr[p])  # noqa: E731
            zo = int(tar.stop_zone[tt.pattern_stops[s0(seg[0][0]) + seg[0][1]]])
            zd = int(tar.stop_zone[tt.pattern_stops[s0(seg[-1][0]) + seg[-1][2]]])
            price = ride_part(tar, tt, *seg[0][:3]) + int(tar.ticket_od[q, zo, zd])
            for r in seg[1:]:
                price += int(tar.sys_fee[q]) + max(0, ride_part(tar, tt, *r[:3]) - int(tar.sys_discount[q]))
            total = best[j] + price
            if best[i] is None or total < best[i]:
                best[i] = total
    return best[n]


def random_tariff(rng, tt, *, penalties=True, fares=True, tickets=False):
    """A random kernel tariff over 2-3 fare systems (by route), 1-3 zones and ticketing
    groups that sometimes join systems (as a card does). ``tickets=True`` stresses ticket
    states: zone prices that rise and fall, long windows, few transfers allowed."""
    n_routes = len(tt.route_ids)
    C = int(rng.integers(2, 4))
    Z = int(rng.integers(1, 4)) if fares else 1
    if tickets:
        C, Z = int(rng.integers(1, 3)), 3
    route_sys = rng.integers(0, C, size=n_routes)
    route_sys[: min(C, n_routes)] = np.arange(min(C, n_routes))
    pattern_system = route_sys[tt.pattern_route].astype(np.int32)
    gate_of_sys = np.arange(C) if rng.random() < 0.6 else rng.integers(0, max(1, C - 1), size=C)
    pattern_gate = gate_of_sys[pattern_system].astype(np.int32)
    route_pen = rng.choice([0, 60, 240, 600], size=n_routes) if penalties else np.zeros(n_routes, int)
    pattern_penalty = route_pen[tt.pattern_route].astype(np.int32)
    n_tables = int(rng.integers(1, 4))
    if fares:
        ticket_od = rng.choice([0, 0, 100, 150, 250, 400], size=(C, Z, Z)).astype(np.int64)
        ride_od = rng.choice([0, 50, 120, 200], size=(n_tables, Z, Z)).astype(np.int64)
        route_rate = rng.choice([0.0, 0.0, 25.0, 61.3], size=n_routes)
        route_min = rng.choice([0, 0, 150], size=n_routes)
        route_round = rng.choice([1, 1, 50], size=n_routes)
    else:
        ticket_od = np.zeros((C, Z, Z), np.int64)
        ride_od = np.zeros((n_tables, Z, Z), np.int64)
        route_rate = np.zeros(n_routes)
        route_min = np.zeros(n_routes, int)
        route_round = np.ones(n_routes, int)
    table_of_route = rng.integers(0, n_tables, size=n_routes)
    windows = rng.choice([-1, 600, 1200, 3600, UNLIMITED], size=C)
    maxtr = rng.choice([-1, 0, 1, 1, 2], size=C)
    if tickets:
        ticket_od = rng.choice([0, 30, 100, 300, 600], size=(C, Z, Z)).astype(np.int64)
        ride_od = rng.choice([0, 0, 20], size=(n_tables, Z, Z)).astype(np.int64)
        route_rate = np.zeros(n_routes)
        route_min = np.zeros(n_routes, int)
        windows = rng.choice([2400, 3600, UNLIMITED], size=C)
        maxtr = rng.choice([1, 2, 2, -1], size=C)
    return tariff_from_arrays(
        tt, n_systems=C, n_zones=Z, n_gates=int(pattern_gate.max()) + 1,
        pattern_system=pattern_system, pattern_gate=pattern_gate, pattern_penalty_s=pattern_penalty,
        first_penalty=bool(rng.random() < 0.5), stop_zone=rng.integers(0, Z, size=tt.n_stops),
        ticket_od=ticket_od, pattern_ride_table=table_of_route[tt.pattern_route], ride_od=ride_od,
        pattern_rate=route_rate[tt.pattern_route], pattern_min=route_min[tt.pattern_route],
        pattern_round=route_round[tt.pattern_route], pattern_cum_m=pattern_distances_m(tt),
        sys_window=windows, sys_max_transfers=maxtr,
        sys_fee=rng.choice([0, 0, 40], size=C), sys_discount=rng.choice([FREE, FREE, 0, 100], size=C))


def random_dense_feed(rng, n_stops=6, n_routes=4, span=(7 * 3600, 8 * 3600 + 1800)):
    """Files of a random small feed with frequent trips (every 4-15 min), so that boarding
    penalties and transfer windows change which trips are caught."""
    lat0, lon0 = 45.75, 126.6
    stops = "stop_id,stop_name,stop_lat,stop_lon\n" + "".join(
        f"s{i},Stop {i},{lat0 + rng.uniform(0, 0.05):.6f},{lon0 + rng.uniform(0, 0.05):.6f}\n" for i in range(n_stops))
    routes = "route_id,agency_id,route_short_name,route_type\n"
    trips = "route_id,service_id,trip_id\n"
    st = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"]
    for r in range(n_routes):
        routes += f"r{r},A,{r},{int(rng.choice([3, 1, 2]))}\n"
        length = int(rng.integers(2, min(6, n_stops) + 1))
        seq = rng.choice(n_stops, size=length, replace=False)
        seg = rng.integers(120, 600, size=length - 1)
        headway = int(rng.integers(240, 900))
        t0 = span[0] + int(rng.integers(0, headway))
        for k, start in enumerate(range(t0, span[1], headway)):
            tid = f"t{r}_{k}"
            trips += f"r{r},D,{tid}\n"
            time = start
            speed = rng.uniform(0.8, 1.2)
            for i, s in enumerate(seq):
                st.append(f"{tid},{_fmt(time)},{_fmt(time)},s{s},{i + 1}")
                if i < length - 1:
                    time += max(30, int(seg[i] * speed))
    return {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nA,A,https://a.example,Asia/Shanghai\n",
        "stops.txt": stops, "routes.txt": routes, "trips.txt": trips,
        "stop_times.txt": "\n".join(st) + "\n",
        "calendar_dates.txt": "service_id,date,exception_type\nD,20240102,1\n",
    }


def _fmt(t):
    return f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"


def random_fare_feed(rng, n_stops=8, n_routes=5, n_agencies=2):
    """A dense random feed with several agencies, fare zones and GTFS Fares v1 files of
    three kinds per agency: zone fares by origin and destination (any route), one flat
    fare, or a fare per route (no transfers). All fares of an agency share ``transfers`` and
    ``transfer_duration``, so the kernel tariff is exact for them."""
    files = random_dense_feed(rng, n_stops=n_stops, n_routes=n_routes)
    agencies = [f"A{a}" for a in range(n_agencies)]
    files["agency.txt"] = "agency_id,agency_name,agency_url,agency_timezone\n" + "".join(
        f"{a},Operator {a},https://{a.lower()}.example,Asia/Shanghai\n" for a in agencies)
    lines = files["routes.txt"].splitlines()
    route_agency = {}
    out = [lines[0]]
    for r, line in enumerate(lines[1:]):
        a = agencies[r % n_agencies] if r < n_agencies else agencies[int(rng.integers(0, n_agencies))]
        rid, _ag, short, rtype = line.split(",")
        route_agency[rid] = a
        out.append(f"{rid},{a},{short},{rtype}")
    files["routes.txt"] = "\n".join(out) + "\n"
    stop_lines = files["stops.txt"].splitlines()
    files["stops.txt"] = stop_lines[0] + ",zone_id\n" + "".join(
        f"{line},z{int(rng.integers(1, 4))}\n" for line in stop_lines[1:])
    fa = ["fare_id,price,currency_type,payment_method,transfers,agency_id,transfer_duration"]
    fr = ["fare_id,route_id,origin_id,destination_id,contains_id"]
    for a in agencies:
        kind = rng.choice(["zone", "flat", "route"])
        transfers = "0" if kind == "route" else str(rng.choice(["0", "1", ""]))
        duration = "" if transfers == "0" else str(rng.choice(["", "1800", "3600"]))
        if kind == "zone":
            base = int(rng.integers(100, 300))
            for zo in (1, 2, 3):
                for zd in (1, 2, 3):
                    fid = f"{a}_{zo}{zd}"
                    price = base + 75 * abs(zo - zd) + int(rng.integers(0, 2)) * 25
                    fa.append(f"{fid},{price / 100:.2f},CNY,1,{transfers},{a},{duration}")
                    fr.append(f"{fid},,z{zo},z{zd},")
        elif kind == "flat":
            fa.append(f"{a}_flat,{int(rng.integers(100, 400)) / 100:.2f},CNY,1,{transfers},{a},{duration}")
        else:
            for rid, ra in route_agency.items():
                if ra == a:
                    fa.append(f"{a}_{rid},{int(rng.integers(100, 500)) / 100:.2f},CNY,1,0,{a},")
                    fr.append(f"{a}_{rid},{rid},,,")
    files["fare_attributes.txt"] = "\n".join(fa) + "\n"
    files["fare_rules.txt"] = "\n".join(fr) + "\n"
    return files
