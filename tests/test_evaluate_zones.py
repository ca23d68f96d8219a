"""Places spread over weighted points (``plan evaluate --zones``; on the bundled sample Harbin over
its districts, issue 20). Data: the four-city corridor of tests/test_scenario.py (A..D on the
45th parallel, a train every hour) with city A split into two points; the reference is the same
evaluation with the two points as places of their own, averaged by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from planner.analyses.access.population import district_zones
from planner.analyses.evaluate.compare import aggregate_zones, evaluate, zone_points
from planner.cli.main import main
from planner.errors import InputError
from planner.ingest.points import load_zones
from tests.test_scenario import CFG, corridor, places

#: city A: its station point (3 parts of the people) and a point 10 km north (1 part), reached
#: by the taxi/bus approximation
ZONES = pd.DataFrame({"place_id": ["A", "A"], "name": ["centre", "north"], "lon": [126.0, 126.0],
                      "lat": [45.0, 45.09], "weight": [3.0, 1.0]})


def test_a_zoned_place_is_the_weighted_mean_of_its_points(tmp_path):
    fs = corridor(tmp_path)
    kw = {"date": "2025-06-17", "depart_s": 7 * 3600, "window_min": 0, "config": CFG, "cache_dir": tmp_path / "c"}
    zoned = evaluate(fs, [], places(), zones=ZONES, **kw).baseline.matrix_min
    # reference: the two points as places of their own
    p = places()
    split = pd.concat([p.iloc[[0]].assign(id="A1"), p.iloc[[0]].assign(id="A2", lat=45.09), p.iloc[1:]],
                      ignore_index=True)
    ref = evaluate(fs, [], split, **kw).baseline.matrix_min
    a1, a2 = ref[0], ref[1]
    assert np.isfinite(a1[2:]).all() and np.isfinite(a2[2:]).all()
    assert (a2[2:] > a1[2:]).all()  # the northern point is farther from every other city
    np.testing.assert_allclose(zoned[0, 1:], (3 * a1[2:] + a2[2:]) / 4)          # from A
    np.testing.assert_allclose(zoned[1:, 0], (3 * ref[2:, 0] + ref[2:, 1]) / 4)  # to A
    np.testing.assert_allclose(zoned[1:, 1:], ref[2:, 2:])                        # the others unchanged
    # without zones the place is its one point
    plain = evaluate(fs, [], places(), **kw).baseline.matrix_min
    np.testing.assert_allclose(plain[0, 1:], a1[2:])


def test_aggregation_skips_unreachable_point_pairs_and_keeps_nan_when_none_is_reached():
    minutes = np.array([[0.0, 10.0, np.nan], [10.0, 0.0, np.nan], [30.0, np.nan, 0.0]])
    owner, weight = np.array([0, 0, 1]), np.array([1.0, 3.0, 1.0])
    out = aggregate_zones(minutes, owner, weight, 2)
    assert np.isnan(out[0, 1])                    # neither point of place 0 reaches place 1
    assert out[1, 0] == pytest.approx(30.0)       # only the pair that is reached counts
    assert out[0, 0] == 0.0 and out[1, 1] == 0.0  # each point to itself


def test_zones_naming_an_unknown_place_are_refused():
    with pytest.raises(InputError, match="Z"):
        zone_points(places(), ZONES.assign(place_id=["A", "Z"]))


def test_district_zones_split_the_city_inside_the_extract_and_keep_its_id():
    p = pd.DataFrame({"id": ["h", "c"], "name": ["H", "C"], "lon": [126.61, 125.3], "lat": [45.705, 43.9],
                      "population": [5000.0, 900.0]})
    rows = [{"district": "A", "total": 1000.0, "lon": 126.605, "lat": 45.705},
            {"district": "B", "total": 600.0, "lon": 126.614, "lat": 45.705}]
    z = district_zones(p, (126.6, 45.7, 126.62, 45.71), rows)
    assert z["place_id"].tolist() == ["h", "h", "h"]
    assert z["weight"].tolist() == [1000.0, 600.0, 3400.0] and z["weight"].sum() == 5000.0
    assert z["name"].tolist() == ["A", "B", "H (rest)"]


@pytest.mark.parametrize(("body", "where"), [
    ("place_id,lon,lat\nA,126,45\n", "missing column(s) weight"),
    ("place_id,lon,lat,weight\nA,126,45,3\nA,126,45.1,-1\n", "row 3: field 'weight'"),
    ("place_id,lon,lat,weight\nA,east,45,3\n", "row 2: field 'lon'"),
    ("place_id,lon,lat,weight\nA,126,95,3\n", "row 2: field 'lat'"),
])
def test_bad_zones_files_name_the_file_row_and_field(tmp_path, body, where):
    f = tmp_path / "zones.csv"
    f.write_text(body, encoding="utf-8")
    with pytest.raises(InputError, match=r"zones\.csv") as err:
        load_zones(f)
    assert where in err.value.message
    r = CliRunner().invoke(main, ["evaluate", "--zones", str(f), "-o", str(tmp_path / "out")])
    assert r.exit_code == 2 and where in r.output and "Traceback" not in r.output
