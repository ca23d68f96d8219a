"""PNG maps and their geographic context (issue 16).

Data: the bundled Natural Earth context (``context/ne_china_context.gpkg``, Natural Earth
1:50m clipped to lon 115-136 E, lat 37-54 N; see ``context/PROVENANCE.md``) and the golden
synthetic city Gridton (``tests/data/golden/city/``: GTFS at about 126.0 E, 45.0 N, inside
that box, and its places.csv), and a copy of it with Chinese stop names (English names in
``stop_name_en`` or translations.txt, written by the ``chinese_city`` fixture).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from PIL import Image

from planner.ingest.gtfs import read_feed
from planner.network.timetable import build_timetable
from planner.outputs.context import (
    CREDIT,
    bundled_context_path,
    context_note,
    draw_context,
    load_context,
)
from planner.outputs.maps import (
    change_title,
    drawable,
    line_ends,
    map_frame,
    map_name,
    network_map,
    place_change_map,
    varies,
)
from tests.conftest import GOLDEN

CITY = GOLDEN / "city"


@pytest.fixture(scope="module")
def gridton():
    feed = read_feed(CITY / "gtfs", "gridton")
    tt = build_timetable(feed, "2025-03-04")
    places = pd.read_csv(CITY / "places.csv")
    return tt, places


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(io.BytesIO(png)).size


def test_the_bundled_context_is_in_the_repository():
    path = bundled_context_path()
    assert path is not None and path.name == "ne_china_context.gpkg"
    assert (path.parent / "PROVENANCE.md").read_text(encoding="utf-8").count("Made with Natural Earth") >= 1


def test_context_inside_the_box_has_the_layers_and_outside_none():
    ctx = load_context((120.0, 38.0, 128.0, 47.0))  # Shenyang-Harbin: land, coast, rivers, borders
    assert ctx and {"land", "coastline", "rivers_lake_centerlines", "admin_0_boundary_lines_land"} <= set(ctx.layers)
    assert load_context((5.0, 45.0, 10.0, 50.0)) is None        # a user's region elsewhere (Europe)
    assert load_context((110.0, 38.0, 128.0, 47.0)) is None     # partly outside the coverage
    assert "Natural Earth" in context_note(ctx) and "no geographic background" in context_note(None)


def test_draw_context_puts_the_credit_line_on_the_map():
    fig = Figure()
    ax = fig.add_subplot(111)
    draw_context(ax, load_context((120.0, 38.0, 128.0, 47.0)))
    assert CREDIT == "Made with Natural Earth"
    assert CREDIT in [t.get_text() for t in ax.texts]
    ax2 = Figure().add_subplot(111)
    draw_context(ax2, None)
    assert not ax2.texts


def test_one_frame_is_used_as_given(gridton):
    tt, places = gridton
    frame = map_frame([125.9, 126.2], [44.95, 45.1])
    assert frame.has_context  # Gridton lies in the Natural Earth box (Harbin's coordinates)
    a = network_map(tt, places, title="baseline", frame=frame)
    b = place_change_map(tt, places, np.linspace(-3, 2, len(places)), title="change", label="minutes", frame=frame)
    assert _png_size(a) == _png_size(b)  # same figure; the same extent is set on both (asserted below)
    assert frame.x0 < 125.9 and frame.x1 > 126.2 and frame.y0 < 44.95 and frame.y1 > 45.1


def test_a_map_without_variation_says_so():
    assert varies([0.0, -1.0, 0.2]) and not varies([0.0, 0.01, -0.02]) and not varies([np.nan, np.nan])
    assert change_title("x", [0.0, 0.0]).endswith("(no place changes: every value is 0)")
    assert change_title("x", [0.0, 2.0]) == "x"


def test_change_map_draws_changed_elements(gridton):
    tt, places = gridton
    route = str(tt.route_ids[0])
    png = place_change_map(tt, places, np.zeros(len(places)), title="nothing", label="minutes",
                           changed_routes=[route], removed_routes=[route],
                           connectors=[(126.0, 45.0, 126.01, 45.0, "connector")],
                           card_operators=[str(tt.operator_names[0])],
                           extra_lines=[([(126.0, 45.0), (126.04, 45.03)], "new line")])
    assert _png_size(png)[0] > 500


def test_a_region_outside_the_context_is_drawn_without_it(gridton):
    tt, places = gridton
    far = places.assign(lon=places["lon"] - 120.0)  # the same city moved to 6 E
    frame = map_frame(far["lon"], far["lat"])
    assert not frame.has_context
    png = place_change_map(tt, far, np.ones(len(far)), title="elsewhere", label="minutes", frame=frame)
    assert _png_size(png)[0] > 500


def test_the_same_map_twice_is_the_same_png(gridton):
    """Labels are placed in a fixed number of adjustText iterations (not its default time
    limit), so a map is reproducible byte for byte (plan evaluate's determinism test needs it).
    Two frames: each map computes its own label positions."""
    tt, places = gridton
    one, two = (map_frame(places["lon"], places["lat"]) for _ in range(2))
    assert network_map(tt, places, title="a", frame=one) == network_map(tt, places, title="a", frame=two)


def test_label_positions_are_computed_once_per_frame_and_reused_as_computed(gridton, monkeypatch):
    """Maps of one run (one frame, the same labels, the same axes: every map has its axes and
    colour bar in fixed places) run adjustText once; a map drawn from reused positions is the
    same PNG as the map that computed them."""
    import planner.outputs.maps as maps

    calls = []
    real = maps.adjust_text
    monkeypatch.setattr(maps, "adjust_text", lambda *a, **k: calls.append(1) or real(*a, **k))
    tt, places = gridton
    frame = map_frame(places["lon"], places["lat"])
    first = network_map(tt, places, title="a", frame=frame)
    values = np.linspace(-3, 2, len(places))
    change = place_change_map(tt, places, values, title="b", label="minutes", frame=frame)
    again = place_change_map(tt, places, values * 2, title="c", label="minutes", frame=frame)
    assert len(calls) == 1 and len(frame.labels) == 1
    assert network_map(tt, places, title="a", frame=frame) == first  # reused positions, the same bytes
    assert _png_size(change) == _png_size(again) == _png_size(first)


def _captured_labels(monkeypatch):
    """The label texts the next map hands to finish_map."""
    import planner.outputs.maps as maps

    seen: list[str] = []
    real = maps.finish_map

    def spy(*args, labels=(), **kw):
        seen.extend(t.get_text() for t in labels)
        return real(*args, labels=labels, **kw)

    monkeypatch.setattr(maps, "finish_map", spy)
    return seen


@pytest.fixture(scope="module")
def chinese_city(tmp_path_factory):
    """Gridton with Chinese stop names: West Gate and East Gate have ``stop_name_en``, South
    Gate an English name in translations.txt only, North Gate neither."""
    d = tmp_path_factory.mktemp("zh") / "gtfs"
    d.mkdir()
    for f in (CITY / "gtfs").iterdir():
        (d / f.name).write_bytes(f.read_bytes())
    zh = {"WG": ("西门", "West Gate"), "EG": ("东门", "East Gate"), "SG": ("南门", ""), "NG": ("北门", ""),
          "OT": ("老城", "Old Town")}
    st = pd.read_csv(CITY / "gtfs" / "stops.txt", dtype=str, keep_default_na=False)
    st["stop_name_en"] = ""
    for sid, (name, en) in zh.items():
        st.loc[st["stop_id"] == sid, ["stop_name", "stop_name_en"]] = [name, en]
    st.to_csv(d / "stops.txt", index=False)
    (d / "translations.txt").write_text("table_name,field_name,language,translation,record_id\n"
                                        "stops,stop_name,en,South Gate,SG\nstops,stop_name,fr,Porte Nord,NG\n",
                                        encoding="utf-8")
    return build_timetable(read_feed(d, "zh"), "2025-03-04")


def test_the_timetable_keeps_english_stop_names(chinese_city):
    tt = chinese_city
    en = dict(zip([str(s).split(":")[1] for s in tt.stop_ids], tt.stop_names_en, strict=True))
    assert en["WG"] == "West Gate" and en["EG"] == "East Gate"
    assert en["SG"] == "South Gate"  # from translations.txt
    assert en["NG"] == ""            # a French translation is not English
    assert dict(zip(tt.stop_ids, tt.stop_names, strict=True))["zh:WG"] == "西门"


def test_map_names_never_draw_boxes():
    assert drawable("Harbin West") and not drawable("哈尔滨西")
    assert map_name("Harbin West", "哈尔滨西", "VAB") == "Harbin West"
    assert map_name("", "哈尔滨西", "VAB") == "VAB"          # no English name: the id
    assert map_name(None, float("nan"), "哈尔滨西") == ""    # nothing drawable at all: left blank


def test_line_ends_away_from_places_are_labelled_in_english(chinese_city, monkeypatch):
    """Lines ending where no place is get a label at their end: the English name (stop_name_en,
    else translations.txt), else the stop id; never a Chinese name the font cannot draw."""
    tt = chinese_city
    places = pd.DataFrame({"id": ["c"], "name": ["中心"], "name_en": ["Centre"], "lon": [126.02], "lat": [45.016],
                           "population": [20000]})
    frame = map_frame(tt.stop_lon, tt.stop_lat)
    ends = {str(tt.stop_ids[s]).split(":")[1] for s in line_ends(tt, frame, places)}
    assert {"WG", "EG", "SG", "NG"} <= ends and "CE" not in ends  # Central is a place: its dot names it
    seen = _captured_labels(monkeypatch)
    network_map(tt, places, title="ends", frame=frame)
    assert "Centre" in seen                                      # a place named in Chinese shows its English name
    assert {"West Gate", "East Gate", "South Gate", "NG"} <= set(seen)
    assert all(drawable(t) for t in seen)


_OPL = """n1 v1 x10.00 y50.00
n2 v1 x10.01 y50.00
n3 v1 x10.01 y50.01
n4 v1 x10.00 y50.01
n5 v1 x10.02 y50.00
n6 v1 x10.03 y50.02
n7 v1 x10.04 y50.00
n8 v1 x10.04 y50.03
n9 v1 x10.05 y50.00
n10 v1 x10.05 y50.03
n11 v1 x10.06 y50.00
n12 v1 x10.06 y50.03
n13 v1 x9.00 y40.00
n14 v1 x9.01 y40.01
w1 v1 Tnatural=water,name=Lake Nn1,n2,n3,n4,n1
w2 v1 Tnatural=coastline Nn5,n6
w3 v1 Tboundary=administrative,admin_level=4 Nn7,n8
w4 v1 Tboundary=administrative,admin_level=8 Nn9,n10
w5 v1 Twaterway=river Nn11,n12
w6 v1 Tbuilding=yes Nn1,n2,n3,n1
w7 v1 Twaterway=river Nn13,n14
"""


@pytest.fixture(scope="module")
def osm_extract(tmp_path_factory):
    """A small .osm.pbf near 10 E, 50 N (outside the Natural Earth box), written from OPL: a lake
    (closed way), a coastline, a state boundary (admin_level 4), a town boundary (8: not drawn),
    a river, a building, and a river far away (9 E, 40 N: outside the box)."""
    import osmium

    d = tmp_path_factory.mktemp("osm")
    (d / "x.opl").write_text(_OPL, encoding="utf-8")
    out = d / "region.osm.pbf"
    writer = osmium.SimpleWriter(str(out), overwrite=True)
    try:
        for obj in osmium.FileProcessor(str(d / "x.opl")):
            writer.add(obj)
    finally:
        writer.close()
    return out


def test_osm_context_reads_water_coast_boundaries_inside_the_box(osm_extract):
    from planner.ingest.osm.context import read_osm_context

    box = (9.99, 49.99, 10.1, 50.1)
    ctx = read_osm_context(osm_extract, box)
    assert set(ctx.layers) == {"water", "rivers", "coastline", "boundaries"}  # no buildings unless asked
    assert list(ctx.layers["boundaries"]["admin_level"]) == [4]               # admin_level 8 left out
    assert len(ctx.layers["rivers"]) == 1                                     # the far river is outside
    for gdf in ctx.layers.values():
        x0, y0, x1, y1 = gdf.total_bounds
        assert box[0] <= x0 and x1 <= box[2] and box[1] <= y0 and y1 <= box[3]
    assert "buildings" in read_osm_context(osm_extract, box, buildings=True).layers
    assert read_osm_context(CITY / "streets.osm", box) is None  # XML: no context (the note says so)


def test_a_region_outside_natural_earth_gets_its_osm_context(osm_extract):
    from planner.outputs.context import OSM_CREDIT

    frame = map_frame([10.0, 10.06], [50.0, 50.03], osm=osm_extract)
    assert frame.has_context and frame.context.kind == "osm"
    assert "OpenStreetMap extract region.osm.pbf" in context_note(frame.context)
    fig = Figure()
    ax = fig.add_subplot(111)
    draw_context(ax, frame.context)
    assert OSM_CREDIT in [t.get_text() for t in ax.texts]
    assert not map_frame([10.0, 10.06], [50.0, 50.03]).has_context  # no extract: none, and the note says so
    assert "no OSM extract" in context_note(None)


def test_a_corrupt_extract_is_a_clear_error():
    from planner.errors import OSMError
    from planner.ingest.osm.context import read_osm_context

    with pytest.raises(OSMError):
        read_osm_context(GOLDEN.parent / "fuzz" / "pbf_truncated_block.osm.pbf", (0, 0, 1, 1))


def test_raster_previews_get_roads_and_water_from_the_extract_else_natural_earth(tmp_path):
    """Data: the bundled central-Harbin extract (tests/data/osm/harbin_central.osm.pbf) and a
    2 x 2 km grid inside it; a grid near 10 E (outside Natural Earth's box) without an extract."""
    from planner.analyses.access.grid import make_grid
    from planner.outputs.raster import Band, raster_context, write_png

    g = make_grid(250, bbox=(126.60, 45.74, 126.66, 45.78))
    osm = GOLDEN.parent / "osm" / "harbin_central.osm.pbf"
    ctx = raster_context(g, osm)
    assert ctx.kind == "osm" and {"roads", "water"} <= set(ctx.layers)
    ne = raster_context(g)
    assert ne.kind == "natural_earth"  # no extract: Natural Earth covers Harbin
    assert raster_context(make_grid(250, bbox=(10.0, 50.0, 10.05, 50.03))) is None
    band = Band("people", np.arange(g.width * g.height, dtype=float).reshape(g.shape), "people", "test")
    plain = write_png(tmp_path / "a.png", g, band).read_bytes()
    drawn = write_png(tmp_path / "b.png", g, band, context=ctx).read_bytes()
    assert plain != drawn and _png_size(drawn) == _png_size(plain)
