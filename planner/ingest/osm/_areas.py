"""Walkable areas in the walk network: squares, platforms and station halls (issue 19).

OpenTripPlanner walks across areas by a visibility graph between the nodes on their rim;
osmnx and R5 do not (a walk goes around the square on the streets). Here:

1. **Areas** (:func:`walkable_areas`): closed ways and multipolygon relations that
   :func:`~planner.ingest.osm._filters.walk_area_kind` calls walkable, as shapely polygons
   with their holes (inner rings: buildings, fountains, beds inside a square). A
   relation's member ways are joined end to end into rings by node id; an inner ring goes
   to the outer ring that covers it. Open ``railway=platform`` lines are walked along.
2. **Nodes** of an area that get visibility edges: its *entrances* (rim nodes shared with a
   walk way or another area), the ends of walk ways lying inside it on its level
   (:func:`~planner.ingest.osm._filters.way_level`), and its own rim vertices, outer and
   inner (a shortest path inside a polygon with holes bends only at those). At most
   :data:`MAX_AREA_NODES` per area (OpenTripPlanner's ``maxAreaNodes`` build parameter has
   the same role and default): entrances and inside ends first, then rim vertices evenly
   along the rings; an area over the cap is counted in the ``osm_area_nodes_capped`` notice.
3. **Edges**: every rim segment (walking along the outline), and every pair of chosen nodes
   whose straight segment the polygon ``covers`` (shapely 2, prepared geometry: a segment
   touching the rim or a hole's edge is inside; one crossing a hole or leaving a concave
   outline is not). Length: the great-circle distance of
   :func:`planner.common.geodesy.haversine_m` on osmnx's sphere, like every street edge.

An area that touches nothing walkable stays an island and the builder's largest-component
filter drops it; :func:`area_links` says which areas ended up in the network, so ``plan
osm info`` and ``plan transfers`` can say where the map lacks a link. Relation edges carry
the negative relation id as ``way_id`` (way and relation ids are separate OSM number spaces).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import Polygon

from planner.common.geodesy import OSMNX_EARTH_RADIUS_M, haversine_m
from planner.common.notices import Notices, Severity
from planner.ingest.osm._filters import station_kind, walk_area_kind, walk_way, way_level
from planner.ingest.osm._network import EdgeList, street_edges
from planner.ingest.osm._raw import RawOSM

__all__ = ["COMPLEX_M", "MAX_AREA_NODES", "Area", "area_edges", "area_links", "area_report", "walkable_areas",
           "with_area_edges"]

#: most nodes of one area joined by visibility edges (OpenTripPlanner: ``maxAreaNodes``, 150)
MAX_AREA_NODES = 150


@dataclass
class Area:
    """One walkable polygon (or platform line) of the raw OSM data."""

    osm_type: str                 # "way" | "relation"
    osm_id: int
    kind: str                     # pedestrian | platform | station_hall | platform_line
    tags: dict[str, str]
    level: str
    rings: list[np.ndarray]       # node ids per ring (outer first), closed rings without the repeat
    lons: list[np.ndarray]
    lats: list[np.ndarray]
    polygon: Polygon | None       # None for a platform line
    owner: int                    # way index (way areas) or -1 - relation index
    entrances: int = 0
    inside_ends: int = 0
    capped: bool = False
    node_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def name(self) -> str:
        return self.tags.get("name:en") or self.tags.get("name") or ""

    @property
    def ref(self) -> str:
        return f"{self.osm_type}/{self.osm_id}"


def _way_slice(raw: RawOSM, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b = raw.way_ptr[i], raw.way_ptr[i + 1]
    return raw.refs[a:b], raw.lon[a:b], raw.lat[a:b]


def _join_rings(pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, ...]] | None:
    """Join way pieces end to end (by node id) into closed rings; None when one stays open."""
    todo = [(list(r), list(x), list(y)) for r, x, y in pieces if len(r) >= 2]
    rings = []
    while todo:
        r, x, y = todo.pop(0)
        while r[0] != r[-1]:
            k = next((k for k, p in enumerate(todo) if r[-1] in (p[0][0], p[0][-1])), None)
            if k is None:
                return None
            r2, x2, y2 = todo.pop(k)
            step = 1 if r2[0] == r[-1] else -1  # a piece drawn the other way round is reversed
            r += r2[::step][1:]
            x += x2[::step][1:]
            y += y2[::step][1:]
        rings.append((np.array(r, np.int64), np.array(x), np.array(y)))
    return rings


def _ring_ok(ring: tuple[np.ndarray, ...]) -> bool:
    r, x, y = ring
    return len(r) >= 4 and bool(np.all(np.isfinite(x)) and np.all(np.isfinite(y)))


def _open(ring: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    return tuple(a[:-1] for a in ring)


def walkable_areas(raw: RawOSM, notices: Notices | None = None) -> list[Area]:
    """Every walkable area and platform line of ``raw`` (module docstring, step 1)."""
    out: list[Area] = []
    bad: list[str] = []
    for i, tags in enumerate(raw.way_tags):
        refs, x, y = _way_slice(raw, i)
        if len(refs) < 2:
            continue
        closed = len(refs) >= 4 and refs[0] == refs[-1]
        kind = walk_area_kind(tags, closed=closed)
        if kind is None:
            continue
        if kind == "platform_line":
            if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
                bad.append(f"way/{int(raw.way_id[i])}")  # clipped: not joined across the missing nodes
                continue
            out.append(Area("way", int(raw.way_id[i]), kind, tags, way_level(tags), [refs], [x], [y], None, i))
            continue
        if not _ring_ok((refs, x, y)):
            bad.append(f"way/{int(raw.way_id[i])}")
            continue
        poly = shapely.make_valid(Polygon(np.column_stack([x, y])))
        if not isinstance(poly, Polygon) or poly.is_empty:
            bad.append(f"way/{int(raw.way_id[i])}")
            continue
        r, xo, yo = _open((refs, x, y))
        out.append(Area("way", int(raw.way_id[i]), kind, tags, way_level(tags), [r], [xo], [yo], poly, i))
    index = {int(w): k for k, w in enumerate(raw.way_id)}
    for j, rel in enumerate(raw.relations):
        kind = walk_area_kind(rel["tags"], relation=True)
        parts = {"outer": [], "inner": []}
        missing = False
        for w, role in rel["members"]:
            k = index.get(w)
            if k is None:
                missing = True
                break
            parts["inner" if role == "inner" else "outer"].append(_way_slice(raw, k))
        outers = None if missing else _join_rings(parts["outer"])
        inners = None if missing else _join_rings(parts["inner"])
        if kind is None or outers is None or inners is None or not all(map(_ring_ok, outers + inners)):
            bad.append(f"relation/{rel['osm_id']}")
            continue
        inner_polys = [Polygon(np.column_stack([r[1], r[2]])) for r in inners]
        for outer in outers:
            shell = Polygon(np.column_stack([outer[1], outer[2]]))
            mine = [k for k, p in enumerate(inner_polys) if shell.covers(p.representative_point())]
            poly = shapely.make_valid(Polygon(shell.exterior.coords, [inner_polys[k].exterior.coords for k in mine]))
            if not isinstance(poly, Polygon) or poly.is_empty:
                bad.append(f"relation/{rel['osm_id']}")
                continue
            rings = [_open(outer)] + [_open(inners[k]) for k in mine]
            out.append(Area("relation", rel["osm_id"], kind, rel["tags"], way_level(rel["tags"]),
                            [r[0] for r in rings], [r[1] for r in rings], [r[2] for r in rings], poly, -1 - j))
    unique: dict[tuple[str, int, int], Area] = {}  # an online response may repeat a way or relation
    for a in out:
        unique.setdefault((a.osm_type, a.osm_id, int(a.rings[0][0]) if len(a.rings[0]) else 0), a)
    out = list(unique.values())
    if bad and notices is not None:
        notices.add("osm_area_unusable", Severity.WARNING,
                    f"{len(bad)} walkable area(s) have an open, clipped or self-crossing outline; they are not "
                    "crossed (their ways, if walkable, still are)", file=raw.source, field="area",
                    value=", ".join(bad[:10]), action="dropped", count=len(bad))
    return out


def _walk_refs(raw: RawOSM) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(node id, owner way index) of every walk-way reference, and the walk ways' end nodes
    with their way index."""
    use = np.array([walk_way(t) for t in raw.way_tags], bool) if raw.n_ways else np.zeros(0, bool)
    sizes = np.diff(raw.way_ptr)
    way_of_ref = np.repeat(np.arange(raw.n_ways), sizes)
    sel = use[way_of_ref] & np.isfinite(raw.lon)
    ends_w = np.flatnonzero(use & (sizes >= 2))
    ends = np.concatenate([raw.way_ptr[ends_w], raw.way_ptr[ends_w + 1] - 1])
    return raw.refs[sel], way_of_ref[sel], ends, np.concatenate([ends_w, ends_w])


