"""Hostile inputs for the resource-limit tests (issue 11; ``anchors/reliability.md`` §9 G7),
measured one by one in a fresh process.

Run as ``python -m tests.resource_probe OUT_DIR CASE...``: for each case the input is
built first (not measured), then the library reads it while the wall time and the growth
of the resident set are measured; one JSON object per case is printed. The peak is taken
from ``VmHWM`` after resetting it (``/proc/self/clear_refs``), so it counts every
allocation, C and C++ included (expat, zlib, libosmium), not only Python's; where that is
unavailable, ``ru_maxrss`` is used and ``peak_exact`` is false.

Each case returns ``(build, action, config)``; ``action(path)`` must raise a PlannerError.
The readers are imported here, before any child forks, so that a case measures the read
and not the import of pandas, pyarrow and osmium (about 100 MB and a second on its own:
``planner`` loads its stages lazily).
"""

from __future__ import annotations

import bz2
import gc
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from planner.config import Config
from planner.errors import PlannerError
from planner.ingest.gtfs import read_feed
from planner.ingest.gtfs.service import busiest_date
from planner.ingest.osm import read_osm
from planner.network.timetable import build_timetable
from planner.scenarios.spec import load_scenario
from tests import fuzz_codecs as zc
from tests.conftest import MINI, OSM_DATA

GiB = 1024**3
MiB = 1024**2


# ------------------------------------------------------------------------------ readers
def _gtfs(path: Path, config: Config) -> None:
    read_feed(path, config=config)


def _osm(path: Path, config: Config) -> None:
    read_osm(path, config=config)


def _scenario(path: Path, config: Config) -> None:
    load_scenario(path)


def _timetable(path: Path, config: Config) -> None:
    feed = read_feed(path, config=config)
    build_timetable(feed, busiest_date([feed]))
    msg = "loaded"  # the calendar case loads; report it as an outcome, not an error
    raise _Loaded(msg)


class _Loaded(Exception):
    code = "loaded"


# ------------------------------------------------------------------------------ inputs
def _mini(**override: RawMember) -> list:
    members = {n: zc.deflated(n, MINI[n].encode()) for n in sorted(MINI)}
    members.update(override)
    return list(members.values())


RawMember = zc.RawMember


def zip_10gb_member() -> bytes:
    """stops.txt: 10 GiB of zeros (10 MB compressed), sizes declared honestly (ZIP64)."""
    return zc.build_zip(_mini(**{"stops.txt": RawMember(b"stops.txt", zc.deflate_zeros(10 * GiB), 8,
                                                        file_size=10 * GiB, crc=0)}))


def zip_1gb_ratio() -> bytes:
    """stops.txt: 1 GiB of zeros, under the 4 GiB member limit but inflating 1000:1."""
    return zc.build_zip(_mini(**{"stops.txt": RawMember(b"stops.txt", zc.deflate_zeros(GiB), 8, file_size=GiB, crc=0)}))


def zip_10gb_understated() -> bytes:
    """stops.txt: 10 GiB of zeros that the headers say are 2,000 bytes."""
    return zc.build_zip(_mini(**{"stops.txt": RawMember(b"stops.txt", zc.deflate_zeros(10 * GiB), 8,
                                                        file_size=2000, crc=0)}))


def zip_understated_64mb() -> bytes:
    """stops.txt: 10 GiB of zeros declared as 64 MiB (a ratio of 6:1 passes; read to the
    declared size, then the CRC fails)."""
    return zc.build_zip(_mini(**{"stops.txt": RawMember(b"stops.txt", zc.deflate_zeros(10 * GiB), 8,
                                                        file_size=64 * MiB, crc=0)}))


def zip_many_members() -> bytes:
    """300,000 empty members (a 30 MB archive)."""
    return zc.build_zip(_mini() + [zc.stored(f"x{i:07d}.dat", b"") for i in range(300_000)])


def zip_many_members_forged_count() -> bytes:
    """The same directory of 300,000 members, with an end record claiming 5."""
    return zc.build_zip(_mini() + [zc.stored(f"x{i:07d}.dat", b"") for i in range(300_000)], eocd_entries=5)


def zip_forged_compress_size() -> bytes:
    """stops.txt's compressed size forged to 0xFFFFFFFE (cpython#151307)."""
    data = MINI["stops.txt"].encode()
    return zc.build_zip(_mini(**{"stops.txt": zc.stored("stops.txt", data, compress_size=0xFFFFFFFE)}))


def zip_forged_10gb_declared() -> bytes:
    """stops.txt's (honest, small) data declared as 10 GiB in the directory."""
    data = MINI["stops.txt"].encode()
    return zc.build_zip(_mini(**{"stops.txt": zc.stored("stops.txt", data, file_size=10 * GiB)}))


_LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE osm [\n <!ENTITY a0 "ha">\n'
           + "".join(f' <!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">\n' for i in range(1, 11))
           + ']>\n<osm version="0.6"><node id="1" lat="0" lon="0"><tag k="name" v="&a10;"/></node></osm>\n')


def xml_billion_laughs() -> bytes:
    return _LAUGHS.encode()


