"""Regenerate the golden city's fixture files (run from this folder: python make_city.py).

The files it writes are committed and are the fixture; this script only documents how they
were made (a 5 x 5 street grid, two bus lines, a tram, weekday service). Editing the city
changes every golden snapshot: run ``pytest tests/test_golden.py --update-golden`` after.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent / "city"

LON0, LAT0, DLON, DLAT = 126.00, 45.00, 0.01, 0.008   # 0.01 deg lon ~ 786 m, 0.008 deg lat ~ 890 m at 45 N


def node(r: int, c: int) -> int:
    return 1 + 5 * r + c


def lonlat(r: int, c: int) -> tuple[str, str]:
    return f"{LON0 + DLON * c:.3f}", f"{LAT0 + DLAT * r:.3f}"


# -------------------------------------------------------------------- OSM street grid
def osm() -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<osm version="0.6" generator="tests/data/golden/make_city.py">']
    for r in range(5):
        for c in range(5):
            lon, lat = lonlat(r, c)
            out.append(f'  <node id="{node(r, c)}" lat="{lat}" lon="{lon}"/>')
    # a motorway south of the grid (not walkable) joined to the grid's south-west corner
    out.append('  <node id="101" lat="44.995" lon="126.000"/>')
    out.append('  <node id="102" lat="44.995" lon="126.040"/>')
    way = 1001
    for r in range(5):  # west-east streets; the middle one is Main Street (primary)
        tags = {"highway": "primary", "name": "Main Street"} if r == 2 else \
               {"highway": "residential", "name": f"Row {r} Street"}
        out.append(f'  <way id="{way}">')
        out += [f'    <nd ref="{node(r, c)}"/>' for c in range(5)]
        out += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        out.append("  </way>")
        way += 1
    for c in range(5):  # south-north avenues; the middle one is Park Avenue (secondary)
        tags = {"highway": "secondary", "name": "Park Avenue"} if c == 2 else \
               {"highway": "residential", "name": f"Column {c} Avenue"}
        if c == 4:
            tags["oneway"] = "yes"  # one-way northbound for cars; walkers use both ways
        out.append(f'  <way id="{way}">')
        out += [f'    <nd ref="{node(r, c)}"/>' for r in range(5)]
        out += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        out.append("  </way>")
        way += 1
    out.append('  <way id="1011">')  # a diagonal footpath through the park: Central -> Park corner
    out += [f'    <nd ref="{n}"/>' for n in (node(2, 2), node(3, 3))]
    out += ['    <tag k="highway" v="footway"/>', '    <tag k="name" v="Park Path"/>', "  </way>"]
    out.append('  <way id="1012">')
    out += ['    <nd ref="101"/>', '    <nd ref="102"/>', '    <nd ref="1"/>']
    out += ['    <tag k="highway" v="motorway"/>', '    <tag k="name" v="Ring Motorway"/>', "  </way>"]
    out.append("</osm>")
    return "\n".join(out) + "\n"


# -------------------------------------------------------------------- GTFS
STOPS = {  # id: (name, r, c, location_type, parent)
    "CEN": ("Central Station", 2, 2, 1, ""),
    "WG": ("West Gate", 2, 0, 0, ""),
    "MK": ("Market", 2, 1, 0, ""),
    "CE": ("Central (bus)", 2, 2, 0, "CEN"),
    "CET": ("Central (tram)", 2, 2, 0, "CEN"),
    "MU": ("Museum", 2, 3, 0, ""),
    "EG": ("East Gate", 2, 4, 0, ""),
    "SG": ("South Gate", 0, 2, 0, ""),
    "LI": ("Library", 1, 2, 0, ""),
    "PA": ("Park", 3, 2, 0, ""),
    "NG": ("North Gate", 4, 2, 0, ""),
    "OT": ("Old Town", 0, 0, 0, ""),
    "HB": ("Harbour", 4, 4, 0, ""),
    "ZZ": ("Closed Halt", 0, 4, 0, ""),  # no trip calls here: must change nothing routable
}


def hms(s: int) -> str:
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def trips_for(route, pattern_stops, run_min, first, last, headway, service="WD", prefix="", dwell_at=()):
    """Trips every ``headway`` minutes from ``first`` to ``last`` (HH:MM) over the stops."""
    rows, trips = [], []
    h0, m0 = map(int, first.split(":"))
    h1, m1 = map(int, last.split(":"))
    t, end = h0 * 3600 + m0 * 60, h1 * 3600 + m1 * 60
    while t <= end:
        trip = f"{prefix}{hms(t)[:5].replace(':', '')}"
        trips.append((route, service, trip))
        clock = t
        for seq, stop in enumerate(pattern_stops, start=1):
            arr = clock
            dep = arr + (60 if stop in dwell_at else 0)
            rows.append((trip, hms(arr), hms(dep), stop, seq))
            if seq < len(pattern_stops):
                clock = dep + 60 * run_min[seq - 1]
        t += 60 * headway
    return trips, rows


def gtfs() -> dict[str, str]:
    files = {}
    files["agency.txt"] = ("agency_id,agency_name,agency_url,agency_timezone\n"
                           "GT,Gridton Transit,https://gridton.example,Asia/Shanghai\n")
    lines = ["stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station"]
    for sid, (name, r, c, lt, parent) in STOPS.items():
        lon, lat = lonlat(r, c)
        lines.append(f"{sid},{name},{lat},{lon},{lt},{parent}")
    files["stops.txt"] = "\n".join(lines) + "\n"
    files["routes.txt"] = ("route_id,agency_id,route_short_name,route_long_name,route_type\n"
                           "B1,GT,1,Main Street bus,3\n"
                           "B2,GT,2,Park Avenue bus,3\n"
                           "T1,GT,T,Old Town - Harbour tram,0\n")
    all_trips, all_rows = [], []
    b1 = ["WG", "MK", "CE", "MU", "EG"]
    b2 = ["SG", "LI", "CE", "PA", "NG"]
    for route, stops, prefix, first in (("B1", b1, "B1E", "06:45"), ("B1", b1[::-1], "B1W", "06:50"),
                                        ("B2", b2, "B2N", "06:40"), ("B2", b2[::-1], "B2S", "06:55")):
        t, r = trips_for(route, stops, [3, 3, 3, 3], first, "08:45", 15, prefix=prefix, dwell_at=("CE",))
        all_trips += t
        all_rows += r
    # one express on Main Street, eastbound, not stopping at Market and Museum
    t, r = trips_for("B1", ["WG", "CE", "EG"], [5, 5], "07:22", "07:22", 60, prefix="B1X", dwell_at=("CE",))
    all_trips += t
    all_rows += r
    for stops, prefix, first in ((["OT", "CET", "HB"], "T1N", "06:40"), (["HB", "CET", "OT"], "T1S", "06:50")):
        t, r = trips_for("T1", stops, [6, 6], first, "08:40", 20, prefix=prefix)
        all_trips += t
        all_rows += r
    # a Sunday-only trip (must not run on the weekday of the tests)
    t, r = trips_for("B2", b2, [3, 3, 3, 3], "07:00", "07:00", 60, service="SU", prefix="B2SU")
    all_trips += t
    all_rows += r
    files["trips.txt"] = "route_id,service_id,trip_id\n" + "".join(f"{a},{b},{c}\n" for a, b, c in all_trips)
    files["stop_times.txt"] = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n" +
                               "".join(f"{a},{b},{c},{d},{e}\n" for a, b, c, d, e in all_rows))
    files["calendar.txt"] = ("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
                             "WD,1,1,1,1,1,0,0,20250101,20251231\n"
                             "SU,0,0,0,0,0,0,1,20250101,20251231\n")
    files["calendar_dates.txt"] = "service_id,date,exception_type\nWD,20250501,2\n"
    return files


PLACES = ("id,name,lon,lat,population\n"
          "oldtown,Old Town,126.000,45.000,12000\n"
          "westgate,West Gate,126.000,45.016,8000\n"
          "central,Central,126.020,45.016,20000\n"
          "eastgate,East Gate,126.040,45.016,9000\n"
          "northgate,North Gate,126.020,45.032,7000\n"
          "harbour,Harbour,126.040,45.032,15000\n")

SCENARIOS = {
    "crosstown.yaml": """\
