"""``plan net`` on the command line (hand-made net), and the rail net of the bundled Northeast
China sample against published fastest run times."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli.main import main
from tests.conftest import write_feed
from tests.test_railnet import HAND, NEW_LINK, PLACES

ROOT = Path(__file__).parent.parent


@pytest.fixture
def hand_args(tmp_path):
    feed = write_feed(tmp_path / "hand", HAND)
    places = tmp_path / "places.csv"
    PLACES.to_csv(places, index=False)
    scn = tmp_path / "direct_ae.yaml"
    scn.write_text(NEW_LINK, encoding="utf-8")
    return ["net", str(scn), "--gtfs", f"hand={feed}", "--places", str(places), "--date", "2025-06-17", "-q"]


@pytest.mark.slow
def test_plan_net_writes_every_output(hand_args, tmp_path):
    out = tmp_path / "out"
    r = CliRunner().invoke(main, [*hand_args, "--central", "A,C", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "efficiency_per_h" in r.output and "direct_ae Δ" in r.output
    assert "Fastest times between the central cities" in r.output
    files = {p.name for p in out.iterdir()}
    assert {"summary.csv", "pairs.csv", "pairs.parquet", "cities.csv", "links.csv", "weak_links.csv", "stations.csv",
            "changed_pairs.csv", "net.gpkg", "net_baseline.png", "net_direct_ae.png", "report.html",
            "matrix_baseline_fastest_min.csv", "matrix_direct_ae_direct_trains.csv"} <= files
    pairs = pd.read_parquet(out / "pairs.parquet")
    assert set(pairs["network"]) == {"baseline", "direct_ae"} and len(pairs) == 2 * 20
    base = pairs.loc[pairs["network"] == "baseline"].set_index(["from_id", "to_id"])
    assert base.loc[("A", "D"), "fastest_min"] == 210 and base.loc[("A", "B"), "direct_trains"] == 3
    m = pd.read_csv(out / "matrix_baseline_fastest_min.csv", index_col="from_id")
    assert m.loc["B", "E"] == 50 and pd.isna(m.loc["E", "B"])
    changed = pd.read_csv(out / "changed_pairs.csv")
    assert len(changed) == 6
    cities = pd.read_csv(out / "cities.csv")
    assert cities.loc[cities["central"], "id"].tolist() == ["A", "C", "A", "C"]
    import geopandas as gpd

    links = gpd.read_file(out / "net.gpkg", layer="links")
    assert links.crs.to_epsg() == 4326 and {"trains", "fastest_min", "network"} <= set(links.columns)
    assert len(links.loc[links["network"] == "direct_ae"]) == 6
    assert (out / "net_baseline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Intercity rail net" in html and "Rail net: scenario direct_ae" in html
    # worded headings with units, people-friendly numbers, the glossary (issue 16)
    for heading in ("people of other cities within 1 h", "cities with a direct train", "closeness (1/h)",
                    "straight line (km)", "detour index", "why it is weak", "Glossary", "efficiency relative to "
                    "the ideal net", "pairs within 2 h"):
        assert heading in html, heading
    assert "<th>pop within 1h</th>" not in html and "<th>closeness per h</th>" not in html
    assert re.search(r"<td class='num'>\d+(\.\d)? %</td>", html)  # shares as percentages
    # an existing output folder is refused without --overwrite, then replaced with it
    r = CliRunner().invoke(main, [*hand_args, "-o", str(out)])
    assert r.exit_code == 2 and "already exists" in r.output
    r = CliRunner().invoke(main, [*hand_args, "-o", str(out), "--overwrite", "--basis", "median"])
    assert r.exit_code == 0, r.output
    assert "times: median" in r.output


@pytest.mark.parametrize(("extra", "message"), [
    (["--central", "A,Z"], "central cities not among the places: Z"),
    (["--places", "MISSING.csv"], "cannot read places file"),
    (["--reference-speed-kmh", "0"], "--reference-speed-kmh"),
    (["--date", "2031-01-01"], "no trips run on 2031-01-01"),
])
def test_plan_net_errors(hand_args, tmp_path, extra, message):
    r = CliRunner().invoke(main, [*hand_args, "-o", str(tmp_path / "o"), *extra])
    assert r.exit_code == 2, r.output
    assert message in r.output


@pytest.mark.slow
def test_plan_net_options_change_the_result(hand_args, tmp_path):
    def run(*extra):
        out = tmp_path / f"o{len(list(tmp_path.iterdir()))}"
        r = CliRunner().invoke(main, [*hand_args, "-o", str(out), *extra])
        assert r.exit_code == 0, r.output
        return pd.read_csv(out / "summary.csv").set_index("measure")["baseline"]

    base = run()
    # B2 is 5.6 km from B: with 5 km clusters B has one station and A cannot reach E
    assert run("--cluster-km", "5")["node_stations"] == base["node_stations"] - 1
    # detour index = time / (distance at the reference speed): half the default 200 km/h halves it
    assert run("--reference-speed-kmh", "100")["median_detour_index"] == pytest.approx(
        base["median_detour_index"] / 2)
    # departures 09:30-10:30 (10:30 excluded): A 10:00 -> B, C, D; B2 09:40 -> E
    assert run("--depart", "09:30", "--window", "60")["reachable_pairs"] == 4
    assert run("--group-by", "distance")["node_stations"] == base["node_stations"]
    assert run("--basis", "median")["pop_weighted_mean_min"] > base["pop_weighted_mean_min"]


# ---------------------------------------------------------------------- the bundled sample

#: published fastest run times (minutes), copied from ../shared/data/northeast_china/rail_fastest_times.csv
#: (the latest row per pair), with their sources
PUBLISHED = [
    ("harbin", "dalian", 210, "2015-04-21", "Harbin West-Dalian North",
     "https://global.chinadaily.com.cn/dfpd/hlj/2015-04/21/content_20495047.htm"),
    ("harbin", "qiqihar", 85, "2015-08-17", "Harbin-Qiqihar South",
     "https://en.wikipedia.org/wiki/Harbin%E2%80%93Qiqihar_intercity_railway"),
    ("harbin", "mudanjiang", 88, "2018-12-25", "Harbin-Mudanjiang",
     "https://news.cgtn.com/news/3d3d514d7a59544e31457a6333566d54/index.html"),
    ("harbin", "jiamusi", 123, "2018-09-30", "Harbin-Jiamusi",
     "https://www.syxd678.com/en/newscenter/Corporation/201810/t20181026_73014.html"),
    ("mudanjiang", "jiamusi", 130, "2021-12 to 2022-12", "Mudanjiang-Jiamusi",
     "http://en.people.cn/n3/2022/1213/c90000-10183691.html"),
    ("changchun", "jilin", 29, "2011", "Changchun-Jilin",
     "https://en.wikipedia.org/wiki/Changchun%E2%80%93Jilin_Intercity_Railway"),
    ("beijing", "shenyang", 164, "2021-01-22", "Beijing-Shenyang",
     "https://regional.chinadaily.com.cn/travelshenyang/2021-01/25/c_585146.htm"),
    ("beijing", "harbin", 292, "2021-01-22", "Beijing-Harbin",
     "https://regional.chinadaily.com.cn/travelshenyang/2021-01/25/c_585146.htm"),
]


def test_bundled_sample_spine_branches_and_published_times(monkeypatch):
    from planner.analyses.railnet.net import rail_net
    from planner.ingest.gtfs.feed import read_feeds
    from planner.ingest.points import load_places

    monkeypatch.chdir(ROOT)
    places = load_places()
    # Beijing and Chengde are served but not among the census cities: add their points
    # (the feed's city points, population 0) so that the published Beijing times can be checked
    extra = pd.DataFrame({"id": ["beijing", "chengde"], "name": ["Beijing", "Chengde"],
                          "lon": [116.39723, 117.93611], "lat": [39.9075, 40.9725], "population": [0.0, 0.0]})
    places = pd.concat([places, extra], ignore_index=True)
    feeds = read_feeds(sorted(str(p) for p in (ROOT / "gtfs").glob("*.zip")))
    net = rail_net(feeds, places, date="2025-06-17")
    t = net.pairs.set_index(["from_id", "to_id"])
    for a, b, minutes, _as_of, _what, _src in PUBLISHED:
        got = t.loc[(a, b), "fastest_min"]
        assert abs(got - minutes) <= max(3, 0.1 * minutes), (a, b, got, minutes)
    assert 60 <= t.loc[("shenyang", "dandong"), "fastest_min"] <= 75  # published: "just over one hour"
    # the spine, both ways, with many direct trains and plausible hours
    for a, b, lo, hi in [("harbin", "changchun", 45, 70), ("changchun", "shenyang", 55, 90),
                         ("shenyang", "dalian", 75, 120), ("harbin", "shenyang", 110, 160)]:
        for x, y in ((a, b), (b, a)):
            assert lo <= t.loc[(x, y), "fastest_min"] <= hi, (x, y)
            assert t.loc[(x, y), "direct_trains"] >= 10
    links = net.links.set_index(["from_id", "to_id"])["trains"]
    for a, b in [("harbin", "changchun"), ("changchun", "shenyang"), ("shenyang", "dalian"), ("harbin", "daqing"),
                 ("daqing", "qiqihar"), ("harbin", "mudanjiang"), ("harbin", "jiamusi"), ("mudanjiang", "jixi"),
                 ("changchun", "jilin"), ("jilin", "yanbian"), ("shenyang", "dandong"), ("dandong", "dalian"),
                 ("shenyang", "fuxin"), ("harbin", "suihua")]:
        assert links[(a, b)] >= 1 and links[(b, a)] >= 1, (a, b)
    c = net.cities.set_index("id")
    assert set(c.index[c["central"]]) == {"harbin", "shenyang", "changchun", "dalian"}
    # Shangzhi South (118 km from Harbin's point) is no Harbin station; Suihua's only station within 20 km
    # is Suihua (SHB, on the conventional Harbin East-Suihua line; Anda and Zhaodong are farther)
    st = net.stations.set_index("stop_name")
    assert st.loc["尚志南", "city_id"] == "" and c.loc["suihua", "stations"] == 1
    assert st.loc["绥化", "city_id"] == "suihua"
    assert c["betweenness"].idxmax() in {"changchun", "shenyang", "harbin"}