def xml_quadratic_blowup() -> bytes:
    return ('<?xml version="1.0"?>\n<!DOCTYPE osm [<!ENTITY big "' + "x" * 100_000 + '">]>\n'
            '<osm version="0.6"><node id="1" lat="0" lon="0"><tag k="name" v="' + "&big;" * 20_000
            + '"/></node></osm>\n').encode()


def xml_external_entity() -> bytes:
    return (b'<?xml version="1.0"?>\n<!DOCTYPE osm [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
            b'<osm version="0.6"><node id="1" lat="0" lon="0"><tag k="name" v="&e;"/></node></osm>\n')


def xml_deep_nesting() -> bytes:
    """A million nested elements (7 MB)."""
    n = 1_000_000
    return b"<osm>" + b"<a>" * n + b"</a>" * n + b"</osm>\n"


def xml_huge_attribute() -> bytes:
    """A 64 MiB attribute value (plain .osm)."""
    return b'<osm><node id="1" lat="0" lon="0"><tag k="name" v="' + b"x" * (64 * MiB) + b'"/></node></osm>\n'


def xml_gz_whitespace_bomb() -> bytes:
    """.osm.gz: <osm> then 10 GiB of spaces (10 MB compressed)."""
    return zc.gzip_repeat(b" " * 1024, 10 * 1024 * 1024, prefix=b"<osm>")