def _pick(entrance: np.ndarray, n_inside: int, cap: int) -> tuple[np.ndarray, bool]:
    """Rim positions joined by visibility edges: all when the rim and the inside ends fit
    under ``cap``; else the entrances, then rim vertices spread evenly, so that with the
    ``n_inside`` way ends (always kept: they have no other link) at most ``cap`` remain."""
    n = entrance.size
    if n + n_inside <= cap:
        return np.arange(n), False
    first = np.flatnonzero(entrance)[: max(cap - n_inside, 0)]
    rest = np.flatnonzero(~entrance)
    room = max(cap - n_inside - len(first), 0)
    if room and len(rest):
        rest = rest[np.linspace(0, len(rest) - 1, min(room, len(rest))).round().astype(np.int64)]
    else:
        rest = rest[:0]
    return np.unique(np.concatenate([first, rest])), True


def _cat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


def _both(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One array for the two directions of the same edges."""
    return np.concatenate([a, b])


def area_edges(raw: RawOSM, areas: list[Area], *, walk_speed_mps: float, notices: Notices) -> EdgeList:
    """Directed edges (both ways) across and along ``areas`` (module docstring, steps 2-3)."""
    refs, owner, end_pos, end_way = _walk_refs(raw)
    # owners of every node: walk ways and areas (an area that is also a walk way is one owner)
    own_nodes = [refs] + [np.concatenate(a.rings) for a in areas]
    own_ids = [owner] + [np.full(sum(len(r) for r in a.rings), a.owner) for a in areas]
    pairs = np.unique(np.column_stack([np.concatenate(own_nodes), np.concatenate(own_ids)]), axis=0) \
        if areas else np.zeros((0, 2), np.int64)
    nodes, n_owners = np.unique(pairs[:, 0], return_counts=True)
    end_ok = np.isfinite(raw.lon[end_pos])
    end_pos, end_way = end_pos[end_ok], end_way[end_ok]
    end_pts = shapely.points(raw.lon[end_pos], raw.lat[end_pos])
    polys = [a.polygon for a in areas if a.polygon is not None]
    poly_area = [k for k, a in enumerate(areas) if a.polygon is not None]
    inside: dict[int, list[int]] = {}
    if polys and len(end_pts):
        tree = shapely.STRtree(polys)
        pt, pg = tree.query(end_pts, predicate="within")
        for p, g in zip(pt, pg, strict=True):
            inside.setdefault(poly_area[int(g)], []).append(int(p))
    us, vs, ux, uy, vx, vy, wid, cls = [], [], [], [], [], [], [], []
    kinds = sorted({a.kind for a in areas})
    n_capped = 0
    for k, a in enumerate(areas):
        ids = np.concatenate(a.rings)
        x = np.concatenate(a.lons)
        y = np.concatenate(a.lats)
        a.node_ids = ids
        wcode = a.osm_id if a.osm_type == "way" else -a.osm_id
        c = kinds.index(a.kind)
        # rim segments (and the platform line itself)
        for r, rx, ry in zip(a.rings, a.lons, a.lats, strict=True):
            if len(r) < 2:
                continue
            j = np.arange(len(r))
            nxt = (j + 1) % len(r) if a.polygon is not None else j[1:]
            j = j[: len(nxt)]
            us.append(r[j]), vs.append(r[nxt]), ux.append(rx[j]), uy.append(ry[j]), vx.append(rx[nxt]), vy.append(ry[nxt])
        if a.polygon is None:
            wid.append(np.full(sum(len(r) - 1 for r in a.rings if len(r) >= 2), wcode))
            cls.append(np.full(wid[-1].size, c))
            continue
        n_rim = sum(len(r) for r in a.rings)
        wid.append(np.full(n_rim, wcode))
        cls.append(np.full(n_rim, c))
        pos = np.searchsorted(nodes, ids)
        shared = n_owners[np.minimum(pos, len(nodes) - 1)] >= 2
        a.entrances = int(shared.sum())
        # way ends inside the area on its level
        ins = [p for p in inside.get(k, []) if way_level(raw.way_tags[int(end_way[p])]) == a.level]
        ins_ids = raw.refs[end_pos[ins]] if ins else np.zeros(0, np.int64)
        ins_ids, first = np.unique(ins_ids, return_index=True)
        ins_x = raw.lon[end_pos[ins]][first] if ins else np.zeros(0)
        ins_y = raw.lat[end_pos[ins]][first] if ins else np.zeros(0)
        a.inside_ends = int(ins_ids.size)
        chosen, a.capped = _pick(shared, a.inside_ends, MAX_AREA_NODES)
        n_capped += a.capped
        cid = np.concatenate([ids[chosen], ins_ids])
        cx = np.concatenate([x[chosen], ins_x])
        cy = np.concatenate([y[chosen], ins_y])
        i, j = np.triu_indices(len(cid), 1)
        keep = cid[i] != cid[j]
        i, j = i[keep], j[keep]
        if not len(i):
            continue
        segs = shapely.linestrings(np.stack([np.column_stack([cx[i], cy[i]]), np.column_stack([cx[j], cy[j]])], axis=1))
        shapely.prepare(a.polygon)
        vis = shapely.covers(a.polygon, segs)
        i, j = i[vis], j[vis]
        us.append(cid[i]), vs.append(cid[j]), ux.append(cx[i]), uy.append(cy[i]), vx.append(cx[j]), vy.append(cy[j])
        wid.append(np.full(i.size, wcode))
        cls.append(np.full(i.size, c))
    if n_capped:
        notices.add("osm_area_nodes_capped", Severity.INFO,
                    f"{n_capped} walkable area(s) have more than {MAX_AREA_NODES} rim nodes; only their entrances "
                    f"and {MAX_AREA_NODES} nodes spread along the rim are joined across them",
                    file=raw.source, field="area", action="fixed", count=int(n_capped))
    u, v = _cat(us, np.int64), _cat(vs, np.int64)
    u_lon, u_lat, v_lon, v_lat = _cat(ux, float), _cat(uy, float), _cat(vx, float), _cat(vy, float)
    w, hc = _cat(wid, np.int64), _cat(cls, np.int16)
    ok = (u != v) & np.isfinite(u_lon) & np.isfinite(v_lon)
    u, v, u_lon, u_lat, v_lon, v_lat, w, hc = (a[ok] for a in (u, v, u_lon, u_lat, v_lon, v_lat, w, hc))
    length = haversine_m(u_lat, u_lon, v_lat, v_lon, radius=OSMNX_EARTH_RADIUS_M)
    length = _both(length, length)
    return EdgeList(u=_both(u, v), v=_both(v, u), u_lon=_both(u_lon, v_lon), u_lat=_both(u_lat, v_lat),
                    v_lon=_both(v_lon, u_lon), v_lat=_both(v_lat, u_lat), length_m=length,
                    time_s=length / float(walk_speed_mps), way_id=_both(w, w), highway=_both(hc, hc),
                    classes=tuple(f"area:{k}" for k in kinds), ways_used=len(areas), ways_cut=0, missing_refs=0)


def with_area_edges(raw: RawOSM, edges: EdgeList, *, walk_speed_mps: float,
                    notices: Notices) -> tuple[EdgeList, list[Area]]:
    """The walk ``edges`` plus the edges across and along the walkable areas of ``raw``."""
    areas = walkable_areas(raw, notices)
    if not areas:
        return edges, areas
    extra = area_edges(raw, areas, walk_speed_mps=walk_speed_mps, notices=notices)
    offset = len(edges.classes)
    merged = EdgeList(
        **{name: np.concatenate([getattr(edges, name), getattr(extra, name)])
           for name in ("u", "v", "u_lon", "u_lat", "v_lon", "v_lat", "length_m", "time_s", "way_id")},
        highway=np.concatenate([edges.highway, (extra.highway + offset).astype(np.int16)]),
        classes=edges.classes + extra.classes, ways_used=edges.ways_used + extra.ways_used,
        ways_cut=edges.ways_cut, missing_refs=edges.missing_refs)
    return merged, areas


def area_links(areas: list[Area], network_nodes: np.ndarray) -> list[dict]:
    """One row per area: ``ref``, ``kind``, ``name``, ``level``, ``lon``/``lat`` (a point
    inside), ``bbox`` (west, south, east, north), ``rail`` (a railway station hall, not a bus
    station's), ``entrances``, ``inside_ends``, ``capped`` and ``linked`` (some node of the
    area is in the built network: its largest connected component)."""
    known = np.sort(np.asarray(network_nodes, np.int64))
    rows = []
    for a in areas:
        ids = a.node_ids if a.node_ids.size else np.concatenate(a.rings)
        pos = np.searchsorted(known, ids)
        linked = bool(np.any(known[np.minimum(pos, max(len(known) - 1, 0))] == ids)) if len(known) else False
        if a.polygon is not None:
            p = a.polygon.representative_point()
            lon, lat = float(p.x), float(p.y)
        else:
            lon, lat = float(np.mean(a.lons[0])), float(np.mean(a.lats[0]))
        x, y = np.concatenate(a.lons), np.concatenate(a.lats)
        rows.append({"ref": a.ref, "kind": a.kind, "name": a.name, "level": a.level, "lon": round(lon, 7),
                     "lat": round(lat, 7), "bbox": [round(float(v), 7) for v in (x.min(), y.min(), x.max(), y.max())],
                     "rail": a.kind == "station_hall" and (a.tags.get("building") == "train_station"
                                                           or station_kind(a.tags) is not None),
                     "entrances": a.entrances, "inside_ends": a.inside_ends, "capped": a.capped, "linked": linked})
    return rows


#: platforms within this distance of a station hall belong to its station complex (metres)
COMPLEX_M = 100.0


def area_report(raw: RawOSM, *, walk_speed_mps: float = 1.33) -> dict:
    """What ``plan osm info`` says about walkable areas: per kind, how many were found and
    how many are linked to the walk network (its largest connected part, as the builder
    keeps it); station complexes (a station hall and the platforms within
    :data:`COMPLEX_M` of it) found and linked; and the unlinked station halls."""
    notices = Notices()
    edges = street_edges(raw, "walk", walk_speed_mps=walk_speed_mps, notices=notices)
    edges, areas = with_area_edges(raw, edges, walk_speed_mps=walk_speed_mps, notices=notices)
    ids, inv = np.unique(np.concatenate([edges.u, edges.v]), return_inverse=True)
    m = len(edges)
    main = np.zeros(0, np.int64)
    if m:
        g = coo_matrix((np.ones(m), (inv[:m], inv[m:])), shape=(ids.size, ids.size))
        _n, labels = connected_components(g, directed=False)
        main = ids[labels == np.argmax(np.bincount(labels))]
    rows = area_links(areas, main)
    kinds: dict[str, dict[str, int]] = {}
    for r in rows:
        k = kinds.setdefault(r["kind"], {"found": 0, "linked": 0})
        k["found"] += 1
        k["linked"] += int(r["linked"])
    halls = [k for k, a in enumerate(areas) if a.kind == "station_hall"]
    plats = [k for k, a in enumerate(areas) if a.kind in ("platform", "platform_line")]
    complexes = {"found": len(halls), "linked": 0, "platforms_in_complexes": 0}
    if halls:
        geo = [a.polygon for a in areas]
        lat0 = float(np.mean([rows[k]["lat"] for k in halls]))
        deg = COMPLEX_M / (111_195.0 * max(np.cos(np.radians(lat0)), 0.1))  # a generous degree margin
        hall_polys = [geo[k] for k in halls]
        tree = shapely.STRtree(hall_polys)
        members: dict[int, list[int]] = {k: [] for k in halls}
        for p in plats:
            a = areas[p]
            shape = a.polygon if a.polygon is not None else shapely.linestrings(np.column_stack([a.lons[0], a.lats[0]]))
            near = tree.query(shape, predicate="dwithin", distance=deg)
            if len(near):
                members[halls[int(near[0])]].append(p)
        for h, ps in members.items():
            complexes["platforms_in_complexes"] += len(ps)
            complexes["linked"] += int(rows[h]["linked"] or any(rows[p]["linked"] for p in ps))
    return {"areas": kinds, "station_complexes": complexes,
            "unlinked_station_halls": [{k: r[k] for k in ("ref", "name", "lon", "lat", "entrances")}
                                       for r in rows if r["kind"] == "station_hall" and not r["linked"]]}