# Golden scenario for the Gridton fixture: a new bus line West Gate - Central - North Gate,
# every 10 minutes in the morning, 4 + 5 minutes between stops, 1 minute at Central.
name: crosstown
description: Crosstown bus West Gate - Central - North Gate every 10 minutes
changes:
  - add_line:
      id: X
      name: Crosstown
      mode: bus
      stops: [West Gate, "Central (bus)", North Gate]
      run_times_min: [4, 5]
      dwell_min: 1
      headway_min: 10
      service: {start: "06:30", end: "09:30"}
""",
    "tram_frequency.yaml": """\
# Golden scenario for the Gridton fixture: the tram every 10 minutes instead of 20.
name: tram_frequency
description: Tram T every 10 minutes
changes:
  - adjust_headway: {route: "gridton:T1", factor: 0.5}
""",
}


def main() -> None:
    HERE.mkdir(exist_ok=True)
    (HERE / "gtfs").mkdir(exist_ok=True)
    (HERE / "streets.osm").write_text(osm(), encoding="utf-8")
    for name, text in gtfs().items():
        (HERE / "gtfs" / name).write_text(text, encoding="utf-8", newline="")
    (HERE / "places.csv").write_text(PLACES, encoding="utf-8", newline="")
    for name, text in SCENARIOS.items():
        (HERE / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