def xml_gz_element_bomb() -> bytes:
    """.osm.gz: <osm> then 10 GiB of unknown elements; read with a 64 MiB cap."""
    return zc.gzip_repeat(b'<x a="' + b"y" * 100 + b'"/>', 10 * GiB // 108, prefix=b"<osm>")


def xml_bz2_bomb() -> bytes:
    """.osm.bz2: <osm> then 1 GiB of unknown elements as 100 concatenated bz2 streams."""
    unit = bz2.compress((b'<x a="' + b"y" * 100 + b'"/>') * 97_000)  # 10 MiB per stream
    return bz2.compress(b"<osm>") + unit * 100


def _pbf_blocks():
    return zc.pbf_blocks((OSM_DATA / "harbin_central.osm.pbf").read_bytes())


def _pbf_head() -> bytes:
    h = _pbf_blocks()[0]
    return zc.pbf_frame("OSMHeader", zc.pbf_blob(h.payload), extra_header=h.extra_header)


def pbf_header_length_2gb() -> bytes:
    """The first BlobHeader length says 2 GiB."""
    return b"\x80\x00\x00\x00" + _pbf_head()[4:]


def pbf_second_header_length_2gb() -> bytes:
    b = _pbf_blocks()[1]
    return _pbf_head() + zc.pbf_frame(b.type, zc.pbf_blob(b.payload), header_len=2**31)


def pbf_datasize_2gb() -> bytes:
    b = _pbf_blocks()[1]
    return _pbf_head() + zc.pbf_frame(b.type, zc.pbf_blob(b.payload), datasize=2**31)


def pbf_raw_size_2gb() -> bytes:
    """A blob whose raw_size claims 2 GiB (its zlib data is one real block)."""
    b = _pbf_blocks()[1]
    return _pbf_head() + zc.pbf_frame(b.type, zc.pbf_blob(b.payload, raw_size=2**31 - 1))


def pbf_zlib_bomb() -> bytes:
    """A blob declaring 1 MiB that inflates to 1 GiB of zeros."""
    import struct
    import zlib

    data = b"\x78\x9c" + zc.deflate_zeros(GiB) + struct.pack(">I", zlib.adler32(b""))
    return _pbf_head() + zc.pbf_frame("OSMData", zc.pbf_blob(b"", raw_size=MiB, zlib_data=data))


def pbf_truncated_100mb() -> bytes:
    """The Harbin extract's data blocks repeated to about 100 MB, cut at 99.5 %."""
    blocks = _pbf_blocks()
    frames = [zc.pbf_frame(b.type, zc.pbf_blob(b.payload), extra_header=b.extra_header) for b in blocks[1:]]
    body = b"".join(frames)
    data = _pbf_head() + body * max(1, (100 * 10**6) // len(body))
    return data[: int(len(data) * 0.995)]


def yaml_alias_bomb() -> bytes:
    text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    return text.encode()


def yaml_deep_nesting() -> bytes:
    return b"name: x\nchanges: " + b"[" * 100_000 + b"]" * 100_000 + b"\n"


def gtfs_calendar_1970_2199() -> Path:
    """A feed folder whose calendar.txt has 2,000 services running 1970-2199."""
    return {**MINI, "calendar.txt": MINI["calendar.txt"] + "".join(
        f"S{i},1,1,1,1,1,1,1,19700101,21991231\n" for i in range(2000))}


def gtfs_dense_frequencies():
    return {**MINI, "frequencies.txt": "trip_id,start_time,end_time,headway_secs\nT1,00:00:00,999:59:59,1\n"}


#: name -> (builder, file name, reader, Config overrides)
CASES: dict[str, tuple[Callable, str, Callable, dict]] = {
    "zip_10gb_member": (zip_10gb_member, "feed.zip", _gtfs, {}),
    "zip_1gb_ratio": (zip_1gb_ratio, "feed.zip", _gtfs, {}),
    "zip_10gb_understated": (zip_10gb_understated, "feed.zip", _gtfs, {}),
    "zip_understated_64mb": (zip_understated_64mb, "feed.zip", _gtfs, {}),
    "zip_many_members": (zip_many_members, "feed.zip", _gtfs, {}),
    "zip_many_members_forged_count": (zip_many_members_forged_count, "feed.zip", _gtfs, {}),
    "zip_forged_compress_size": (zip_forged_compress_size, "feed.zip", _gtfs, {}),
    "zip_forged_10gb_declared": (zip_forged_10gb_declared, "feed.zip", _gtfs, {}),
    "xml_billion_laughs": (xml_billion_laughs, "laughs.osm", _osm, {}),
    "xml_quadratic_blowup": (xml_quadratic_blowup, "quadratic.osm", _osm, {}),
    "xml_external_entity": (xml_external_entity, "xxe.osm", _osm, {}),
    "xml_deep_nesting": (xml_deep_nesting, "deep.osm", _osm, {}),
    "xml_huge_attribute": (xml_huge_attribute, "attr.osm", _osm, {}),
    "xml_gz_whitespace_bomb": (xml_gz_whitespace_bomb, "spaces.osm.gz", _osm, {}),
    "xml_gz_element_bomb": (xml_gz_element_bomb, "elements.osm.gz", _osm, {"osm_max_xml_bytes": 64 * MiB}),
    "xml_bz2_bomb": (xml_bz2_bomb, "elements.osm.bz2", _osm, {"osm_max_xml_bytes": 64 * MiB}),
    "pbf_header_length_2gb": (pbf_header_length_2gb, "a.osm.pbf", _osm, {}),
    "pbf_second_header_length_2gb": (pbf_second_header_length_2gb, "b.osm.pbf", _osm, {}),
    "pbf_datasize_2gb": (pbf_datasize_2gb, "c.osm.pbf", _osm, {}),
    "pbf_raw_size_2gb": (pbf_raw_size_2gb, "d.osm.pbf", _osm, {}),
    "pbf_zlib_bomb": (pbf_zlib_bomb, "e.osm.pbf", _osm, {}),
    "pbf_truncated_100mb": (pbf_truncated_100mb, "big.osm.pbf", _osm, {}),
    "yaml_alias_bomb": (yaml_alias_bomb, "laughs.yaml", _scenario, {}),
    "yaml_deep_nesting": (yaml_deep_nesting, "deep.yaml", _scenario, {}),
    "gtfs_calendar_1970_2199": (gtfs_calendar_1970_2199, "calendar_feed", _timetable, {}),
    "gtfs_dense_frequencies": (gtfs_dense_frequencies, "frequency_feed", _timetable, {}),
}


# ------------------------------------------------------------------------------ measuring
def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def measure(name: str, out: Path) -> dict:
    build, fname, reader, overrides = CASES[name]
    out.mkdir(parents=True, exist_ok=True)
    path = out / fname
    made = build()
    if isinstance(made, dict):
        from tests.conftest import write_feed

        write_feed(path, made)
        size = sum(p.stat().st_size for p in path.iterdir())
    else:
        path.write_bytes(made)
        size = len(made)
    del made
    gc.collect()
    config = Config(progress=False, **overrides)
    exact = _reset_peak()
    rss0 = _status_kb("VmRSS")
    import resource

    max0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    code, message = "none", ""
    try:
        reader(path, config)
    except PlannerError as err:
        code, message = err.code, str(err).splitlines()[0][:200]
    except _Loaded:
        code = "loaded"
    elapsed = time.perf_counter() - t
    if exact and rss0 is not None:
        growth_kb = (_status_kb("VmHWM") or 0) - rss0
    else:
        growth_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - max0
        exact = False
    return {"case": name, "code": code, "message": message, "seconds": round(elapsed, 3),
            "rss_growth_mb": round(max(growth_kb, 0) / 1024, 1), "peak_exact": exact, "input_bytes": size}


def main(argv: list[str]) -> None:
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)

    for name in argv[1:] or sorted(CASES):
        # each case in a forked child: memory freed by an earlier case (and kept by malloc)
        # cannot hide this one's growth, and a case that crashes the process is reported
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 0
            try:
                print(json.dumps(measure(name, out / name)), flush=True)
            except BaseException as err:
                print(json.dumps({"case": name, "code": "crash", "message": repr(err)[:300]}), flush=True)
                code = 1
            os._exit(code)
        limit = float(os.environ.get("PLAN_PROBE_TIMEOUT", "0")) or None
        t0 = time.monotonic()
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if limit is not None and time.monotonic() - t0 > limit:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                print(json.dumps({"case": name, "code": "timeout", "seconds": limit,
                                  "message": f"still running after {limit:.0f} s"}), flush=True)
                status = 0
                break
            time.sleep(0.01)
        if status and not os.WIFEXITED(status):
            print(json.dumps({"case": name, "code": "killed", "message": f"wait status {status}"}), flush=True)
        shutil.rmtree(out / name, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
