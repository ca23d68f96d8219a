#!/usr/bin/env python
"""Regenerate the bundled Northeast China sample from the sourced facts.

    python scripts/build_default_data.py [--source ../shared/data] [--out .]

Reads ``SOURCE/northeast_china/*.csv`` (hand-assembled public facts, one source per row) and
``SOURCE/northeast_china_osm/harbin_central.osm.pbf`` (OpenStreetMap, ODbL), plus the facts kept in the
repository under ``gtfs/facts/`` (same columns as the shared files of the same name: the conventional
Harbin East-Suihua(-Jiamusi) line, issue 15), and writes, under
``OUT`` (default: the repository root):

* ``gtfs/northeast_rail.zip``: intercity rail of the lines in ``rail_lines.csv``, produced
  from a tabular timetable (``gtfs/source/rail_timetable.csv`` + ``rail_stations.csv``)
  through :mod:`planner.ingest.gtfs.from_timetable`;
* ``gtfs/harbin_metro.zip``: Harbin Metro from the OSM route relations;
* ``gtfs/cities.csv``: city points and census populations of the cities served;
* ``gtfs/source/``: the timetable, stations, line km marks and calibration table;
* ``gtfs/PROVENANCE.md``: every file, what it was built from, every rule and assumption;
* ``osm_cache/harbin_central.osm.pbf`` (copied unchanged) and ``osm_cache/PROVENANCE.md``;
* ``scenarios/*.yaml``: example candidate scenarios.

Output is deterministic: rerunning on the same inputs gives byte-identical files (sorted
rows, fixed number formats, zip members with fixed timestamps). Every figure that is not
published is derived by a rule stated in ``gtfs/PROVENANCE.md`` and marked in the data
(``planner_assumed`` in trips.txt and stop_times.txt, ``coord_quality`` in stops.txt).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import itertools
import math
import re
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from planner.common.atomic import write_bytes, write_text  # noqa: E402
from planner.ingest.gtfs.from_timetable import timetable_to_tables  # noqa: E402
from planner.ingest.gtfs.writer import write_feed_zip  # noqa: E402
from planner.scenarios import runtimes  # noqa: E402

BUILD_VERSION = "2025.1"
VALID_FROM = "2025-01-01"
VALID_TO = "2025-12-31"
TIMEZONE = "Asia/Shanghai"
PUBLISHER = "plan sample data (scripts/build_default_data.py)"
PUBLISHER_URL = "https://example.invalid/plan"
ODBL = "© OpenStreetMap contributors, ODbL 1.0"

# ------------------------------------------------------------------ stated assumptions

#: kinematic model (planner.scenarios.runtimes defaults; assumptions)
ACCEL = runtimes.DEFAULT_ACCEL_MPS2
BRAKE = runtimes.DEFAULT_BRAKE_MPS2
DWELL_MIN = {"major": 4, "intermediate": 2}
#: no train may arrive after this (minutes after midnight): the 00:00-06:00 maintenance window
LAST_ARRIVAL_MIN = 23 * 60 + 59
#: provincial capitals / sub-provincial cities whose main stations are "major"
MAJOR_CITIES = {"哈尔滨", "长春", "沈阳", "大连"}

#: agencies: China Railway groups. Heilongjiang lines -> Harbin group (the operator tag of the
#: OSM route relations of hamu/hajia/Binzhou etc. in harbin_central.osm.pbf); Liaoning, Jilin
#: and the Tongliao line -> Shenyang group (assumption: the Shenyang group's area covers
#: Liaoning and Jilin); a line spanning provinces goes to the group of most of its length.
AGENCIES = {
    "CR_HRB": ("中国铁路哈尔滨局集团有限公司", "China Railway Harbin Group"),
    "CR_SY": ("中国铁路沈阳局集团有限公司", "China Railway Shenyang Group"),
}

#: per line: agency, route_type (101 high-speed >= 250 km/h; 102 for the 200 km/h mixed lines)
LINE_ROUTE = {
    "hada": ("CR_SY", 101), "jingshen": ("CR_SY", 101), "jingha": ("CR_HRB", 101),
    "haqi": ("CR_HRB", 101), "hamu": ("CR_HRB", 101), "hajia": ("CR_HRB", 102),
    "mujia": ("CR_HRB", 101), "changji": ("CR_SY", 101), "jihun": ("CR_SY", 101),
    "shendan": ("CR_SY", 101), "danda": ("CR_SY", 102), "tongxin": ("CR_SY", 101),
    "binbei": ("CR_HRB", 102), "suijia": ("CR_HRB", 102),
}

#: conventional lines (gtfs/facts/): kept out of the median calibrated/design ratio of the fast lines;
#: a line without a train of its own runs at the speed of the line named here
CONVENTIONAL_LINES = {"binbei", "suijia"}
LINE_SPEED_FROM = {"suijia": "binbei"}

#: facts kept in the repository (the Suihua lines, issue 15), merged with ../shared/data/northeast_china
FACTS_DIR = REPO / "gtfs" / "facts"

#: English names of stations not in rail_line_stations.csv (from the rows that name them)
EXTRA_EN = {
    "北京朝阳": "Beijing Chaoyang", "承德南": "Chengde South", "辽宁朝阳": "Chaoyang (Liaoning)",
    "北票": "Beipiao", "阜新": "Fuxin", "新民北": "Xinmin North", "敦化": "Dunhua", "延吉西": "Yanji West",
    "珲春": "Hunchun", "通辽": "Tongliao",
}

#: county-level 12306 "city" fields -> their prefecture (administrative fact, stated)
COUNTY_PREFECTURE = {"林口": "牡丹江", "桦南": "佳木斯"}

#: a station named after a district, not the city: explicit city-point fallback
CITY_POINT_ALIASES = {"北京朝阳": "北京"}

CITY_IDS = {
    "哈尔滨": "harbin", "齐齐哈尔": "qiqihar", "绥化": "suihua", "大庆": "daqing", "牡丹江": "mudanjiang",
    "佳木斯": "jiamusi", "鸡西": "jixi", "黑河": "heihe", "双鸭山": "shuangyashan", "鹤岗": "hegang",
    "伊春": "yichun", "七台河": "qitaihe", "大兴安岭地区": "daxinganling", "长春": "changchun", "吉林": "jilin",
    "四平": "siping", "辽源": "liaoyuan", "通化": "tonghua", "白山": "baishan", "松原": "songyuan",
    "白城": "baicheng", "延边朝鲜族自治州": "yanbian", "沈阳": "shenyang", "大连": "dalian", "鞍山": "anshan",
    "朝阳": "chaoyang", "锦州": "jinzhou", "葫芦岛": "huludao", "铁岭": "tieling", "营口": "yingkou",
    "丹东": "dandong", "抚顺": "fushun", "阜新": "fuxin", "辽阳": "liaoyang", "盘锦": "panjin", "本溪": "benxi",
    "北京": "beijing", "承德": "chengde", "通辽": "tongliao",
}
#: 12306 "city" field -> name in city_population.csv where they differ
CITY_12306_ALIAS = {"延边": "延边朝鲜族自治州", "大兴安岭": "大兴安岭地区"}


@dataclass
class Pattern:
    """A stopping pattern run in both directions (direction 0 as written)."""

    id: str
    route: str
    kind: str                        # express | all_stops | through
    legs: list[tuple[str, str, str]]  # (line, from station, to station)
    stops: list[str] | None          # None: every passenger station on the path
    n: tuple[int, int]               # trains per direction (0, 1)
    window: tuple[str, str]          # first and last departure HH:MM
    service_basis: str               # published | published_split_assumed | assumed
    service_source: str = ""
    target: tuple[str, str] | None = None   # (from_zh, to_zh) row of rail_fastest_times.csv to calibrate to
    target_via: str = ""             # the row's `via` (a published time over another route between the pair)
    sets_line_speed: bool = False    # its calibrated speed becomes the line's cruise speed
    station_list_incomplete: bool = False
    fixed_departures: dict[int, list[str]] = field(default_factory=dict)  # published clock times
    train_numbers: dict[int, str] = field(default_factory=dict)
    note: str = ""


SL = "rail_service_levels.csv"
PATTERNS = [
    # Harbin-Dalian HSR: no published service level -> assumed
    Pattern("hada_ex", "hada", "express", [("hada", "哈尔滨西", "大连北")], ["哈尔滨西", "长春西", "沈阳北", "大连北"],
            (11, 11), ("07:00", "17:00"), "assumed", target=("哈尔滨西", "大连北"), sets_line_speed=True),
    Pattern("hada_n", "hada", "all_stops", [("hada", "哈尔滨西", "沈阳北")], None, (8, 8), ("06:30", "20:30"), "assumed"),
    Pattern("hada_s", "hada", "all_stops", [("hada", "沈阳北", "大连北")], None, (8, 8), ("06:30", "20:30"), "assumed"),
    # Beijing-Shenyang HSR: 15 pairs/day on Chengde-Shenyang (2019) split over four patterns
    Pattern("jingshen_ex", "jingshen", "express", [("jingshen", "北京朝阳", "沈阳北")], ["北京朝阳", "承德南", "沈阳北"],
            (8, 8), ("07:00", "17:30"), "published_split_assumed", SL + " jingshen (15 pairs, 2019)",
            target=("北京", "沈阳"), sets_line_speed=True),
    Pattern("jingshen_all", "jingshen", "all_stops", [("jingshen", "北京朝阳", "沈阳北")], None, (3, 3),
            ("07:30", "15:30"), "published_split_assumed", SL + " jingshen (15 pairs, 2019)",
            station_list_incomplete=True),
    Pattern("jingha_ex", "jingha", "through", [("jingshen", "北京朝阳", "沈阳北"), ("hada", "沈阳北", "哈尔滨西")],
            ["北京朝阳", "承德南", "沈阳北", "长春西", "哈尔滨西"], (3, 3), ("07:00", "13:00"),
            "published_split_assumed", SL + " jingshen (15 pairs, 2019)",
            note="runs each line at its calibrated speed; the published Beijing-Harbin time is a check"),
    Pattern("g380", "jingha", "through", [("hada", "哈尔滨西", "沈阳北"), ("jingshen", "沈阳北", "承德南")],
            ["哈尔滨西", "长春西", "四平东", "沈阳北", "新民北", "阜新", "北票", "辽宁朝阳", "承德南"], (1, 1),
            ("06:27", "14:00"), "published_split_assumed", SL + " jingshen (15 pairs, 2019)",
            target=("哈尔滨西", "承德南"), fixed_departures={0: ["06:27"], 1: ["14:00"]},
            train_numbers={0: "G380", 1: "G380_r"},
            note="stops and 06:27 departure of G380 as published (2019); the reverse train is assumed"),
    # Harbin-Qiqihar: 34.5 pairs/day (2018)
    Pattern("haqi_ex", "haqi", "express", [("haqi", "哈尔滨", "齐齐哈尔南")], ["哈尔滨", "大庆东", "齐齐哈尔南"],
            (12, 12), ("07:00", "20:00"), "published_split_assumed", SL + " haqi (34.5 pairs, 2018-08)",
            target=("哈尔滨", "齐齐哈尔南"), sets_line_speed=True),
    Pattern("haqi_all", "haqi", "all_stops", [("haqi", "哈尔滨", "齐齐哈尔南")], None, (23, 22), ("06:00", "21:30"),
            "published_split_assumed", SL + " haqi (34.5 pairs, 2018-08)"),
    # Harbin-Mudanjiang: no published service level
    Pattern("hamu_ex", "hamu", "express", [("hamu", "哈尔滨", "牡丹江")], ["哈尔滨", "尚志南", "海林北", "牡丹江"],
            (7, 7), ("07:00", "19:00"), "assumed", target=("哈尔滨", "牡丹江"), sets_line_speed=True),
    Pattern("hamu_all", "hamu", "all_stops", [("hamu", "哈尔滨", "牡丹江")], None, (8, 8), ("06:30", "20:30"), "assumed"),
    # Harbin-Jiamusi: 13 pairs/day at opening (2018)
    Pattern("hajia_ex", "hajia", "express", [("hajia", "哈尔滨", "佳木斯")], ["哈尔滨", "方正", "依兰", "佳木斯"],
            (5, 5), ("07:00", "17:00"), "published_split_assumed", SL + " hajia (13 pairs, 2018-09-30)",
            target=("哈尔滨", "佳木斯"), sets_line_speed=True),
    Pattern("hajia_all", "hajia", "all_stops", [("hajia", "哈尔滨", "佳木斯")], None, (8, 8), ("06:30", "19:30"),
            "published_split_assumed", SL + " hajia (13 pairs, 2018-09-30)"),
    # Mudanjiang-Jiamusi: 25.5 pairs/day (2022-12)
    Pattern("mujia_ex", "mujia", "express", [("mujia", "牡丹江", "佳木斯")],
            ["牡丹江", "鸡西西", "七台河西", "双鸭山西", "佳木斯"], (9, 9), ("07:00", "19:00"),
            "published_split_assumed", SL + " mujia (25.5 pairs, 2022-12)", target=("牡丹江", "佳木斯"),
            sets_line_speed=True),
    Pattern("mujia_all", "mujia", "all_stops", [("mujia", "牡丹江", "佳木斯")], None, (17, 16), ("06:00", "21:00"),
            "published_split_assumed", SL + " mujia (25.5 pairs, 2022-12)"),
    # Changchun-Jilin: no published service level
    Pattern("changji_ex", "changji", "express", [("changji", "长春", "吉林")], ["长春", "吉林"], (15, 15),
            ("07:00", "21:00"), "assumed", target=("长春", "吉林"), sets_line_speed=True),
    Pattern("changji_all", "changji", "all_stops", [("changji", "长春", "吉林")], None, (16, 16), ("06:30", "21:30"),
            "assumed"),
    # Changchun-Hunchun through (Jilin-Hunchun line): no published service level
    Pattern("changhun", "jihun", "through", [("changji", "长春", "吉林"), ("jihun", "吉林", "珲春")],
            ["长春", "吉林", "敦化", "延吉西", "珲春"], (8, 8), ("07:00", "19:00"), "assumed",
            target=("长春", "珲春"), sets_line_speed=True, station_list_incomplete=True),
    # Shenyang-Dandong: no published service level nor exact time ("just over one hour")
    Pattern("shendan_ex", "shendan", "express", [("shendan", "沈阳南", "丹东")], ["沈阳南", "丹东"], (6, 6),
            ("07:00", "19:30"), "assumed"),
    Pattern("shendan_all", "shendan", "all_stops", [("shendan", "沈阳南", "丹东")], None, (8, 8), ("06:30", "20:30"),
            "assumed"),
    # Dandong-Dalian: 24 passenger trains/day at opening (2015)
    Pattern("danda_ex", "danda", "express", [("danda", "大连北", "丹东")], ["大连北", "庄河北", "东港北", "丹东"],
            (4, 4), ("07:30", "17:30"), "published_split_assumed", SL + " danda (24 trains, 2015-12-17)"),
    Pattern("danda_all", "danda", "all_stops", [("danda", "大连北", "丹东")], None, (8, 8), ("06:30", "19:30"),
            "published_split_assumed", SL + " danda (24 trains, 2015-12-17)"),
    # Tongliao-Xinmin North, through to Shenyang North on the Beijing-Shenyang HSR
    Pattern("tongxin", "tongxin", "through", [("tongxin", "通辽", "新民北"), ("jingshen", "新民北", "沈阳北")],
            ["通辽", "新民北", "沈阳北"], (6, 6), ("07:00", "19:00"), "assumed", station_list_incomplete=True),
    # Harbin-Suihua (conventional, gtfs/facts/): the through train to Jiamusi carries the published pre-2018
    # Harbin-Jiamusi time over the northern route via Suihua and sets the conventional cruise speed
    Pattern("hasuijia", "binbei", "through", [("binbei", "哈尔滨东", "绥化"), ("suijia", "绥化", "佳木斯")],
            ["哈尔滨东", "绥化", "佳木斯"], (1, 1), ("08:00", "08:00"), "assumed", target=("哈尔滨", "佳木斯"),
            target_via="绥化", sets_line_speed=True, station_list_incomplete=True,
            note="the published time is Harbin-Jiamusi before 2018-09-30; run here from Harbin East"),
    Pattern("binbei_all", "binbei", "all_stops", [("binbei", "哈尔滨东", "绥化")], None, (8, 8), ("06:30", "20:30"),
            "assumed", station_list_incomplete=True),
]

#: published fastest times used only for comparison (not calibration targets): reason
COMPARE_ONLY = {
    ("哈尔滨", "大连"): "2013 winter timetable at 200 km/h; the sample models the all-year 300+ km/h timetable",
    ("承德", "沈阳"): "2018 opening of the Chengde-Shenyang section; superseded by the 2021 Beijing-Shenyang time",
    ("长春", "龙嘉"): "leg of the Changchun-Jilin stopping train; Longjia has no coordinates (a hidden stop)",
    ("龙嘉", "吉林"): "leg of the Changchun-Jilin stopping train; Longjia has no coordinates (a hidden stop)",
    ("沈阳", "丹东"): "published only as 'just over one hour'",
    ("北京", "哈尔滨"): "a check: the through train runs each line at the speed calibrated on that line's own time",
}


# ------------------------------------------------------------------ facts

def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [{k: (v or "").strip() for k, v in r.items()} for r in csv.DictReader(fh)]


@dataclass
class Facts:
    root: Path
    lines: dict[str, dict]
    line_stations: list[dict]
    fastest: list[dict]
    service: list[dict]
    st12306: dict[str, dict]
    harbin_osm: list[dict]
    st_coords: list[dict]
    st_coords_more: list[dict]
    city_coords: list[dict]
    city_pop: list[dict]

    @classmethod
    def load(cls, source: Path) -> Facts:
        ne = source / "northeast_china"
        local = {n: read_rows(FACTS_DIR / n) for n in ("rail_lines.csv", "rail_line_stations.csv",
                                                        "rail_fastest_times.csv")}
        return cls(
            root=ne,
            lines={r["line_id"]: r for r in read_rows(ne / "rail_lines.csv") + local["rail_lines.csv"]},
            line_stations=read_rows(ne / "rail_line_stations.csv") + local["rail_line_stations.csv"],
            fastest=read_rows(ne / "rail_fastest_times.csv") + local["rail_fastest_times.csv"],
            service=read_rows(ne / "rail_service_levels.csv"),
            st12306={r["name_zh"]: r for r in read_rows(ne / "stations_12306_all.csv")},
            harbin_osm=read_rows(ne / "harbin_osm_stations.csv"),
            st_coords=read_rows(ne / "station_coordinates.csv"),
            st_coords_more=read_rows(ne / "station_coordinates_more.csv"),
            city_coords=read_rows(ne / "city_coordinates.csv"),
            city_pop=read_rows(ne / "city_population.csv"),
        )

    def fastest_row(self, a: str, b: str, via: str = "") -> dict:
        rows = [r for r in self.fastest
                if r["from_zh"] == a and r["to_zh"] == b and r["minutes"] and r.get("via", "") == via]
        if not rows:
            msg = f"no published time {a} -> {b} in rail_fastest_times.csv"
            raise SystemExit(msg)
        # the most recent (as_of) row
        return sorted(rows, key=lambda r: r["as_of"])[-1]


def haversine_km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def place_key(name: str) -> str:
    """City/county name without its administrative suffix: 鸡西市 -> 鸡西, 凤城市（凤凰城） -> 凤城."""
    n = re.sub(r"（.*?）|\(.*?\)", "", name).strip()
    for suf in ("朝鲜族自治州", "地区", "市", "区", "县"):
        if n.endswith(suf) and len(n) > len(suf) + 1:
            return n[: -len(suf)]
    return n


def station_place(zh: str) -> str:
    """The place a station is named after: 鸡西西 -> 鸡西, 哈尔滨北 -> 哈尔滨, 辽阳 -> 辽阳."""
    if zh in CITY_POINT_ALIASES:
        return CITY_POINT_ALIASES[zh]
    if len(zh) >= 3 and zh[-1] in "东西南北":
        return zh[:-1]
    return zh


# ------------------------------------------------------------------ stations

@dataclass
class Station:
    zh: str
    en: str
    telecode: str
    city_12306: str
    lat: float | None = None
    lon: float | None = None
    quality: str = ""           # osm | sourced | city_centre_approx | "" (no coordinates)
    detail: str = ""            # the facts' own quality value / what the point is
    source: str = ""
    lines: list[str] = field(default_factory=list)
    city_zh: str = ""
    city_id: str = ""
    province: str = ""
    klass: str = "intermediate"

    @property
    def visible(self) -> bool:
        return self.lat is not None


def line_station_lists(f: Facts) -> dict[str, list[tuple[str, str, float | None, str]]]:
    """Per line: (zh, en, published km or None, source) in direction-0 order (passenger stations only)."""
    out: dict[str, list] = {}
    for r in sorted(f.line_stations, key=lambda r: (r["line_id"], int(r["seq"]))):
        if not r["station_name_zh"] or r["zh_name_in_12306_list"] != "yes":
            continue  # not a passenger station in the 12306 list (stated in PROVENANCE)
        km = float(r["km_from_first"]) if r["km_from_first"] else None
        basis = (r.get("km_basis") or "published") if km is not None else ""
        out.setdefault(r["line_id"], []).append((r["station_name_zh"], r["station_name_en"], km, r["source"], basis))
    # hada: Harbin West km not given by the route map; the line's operating mileage (921 km, Ministry
    # of Railways, alt_length in rail_lines.csv) is its km mark (Shuangcheng North 881 + ~40 km)
    hada = out["hada"]
    zh, en, km, _, _ = hada[-1]
    if zh == "哈尔滨西" and km is None:
        hada[-1] = (zh, en, float(f.lines["hada"]["alt_length_km"]), f.lines["hada"]["alt_length_source"],
                    "line_length")
    # lines without a station list in rail_line_stations.csv
    g380 = next(r for r in f.fastest if r["from_zh"] == "哈尔滨西" and r["to_zh"] == "承德南")
    js = f.lines["jingshen"]
    out["jingshen"] = [
        ("北京朝阳", "Beijing Chaoyang", 0.0, js["length_source"], "line_length"),
        ("承德南", "Chengde South", 192.0, js["length_source"] + " (Beijing-Chengde section 192 km)", "section_length"),
        ("辽宁朝阳", "Chaoyang (Liaoning)", None, g380["source"], ""),
        ("北票", "Beipiao", None, g380["source"], ""),
        ("阜新", "Fuxin", None, g380["source"], ""),
        ("新民北", "Xinmin North", None, g380["source"], ""),
        ("沈阳北", "Shenyang North", float(js["length_km"]), js["length_source"], "line_length"),
    ]
    jh = f.lines["jihun"]
    more = "station_coordinates_more.csv"
    out["jihun"] = [
        ("吉林", "Jilin", 0.0, jh["length_source"], "line_length"),
        ("敦化", "Dunhua", None, more + " (note: the Jilin-Hunchun HSR uses Dunhua station)", ""),
        ("延吉西", "Yanji West", None, more + " (placement on this line assumed)", ""),
        ("珲春", "Hunchun", float(jh["length_km"]), jh["length_source"], "line_length"),
    ]
    tx = f.lines["tongxin"]
    out["tongxin"] = [("通辽", "Tongliao", 0.0, tx["length_source"], "line_length"),
                      ("新民北", "Xinmin North", float(tx["length_km"]), tx["length_source"], "line_length")]
    # published line lengths as end km marks where the route map gives none
    for lid, sts in out.items():
        length = float(f.lines[lid]["length_km"])
        if sts[0][2] is None:
            sts[0] = (*sts[0][:2], 0.0, f.lines[lid]["length_source"], "line_length")
        if sts[-1][2] is None:
            sts[-1] = (*sts[-1][:2], length, f.lines[lid]["length_source"], "line_length")
    return out


def build_stations(f: Facts, lists: dict[str, list]) -> dict[str, Station]:
    stations: dict[str, Station] = {}
    for lid, sts in sorted(lists.items()):
        for zh, en, _, _, _ in sts:
            s12 = f.st12306.get(zh)
            if s12 is None:
                msg = f"{zh} ({lid}) is not in stations_12306_all.csv"
                raise SystemExit(msg)
            st = stations.setdefault(zh, Station(zh, en or EXTRA_EN.get(zh, ""), s12["telecode"], s12["city_zh"]))
            if lid not in st.lines:
                st.lines.append(lid)
    # 1. OSM nodes in the central-Harbin extract
    for r in f.harbin_osm:
        if r["kind"] == "rail" and r["name_zh"] in stations:
            st = stations[r["name_zh"]]
            st.lat, st.lon = float(r["lat"]), float(r["lon"])
            st.quality, st.detail = "osm", "osm_node"
            st.source = f"OSM node {r['osm_id']} ({r['osm_timestamp'][:10]}) in harbin_central.osm.pbf, {ODBL}"
    # 2. curated coordinates: OSM-derived first, then sourced (Wikipedia, geocoded)
    rank = {"osm_node": 0, "osm_node_name_mapping_uncertain": 1, "wikipedia_infobox": 2, "geocoded_3src_agree": 3,
            "geocoded_2src_agree": 4, "geocoded_2src_same_geocoder": 5, "geocoded_single_source": 6,
            "low_single_source_conflicting": 7}
    cands: dict[str, list] = {}
    for fname, rows in (("station_coordinates_more.csv", f.st_coords_more), ("station_coordinates.csv", f.st_coords)):
        for r in rows:
            zh = r["name_zh"].removesuffix("站")
            if zh in stations and r["lat"] and r["quality"] in rank:
                cands.setdefault(zh, []).append((rank[r["quality"]], fname, r))
    for zh, cs in sorted(cands.items()):
        st = stations[zh]
        if st.quality == "osm":
            continue
        _, fname, r = sorted(cs, key=lambda c: (c[0], c[1]))[0]
        st.lat, st.lon = float(r["lat"]), float(r["lon"])
        st.quality = "osm" if r["quality"].startswith("osm_node") else "sourced"
        st.detail = r["quality"]
        st.source = f"{fname}: {r['source']}"
    # 3. city point, where the station is named after a city/county with no other located station
    places = {}
    for r in f.city_coords:
        places.setdefault(place_key(r["name_zh"]), r)
    located_places = {station_place(s.zh) for s in stations.values() if s.visible}
    for zh, st in sorted(stations.items()):
        if st.visible:
            continue
        key = station_place(zh)
        r = places.get(key)
        if r is None or key in located_places:
            continue
        st.lat, st.lon = float(r["lat"]), float(r["lon"])
        st.quality = "city_centre_approx"
        st.detail = f"city point of {r['name_zh']} ({r['admin_level']})"
        st.source = f"city_coordinates.csv: {r['source']}"
    # city (prefecture) and province of every station
    pop_cities = {r["city_zh"]: r for r in f.city_pop}
    for st in stations.values():
        c = COUNTY_PREFECTURE.get(st.city_12306, st.city_12306)
        c = CITY_12306_ALIAS.get(c, c)
        st.city_zh = c
        st.city_id = CITY_IDS.get(c, "")
        if not st.city_id:
            msg = f"no city id for {st.zh} (12306 city {st.city_12306})"
            raise SystemExit(msg)
        st.province = pop_cities[c]["province_zh"] if c in pop_cities else {
            "北京": "北京", "承德": "河北", "通辽": "内蒙古"}.get(c, "")
        main_station = st.zh in {"哈尔滨", "哈尔滨西", "长春", "长春西", "沈阳", "沈阳北", "沈阳南", "大连北"}
        st.klass = "major" if (len(st.lines) >= 2 or (main_station and st.city_zh in MAJOR_CITIES)) else "intermediate"
    return stations


# ------------------------------------------------------------------ km marks

@dataclass
class LineStop:
    zh: str
    km: float
    km_basis: str      # published | line_length | derived_coordinates | derived_even_spacing
    source: str


def derive_km(lists: dict[str, list], stations: dict[str, Station]) -> tuple[dict[str, list[LineStop]], dict]:
    """Km marks along every line: published where given, else from coordinates scaled between
    published anchors (so the anchors' distance is kept), else evenly spaced (no coordinates)."""
    out: dict[str, list[LineStop]] = {}
    factors: dict[str, float] = {}
    for lid, sts in sorted(lists.items()):
        n = len(sts)
        km: list[float | None] = [s[2] for s in sts]
        basis = [s[4] for s in sts]
        anchors = [i for i in range(n) if km[i] is not None]
        for a, b in itertools.pairwise(anchors):
            inner = list(range(a + 1, b))
            vis = [i for i in [a, *inner, b] if stations[sts[i][0]].visible]
            if inner and a in vis and b in vis and len(vis) > 2:
                d = [haversine_km(stations[sts[i][0]].lat, stations[sts[i][0]].lon,
                                  stations[sts[j][0]].lat, stations[sts[j][0]].lon) for i, j in itertools.pairwise(vis)]
                scale = (km[b] - km[a]) / sum(d)
                c = km[a]
                for i, dd in zip(vis[1:-1], d, strict=False):
                    c += dd * scale
                    km[i] = c
                    basis[i] = "derived_coordinates"
            # stations still without km (no coordinates): evenly spaced between known neighbours
            known = [i for i in range(a, b + 1) if km[i] is not None]
            for p, q in itertools.pairwise(known):
                gap = q - p
                for j in range(p + 1, q):
                    km[j] = km[p] + (km[q] - km[p]) * (j - p) / gap
                    basis[j] = "derived_even_spacing"
        out[lid] = [LineStop(s[0], round(float(km[i]), 3), basis[i], s[3]) for i, s in enumerate(sts)]
        # detour factor: track km / straight line between consecutive located stations
        vis = [i for i in range(n) if stations[sts[i][0]].visible]
        straight = sum(haversine_km(stations[sts[i][0]].lat, stations[sts[i][0]].lon, stations[sts[j][0]].lat,
                                    stations[sts[j][0]].lon) for i, j in itertools.pairwise(vis))
        factors[lid] = (km[vis[-1]] - km[vis[0]]) / straight if len(vis) > 1 and straight else float("nan")
    return out, factors



# ------------------------------------------------------------------ rail timetable

ROUTE_NAMES = {
    "hada": "哈大高速铁路 Harbin–Dalian HSR", "jingshen": "京沈高速铁路 Beijing–Shenyang HSR",
    "jingha": "京哈高铁直通 Beijing/Chengde–Harbin through trains", "haqi": "哈齐客运专线 Harbin–Qiqihar",
    "hamu": "哈牡客运专线 Harbin–Mudanjiang", "hajia": "哈佳铁路 Harbin–Jiamusi", "mujia": "牡佳高铁 Mudanjiang–Jiamusi",
    "changji": "长吉城际铁路 Changchun–Jilin", "jihun": "长珲城际 Changchun–Jilin–Hunchun",
    "shendan": "沈丹客运专线 Shenyang–Dandong", "danda": "丹大城际铁路 Dandong–Dalian",
    "tongxin": "通新高铁 Tongliao–Xinmin North–Shenyang",
    "binbei": "滨北铁路 Harbin East–Suihua (conventional; through train to Jiamusi on the Suijia railway)",
}


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def to_min(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


@dataclass
class PathStop:
    zh: str
    km: float          # along the path from its first station
    line: str          # line of the segment arriving here ("" at the first station)
    basis: str


def path_stations(p: Pattern, kms: dict[str, list[LineStop]]) -> list[PathStop]:
    out: list[PathStop] = []
    offset = 0.0
    for li, (line, a, b) in enumerate(p.legs):
        stops = kms[line]
        names = [s.zh for s in stops]
        ia, ib = names.index(a), names.index(b)
        seq = stops[ia: ib + 1] if ia <= ib else stops[ib: ia + 1][::-1]
        base = stops[ia].km
        for k, s in enumerate(seq):
            if li > 0 and k == 0:
                continue
            out.append(PathStop(s.zh, round(offset + abs(s.km - base), 3), line if out else "", s.km_basis))
        offset = out[-1].km
    return out


@dataclass
class Run:
    """One direction of a pattern: its stops, segment lengths and timing."""

    pattern: Pattern
    direction: int
    stops: list[PathStop]          # the train's stops (visible and hidden), in travel order
    seg_m: np.ndarray
    seg_line: list[str]


def runs_of(p: Pattern, kms: dict[str, list[LineStop]], stations: dict[str, Station]) -> list[Run]:
    full = path_stations(p, kms)
    if p.stops is None:
        chosen = full
    else:
        names = [s.zh for s in full]
        idx = [names.index(z) for z in p.stops]
        if idx != sorted(idx):
            msg = f"pattern {p.id}: stops are not in path order"
            raise SystemExit(msg)
        chosen = [full[i] for i in idx]
    runs = []
    for direction in (0, 1):
        if direction == 0:
            st = chosen
            seg_line = [full_line_between(full, chosen[k], chosen[k + 1]) for k in range(len(chosen) - 1)]
        else:
            total = chosen[-1].km
            st = [PathStop(s.zh, round(total - s.km, 3), "", s.basis) for s in chosen[::-1]]
            seg_line = [full_line_between(full, chosen[k], chosen[k + 1]) for k in range(len(chosen) - 1)][::-1]
        seg_m = np.diff([s.km for s in st]) * 1000.0
        for end in (st[0], st[-1]):
            if not stations[end.zh].visible:
                msg = f"pattern {p.id}: terminus {end.zh} has no coordinates"
                raise SystemExit(msg)
        runs.append(Run(p, direction, st, seg_m, seg_line))
    return runs


def full_line_between(full: list[PathStop], a: PathStop, b: PathStop) -> str:
    """The line of a train segment (the line of the path segment arriving at b)."""
    names = [s.zh for s in full]
    lines = {full[i].line for i in range(names.index(a.zh) + 1, names.index(b.zh) + 1)}
    if len(lines) != 1:
        msg = f"segment {a.zh}-{b.zh} spans lines {sorted(lines)}: stop at the junction"
        raise SystemExit(msg)
    return lines.pop()


def dwell_s(run: Run, stations: dict[str, Station]) -> np.ndarray:
    return np.array([DWELL_MIN[stations[s.zh].klass] * 60.0 for s in run.stops])


@dataclass
class Calib:
    pattern: str
    row: dict
    result: runtimes.Calibration
    max_kmh: float


def calibrate(p: Pattern, run: Run, f: Facts, stations: dict[str, Station], design: dict[str, float]) -> Calib:
    row = f.fastest_row(*p.target, via=p.target_via)
    vmax = min(design[ln] for ln in run.seg_line)
    res = runtimes.calibrate_speed(run.seg_m, float(row["minutes"]) * 60, max_speed_kmh=vmax,
                                   dwell_s=dwell_s(run, stations), accel_mps2=ACCEL, brake_mps2=BRAKE)
    return Calib(p.id, row, res, vmax)


def departures(p: Pattern, direction: int, duration_min: int) -> list[int]:
    if direction in p.fixed_departures:
        return [to_min(t) for t in p.fixed_departures[direction]]
    n = p.n[direction]
    first, last = to_min(p.window[0]), to_min(p.window[1])
    last = min(last, LAST_ARRIVAL_MIN - duration_min)
    if last < first:
        msg = f"pattern {p.id}: no departure window left before the night maintenance window"
        raise SystemExit(msg)
    if n == 1:
        return [first]
    return sorted({first + round(i * (last - first) / (n - 1)) for i in range(n)})


def build_rail(f: Facts, out_dir: Path) -> dict:
    lists = line_station_lists(f)
    used_lines = sorted({leg[0] for p in PATTERNS for leg in p.legs})
    lists = {k: v for k, v in lists.items() if k in used_lines}
    stations = build_stations(f, lists)
    kms, detour = derive_km(lists, stations)
    design = {lid: float(f.lines[lid]["design_speed_kmh"]) for lid in used_lines}
    runs = {p.id: runs_of(p, kms, stations) for p in PATTERNS}
    # 1. calibrate every pattern with a published time (direction 0 as published)
    calibs: dict[str, Calib] = {}
    for p in PATTERNS:
        if p.target is not None:
            calibs[p.id] = calibrate(p, runs[p.id][0], f, stations, design)
    # 2. cruise speed per line: calibrated, else design speed x the median calibrated/design ratio
    line_speed: dict[str, float] = {}
    line_speed_basis: dict[str, str] = {}
    ratios = []
    for p in PATTERNS:
        if p.sets_line_speed and p.id in calibs:
            c = calibs[p.id]
            line_speed[p.route] = c.result.speed_kmh
            line_speed_basis[p.route] = ("calibrated:" + p.id) if c.result.reachable else ("max_unreachable:" + p.id)
            if c.result.reachable and p.route not in CONVENTIONAL_LINES:
                ratios.append(c.result.speed_kmh / c.max_kmh)
    ratio = statistics.median(ratios)
    for lid, src in LINE_SPEED_FROM.items():
        if lid in used_lines and src in line_speed:
            line_speed[lid], line_speed_basis[lid] = line_speed[src], line_speed_basis[src]
    for lid in used_lines:
        if lid not in line_speed:
            line_speed[lid] = design[lid] * ratio
            line_speed_basis[lid] = f"rule: design {design[lid]:g} km/h x median ratio {ratio:.3f}"
    # 3. trains
    rows: list[dict] = []
    trip_info: list[dict] = []
    for p in PATTERNS:
        c = calibs.get(p.id)
        for run in runs[p.id]:
            if c is not None:
                speeds = np.full(len(run.seg_m), c.result.speed_kmh)
                basis = "calibrated" if c.result.reachable else "max_speed_unreachable"
                cruise = c.result.speed_kmh
            else:
                speeds = np.array([line_speed[ln] for ln in run.seg_line])
                basis = ("line_speed_calibrated" if all(line_speed_basis[ln].startswith("calibrated")
                                                        for ln in run.seg_line) else "line_speed_rule")
                cruise = float(speeds.max())
            dw = dwell_s(run, stations)
            arr, _ = runtimes.stop_offsets(run.seg_m, speeds, dw, accel_mps2=ACCEL, brake_mps2=BRAKE)
            arr_min = [round(a / 60) for a in arr]
            dwell_min = [int(d // 60) for d in dw]
            dwell_min[0] = dwell_min[-1] = 0
            duration = arr_min[-1]
            if basis == "calibrated" and duration != int(c.row["minutes"]):
                msg = f"{p.id}: calibrated duration {duration} != published {c.row['minutes']}"
                raise SystemExit(msg)
            hidden = [s.zh for s in run.stops[1:-1] if not stations[s.zh].visible]
            assumed = []
            published_clock = p.id == "g380" and run.direction == 0
            if not published_clock:
                assumed.append("departure_times")
            if p.kind != "all_stops" and not published_clock:
                assumed.append("stopping_pattern")
            if p.station_list_incomplete:
                assumed.append("station_list_incomplete")
            assumed.append({"assumed": "service_count", "published_split_assumed": "service_split",
                            "published": ""}[p.service_basis])
            visible_mid = [s for s in run.stops[1:-1] if stations[s.zh].visible]
            if basis == "calibrated":
                if visible_mid:
                    assumed.append("intermediate_times")
            else:
                assumed.append("run_times")
            if len(run.stops) > 2:
                assumed.append("dwell_times")
            if any(s.basis.startswith("derived") for s in run.stops):
                assumed.append("km_marks")
            if hidden:
                assumed.append("hidden_stops")
            if p.route == "tongxin":
                assumed.append("line_in_service")
            assumed = [a for a in assumed if a]
            agency_id, rtype = LINE_ROUTE[p.route]
            for dep0 in departures(p, run.direction, duration):
                train = p.train_numbers.get(run.direction) or f"{p.id}_{run.direction}_{hhmm(dep0).replace(':', '')}"
                seq = 0
                for k, s in enumerate(run.stops):
                    st = stations[s.zh]
                    if not st.visible:
                        continue
                    a = dep0 + arr_min[k]
                    d = a + dwell_min[k]
                    first, last = k == 0, k == len(run.stops) - 1
                    pinned = first or (last and basis == "calibrated")
                    rows.append({
                        "train": train, "seq": seq, "station": s.zh,
                        "arrival": "" if first else hhmm(a % 1440), "departure": "" if last else hhmm(d % 1440),
                        "day_offset": (d if not first else a) // 1440 if not last else a // 1440,
                        "running_days": "daily", "operator": AGENCIES[agency_id][0], "operator_id": agency_id,
                        "operator_url": "https://www.12306.cn", "route_id": p.route, "route_name": ROUTE_NAMES[p.route],
                        "route_type": rtype, "trip_direction_id": run.direction, "trip_service_pattern": p.id,
                        "trip_timing_basis": basis, "trip_cruise_kmh": f"{cruise:.1f}",
                        "trip_published_min": c.row["minutes"] if c else "",
                        "trip_published_as_of": c.row["as_of"] if c else "",
                        "trip_published_source": c.row["source"] if c else "",
                        "trip_service_basis": p.service_basis, "trip_service_source": p.service_source,
                        "trip_hidden_stops": ";".join(hidden), "trip_planner_assumed": ";".join(assumed),
                        "planner_assumed": 0 if pinned else 1, "km": f"{s.km:.3f}",
                    })
                    seq += 1
                trip_info.append({"train": train, "pattern": p.id, "direction": run.direction, "dep": dep0,
                                  "duration": duration, "stops": [s.zh for s in run.stops if stations[s.zh].visible],
                                  "arr_min": [dep0 + arr_min[k] for k, s in enumerate(run.stops)
                                              if stations[s.zh].visible],
                                  "dep_min": [dep0 + arr_min[k] + dwell_min[k] for k, s in enumerate(run.stops)
                                              if stations[s.zh].visible]})
    # day_offset of intermediate rows: by arrival (the adapter dates the arrival)
    for r in rows:
        r["day_offset"] = int(r["day_offset"])
    used = sorted({r["station"] for r in rows})
    return {"rows": rows, "stations": stations, "used": used, "kms": kms, "detour": detour, "design": design,
            "calibs": calibs, "line_speed": line_speed, "line_speed_basis": line_speed_basis, "ratio": ratio,
            "trip_info": trip_info, "lists": lists}


# ------------------------------------------------------------------ Harbin metro (OSM)

METRO_SPEED_KMH = 80.0       # line speed class (assumption)
METRO_ACCEL = 1.0            # m/s^2 (assumption)
METRO_BRAKE = 1.0            # m/s^2 (assumption)
METRO_DWELL_S = runtimes.DWELL_S["metro"]
METRO_DWELL_INTERCHANGE_S = runtimes.DWELL_S["metro_interchange"]
METRO_TRANSFER_S = 180       # in-station change between lines (assumption)
METRO_FIRST, METRO_LAST = "06:00", "22:00"          # first/last departure from each end (assumption)
METRO_PEAKS = (("07:00", "09:00"), ("17:00", "19:00"))
METRO_HEADWAY_PEAK_MIN, METRO_HEADWAY_OFFPEAK_MIN = 5, 8     # assumptions
METRO_FALLBACK_DETOUR = 1.2  # straight line x this where a segment is not on the mapped track


def read_metro_osm(pbf: Path) -> dict:
    import osmium

    rels = {}
    masters = {}
    for o in osmium.FileProcessor(str(pbf), osmium.osm.RELATION):
        t = dict(o.tags)
        if t.get("type") == "route" and t.get("route") in ("subway", "light_rail"):
            rels[o.id] = (t, [(m.type, m.ref, m.role) for m in o.members])
        elif t.get("type") == "route_master" and t.get("route_master") in ("subway", "light_rail"):
            masters[o.id] = (t, [m.ref for m in o.members if m.type == "r"])
    need_n = {ref for _, mem in rels.values() for ty, ref, _ in mem if ty == "n"}
    need_w = {ref for _, mem in rels.values() for ty, ref, _ in mem if ty == "w"}
    nodes, ways = {}, {}
    for o in osmium.FileProcessor(str(pbf)).with_locations():
        if o.is_node() and o.id in need_n and o.location.valid():
            nodes[o.id] = (o.location.lon, o.location.lat, dict(o.tags))
        elif o.is_way() and o.id in need_w:
            ways[o.id] = [(n.lon, n.lat) if n.location.valid() else None for n in o.nodes]
    return {"rels": rels, "masters": masters, "nodes": nodes, "ways": ways}


def _metro_line_geometry(way_ids: list[int], ways: dict, to_xy):
    """One LineString (local metres) from the located parts of the member ways."""
    from shapely.geometry import LineString, MultiLineString
    from shapely.ops import linemerge

    parts = []
    for w in way_ids:
        pts = ways.get(w)
        if not pts:
            continue
        run = []
        for p in [*pts, None]:
            if p is None:
                if len(run) >= 2:
                    parts.append(LineString([to_xy(*q) for q in run]))
                run = []
            else:
                run.append(p)
    merged = linemerge(MultiLineString(parts)) if len(parts) > 1 else (parts[0] if parts else None)
    if merged is None:
        return None
    if merged.geom_type == "MultiLineString":
        merged = max(merged.geoms, key=lambda g: g.length)
    return merged


def build_metro(osm: dict, harbin_osm: list[dict]) -> dict:
    from pyproj import Transformer
    from shapely.geometry import LineString, Point
    from shapely.ops import substring

    fwd = Transformer.from_crs("EPSG:4326", "EPSG:32652", always_xy=True)
    inv = Transformer.from_crs("EPSG:32652", "EPSG:4326", always_xy=True)

    def to_xy(lon, lat):
        return fwd.transform(lon, lat)

    station_rows = {int(r["osm_id"]): r for r in harbin_osm if r["kind"] == "subway"}
    by_name = {}
    for r in station_rows.values():
        by_name.setdefault(r["name_zh"], []).append(r)
    # route masters: ref -> (tags, [relation ids])
    lines = {}
    for mid, (t, members) in sorted(osm["masters"].items()):
        lines[t["ref"]] = (mid, t, sorted(m for m in members if m in osm["rels"]))
    stations: dict[int, dict] = {}       # station node id -> station record
    platforms: dict[str, dict] = {}      # platform stop_id -> record
    trips_def = []
    shapes = []
    missing_nodes: dict[str, list[int]] = {}
    for ref in sorted(lines):
        mid, mt, rel_ids = lines[ref]
        for direction, rid in enumerate(rel_ids):
            t, mem = osm["rels"][rid]
            stop_nodes = [r for ty, r, role in mem if ty == "n" and role in ("stop", "stop_entry_only", "stop_exit_only")]
            present = [n for n in stop_nodes if n in osm["nodes"]]
            missing_nodes.setdefault(ref, [])
            for n in stop_nodes:
                if n not in osm["nodes"] and n not in missing_nodes[ref]:
                    missing_nodes[ref].append(n)
            seq = []
            for n in present:
                lon, lat, tags = osm["nodes"][n]
                name = tags.get("name", "")
                if n in station_rows:
                    srow = station_rows[n]
                else:
                    cands = by_name.get(name, [])
                    if len(cands) != 1:
                        msg = f"metro stop node {n} ({name!r}) matches {len(cands)} station nodes"
                        raise SystemExit(msg)
                    srow = cands[0]
                sid = int(srow["osm_id"])
                stations.setdefault(sid, {"stop_id": f"st{sid}", "name": srow["name_zh"], "name_en": srow["name_en"],
                                          "lat": float(srow["lat"]), "lon": float(srow["lon"]), "osm_node_id": sid,
                                          "lines": set()})["lines"].add(ref)
                pid = f"L{ref}_{n}"
                platforms.setdefault(pid, {"stop_id": pid, "name": srow["name_zh"], "name_en": srow["name_en"],
                                           "lat": lat, "lon": lon, "parent": f"st{sid}", "osm_node_id": n,
                                           "line": ref})
                seq.append(pid)
            way_ids = [r for ty, r, _ in mem if ty == "w"]
            geom = _metro_line_geometry(way_ids, osm["ways"], to_xy)
            pts = [Point(to_xy(platforms[p]["lon"], platforms[p]["lat"])) for p in seq]
            ch = [geom.project(q) for q in pts] if geom is not None else []
            off = [geom.distance(q) for q in pts] if geom is not None else []
            increasing = all(b > a for a, b in itertools.pairwise(ch))
            decreasing = all(b < a for a, b in itertools.pairwise(ch))
            seg_m, seg_basis = [], []
            if geom is not None and (increasing or decreasing) and max(off) < 150:
                line = geom if increasing else LineString(list(geom.coords)[::-1])
                ch = [line.project(q) for q in pts]
                part = substring(line, ch[0], ch[-1])
                seg_m = list(np.diff(ch))
                seg_basis = ["osm_track"] * len(seg_m)
                coords = [inv.transform(x, y) for x, y in part.coords]
            else:
                coords = [(platforms[p]["lon"], platforms[p]["lat"]) for p in seq]
            for k in range(len(seq) - 1):
                if k >= len(seg_m):
                    a, b = platforms[seq[k]], platforms[seq[k + 1]]
                    seg_m.append(haversine_km(a["lat"], a["lon"], b["lat"], b["lon"]) * 1000 * METRO_FALLBACK_DETOUR)
                    seg_basis.append("straight_line_x1.2")
            shape_id = f"L{ref}_{direction}"
            dist = np.concatenate([[0.0], np.cumsum([haversine_km(la1, lo1, la2, lo2) * 1000 for (lo1, la1), (lo2, la2)
                                                     in itertools.pairwise(coords)])])
            for k, ((lon, lat), d) in enumerate(zip(coords, dist, strict=True)):
                shapes.append({"shape_id": shape_id, "shape_pt_lat": round(lat, 7), "shape_pt_lon": round(lon, 7),
                               "shape_pt_sequence": k, "shape_dist_traveled": round(float(d), 1)})
            trips_def.append({"ref": ref, "direction": direction, "relation": rid, "name": t.get("name", ""),
                              "seq": seq, "seg_m": np.array(seg_m), "seg_basis": seg_basis, "shape_id": shape_id,
                              "master": mt})
    return {"stations": stations, "platforms": platforms, "trips_def": trips_def, "shapes": shapes,
            "missing": missing_nodes, "lines": lines}


def metro_departures() -> list[int]:
    """Departure minutes from each end: every 5 min in the peaks, 8 min otherwise (assumed)."""
    peaks = [(to_min(a), to_min(b)) for a, b in METRO_PEAKS]
    t, last = to_min(METRO_FIRST), to_min(METRO_LAST)
    out = []
    while t <= last:
        out.append(t)
        peak = any(a <= t < b for a, b in peaks)
        t += METRO_HEADWAY_PEAK_MIN if peak else METRO_HEADWAY_OFFPEAK_MIN
    return out


def metro_tables(m: dict, pbf_sha: str) -> tuple[dict[str, pd.DataFrame], dict]:
    stations, platforms = m["stations"], m["platforms"]
    interchange = {s["stop_id"] for s in stations.values() if len(s["lines"]) > 1}
    stops = []
    for s in sorted(stations.values(), key=lambda s: s["stop_id"]):
        stops.append({"stop_id": s["stop_id"], "stop_name": s["name"], "stop_lat": s["lat"], "stop_lon": s["lon"],
                      "location_type": 1, "parent_station": "", "platform_code": "",
                      "stop_name_en": s["name_en"], "coord_quality": "osm", "city": "harbin",
                      "osm_node_id": str(s["osm_node_id"]), "lines": ";".join(sorted(s["lines"]))})
    for p in sorted(platforms.values(), key=lambda p: p["stop_id"]):
        stops.append({"stop_id": p["stop_id"], "stop_name": p["name"], "stop_lat": p["lat"], "stop_lon": p["lon"],
                      "location_type": 0, "parent_station": p["parent"], "platform_code": f"{p['line']}号线",
                      "stop_name_en": p["name_en"], "coord_quality": "osm", "city": "harbin",
                      "osm_node_id": str(p["osm_node_id"]), "lines": p["line"]})
    routes, trips, st_rows = [], [], []
    stats = {}
    deps = metro_departures()
    for td in m["trips_def"]:
        ref, direction = td["ref"], td["direction"]
        mt = td["master"]
        if direction == 0:
            routes.append({"route_id": f"L{ref}", "agency_id": "HRB_METRO", "route_short_name": ref,
                           "route_long_name": mt.get("name", ""), "route_type": 1,
                           "route_color": mt.get("colour", "").lstrip("#").upper(), "route_text_color": "FFFFFF",
                           "route_desc": f"OSM route_master {m['lines'][ref][0]}; {mt.get('name:en', '')}"})
        dw = np.array([METRO_DWELL_INTERCHANGE_S if platforms[p]["parent"] in interchange else METRO_DWELL_S
                       for p in td["seq"]], dtype=float)
        arr, _ = runtimes.stop_offsets(td["seg_m"], METRO_SPEED_KMH, dw, accel_mps2=METRO_ACCEL,
                                      brake_mps2=METRO_BRAKE)
        arr_s = [round(a) for a in arr]
        dwell_i = [0] + [int(d) for d in dw[1:-1]] + [0]
        total = arr_s[-1]
        stats[(ref, direction)] = {"stops": len(td["seq"]), "km": float(td["seg_m"].sum()) / 1000,
                                   "minutes": total / 60, "avg_kmh": float(td["seg_m"].sum()) / total * 3.6,
                                   "relation": td["relation"], "name": td["name"]}
        head = f"{platforms[td['seq'][-1]]['name']}"
        for d0 in deps:
            tid = f"L{ref}_{direction}_{hhmm(d0).replace(':', '')}"
            trips.append({"route_id": f"L{ref}", "service_id": "daily", "trip_id": tid, "trip_headsign": head,
                          "direction_id": direction, "shape_id": td["shape_id"],
                          "planner_assumed": "departure_times;headways;run_times;dwell_times",
                          "osm_relation": str(td["relation"])})
            for k, pid in enumerate(td["seq"]):
                a = d0 * 60 + arr_s[k]
                st_rows.append({"trip_id": tid, "arrival_time": a, "departure_time": a + dwell_i[k], "stop_id": pid,
                                "stop_sequence": k, "planner_assumed": 0 if k == 0 else 1})
    transfers = []
    by_parent: dict[str, list[str]] = {}
    for p in platforms.values():
        by_parent.setdefault(p["parent"], []).append(p["stop_id"])
    for parent in sorted(by_parent):
        ps = sorted(by_parent[parent])
        for a in ps:
            for b in ps:
                if a != b:
                    transfers.append({"from_stop_id": a, "to_stop_id": b, "transfer_type": 2,
                                      "min_transfer_time": METRO_TRANSFER_S})
    note = (f"Stop order, platforms and track geometry from OSM route relations in harbin_central.osm.pbf "
            f"(sha256 {pbf_sha[:16]}, {ODBL}); assumed: departures {METRO_FIRST}-{METRO_LAST} every "
            f"{METRO_HEADWAY_PEAK_MIN} min (07-09, 17-19) / {METRO_HEADWAY_OFFPEAK_MIN} min, run times from the "
            f"kinematic model ({METRO_SPEED_KMH:g} km/h, {METRO_ACCEL} / {METRO_BRAKE} m/s2, dwell {METRO_DWELL_S} s, "
            f"{METRO_DWELL_INTERCHANGE_S} s at interchanges), in-station changes {METRO_TRANSFER_S} s. Lines 1 and 2 "
            "are cut at the edge of the extract. See gtfs/PROVENANCE.md.")
    tables = {
        "agency": pd.DataFrame([{"agency_id": "HRB_METRO", "agency_name": "哈尔滨地铁",
                                 "agency_url": "https://www.wikidata.org/wiki/Q2688234",
                                 "agency_timezone": TIMEZONE, "agency_lang": "zh", "agency_name_en": "Harbin Metro"}]),
        "stops": pd.DataFrame(stops),
        "routes": pd.DataFrame(routes).sort_values("route_id").reset_index(drop=True),
        "trips": pd.DataFrame(trips).sort_values("trip_id").reset_index(drop=True),
        "stop_times": pd.DataFrame(st_rows).sort_values(["trip_id", "stop_sequence"]).reset_index(drop=True),
        "calendar": pd.DataFrame([{"service_id": "daily", "monday": 1, "tuesday": 1, "wednesday": 1, "thursday": 1,
                                   "friday": 1, "saturday": 1, "sunday": 1,
                                   "start_date": np.datetime64(VALID_FROM, "D"),
                                   "end_date": np.datetime64(VALID_TO, "D")}]),
        "shapes": pd.DataFrame(m["shapes"]),
        "transfers": pd.DataFrame(transfers),
        "feed_info": pd.DataFrame([{"feed_publisher_name": PUBLISHER, "feed_publisher_url": PUBLISHER_URL,
                                    "feed_lang": "zh", "feed_start_date": np.datetime64(VALID_FROM, "D"),
                                    "feed_end_date": np.datetime64(VALID_TO, "D"),
                                    "feed_version": f"{BUILD_VERSION}-{pbf_sha[:12]}", "planner_assumptions": note}]),
    }
    for c in ("arrival_time", "departure_time"):
        tables["stop_times"][c] = tables["stop_times"][c].astype("Int64")
    return tables, stats


# ------------------------------------------------------------------ cities

CITY_EN_SHORT = {"yanbian": "Yanbian (Yanji)", "jilin": "Jilin City", "daxinganling": "Daxing'anling (Jiagedaqi)"}


def build_cities(f: Facts, served: dict[str, list[str]]) -> list[dict]:
    coords = {place_key(r["name_zh"]): r for r in f.city_coords}
    out = []
    for r in f.city_pop:
        cid = CITY_IDS[r["city_zh"]]
        if cid not in served:
            continue
        c = coords[place_key(r["city_zh"])]
        if r["census_2020_resident_population"]:
            pop, year, src = int(r["census_2020_resident_population"]), 2020, r["census_2020_source"]
            basis = "census_2020"
        else:
            pop = round(float(r["resident_population_2021_yearend_10k"]) * 10000)
            year, src, basis = 2021, r["resident_2021_source"], "resident_2021_yearend"
        out.append({"city_id": cid, "name_zh": r["city_zh"], "name_en": CITY_EN_SHORT.get(cid, r["city_en"]),
                    "province": r["province_zh"], "lat": f"{float(c['lat']):.6f}", "lon": f"{float(c['lon']):.6f}",
                    "population": pop, "population_year": year, "population_basis": basis,
                    "population_source": src, "coord_source": c["source"],
                    "rail_stations": ";".join(sorted(served[cid]))})
    return sorted(out, key=lambda r: r["city_id"])


# ------------------------------------------------------------------ output helpers

def csv_text(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="raise")
    w.writeheader()
    for r in rows:
        w.writerow({c: r.get(c, "") for c in columns})
    return buf.getvalue()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def md_table(header: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "/") for c in r) + " |" for r in rows]
    return "\n".join(out)


# ------------------------------------------------------------------ comparison with published times

def compare_published(f: Facts, rail: dict) -> list[dict]:
    """Every published time against the sample: the calibrated pattern's own time (targets) and the
    fastest direct train between the stations (every row)."""
    in_feed = set(rail["used"])
    out = []
    for r in f.fastest:
        a, b = r["from_zh"], r["to_zh"]
        ca = {z for z in in_feed if z == a or station_place(z) == a}
        cb = {z for z in in_feed if z == b or station_place(z) == b}
        best = None
        for t in rail["trip_info"]:
            for i, za in enumerate(t["stops"]):
                if za not in ca:
                    continue
                for j in range(i + 1, len(t["stops"])):
                    if t["stops"][j] in cb:
                        m = t["arr_min"][j] - t["dep_min"][i]
                        if best is None or m < best[0]:
                            best = (m, t["train"], t["pattern"], za, t["stops"][j])
        pat = next((p for p in PATTERNS if p.target == (a, b) and p.target_via == r.get("via", "")), None)
        calib = rail["calibs"].get(pat.id) if pat else None
        own = ""
        if calib is not None and calib.row is r:
            status = "calibrated" if calib.result.reachable else "not_reachable_at_line_speed"
            note = calib.result.message
            own = next(t["duration"] for t in rail["trip_info"] if t["pattern"] == pat.id and t["direction"] == 0)
        elif (a, b) in COMPARE_ONLY:
            status, note = "compare_only", COMPARE_ONLY[(a, b)]
        elif pat is not None:
            status, note = "compare_only", "an older row for the same pair; the latest as_of row is the target"
        else:
            status, note = "compare_only", ""
        if best is None and not note:
            note = "no direct train between these stations in the sample"
        out.append({"from_zh": a, "to_zh": b, "from_en": r["from_en"], "to_en": r["to_en"],
                    "published_min": r["minutes"], "as_of": r["as_of"], "status": status,
                    "calibrated_pattern": pat.id if own != "" else "", "pattern_min": own,
                    "fastest_min": best[0] if best else "", "fastest_train": best[1] if best else "",
                    "fastest_from": best[3] if best else "", "fastest_to": best[4] if best else "",
                    "cruise_kmh": f"{calib.result.speed_kmh:.1f}" if own != "" else "",
                    "line_max_kmh": f"{calib.max_kmh:g}" if own != "" else "",
                    "note": note, "source": r["source"]})
    return out


# ------------------------------------------------------------------ build

RAIL_TT_COLUMNS = ["train", "seq", "station", "arrival", "departure", "day_offset", "running_days", "operator",
                   "operator_id", "operator_url", "route_id", "route_name", "route_type", "trip_direction_id",
                   "trip_service_pattern", "trip_timing_basis", "trip_cruise_kmh", "trip_published_min",
                   "trip_published_as_of", "trip_published_source", "trip_service_basis", "trip_service_source",
                   "trip_hidden_stops", "trip_planner_assumed", "planner_assumed", "km"]
RAIL_ST_COLUMNS = ["station_id", "name_zh", "name_en", "lat", "lon", "quality", "coord_detail", "coord_source", "city",
                   "city_zh", "city_dist_km", "province", "station_class", "lines"]


def rail_assumption_note(rail: dict) -> str:
    return (f"Built from public facts (see gtfs/PROVENANCE.md). Assumed: departure clock times, express stopping "
            f"patterns, service counts where unpublished (and the split of published counts between patterns), "
            f"run times from a kinematic model (acceleration {ACCEL} m/s2, braking {BRAKE} m/s2, dwell "
            f"{DWELL_MIN['major']} min at major / {DWELL_MIN['intermediate']} min at other stations) at a cruise speed "
            f"calibrated to the published fastest time of each line (else design speed x {rail['ratio']:.3f}); km "
            f"marks from station coordinates where unpublished. Trips carry planner_assumed (what is assumed), "
            f"stop_times planner_assumed=1 where the time since departure is not published, stops coord_quality.")


def build(source: Path, out: Path) -> dict:
    source, out = Path(source).resolve(), Path(out).resolve()
    f = Facts.load(source)
    pbf = source / "northeast_china_osm" / "harbin_central.osm.pbf"
    gdir, sdir = out / "gtfs", out / "gtfs" / "source"
    rail = build_rail(f, out)
    stations: dict[str, Station] = rail["stations"]
    # ---- rail stations and timetable (the adapter's input), then the feed through the adapter
    city_pts = {place_key(r["name_zh"]): r for r in f.city_coords}
    st_rows = []
    for zh in rail["used"]:
        s = stations[zh]
        cp = city_pts.get(place_key(s.city_zh))
        dist = haversine_km(s.lat, s.lon, float(cp["lat"]), float(cp["lon"])) if cp else float("nan")
        st_rows.append({"station_id": s.telecode, "name_zh": zh, "name_en": s.en, "lat": f"{s.lat:.7f}",
                        "lon": f"{s.lon:.7f}", "quality": s.quality, "coord_detail": s.detail, "coord_source": s.source,
                        "city": s.city_id, "city_zh": s.city_zh, "city_dist_km": f"{dist:.1f}",
                        "province": s.province, "station_class": s.klass, "lines": ";".join(sorted(s.lines))})
    st_rows.sort(key=lambda r: r["station_id"])
    tt_rows = sorted(rail["rows"], key=lambda r: (r["train"], r["seq"]))
    # train-level columns on the first row of each train only (the adapter reads them from there)
    train_cols = [c for c in RAIL_TT_COLUMNS if c.startswith("trip_") or c in {
        "running_days", "operator", "operator_id", "operator_url", "route_id", "route_name", "route_type"}]
    for r in tt_rows:
        if r["seq"] != 0:
            for c in train_cols:
                r[c] = ""
    tt_path, st_path = sdir / "rail_timetable.csv", sdir / "rail_stations.csv"
    write_text(tt_path, csv_text(tt_rows, RAIL_TT_COLUMNS))
    write_text(st_path, csv_text(st_rows, RAIL_ST_COLUMNS))
    tables = timetable_to_tables(
        tt_path, st_path, start_date=VALID_FROM, end_date=VALID_TO, timezone=TIMEZONE, route_type=101,
        publisher_name=PUBLISHER, publisher_url=PUBLISHER_URL, feed_version=None,
        feed_info_extra={"planner_assumptions": rail_assumption_note(rail)})
    tables["agency"]["agency_name_en"] = [AGENCIES[a][1] for a in tables["agency"]["agency_id"]]
    rail_zip = gdir / "northeast_rail.zip"
    write_feed_zip(tables, rail_zip)
    # ---- Harbin metro
    pbf_sha = sha256(pbf)
    osm = read_metro_osm(pbf)
    metro = build_metro(osm, f.harbin_osm)
    mtables, mstats = metro_tables(metro, pbf_sha)
    write_feed_zip(mtables, gdir / "harbin_metro.zip")
    # ---- cities
    served: dict[str, list[str]] = {}
    for r in st_rows:
        served.setdefault(r["city"], []).append(r["station_id"])
    cities = build_cities(f, served)
    city_cols = ["city_id", "name_zh", "name_en", "province", "lat", "lon", "population", "population_year",
                 "population_basis", "population_source", "coord_source", "rail_stations"]
    write_text(gdir / "cities.csv", csv_text(cities, city_cols))
    # ---- audit tables
    comp = compare_published(f, rail)
    write_text(sdir / "calibration.csv", csv_text(comp, list(comp[0].keys())))
    km_rows = []
    for lid, stops in sorted(rail["kms"].items()):
        for k, s in enumerate(stops):
            st = stations[s.zh]
            km_rows.append({"line_id": lid, "seq": k, "station_zh": s.zh, "station_en": st.en,
                            "telecode": st.telecode, "km": f"{s.km:.3f}", "km_basis": s.km_basis,
                            "km_source": s.source, "coord_quality": st.quality or "none",
                            "in_feed": int(s.zh in set(rail["used"]))})
    write_text(sdir / "rail_line_km.csv", csv_text(km_rows, list(km_rows[0].keys())))
    # ---- OSM cache
    odir = out / "osm_cache"
    target_pbf = odir / "harbin_central.osm.pbf"
    if not target_pbf.exists() or sha256(target_pbf) != pbf_sha:
        write_bytes(target_pbf, pbf.read_bytes())
    districts = district_totals(pbf)
    write_text(odir / "harbin_central.districts.csv", csv_text(districts, list(districts[0].keys())))
    write_text(odir / "PROVENANCE.md", osm_provenance(pbf, pbf_sha, source, districts))
    # ---- scenarios
    for name, text in SCENARIOS.items():
        write_text(out / "scenarios" / f"{name}.yaml", text)
    # ---- provenance of gtfs/
    info = {"rail": rail, "tables": tables, "metro": metro, "mtables": mtables, "mstats": mstats, "cities": cities,
            "comp": comp, "pbf_sha": pbf_sha, "facts": f, "source": source}
    write_text(gdir / "PROVENANCE.md", gtfs_provenance(info, gdir))
    return info


def district_totals(pbf: Path) -> list[dict]:
    """The census totals of the extract's urban districts (admin_level 6), as their OSM
    relations tag them (population, population:date, source:population), by relation id."""
    import osmium

    rows = []
    fp = osmium.FileProcessor(str(pbf), osmium.osm.RELATION).with_filter(osmium.filter.KeyFilter("boundary"))
    for rel in fp:
        t = rel.tags
        if t.get("boundary") == "administrative" and t.get("admin_level") == "6" and t.get("population"):
            rows.append({"name": t.get("name", ""), "name_en": t.get("name:en", ""),
                         "population": int(t.get("population")), "population_date": t.get("population:date", ""),
                         "source": f"7th national census as tagged on OSM relation {rel.id} (population:date "
                                   f"{t.get('population:date', '')}, source:population {t.get('source:population', '')};"
                                   f" https://www.openstreetmap.org/relation/{rel.id}, extract of 2024-04-09)"})
    return sorted(rows, key=lambda r: r["source"])


def osm_provenance(pbf: Path, digest: str, source: Path, districts: list[dict]) -> str:
    import osmium

    r = osmium.io.Reader(str(pbf), osmium.osm.osm_entity_bits.NOTHING)
    try:
        h = r.header()
        box = h.box()
        bbox = (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)
        gen = h.get("generator", "")
    finally:
        r.close()
    facts = (source / "northeast_china_osm" / "PROVENANCE.md").read_text(encoding="utf-8")
    src_line = next((ln for ln in facts.splitlines() if ln.startswith("| harbin_central.osm.pbf")), "")
    return f"""# osm_cache/: bundled OpenStreetMap extract

**{ODBL}.** Map data from OpenStreetMap, available under the Open Database Licence
(https://opendatacommons.org/licenses/odbl/1-0/); see https://www.openstreetmap.org/copyright.
Anything derived from this file (the Harbin metro feed, street networks built from it) is ODbL too.

| file | bytes | sha256 |
|---|---|---|
| harbin_central.osm.pbf | {pbf.stat().st_size} | {digest} |

- Copied unchanged by `scripts/build_default_data.py` from `../shared/data/northeast_china_osm/harbin_central.osm.pbf`.
- Origin (from that folder's PROVENANCE.md): {src_line.strip()}
- Header bounding box (lon/lat): {bbox[0]:.4f}, {bbox[1]:.4f} - {bbox[2]:.4f}, {bbox[3]:.4f} (central Harbin); generator "{gen}";
  newest object 2024-04-09. Harbin North station and the outer ends of metro lines 1 and 2 lie outside it.
- Used by: `plan` commands without `--osm` (walking network of central Harbin) and `gtfs/harbin_metro.zip`.

Cached street networks are written under `osm_cache/networks/` (ignored by git).

## harbin_central.districts.csv: census totals of the extract's districts (issue 20)

The 2020 resident population (7th national census, 2020-11-01) of the {len(districts)} urban districts
(区, `admin_level=6`) whose boundaries cross the extract: {"; ".join(f"{d['name']} {d['population']:,}" for d in districts)}
(sum {sum(d['population'] for d in districts):,} of Harbin's 10,009,854).

- Source: the `population` tags of the districts' OSM relations in this extract (`population:date=2020-11-01`,
  `source:population=wikipedia`; each row names its relation). The city relation (2755608) carries 10,009,854,
  the census figure sourced in `gtfs/cities.csv`.
- Cross-check: 南岗区 1,390,679 (七普), area 182.8 km2 of which 60 km2 urban: https://mip.qiaqa.com/fenxiang/62088.html
  (read 2026-12-08). The Harbin census bulletin itself was not found in the stored pages (only the 2010 one).
- ASSUMED: each district's whole population lives inside the extract. The extract holds the urban cores of
  道里, 道外 and 南岗; 松北 and 香坊 reach beyond it, so their people are placed on the part of their built-up
  area inside it (docs/notes/issue20.md).
- Used by `plan opportunities` and the default `plan access` (found beside the extract by its name,
  `NAME.districts.csv`).
"""


# ------------------------------------------------------------------ example scenarios

_SCN_HEAD = "# Example candidate scenario for the bundled Northeast China sample (written by\n" \
            "# scripts/build_default_data.py). Run: plan evaluate scenarios/{name}.yaml\n"

SCENARIOS = {
    "spine_express": _SCN_HEAD.format(name="spine_express") + """#
# The Harbin-Changchun-Shenyang spine carries the agglomeration's core flows. Today's sample runs
# an hourly Harbin West-Dalian North express (3.5 h, calibrated) and two-hourly stopping trains.
# Candidate: a dedicated 350 km/h Harbin West-Changchun West-Shenyang North express, half-hourly
# in the morning peak and hourly after, on the existing Harbin-Dalian HSR (no new track).
name: spine_express
description: Half-hourly/hourly 350 km/h express Harbin West - Changchun West - Shenyang North on the existing HSR
changes:
  - add_line:
      id: hsr_express_hrb_sy
      name: Harbin West – Shenyang North express
      operator: 中国铁路沈阳局集团有限公司
      mode: high_speed_rail
      stops: [哈尔滨西, 长春西, 沈阳北]
      speed_class_kmh: 350        # run times from the kinematic model (planner.scenarios.runtimes)
      dwell_min: 2
      alignment_factor: 1.08      # track km / straight line (the sample's Harbin-Dalian line: ~1.07)
      headway_min: {"06:00-09:00": 30, "09:00-21:00": 60}
      track: existing             # the Harbin-Dalian HSR: no track cost, only the added trains' train-km
""",
    "hada_double_frequency": _SCN_HEAD.format(name="hada_double_frequency") + """#
# Frequency instead of speed: twice as many trains on every Harbin-Dalian HSR pattern (express and
# stopping), i.e. half the waiting time at the spine's intermediate cities (Siping, Tieling,
# Anshan, Yingkou ...). Compare with spine_express, which adds speed for the big three only.
name: hada_double_frequency
description: Double the frequency of every Harbin-Dalian HSR service (headways halved)
changes:
  - adjust_headway: {route: "northeast_rail:hada", factor: 0.5}
# cost: the added train-km (planner.scenarios.costs, train_km_high_speed_rail); the line has the
# capacity (61 train pairs a day in Heilongjiang in 2022, CNR 2022-12-01) so no track work is counted
""",
    "harbin_jiamusi_express": _SCN_HEAD.format(name="harbin_jiamusi_express") + """#
# The Harbin-Jiamusi railway is a 200 km/h mixed passenger/freight line (fastest 2h03 at opening).
# Candidate: a 250 km/h Harbin-Jiamusi express (upgrade or new alignment, cost to be estimated),
# every two hours, against the alternative of routing via Mudanjiang on the 250 km/h lines.
name: harbin_jiamusi_express
description: 250 km/h Harbin - Jiamusi express every two hours (upgrade of the 200 km/h mixed line)
changes:
  - add_line:
      id: hrb_jms_express
      name: Harbin – Jiamusi express
      operator: 中国铁路哈尔滨局集团有限公司
      mode: high_speed_rail
      stops: [哈尔滨, 佳木斯]
      speed_class_kmh: 250
      dwell_min: 2
      alignment_factor: 1.10      # the sample's Harbin-Jiamusi line: 343 km for 311 km straight
      headway_min: 120
      service: {start: "07:00", end: "19:00"}
      track: upgraded             # raise the 200 km/h line to 250 km/h: upgraded_track_250 per km
                                  # (a new 250 km/h alignment instead: track: new, new_track_250)
""",
    "changchun_yanji_express": _SCN_HEAD.format(name="changchun_yanji_express") + """#
# Changchun-Jilin-Yanji: the sample's Changchun-Hunchun through trains need 2h11 (the
# published "about 2 hours" is not reachable with their stops at 250 km/h). Candidate: an hourly
# Changchun-Jilin-Yanji West express. Jilin station is given as the GCJ-02 point AMap publishes
# (heywhale cnstation, quoted in station_coordinates_more.csv) to show the datum field: it is
# converted to WGS84 on load (43.856436 N, 126.571481 E).
name: changchun_yanji_express
description: Hourly 250 km/h express Changchun - Jilin - Yanji West
changes:
  - add_line:
      id: cc_yj_express
      name: Changchun – Jilin – Yanji West express
      operator: 中国铁路沈阳局集团有限公司
      mode: high_speed_rail
      stops:
        - 长春
        - {lon: 126.577124, lat: 43.858644, name: 吉林, datum: gcj02}
        - 延吉西
      speed_class_kmh: 250
      dwell_min: 2
      headway_min: 60
      service: {start: "06:30", end: "20:30"}
      track: existing             # the Changchun-Jilin-Hunchun intercity railway (250 km/h, opened 2015)
""",
    "harbin_west_integration": _SCN_HEAD.format(name="harbin_west_integration") + """#
# Harbin West: the HSR station (OSM node 2155516551) and the metro line 3 station Harbin West
# (OSM node 4632683316) are ~220 m apart, but passengers leave the railway station and pass a
# second security check to enter the metro. Candidate: a direct paid-area connector (4 min)
# plus one card valid on China Railway Harbin Group trains and Harbin Metro.
name: harbin_west_integration
description: Direct HSR-metro connector at Harbin West and a unified fare card (CR Harbin + Harbin Metro)
changes:
  - add_transfer: {from_stop: "northeast_rail:VAB", to_stop: "harbin_metro:L3_4632683316", walk_m: 250, walk_s: 240}
  - fare_policy:
      unified_card: true
      # China Railway is one fare system (12306, one per-km tariff): naming the Harbin group puts
      # every train of the sample on the card; planner.network.fares.sample states the fares and sources.
      operators: [中国铁路哈尔滨局集团有限公司, 哈尔滨地铁]
      tariff: integrated
      transfer_window_min: unlimited   # one card ticket per journey
      max_transfers: 1
      transfer_discount: 3             # CNY off the connecting ride: a metro ride to or from the train is free (ASSUMED policy design)
costs:
  capital_million: 80                # ASSUMED: connector (a 250 m paid-area passage with gates and a
                                     # security point, CNY 60 M) and the card clearing system (CNY 20 M)
  operating_million_per_year: 3      # ASSUMED: staffing the connector and running the clearing house
  construction_years: 2              # ASSUMED
  note: "ASSUMED costs: connector CNY 60 M, card clearing system CNY 20 M, CNY 3 M a year to run both"
""",
}


# ------------------------------------------------------------------ gtfs/PROVENANCE.md

def suihua_section(add, rail: dict) -> None:
    """PROVENANCE: the conventional Harbin-Suihua(-Jiamusi) line and its facts (issue 15)."""
    dur = {(t["pattern"], t["direction"]): t["duration"] for t in rail["trip_info"]}
    add("### Suihua: the conventional Harbin East-Suihua line (issue 15)")
    add("")
    add("Suihua (3.76 M people) has no high-speed station in the facts; its city point is more than the "
        "access limit from Anda and Zhaodong on the Harbin-Qiqihar line. The Harbin-Bei'an railway (滨北铁路) "
        "serves it; its facts are kept in `gtfs/facts/` (not in ../shared) and read with the shared ones:")
    add("")
    add("- SOURCED: the line starts at Harbin East (哈尔滨东, formerly Sankeshu 三棵树) and runs 333 km to Bei'an "
        "(zh Wikipedia '滨北铁路', copy at https://zh.wikipedia-on-ipfs.org/wiki/%E6%BB%A8%E5%8C%97%E9%93%81%E8%B7%AF; "
        "en Wikipedia 'Harbin-Bei'an railway', copy at https://wikisum.wiki/wiki/Harbin%E2%80%93Bei%27an_railway); "
        "the Sankeshu-Suihua section is 125 km, double track since 1957; at Suihua it meets the Suihua-Jiamusi "
        "railway (绥佳铁路) (same en page); Songpu-Hailun opened 1928-12-15 "
        "(http://oksuvcw.org/?page_id=201&rdp_we_resource=https%3A%2F%2Fen.wikipedia.org%2Fwiki%2FBinbei_Railway).")
    add("- SOURCED: the fastest Harbin-Jiamusi train before the Harbin-Jiamusi railway opened (2018-09-30) took "
        "5 h 44 min = 344 min (https://www.syxd678.com/en/newscenter/Corporation/201810/t20181026_73014.html, "
        "2018-10-26), over the route via Suihua ('cut from just under 6 h ... as it avoids a detour through Suihua', "
        "Railway Gazette 2017-09-08, https://www.railwaygazette.com/news/single-view/view/"
        "tracklaying-complete-on-harbin-jiamusi-fast-line.html); that northern route (Binbei + Suijia lines via "
        "Suihua) is 'about 500 km' (p.ihwrm.com/index/zuopins/zuopininfo.html?pxzpid=449024, 2018).")
    add("- DERIVED: Suihua-Jiamusi 375 km = about 500 km - 125 km (`km_basis` `derived_route_length`, so the "
        "through train carries `km_marks`). Station coordinates: Harbin East from its OSM node; Suihua has none "
        "in the facts and takes the Suihua city point (`city_centre_approx`).")
    add(f"- ASSUMED: the through train `hasuijia` (1 + 1 a day, Harbin East 08:00 / Jiamusi 08:00, stopping only at "
        f"Suihua) is calibrated to the 344 min and runs from Harbin East (the published time gives no Harbin "
        f"station); its cruise speed ({rail['line_speed']['binbei']:.1f} km/h) is the speed of both lines. The "
        f"Harbin East-Suihua trains `binbei_all` (8 + 8 a day, no intermediate stops: Hulan, Kangjin, "
        f"Xinglongzhen etc. have no km or coordinates in the facts) run at it: "
        f"{dur.get(('binbei_all', 0), '-')} min. The 160 km/h 'design speed' of both lines is an assumption (as "
        "the electrified Binzhou railway Harbin-Qiqihar, Xinhua 2016-11-01, "
        "http://info.jctrans.com/news/lyxw/20161132292509.shtml) that only caps the calibration; the conventional "
        "lines are kept out of the median calibrated/design ratio of the fast lines.")
    add("- NOT FOUND in the corpora searched (12306 or timetable sites): train numbers, clock times, intermediate "
        "stations and km of current Harbin-Suihua trains, the number of trains a day, a Harbin-Bei'an run time. "
        "Bei'an (Heihe prefecture) is not modelled.")
    add("- NOT ADDED: the Harbin-Yichun high-speed railway (哈伊高铁, 318 km, 250 km/h, stations incl. Harbin North, "
        "Hulan North, Xinglongzhen West, Suihua South): track laying began 2024-05-28 (http://en.people.cn/n3/2024/"
        "0529/c90000-20175320.html) and was still under way on 2025-09-16 (Sohu, copy at https://staging.reportify.cn"
        "/news/1165423573595197440; Tieli-Yichun section 'expected in 2026', http://www.bomamotor.com/encase/"
        "elevator/show-2492.html), so it is not in service in the sample's 2025.")
    add("")


def gtfs_provenance(info: dict, gdir: Path) -> str:
    rail, f = info["rail"], info["facts"]
    stations: dict[str, Station] = rail["stations"]
    used = set(rail["used"])
    t = info["tables"]
    mt = info["mtables"]
    files = []
    built = [(p, p.relative_to(gdir.parent).as_posix()) for p in gdir.rglob("*")
             if p.is_file() and p.name != "PROVENANCE.md" and "facts" not in p.relative_to(gdir).parts]
    facts = [(p, "gtfs/facts/" + p.name) for p in FACTS_DIR.glob("*") if p.is_file()]   # inputs, in the repo
    for p, rel in sorted(built + facts, key=lambda x: x[1]):
        files.append([f"`{rel}`", p.stat().st_size, sha256(p)[:16]])
    L: list[str] = []
    add = L.append
    add("# gtfs/: the bundled Northeast China sample")
    add("")
    add("Everything here is regenerated by `python scripts/build_default_data.py` (deterministic: a rerun gives "
        "identical bytes) from the public facts in `../shared/data/northeast_china/` and `gtfs/facts/` (one "
        "source URL per row) and "
        f"the OpenStreetMap extract `../shared/data/northeast_china_osm/harbin_central.osm.pbf` ({ODBL}). "
        "Nothing was typed in by hand: every figure below is either a sourced fact or the result of a rule stated "
        "here, and whatever is assumed is marked in the data itself.")
    add("")
    add("## Files")
    add("")
    add(md_table(["file", "bytes", "sha256 (prefix)"], files))
    add("")
    add("| file | what |")
    add("|---|---|")
    add("| `northeast_rail.zip` | Intercity rail (two China Railway groups), produced from `source/rail_timetable.csv` "
        "+ `source/rail_stations.csv` by `planner.ingest.gtfs.from_timetable` (`plan gtfs from-timetable`). |")
    add("| `harbin_metro.zip` | Harbin Metro lines 1-3 within the central-Harbin OSM extract (ODbL). |")
    add("| `cities.csv` | City points and populations (opportunities/weights) of the prefecture-level cities "
        "the rail sample serves. |")
    add("| `source/rail_timetable.csv` | The tabular timetable (one row per train and stop) the rail feed is "
        "converted from; `plan gtfs from-timetable gtfs/source/rail_timetable.csv gtfs/source/rail_stations.csv "
        f"--route-type 101 --start-date {VALID_FROM} --end-date {VALID_TO}` rebuilds the feed's tables. |")
    add("| `source/rail_stations.csv` | Stations of the rail feed: 12306 name and telegraph code, coordinates "
        "with quality, city. |")
    add("| `source/rail_line_km.csv` | Every passenger station of every modelled line with its km mark, the km "
        "basis and whether it is in the feed. |")
    add("| `source/calibration.csv` | Every published run time in `rail_fastest_times.csv` against the generated "
        "timetable. |")
    add("| `facts/*.csv` | Input, not output: facts kept in the repository (the Harbin-Suihua line, issue 15), "
        "in the columns of the shared files of the same name and merged with them; see *Suihua* below. |")
    add("")
    add("Validity: every service runs daily from " + VALID_FROM + " to " + VALID_TO + " (one calendar year, "
        "so analyses dated in 2025 - the project's examples use 2025-06-17 - find service; the facts date from "
        "2011-2022, see `as_of`; no holiday exceptions are modelled). Time zone " + TIMEZONE + ".")
    add("")
    # ------------------------------------------------------------------ rail
    ntr = len(t["trips"])
    add("## northeast_rail.zip")
    add("")
    add(f"{len(t['agency'])} agencies, {len(t['routes'])} routes, {len(t['stops'])} stops, {ntr} trips, "
        f"{len(t['stop_times'])} stop times.")
    add("")
    add("### Lines")
    add("")
    rows = []
    for lid, stops in sorted(rail["kms"].items()):
        ln = f.lines[lid]
        n_in = sum(1 for s in stops if s.zh in used)
        rows.append([lid, ln["name_zh"], f"{ln['length_km']} km", f"{ln['design_speed_kmh']} km/h",
                     f"{len(stops)} / {n_in}", f"{rail['detour'][lid]:.3f}",
                     f"{rail['line_speed'][lid]:.1f} km/h", rail["line_speed_basis"][lid],
                     f"{LINE_ROUTE[lid][0]} / {LINE_ROUTE[lid][1]}"])
    add(md_table(["line", "name", "length", "design speed", "passenger stations / in feed", "detour factor",
                  "cruise speed", "cruise basis", "agency / route_type"], rows))
    add("")
    add("Line facts (length, design speed) from `rail_lines.csv` (per-row sources there). Agencies, one per "
        "China Railway group: Heilongjiang lines -> 中国铁路哈尔滨局集团有限公司 (CR_HRB; the `operator` tag of the "
        "OSM route relations of the Harbin-Mudanjiang and Harbin-Jiamusi lines in the extract); Liaoning, Jilin "
        "and the Tongliao line -> 中国铁路沈阳局集团有限公司 (CR_SY; assumed: the Shenyang group's area, name by "
        "analogy); a line across provinces goes to the group of most of its length (Harbin-Dalian, "
        "Beijing-Shenyang: CR_SY). route_type 101 (high-speed rail) for lines designed for 250 km/h or more, "
        "102 for the 200 km/h mixed passenger/freight lines (Harbin-Jiamusi, Dandong-Dalian) and the conventional "
        "lines through Suihua (`binbei`, `suijia`; facts in `gtfs/facts/rail_lines.csv`). The route `jingha` "
        "holds the Beijing-Harbin and Harbin-Chengde through trains (agency: Harbin group, assumed). "
        "`dunbai` (Dunhua-Changbaishan) is not modelled: Changbaishan station has no coordinates in the facts.")
    add("")
    add("### Stations")
    add("")
    add("Stop ids are the 12306 telegraph codes (`stations_12306_all.csv`, e.g. `VAB` = 哈尔滨西); `stop_name` is "
        "the 12306 Chinese name, `stop_name_en` the English name of `rail_line_stations.csv`. Station order per "
        "line is that of `rail_line_stations.csv` (passenger stations only: rows without a 12306 name - "
        "Zhao'antun, Binxi East, Bin'an, Rixingtun, Xinghua, Dunhua South - are left out). Lines without a "
        "station list there: Beijing-Shenyang (stations of the published G380 stop list, `rail_fastest_times.csv`), "
        "Jilin-Hunchun (Dunhua and Yanji West from `station_coordinates_more.csv`; the real line has more "
        "stations), Tongliao-Xinmin North (termini only), Harbin East-Suihua and Suihua-Jiamusi (termini only, "
        "`gtfs/facts/rail_line_stations.csv`). Trains on these carry `station_list_incomplete`.")
    add("")
    add("Coordinates, first found wins (`coord_quality` in stops.txt, the facts' own label in `coord_detail`):")
    add("")
    add("1. `osm`: an OSM station node - in the central-Harbin extract (`harbin_osm_stations.csv`), or as "
        "extracted into footpoint-atlas (`station_coordinates*.csv` quality `osm_node`; 辽宁朝阳 is "
        "`osm_node_name_mapping_uncertain`).")
    add("2. `sourced`: Wikipedia infobox or geocoded values of `station_coordinates*.csv` (best quality label "
        "first; `low_single_source_conflicting` rows - 双城北, 大庆东, 齐齐哈尔南, 延吉西 - are used but keep "
        "that label in `coord_detail`: verify before local analyses).")
    add("3. `city_centre_approx`: the point of the city or county the station is named after "
        "(`city_coordinates.csv`; station name minus a trailing 东/西/南/北; 北京朝阳 -> 北京), used only when no "
        "other station of that place has a coordinate (so 哈尔滨北 is not put in central Harbin).")
    add("4. None: the station is not a stop in the feed (a *hidden stop*, below).")
    add("")
    counts = {}
    for zh in used:
        counts[stations[zh].quality] = counts.get(stations[zh].quality, 0) + 1
    add("Stations in the feed by quality: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + ".")
    add("")
    hidden = sorted({s.zh for stops in rail["kms"].values() for s in stops if s.zh not in used})
    add(f"**Hidden stops** ({len(hidden)}; passenger stations without any coordinate in the facts): "
        + ", ".join(f"{z} ({stations[z].en})" for z in hidden) + ". Trains that stop there in the model (all "
        "stopping trains; the Jiamusi express at 方正 and 依兰; G380 at 北票) pay their braking, dwell and "
        "acceleration in the run time to the next stop in the feed, and list them in trips.txt `hidden_stops`.")
    add("")
    add("`city` (stops.txt) is the prefecture-level city of the station from the 12306 `city` field "
        "(`stations_12306_all.csv`; county fields mapped to their prefecture: 林口 -> 牡丹江, 桦南 -> 佳木斯; "
        "延边 -> 延边朝鲜族自治州), as `city_id` of `cities.csv`; `city_dist_km` is the straight-line distance "
        "to that city's point (a county-town station can be 100+ km from its prefecture's centre). "
        "`station_class` is `major` for stations on two or more modelled lines and the main stations of Harbin, "
        "Changchun, Shenyang and Dalian, else `intermediate`.")
    add("")
    add("### Km marks")
    add("")
    add("Published where given: the Harbin-Dalian, Shenyang-Dandong and Dandong-Dalian route-map km "
        "(`rail_line_stations.csv`), Harbin West at 921 km (the Ministry of Railways operating mileage; the "
        "route map gives none; Shuangcheng North is at 881), the Beijing-Chengde section (192 km) and the line "
        "lengths of `rail_lines.csv` for the termini. Between two published marks, located stations get km from "
        "the straight-line distances between consecutive stations scaled to the published distance "
        "(`derived_coordinates`); stations without coordinates are spaced evenly between their neighbours "
        "(`derived_even_spacing`). The resulting detour factors (track km / straight line) are in the table "
        "above; `source/rail_line_km.csv` lists every mark and its basis.")
    add("")
    add("### Run times")
    add("")
    add(f"Kinematic model (`planner.scenarios.runtimes`): every stop-to-stop segment is run from rest to rest, constant "
        f"acceleration {ACCEL} m/s² to the cruise speed, cruise, constant braking {BRAKE} m/s² "
        f"(trapezoid; a triangle when too short). Dwell {DWELL_MIN['major']} min at major stations, "
        f"{DWELL_MIN['intermediate']} min elsewhere. All four figures are assumptions (CRH380-class EMUs are quoted "
        f"at 0.4-0.5 m/s² start acceleration; the upper end is needed to reach the published 29-min non-stop "
        f"Changchun-Jilin time on its 250 km/h line, see `planner/scenarios/runtimes.py`). Times are "
        f"rounded to whole minutes as in published timetables.")
    add("")
    add("The cruise speed of a train with a published fastest time (`rail_fastest_times.csv`, latest `as_of` "
        "row per pair) is calibrated by bisection so that its end-to-end time equals the published minutes "
        "(never above the line's design speed); the express patterns that carry these times stop only where "
        "listed below (assumed). Every other train on that line runs at the calibrated speed; lines without a "
        f"published time run at design speed x {rail['ratio']:.3f}, the median calibrated/design ratio. Where "
        "the published time cannot be reached at design speed the train runs at design speed and says so "
        "(`timing_basis` `max_speed_unreachable`).")
    add("")
    add("### Published vs generated times")
    add("")
    crow = []
    for c in info["comp"]:
        crow.append([f"{c['from_zh']} → {c['to_zh']}", c["as_of"], c["published_min"] or "-",
                     f"{c['pattern_min']} ({c['calibrated_pattern']})" if c["calibrated_pattern"] else "-",
                     f"{c['fastest_min']} ({c['fastest_train']}, {c['fastest_from']}→{c['fastest_to']})"
                     if c["fastest_train"] else "-", c["status"], c["cruise_kmh"] or "", c["note"]])
    add(md_table(["pair", "as of", "published min", "calibrated train min", "fastest train in the sample min",
                  "status", "cruise km/h", "note"], crow))
    add("")
    allst = next((ti for ti in rail["trip_info"] if ti["pattern"] == "changji_all" and ti["direction"] == 0), None)
    if allst:
        add(f"The Changchun-Jilin stopping train (hidden stop at Longjia) takes {allst['duration']} min; published: "
            "9 min Changchun-Longjia + 22 min Longjia-Jilin (2011).")
        add("")
    add("### Service patterns and frequencies")
    add("")
    prow = []
    for p in PATTERNS:
        runs = [ti for ti in rail["trip_info"] if ti["pattern"] == p.id]
        d0 = [ti for ti in runs if ti["direction"] == 0]
        stops = p.stops if p.stops is not None else "all passenger stations"
        prow.append([p.id, p.route, p.kind, " ".join(stops) if isinstance(stops, list) else stops,
                     f"{len(d0)} + {len(runs) - len(d0)}", f"{p.window[0]}-{p.window[1]}",
                     f"{d0[0]['duration']} min" if d0 else "", p.service_basis,
                     p.service_source or p.note])
    add(md_table(["pattern", "route", "kind", "stops (direction 0)", "trains/day (dir 0 + 1)", "departures",
                  "run time", "service basis", "source / note"], prow))
    add("")
    add("Departure times are spread evenly over each pattern's window (assumed), the same in both directions; the "
        "last departure is pulled forward so that no train arrives after 23:59 (the 00:00-06:00 maintenance window "
        "of Chinese HSR). Published counts (`rail_service_levels.csv`: Harbin-Qiqihar 34.5 pairs 2018, "
        "Harbin-Jiamusi 13 pairs 2018, Mudanjiang-Jiamusi 25.5 pairs 2022, Dandong-Dalian 24 trains 2015, "
        "Chengde-Shenyang 15 pairs 2019) are the totals of a line's patterns; their split between express and "
        "stopping trains is assumed (`service_split`). Where no count is published the count is assumed "
        "(`service_count`). G380 (Harbin West 06:27 - Chengde South 11:09, 2019) keeps its published stops and "
        "times; its reverse is assumed.")
    add("")
    add("### What is marked in the data")
    add("")
    add("- `trips.txt` `planner_assumed`: `;`-separated list of what is assumed for the trip - `departure_times`, "
        "`stopping_pattern`, `station_list_incomplete`, `service_count` / `service_split`, `run_times` (or "
        "`intermediate_times` for calibrated trains: only the end-to-end time is published), `dwell_times`, "
        "`km_marks`, `hidden_stops`, `line_in_service` (Tongliao-Xinmin North: opening date not in the facts). "
        "Never empty.")
    add("- `trips.txt` `timing_basis` (`calibrated`, `line_speed_calibrated`, `line_speed_rule`, "
        "`max_speed_unreachable`), `cruise_kmh`, `published_min` / `published_as_of` / `published_source` (the "
        "calibration target), `service_basis` / `service_source`, `hidden_stops`, `service_pattern`.")
    add("- `stop_times.txt` `planner_assumed`: 0 where the time since the train's departure is published (its "
        "first stop, and the last stop of a calibrated train), else 1; `km`: km along the train's path.")
    add("- `stops.txt` `coord_quality`, `coord_detail`, `coord_source`, `city`, `city_zh`, `city_dist_km`, "
        "`province`, `station_class`, `lines`.")
    add("- `feed_info.txt` `planner_assumptions`: a one-paragraph summary of the above.")
    add("")
    suihua_section(add, rail)
    # ------------------------------------------------------------------ metro
    add("## harbin_metro.zip")
    add("")
    add(f"{len(mt['routes'])} routes, {int((mt['stops']['location_type'] == 1).sum())} stations + "
        f"{int((mt['stops']['location_type'] == 0).sum())} platforms, {len(mt['trips'])} trips, "
        f"{len(mt['stop_times'])} stop times, {mt['shapes']['shape_id'].nunique()} shapes, "
        f"{len(mt['transfers'])} transfers. Agency 哈尔滨地铁 (Harbin Metro; the OSM `network` tag; agency_url = the "
        "network's Wikidata item Q2688234 from the `network:wikidata` tag).")
    add("")
    add("From the OSM route relations (route=subway, public_transport:version=2) of "
        f"`harbin_central.osm.pbf` (sha256 {info['pbf_sha'][:16]}, {ODBL}), read with pyosmium:")
    add("")
    add("- stop order: the relation's `stop` members in order; platforms (location_type 0, id `L<line>_<OSM node>`) "
        "at those nodes; parent stations (location_type 1, id `st<OSM node>`) at the station node of "
        "`harbin_osm_stations.csv` (the member node itself, else the station node of the same name), so the "
        "interchanges 博物馆, 太平桥, 医大二院, 珠江路 are one station with one platform per line;")
    add("- shapes: the located parts of the member ways, merged, clipped to the first and last stop in the extract; "
        "stop-to-stop distances along that track (every segment is on the mapped track);")
    stat_rows = []
    for (ref, d), s in sorted(info["mstats"].items()):
        stat_rows.append([f"L{ref}", d, s["relation"], s["name"], s["stops"], f"{s['km']:.1f}", f"{s['minutes']:.1f}",
                          f"{s['avg_kmh']:.1f}"])
    add("- run times: kinematic model at an 80 km/h line speed, 1.0 m/s² acceleration and braking, dwell "
        f"{METRO_DWELL_S} s ({METRO_DWELL_INTERCHANGE_S} s at interchanges) - assumptions; the resulting average "
        "speeds (incl. dwell) are:")
    add("")
    add(md_table(["route", "direction", "OSM relation", "name", "stops", "km", "minutes", "avg km/h"], stat_rows))
    add("")
    add(f"- service (assumed): departures from each end {METRO_FIRST}-{METRO_LAST}, every "
        f"{METRO_HEADWAY_PEAK_MIN} min 07:00-09:00 and 17:00-19:00, every {METRO_HEADWAY_OFFPEAK_MIN} min "
        f"otherwise; daily; in-station changes between lines {METRO_TRANSFER_S} s (transfers.txt, type 2).")
    miss = info["metro"]["missing"]
    add(f"- cut at the extract's edge: line 1 ends at 哈尔滨南站 ({len(miss.get('1', []))} stop nodes further "
        f"south are outside the extract: {', '.join(map(str, miss.get('1', [])))}); line 2 ends at 龙川路 "
        f"({len(miss.get('2', []))} stop nodes further north: {', '.join(map(str, miss.get('2', [])))}).")
    add("- marked: trips.txt `planner_assumed` = `departure_times;headways;run_times;dwell_times`, "
        "stop_times.txt `planner_assumed` (0 at the first stop), stops.txt `coord_quality` = `osm`, "
        "`osm_node_id`, `city` = `harbin`.")
    add("")
    # ------------------------------------------------------------------ cities
    add("## cities.csv")
    add("")
    add("The prefecture-level cities of Liaoning, Jilin and Heilongjiang with at least one station in "
        "`northeast_rail.zip` (Beijing, Chengde and Tongliao are served but have no population in the facts and "
        "are left out). `population`: 2020 (7th) census resident population where `city_population.csv` has it, "
        "else the 2021 year-end resident population (万 x 10,000; `population_basis`, `population_year`, "
        "`population_source` say which). Points: `city_coordinates.csv` primary `lat`/`lon` (GeoNames "
        "cities15000 or Wikipedia infobox, see `coord_source`); Yanbian = Yanji. `rail_stations`: stop ids of the "
        "city's stations in the rail feed.")
    add("")
    add(md_table(["city_id", "name", "population", "year", "stations"],
                 [[c["city_id"], f"{c['name_zh']} {c['name_en']}", f"{c['population']:,}", c["population_year"],
                   c["rail_stations"]] for c in info["cities"]]))
    add("")
    # ------------------------------------------------------------------ fares
    from planner.network.fares.sample import HARBIN_METRO_BANDS, HARBIN_METRO_SOURCE
    from planner.network.fares.systems import CHINA_RAIL_SECOND_CLASS

    add("## Fares")
    add("")
    add("The feeds carry no fare files; `plan fares` (and the fare part of `plan evaluate`) price them with the "
        "tariffs of `planner/network/fares/sample.py`:")
    add("")
    add(f"- `northeast_rail.zip` (both China Railway groups: one fare system, 12306): "
        f"CNY {CHINA_RAIL_SECOND_CLASS.rate_per_km:.4f} per km, second class, on the `km` marks of stop_times.txt "
        f"(every ride its own ticket). {CHINA_RAIL_SECOND_CLASS.source}")
    add("- `harbin_metro.zip`: by stations travelled between entry and exit station ("
        + ", ".join(f"up to {n}: CNY {p:g}" for n, p in HARBIN_METRO_BANDS) + f"). {HARBIN_METRO_SOURCE}")
    add("- New rail lines of a scenario: the rail rate on straight-line distances between their stops (ASSUMED; "
        "shorter than the track, so they are priced low).")
    add("- Ticketing penalties (`planner.network.fares.TicketingPenalty`, ASSUMED round figures): 600 s to enter "
        "high-speed or intercity rail (ticket, ID and security check, gate), 120 s to enter the metro; the fare "
        "analysis charges them at changes of operator (a traveller starts with a ticket for the first vehicle).")
    add("")
    add("## Licences")
    add("")
    add(f"- `harbin_metro.zip` and everything derived from `harbin_central.osm.pbf`: {ODBL} "
        "(https://www.openstreetmap.org/copyright). The rail station coordinates labelled `osm` are OSM data too "
        "(ODbL).")
    add("- Facts: public pages and repositories cited per row in `../shared/data/northeast_china/*.csv` "
        "(Wikipedia and mirrors: CC BY-SA; China Daily, Xinhua, CGTN, China Railway and statistics pages: cited "
        "facts; GeoNames: CC BY 4.0; 12306 station list via github.com/pomerun/china-railway-station: BSD-3-Clause).")
    add("- The rest (timetables derived by the rules above): MIT, as the code.")
    add("")
    return "\n".join(L)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, default=REPO.parent / "shared" / "data",
                    help="the facts folder (default: ../shared/data beside the repository)")
    ap.add_argument("--out", type=Path, default=REPO, help="where gtfs/, osm_cache/ and scenarios/ go (default: repo)")
    args = ap.parse_args(argv)
    if not (args.source / "northeast_china" / "rail_lines.csv").is_file():
        print(f"error: {args.source} does not hold northeast_china/rail_lines.csv", file=sys.stderr)
        return 2
    info = build(args.source, args.out)
    t, mt = info["tables"], info["mtables"]
    print(f"northeast_rail.zip: {len(t['stops'])} stops, {len(t['routes'])} routes, {len(t['trips'])} trips, "
          f"{len(t['stop_times'])} stop times")
    print(f"harbin_metro.zip: {len(mt['stops'])} stops, {len(mt['routes'])} routes, {len(mt['trips'])} trips, "
          f"{len(mt['stop_times'])} stop times")
    print(f"cities.csv: {len(info['cities'])} cities; scenarios: {len(SCENARIOS)}; output in {Path(args.out).resolve()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
