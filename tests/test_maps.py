"""PNG maps and their geographic context (issue 16).

Data: the bundled Natural Earth context (``context/ne_china_context.gpkg``, Natural Earth
1:50m clipped to lon 115-136 E, lat 37-54 N; see ``context/PROVENANCE.md``) and the golden
synthetic city Gridton (``tests/data/golden/city/``: GTFS at about 126.0 E, 45.0 N, inside
that box, and its places.csv).
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
from planner.outputs.maps import change_title, map_frame, network_map, place_change_map, varies
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
    limit), so a map is reproducible byte for byte (plan evaluate's determinism test needs it)."""
    tt, places = gridton
    frame = map_frame(places["lon"], places["lat"])
    assert network_map(tt, places, title="a", frame=frame) == network_map(tt, places, title="a", frame=frame)
