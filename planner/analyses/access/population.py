"""People where they live, activities where they are: opportunity layers from OSM.

* :func:`population_layer`: census totals of districts spread over the residential floor
  area of OSM buildings (footprint area x levels), so that the cells of a district sum to
  its total. Districts are the ``boundary=administrative`` relations of a level (default 6,
  the urban districts, 区, in China) as the extract holds them (:func:`districts_from_osm`),
  or the polygons of a user's file; totals come from a CSV (``name``, ``population``), the
  polygon file, or the relations' own ``population`` tags.
* :func:`activity_layer`: shops, offices, schools, hospitals and other amenities counted
  per cell with the weights of :data:`ACTIVITY_WEIGHTS`.

A census total counts a whole district; an extract often holds only part of it. Spread over the
part inside, its people are packed too densely: a district whose people per residential floor
area exceed the least dense district's by :data:`PACKING_FLAG` is marked "check the map data"
(the report's ``check`` and a note), since its cells are probably overstated.

Every assumed figure is in :data:`DEFAULT_LEVELS`, :data:`RESIDENTIAL`,
:data:`NON_RESIDENTIAL_LANDUSE` and :data:`ACTIVITY_WEIGHTS` and marked ASSUMED there.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.analyses.access.grid import (
    Grid,
    Opportunities,
    make_grid,
    opportunities_from_points,
    split_spec,
    transform_xy,
)
from planner.errors import InputError
from planner.ingest.osm.landuse import LandUse, read_landuse

__all__ = ["ACTIVITY_WEIGHTS", "DEFAULT_LEVELS", "MAX_YES_FOOTPRINT_M2", "NON_RESIDENTIAL_LANDUSE", "PACKING_FLAG", "RESIDENTIAL",
           "Districts",
           "activity_layer", "city_zones", "default_totals", "district_zones", "districts_from_osm", "osm_layers", "places_with_districts",
           "population_layer", "read_totals"]

#: ASSUMED levels where ``building:levels`` is missing, by ``building`` value. Central Harbin
#: calibration: of the 143 tagged buildings of the bundled extract, ``apartments`` have a
#: median of 7 levels (30 tagged), ``residential`` 6 (11), ``dormitory`` 7 (6), ``yes`` 8 (76,
#: likely the towers, so 6 is kept for untagged ``yes``). Other values: 4.
DEFAULT_LEVELS = {"apartments": 7.0, "residential": 6.0, "dormitory": 7.0, "yes": 6.0, "house": 2.0,
                  "detached": 2.0, "semidetached_house": 2.0, "terrace": 2.0, "bungalow": 1.0, "farm": 2.0}
DEFAULT_LEVELS_OTHER = 4.0
#: ``building`` values whose floor area houses people (ASSUMED: ``yes`` too, unless it stands in
#: a non-residential landuse, since 12,099 of the extract's 16,052 buildings say only ``yes``)
RESIDENTIAL = frozenset({"apartments", "residential", "dormitory", "house", "detached", "semidetached_house",
                         "terrace", "bungalow", "farm", "yes"})
#: landuse in which a ``building=yes`` is taken as not residential (ASSUMED)
NON_RESIDENTIAL_LANDUSE = frozenset({"industrial", "commercial", "retail", "railway", "military", "construction",
                                     "brownfield", "governmental", "government", "education", "religious", "port",
                                     "depot", "garages", "landfill", "quarry"})
#: ASSUMED: a ``building=yes`` (or ``house``, ``bungalow``, ...) with a larger footprint (m2) is a
#: mall, a factory, a hall or a station, or an outline drawn around many houses, not housing
#: (the extract's largest are 65,000-88,000 m2 halls and a 235,785 m2 "bungalow"; a Harbin
#: residential slab or tower covers up to about 3,000 m2). Apartment blocks keep any size.
MAX_YES_FOOTPRINT_M2 = 5000.0
_BLOCKS = frozenset({"apartments", "residential", "dormitory"})
#: ASSUMED weight of an activity place, a rough proxy of the jobs and visits it holds (a shop
#: counts 1); a key=value entry wins over the key's own entry
ACTIVITY_WEIGHTS = {"shop": 1.0, "office": 5.0, "craft": 1.0, "tourism": 1.0, "healthcare": 2.0, "amenity": 1.0,
                    "amenity=school": 5.0, "amenity=kindergarten": 2.0, "amenity=college": 10.0,
                    "amenity=university": 20.0, "amenity=hospital": 20.0, "amenity=clinic": 3.0,
                    "amenity=doctors": 2.0, "amenity=marketplace": 5.0, "tourism=hotel": 3.0}


@dataclass
class Districts:
    """Polygons (grid CRS) with names and totals; ``source`` names where the totals came from."""

    names: list[str]
    geoms: np.ndarray
    totals: np.ndarray
    source: str
    notes: list[str] = field(default_factory=list)
    #: English names where the data has them (OSM ``name:en``), "" elsewhere; for reports
    names_en: list[str] = field(default_factory=list)


def _project(geoms, crs: str):
    return shapely.transform(geoms, lambda xy: np.column_stack(transform_xy("EPSG:4326", crs, xy[:, 0], xy[:, 1])))


def districts_from_osm(lu: LandUse, crs: str, *, max_gap_m: float = 2000.0) -> Districts:
    """The admin relations of ``lu`` as polygons within the extract.

    A relation whose member ways are all in the file is its own polygon. A clipped one is
    rebuilt: every member way of the level, cut to the extract's bounding box, plus the box's
    outline, is polygonized; a way end that stops short of the box (its outer nodes are not in
    the file) is joined to the nearest point of the box when within ``max_gap_m``. A face
    belongs to the one district that every boundary way around it is a member of (a way
    between two districts is a member of both); faces that fit none or several are left out
    and named in ``notes``.
    """
    w, s, e, n = lu.extent
    box = shapely.set_precision(_project(shapely.segmentize(shapely.box(w, s, e, n), 0.002), crs), 0.01)
    ring = box.exterior
    member: dict[int, set[int]] = {}
    for i, r in enumerate(lu.admin):
        for wid in r.ways:
            if wid in lu.admin_ways:
                member.setdefault(wid, set()).add(i)
    lines = {}
    for wid in member:
        g = shapely.intersection(shapely.set_precision(_project(shapely.MultiLineString(lu.admin_ways[wid]), crs), 0.01), box)
        if not g.is_empty and g.length > 0:
            lines[wid] = g
    names = [r.name or r.name_en or f"relation {r.osm_id}" for r in lu.admin]
    geoms: list = [None] * len(lu.admin)
    notes = []
    complete = [bool(r.ways) and all(wid in lines and wid not in lu.admin_ways_clipped for wid in r.ways)
                for r in lu.admin]
    for i, r in enumerate(lu.admin):
        if complete[i]:
            g = shapely.polygonize([lines[wid] for wid in r.ways])
            parts = shapely.get_parts(g)
            if len(parts):
                geoms[i] = shapely.union_all(parts)  # outer rings only: holes are not read
    if lines:
        ends: Counter = Counter()
        for p in shapely.get_parts(shapely.line_merge(shapely.union_all(list(lines.values())))):
            c = shapely.get_coordinates(p)
            ends[tuple(c[0])] += 1
            ends[tuple(c[-1])] += 1
        joins = []
        for q, k in ends.items():
            pt = shapely.Point(q)
            d = ring.distance(pt)
            if k == 1 and 0 < d <= max_gap_m:
                near = shapely.get_coordinates(shapely.shortest_line(pt, ring))[1]
                v = (near - np.asarray(q)) / d
                joins.append(shapely.LineString([q, near + 5.0 * v]))  # past the box, so that it is noded
        faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all([*lines.values(), ring, *joins]))))
        taken = shapely.union_all([g for g in geoms if g is not None]) if any(complete) else None
        for f in faces:
            edge = f.boundary.buffer(1.0)
            cand: set[int] | None = None
            for wid, g in lines.items():
                if shapely.length(shapely.intersection(g, edge)) > 5.0:
                    cand = set(member[wid]) if cand is None else cand & member[wid]
            cand = {i for i in (cand or set()) if not complete[i]}
            if taken is not None:
                f = shapely.difference(f, taken)
            if len(cand) == 1:
                i = cand.pop()
                geoms[i] = f if geoms[i] is None else shapely.union(geoms[i], f)
            elif f.area > 1.0:
                notes.append(f"a part of {f.area / 1e6:.2f} km2 of the extract is in no district of the file")
    totals = np.array([r.population if r.population is not None else np.nan for r in lu.admin], dtype=np.float64)
    keep = [i for i, g in enumerate(geoms) if g is not None and not g.is_empty]
    return Districts([names[i] for i in keep], np.asarray([geoms[i] for i in keep], dtype=object), totals[keep],
                     f"{lu.source} (population tags of the admin relations)", notes,
                     [lu.admin[i].name_en or "" for i in keep])


def _bad(msg: str, hint: str = "") -> InputError:
    return InputError(msg, code="invalid_totals", hint=hint or "one row per district: name, population (>= 0)")


def read_totals(spec: str, districts: Districts | None, crs: str, *, name_column: str = "name") -> Districts:
    """District totals from ``FILE[:COLUMN]`` (COLUMN default ``population``).

    A CSV names districts (``name_column``) that must be among ``districts`` (OSM names or
    English names); a polygon file (GeoPackage, GeoJSON, Shapefile) brings its own polygons.
    Errors name the file, the row and the field: a missing column, a district the extract does
    not cover, a total that is negative or not a number.
    """
    path, column = split_spec(spec)
    column = column or "population"
    if not path.is_file():
        msg = f"{path}: does not exist"
        raise _bad(msg, "give a CSV (name, population) or a polygon file of totals")
    vector = path.suffix.lower() != ".csv"
    try:
        df = gpd.read_file(path) if vector else pd.read_csv(path, encoding="utf-8-sig")
    except Exception as err:  # pyogrio and pandas raise many types for unreadable files
        msg = f"{path}: cannot read ({err})"
        raise _bad(msg) from err
    df.columns = [str(c).strip() for c in df.columns]
    for col in (column, name_column) if not vector else (column,):
        if col not in df.columns:
            cols = ", ".join(c for c in df.columns if c != "geometry")
            msg = f"{path}: no column {col!r} (columns: {cols})"
            raise InputError(msg, code="missing_required_column",
                             hint="write FILE:COLUMN for the totals; --name-column for the names")
    vals = pd.to_numeric(df[column], errors="coerce").to_numpy(float)
    for k, v in enumerate(vals):
        if not np.isfinite(v) or v < 0:
            shown = df[column].iloc[k]
            msg = f"{path}: row {k + 2 if not vector else k + 1}: field {column!r}: {shown!r} is not a non-negative number"
            raise _bad(msg)
    if vector:
        gdf = df.set_crs("EPSG:4326") if df.crs is None else df
        geom = gdf.geometry.to_crs(crs).make_valid().to_numpy()
        nm = (df[name_column].astype(str).tolist() if name_column in df.columns
              else [f"feature {k + 1}" for k in range(len(df))])
        return Districts(nm, np.asarray(geom, dtype=object), vals, f"{path.name} (column {column})")
    if districts is None or not len(districts.names):
        msg = f"{path}: names districts, but the extract holds no district boundaries"
        raise _bad(msg, "give a polygon file of totals instead, or an extract with boundary=administrative relations")
    known = {nm: i for i, nm in enumerate(districts.names)}
    totals = np.full(len(districts.names), np.nan)
    for k, (nm, v) in enumerate(zip(df[name_column].astype(str).str.strip(), vals, strict=True)):
        if nm not in known:
            msg = (f"{path}: row {k + 2}: field {name_column!r}: district {nm!r} is not covered by the extract "
                   f"(districts there: {', '.join(districts.names)})")
            raise InputError(msg, code="district_not_in_extract", hint="remove the row, or use a larger extract")
        totals[known[nm]] = v
    return Districts(districts.names, districts.geoms, totals, f"{path.name} (column {column})", districts.notes,
                     districts.names_en)


def floor_area(lu: LandUse, crs: str) -> dict[str, np.ndarray]:
    """Residential floor area per building: centroid ``x``, ``y`` (``crs``), ``footprint`` and
    ``floor`` (m2), ``levels`` used and ``assumed`` (no ``building:levels``)."""
    g = _project(lu.buildings, crs) if len(lu.buildings) else np.zeros(0, dtype=object)
    kind = np.asarray(lu.building, dtype=object)
    cen = shapely.centroid(g) if len(g) else g
    xy = shapely.get_coordinates(cen) if len(g) else np.zeros((0, 2))
    res = np.isin(kind, list(RESIDENTIAL))
    if len(lu.landuse) and res.any():
        mask = np.isin(np.asarray(lu.landuse_kind, dtype=object), list(NON_RESIDENTIAL_LANDUSE))
        if mask.any():
            nonres = shapely.union_all(_project(lu.landuse[mask], crs))
            shapely.prepare(nonres)
            yes = res & (kind == "yes")
            res[yes] = ~shapely.contains_xy(nonres, xy[yes, 0], xy[yes, 1])
    foot = shapely.area(g) if len(g) else np.zeros(0)
    res &= ~(~np.isin(kind, list(_BLOCKS)) & (foot > MAX_YES_FOOTPRINT_M2))
    assumed = ~np.isfinite(lu.levels)
    levels = np.where(assumed, [DEFAULT_LEVELS.get(k, DEFAULT_LEVELS_OTHER) for k in kind], lu.levels)
    return {"x": xy[:, 0], "y": xy[:, 1], "footprint": foot, "levels": levels, "assumed": assumed,
            "residential": res, "floor": np.where(res, foot * levels, 0.0)}


def population_layer(lu: LandUse, grid: Grid, districts: Districts) -> tuple[Opportunities, dict]:
    """``districts.totals`` spread over residential floor area, summed per cell of ``grid``.

    Each building (by its centroid) gets ``total x floor / district floor``; the layer sums
    to the totals of the districts that hold residential floor area (a district with a total
    but none is an error, a district without a total is reported and left empty).
    """
    fa = floor_area(lu, grid.crs)
    pop = np.zeros(len(fa["floor"]))
    rows = []
    placed = np.zeros(len(pop), bool)
    english = districts.names_en or [""] * len(districts.names)
    for nm, en, g, t in zip(districts.names, english, districts.geoms, districts.totals, strict=True):
        shapely.prepare(g)
        inside = shapely.contains_xy(g, fa["x"], fa["y"]) & ~placed
        placed |= inside
        floor = float(fa["floor"][inside].sum())
        if not np.isfinite(t):
            rows.append({"district": nm, "total": None, "buildings": int(inside.sum()), "floor_m2": floor,
                         "note": "no total: left empty", **({"district_en": en} if en else {})})
            continue
        if t > 0 and floor <= 0:
            msg = f"{districts.source}: district {nm!r} has a total of {t:,.0f} but no residential building in the extract"
            raise InputError(msg, code="district_not_in_extract", hint="remove it from the totals")
        if floor > 0:
            pop[inside] = t * fa["floor"][inside] / floor
        w = fa["floor"][inside]
        cx, cy = ((float(np.average(fa["x"][inside], weights=w)), float(np.average(fa["y"][inside], weights=w)))
                  if floor > 0 else (np.nan, np.nan))
        lon, lat = transform_xy(grid.crs, "EPSG:4326", [cx], [cy])
        rows.append({"district": nm, "total": float(t), "buildings": int(inside.sum()),
                     "residential_buildings": int((inside & fa["residential"]).sum()), "floor_m2": round(floor),
                     "people_per_100m2": round(100 * t / floor, 3) if floor > 0 else None,
                     "lon": round(float(lon[0]), 6), "lat": round(float(lat[0]), 6),
                     **({"district_en": en} if en else {})})
    notes = list(districts.notes) + _packing_notes(rows)
    res = fa["residential"]
    lay = opportunities_from_points("population", fa["x"], fa["y"], pop, grid, unit="people",
                                    source=f"OSM buildings, {districts.source.split(' (')[0]}",
                                    keep_outside=False)
    lay.points = np.zeros((0, 2))  # a building per point: too many to draw; the layer is a raster
    report = {"districts": rows, "total": float(pop.sum()), "buildings": len(pop),
              "residential_buildings": int(res.sum()),
              "levels_tagged": int((~fa["assumed"]).sum()), "levels_assumed_residential": int((fa["assumed"] & res).sum()),
              "residential_floor_outside_districts_m2": round(float(fa["floor"][~placed].sum())),
              "notes": notes}
    return lay, report


#: a district whose people per floor area exceed the least dense district's by this factor is
#: flagged (ASSUMED threshold): its total is probably spread over only the part of it that the extract holds
PACKING_FLAG = 1.5


def _packing_notes(rows: list[dict]) -> list[str]:
    """Flag districts whose total looks packed onto too little floor area (module docstring):
    the census counts the whole district, the extract may hold only part of its buildings.
    Marks the rows (``check``) and returns one note per flagged district."""
    # named in English where the data has it: a report read without CJK fonts shows boxes
    rates = {r.get("district_en") or r["district"]: r["people_per_100m2"] for r in rows if r.get("people_per_100m2")}
    if len(rates) < 2:
        return []
    base_name = min(rates, key=rates.get)
    base = rates[base_name]
    notes = []
    for r in rows:
        rate = r.get("people_per_100m2")
        name = r.get("district_en") or r["district"]
        if rate and rate > PACKING_FLAG * base:
            r["check"] = (f"{rate / base:.1f}x the people per floor area of {base_name}: the district probably "
                          "reaches beyond the extract, and its people are packed onto the part inside")
            notes.append(f"check the map data: {name} has {rate:.1f} people per 100 m2 of residential "
                         f"floor, {rate / base:.1f}x {base_name}'s {base:.1f}. Its census total is spread over the "
                         "buildings the extract holds; if the district reaches beyond the extract, its cells are "
                         "overstated. Give totals for the part inside (plan opportunities --totals FILE, then plan access "
                         "--opportunities opportunities.tif:1) or a larger extract.")
    return notes


def activity_layer(lu: LandUse, grid: Grid) -> Opportunities:
    """Activity places weighted by :data:`ACTIVITY_WEIGHTS`, summed per cell."""
    kinds = lu.place_kind
    wts = np.array([ACTIVITY_WEIGHTS.get(k, ACTIVITY_WEIGHTS.get(k.split("=", 1)[0], 1.0)) for k in kinds])
    x, y = transform_xy("EPSG:4326", grid.crs, lu.places[:, 0], lu.places[:, 1])
    lay = opportunities_from_points("activities", x, y, wts, grid, unit="weighted places",
                                    source="OSM places", keep_outside=False)
    lay.points = np.zeros((0, 2))
    return lay


def default_totals(osm: str | Path) -> Path | None:
    """The totals file kept beside an extract (``NAME.districts.csv`` for ``NAME.osm.pbf``)."""
    p = Path(osm)
    stem = p.name.split(".osm")[0]
    cand = p.with_name(f"{stem}.districts.csv")
    return cand if cand.is_file() else None


def osm_layers(osm: str | Path, grid: Grid | None = None, *, totals: str | None = None, name_column: str = "name",
               admin_level: str = "6", resolution: float = 250.0, lu: LandUse | None = None):
    """The population and activity layers of an OSM extract on ``grid`` (default: a grid of
    ``resolution`` metres over the extract's bounding box, in its UTM zone).

    Totals: ``totals`` (``FILE[:COLUMN]``), else the file beside the extract
    (:func:`default_totals`), else the admin relations' ``population`` tags. Returns
    ``(grid, population, activities, report)``.
    """
    lu = lu if lu is not None else read_landuse(osm, admin_level=admin_level)
    if grid is None:
        grid = make_grid(resolution, bbox=lu.extent)
    osm_districts = districts_from_osm(lu, grid.crs) if lu.admin else None
    spec = totals if totals is not None else (str(default_totals(osm)) if default_totals(osm) else None)
    if spec is not None:
        districts = read_totals(spec, osm_districts, grid.crs, name_column=name_column)
    elif osm_districts is not None and np.isfinite(osm_districts.totals).any():
        districts = osm_districts
    else:
        msg = (f"{Path(osm).name}: no population totals: no --totals file, no {Path(osm).name.split('.osm')[0]}"
               f".districts.csv beside it, and no admin_level={admin_level} relation with a population tag")
        raise InputError(msg, code="no_population_totals", hint="pass --totals FILE (CSV: name,population; or polygons)")
    pop, report = population_layer(lu, grid, districts)
    report["totals_source"] = districts.source
    report["extent"] = list(lu.extent)
    act = activity_layer(lu, grid)
    report["activities"] = {"places": len(lu.place_kind), "weighted_total": act.total,
                            "by_key": dict(Counter(k.split("=", 1)[0] for k in lu.place_kind).most_common())}
    return grid, pop, act, report


def places_with_districts(census: str | Path, extent, rows: list[dict]) -> pd.DataFrame:
    """The census places (``id``, ``name``, ``lon``, ``lat``, ``population``; the bundled
    ``gtfs/cities.csv``) with each city whose point lies in the extract's box (``extent``)
    split into the districts of ``rows`` (at their homes' centre, with their totals) and the
    rest of its population at its own point: ``plan evaluate --places`` weights by the layer."""
    df = pd.read_csv(census, encoding="utf-8-sig")
    low = {str(c).lower(): c for c in df.columns}
    idc, namec = low.get("id") or low.get("city_id"), low.get("name") or low.get("name_en")
    if idc is None or namec is None or not {"lon", "lat", "population"} <= set(low):
        msg = f"{census}: expected id (or city_id), name (or name_en), lon, lat, population"
        raise InputError(msg, code="missing_required_column")
    w, s, e, n = extent
    dist = [r for r in rows if r.get("total") and np.isfinite(r.get("lon", np.nan))]
    out = []
    for _, c in df.iterrows():
        lon, lat, pop = float(c[low["lon"]]), float(c[low["lat"]]), float(c[low["population"]])
        inside = w <= lon <= e and s <= lat <= n
        rest = pop - sum(r["total"] for r in dist)
        if inside and dist and rest >= 0:
            out.append({"id": f"{c[idc]}_rest", "name": f"{c[namec]} (rest)", "lon": lon, "lat": lat,
                        "population": round(rest)})
            out += [{"id": f"{c[idc]}_{k + 1}", "name": r["district"], "lon": r["lon"], "lat": r["lat"],
                     "population": round(r["total"])} for k, r in enumerate(dist)]
        else:
            out.append({"id": c[idc], "name": c[namec], "lon": lon, "lat": lat, "population": round(pop)})
    return pd.DataFrame(out, columns=["id", "name", "lon", "lat", "population"])


def district_zones(places: pd.DataFrame, extent, rows: list[dict]) -> pd.DataFrame:
    """Weighted points (``place_id``, ``name``, ``lon``, ``lat``, ``weight``) for ``plan
    evaluate``: every place (``id``, ``lon``, ``lat``, ``population``; e.g. the bundled census
    cities) whose point lies in the extract's box (``extent``) is spread over the districts of
    ``rows`` (at their homes' centre, weighted by their totals) and the rest of its population
    at its own point. The place keeps its id; its travel times become the weighted mean over
    these points. Places outside the box, or smaller than the districts' sum, get none."""
    w, s, e, n = extent
    dist = [r for r in rows if r.get("total") and np.isfinite(r.get("lon", np.nan))]
    out = []
    for _, c in places.iterrows():
        lon, lat, pop = float(c["lon"]), float(c["lat"]), float(c["population"])
        rest = pop - sum(r["total"] for r in dist)
        if dist and w <= lon <= e and s <= lat <= n and rest >= 0:
            out += [{"place_id": c["id"], "name": r["district"], "lon": r["lon"], "lat": r["lat"],
                     "weight": float(r["total"])} for r in dist]
            if rest > 0:
                out.append({"place_id": c["id"], "name": f"{c.get('name', c['id'])} (rest)", "lon": lon, "lat": lat,
                            "weight": rest})
    return pd.DataFrame(out, columns=["place_id", "name", "lon", "lat", "weight"])


def city_zones(osm: str | Path, places: pd.DataFrame, *, resolution: float = 250.0) -> tuple[pd.DataFrame | None, list[str]]:
    """The weighted points of the places inside the OSM extract ``osm`` (:func:`district_zones`
    on its population layer) and sentences for a report saying how each such place is spread,
    with the layer's "check the map data" notes; ``(None, [])`` when no place is inside."""
    _g, _pop, _act, report = osm_layers(osm, resolution=resolution)
    z = district_zones(places, report["extent"], report["districts"])
    if not len(z):
        return None, []
    notes = []
    names = places.set_index("id")["name"] if "name" in places else None
    for pid, grp in z.groupby("place_id", sort=False):
        name = names.loc[pid] if names is not None else pid
        rest = grp["name"].str.endswith("(rest)")
        notes.append(f"{name}'s travel times are the population-weighted mean over {len(grp)} points: its "
                     f"{int((~rest).sum())} districts inside the OSM extract at the centre of their homes "
                     f"({grp.loc[~rest, 'weight'].sum():,.0f} people by residential floor area, census totals from "
                     f"{report['totals_source']}) and the rest ({grp.loc[rest, 'weight'].sum():,.0f}) at the city "
                     "point (--no-zones: one point).")
    notes += [n[0].upper() + n[1:] for n in report.get("notes", [])]
    return z, notes
