"""Builders for the bad-input GTFS cases that cannot be readable text fixtures.

The corpus lives in ``tests/data/bad_gtfs``: ``base/`` is a tiny valid feed and every
``cases/<case_id>/`` holds only what differs from it (see the README there). A case whose
input is binary (a crafted zip, a FIFO, a symlink, a UTF-16 file, a stray byte...) names a
builder here in its ``expected.json``. Every builder gets

* ``work``: an empty-ish scratch folder of the test (``tmp_path``),
* ``feed``: ``work/feed``, a copy of ``base/`` with the case's text overlay already applied,
* ``exp``: the case's ``expected.json``,

and returns the path to pass to ``plan gtfs check`` (the folder, a zip, or anything else).
Nothing here writes outside ``work``, and nothing writes large files: zip bombs are built in
memory (a stream of zeros compresses ~1000:1) or by forging the sizes in the headers.
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import struct
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

BOM = b"\xef\xbb\xbf"
LOCAL_SIG = b"PK\x03\x04"
CENTRAL_SIG = b"PK\x01\x02"

Builder = Callable[[Path, Path, dict], Path]
BUILDERS: dict[str, Builder] = {}


def builder(fn: Builder) -> Builder:
    BUILDERS[fn.__name__] = fn
    return fn


# ---------------------------------------------------------------- helpers
def feed_members(feed: Path) -> dict[str, bytes]:
    """Top-level files of a feed folder, name -> bytes."""
    return {p.name: p.read_bytes() for p in sorted(feed.iterdir()) if p.is_file()}


def zip_bytes(members: dict[str, bytes] | list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip archive of ``members`` (a list allows duplicate names)."""
    buf = io.BytesIO()
    items = members.items() if isinstance(members, dict) else members
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name" is what we want
        with zipfile.ZipFile(buf, "w", method) as zf:
            for name, data in items:
                info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
                info.compress_type = method
                zf.writestr(info, data)
    return buf.getvalue()


def write_zip(work: Path, members, name: str = "feed.zip") -> Path:
    path = work / name
    path.write_bytes(zip_bytes(members) if not isinstance(members, bytes) else members)
    return path


def _records(data: bytes, sig: bytes):
    """(offset, name) of every local (sig=LOCAL_SIG) or central (CENTRAL_SIG) record."""
    name_len_at, name_at = (26, 30) if sig == LOCAL_SIG else (28, 46)
    pos = data.find(sig)
    while pos >= 0:
        (n,) = struct.unpack_from("<H", data, pos + name_len_at)
        yield pos, data[pos + name_at: pos + name_at + n]
        pos = data.find(sig, pos + 4)


def patch_member(data: bytes, name: str, *, local: dict[int, tuple[str, int]] | None = None,
                 central: dict[int, tuple[str, int]] | None = None) -> bytes:
    """Overwrite fixed header fields of member ``name``: {offset: (struct format, value)}.

    Local header offsets: 6 flags, 8 method, 14 crc, 18 compressed size, 22 size.
    Central header offsets: 8 flags, 10 method, 16 crc, 20 compressed size, 24 size, 42 offset.
    """
    out = bytearray(data)
    target = name.encode("utf-8")
    for sig, fields in ((LOCAL_SIG, local), (CENTRAL_SIG, central)):
        if not fields:
            continue
        hits = [pos for pos, n in _records(data, sig) if n == target]
        assert hits, f"no {sig!r} record for {name}"
        for pos in hits:
            for off, (fmt, value) in fields.items():
                struct.pack_into(fmt, out, pos + off, value)
    return bytes(out)


def base_zip(feed: Path) -> bytes:
    return zip_bytes(feed_members(feed))


# ---------------------------------------------------------------- A. container
@builder
def path_missing(work: Path, feed: Path, exp: dict) -> Path:
    return work / "does_not_exist.zip"


@builder
def zip_zero_bytes(work: Path, feed: Path, exp: dict) -> Path:
    return write_zip(work, b"")


@builder
def html_saved_as_zip(work: Path, feed: Path, exp: dict) -> Path:
    page = b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n<body><h1>Not Found</h1></body></html>\n"
    return write_zip(work, page)


@builder
def zip_truncated(work: Path, feed: Path, exp: dict) -> Path:
    data = base_zip(feed)
    return write_zip(work, data[: len(data) // 2])


@builder
def csv_file_as_feed(work: Path, feed: Path, exp: dict) -> Path:
    return feed / "stops.txt"


@builder
def zip_empty_archive(work: Path, feed: Path, exp: dict) -> Path:
    return write_zip(work, zip_bytes({}))


@builder
def zip_subfolder(work: Path, feed: Path, exp: dict) -> Path:
    return write_zip(work, {f"GTFS/{n}": b for n, b in feed_members(feed).items()})


@builder
def folder_subfolder(work: Path, feed: Path, exp: dict) -> Path:
    inner = work / "GTFS"
    shutil.move(str(feed), str(inner))
    feed.mkdir()
    shutil.move(str(inner), str(feed / "GTFS"))
    return feed


@builder
def folder_nested_deep(work: Path, feed: Path, exp: dict) -> Path:
    """As partridge's ``nested`` fixture: the files four folders down, a/b/c/caltrain/."""
    inner = work / "caltrain"
    shutil.move(str(feed), str(inner))
    (feed / "a" / "b" / "c").mkdir(parents=True)
    shutil.move(str(inner), str(feed / "a" / "b" / "c" / "caltrain"))
    return feed


@builder
def zip_with_extra_member(work: Path, feed: Path, exp: dict) -> Path:
    """The valid feed plus one member named ``exp["member_name"]`` (traversal, NUL...)."""
    name = exp["member_name"]
    if "\x00" not in name:
        return write_zip(work, [*feed_members(feed).items(), (name, b"owned\n")])
    # zipfile cuts names at NUL when writing too: write a same-length placeholder, then patch
    placeholder = name.replace("\x00", "_")
    data = zip_bytes([*feed_members(feed).items(), (placeholder, b"owned\n")])
    assert data.count(placeholder.encode()) == 2  # local + central header
    return write_zip(work, data.replace(placeholder.encode(), name.encode()))


@functools.cache
def _bomb(members: tuple[tuple[str, bytes], ...], megabytes: int) -> bytes:
    """The feed with stops.txt replaced by ``megabytes`` MB of zeros (deflated ~1000:1)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            if name != "stops.txt":
                zf.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
        with zf.open("stops.txt", "w") as handle:  # streamed: never 100 MB in memory
            chunk = bytes(1 << 20)
            for _ in range(megabytes):
                handle.write(chunk)
    return buf.getvalue()


@builder
def zip_bomb_ratio(work: Path, feed: Path, exp: dict) -> Path:
    """stops.txt = 100 MB of zeros, ~100 kB compressed (ratio ~1000:1); the rest of the feed is valid."""
    return write_zip(work, _bomb(tuple(feed_members(feed).items()), 100))


def _build_then_forge(work: Path, feed: Path, name: str, **forge) -> Path:
    """Zip the feed, changing ZipInfo fields of ``name`` just before the central directory is written."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in feed_members(feed).items():
            zf.writestr(zipfile.ZipInfo(n, date_time=(2024, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
        info = zf.getinfo(name)
        for k, value in forge.items():
            setattr(info, k, value)
    return write_zip(work, buf.getvalue())


@builder
def zip_bomb_declared_10gb(work: Path, feed: Path, exp: dict) -> Path:
    """stops.txt's central directory (zip64 extra) declares 10 GB uncompressed."""
    return _build_then_forge(work, feed, "stops.txt", file_size=10 * 1024**3)


@builder
def zip_size_understated(work: Path, feed: Path, exp: dict) -> Path:
    """stops.txt really inflates to ~1 MB but its central directory says 1,000 bytes."""
    (feed / "stops.txt").write_bytes((feed / "stops.txt").read_bytes() + b"\n" * (1 << 20))
    return _build_then_forge(work, feed, "stops.txt", file_size=1000)


@builder
def zip_too_many_members(work: Path, feed: Path, exp: dict) -> Path:
    extra = [(f"extra_{i:04d}.dat", b"") for i in range(1001)]
    return write_zip(work, [*feed_members(feed).items(), *extra])


@builder
def zip_member_is_zip(work: Path, feed: Path, exp: dict) -> Path:
    members = feed_members(feed)
    members["stops.txt"] = zip_bytes({"stops.txt": members["stops.txt"]})
    return write_zip(work, members)


@builder
def zip_nested_zip_member(work: Path, feed: Path, exp: dict) -> Path:
    members = feed_members(feed)
    members["inner.zip"] = zip_bytes(members)
    return write_zip(work, members)


@builder
def zip_overlapping_entries(work: Path, feed: Path, exp: dict) -> Path:
    """trips.txt's central-directory entry points at stops.txt's local header."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in feed_members(feed).items():
            zf.writestr(zipfile.ZipInfo(n, date_time=(2024, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
        zf.getinfo("trips.txt").header_offset = zf.getinfo("stops.txt").header_offset
    return write_zip(work, buf.getvalue())


@builder
def zip_quoted_overlap(work: Path, feed: Path, exp: dict) -> Path:
    """agency.txt (the first member) declares compressed data running over the next local header."""
    data = base_zip(feed)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = sorted(zf.infolist(), key=lambda i: i.header_offset)
        first, second = infos[0], infos[1]
    assert first.filename == "agency.txt"
    reach = second.header_offset + 30 + len(second.filename) + second.compress_size - (
        first.header_offset + 30 + len(first.filename))
    return write_zip(work, patch_member(data, first.filename, local={18: ("<I", reach)}, central={20: ("<I", reach)}))


@builder
def zip_duplicate_names(work: Path, feed: Path, exp: dict) -> Path:
    members = feed_members(feed)
    return write_zip(work, [*members.items(), ("stops.txt", members["stops.txt"])])


@builder
def zip_forged_compress_size(work: Path, feed: Path, exp: dict) -> Path:
    """stops.txt's 32-bit compressed size field says 0xFFFFFFFE (cpython#151307)."""
    return write_zip(work, patch_member(base_zip(feed), "stops.txt", central={20: ("<I", 0xFFFFFFFE)}))


@builder
def zip_encrypted_member(work: Path, feed: Path, exp: dict) -> Path:
    data = base_zip(feed)
    return write_zip(work, patch_member(data, "stops.txt", local={6: ("<H", 0x0001)}, central={8: ("<H", 0x0001)}))


@builder
def zip_unsupported_method(work: Path, feed: Path, exp: dict) -> Path:
    data = base_zip(feed)
    return write_zip(work, patch_member(data, "stops.txt", local={8: ("<H", 9)}, central={10: ("<H", 9)}))


@builder
def zip_macosx_dsstore(work: Path, feed: Path, exp: dict) -> Path:
    members = feed_members(feed)
    return write_zip(work, [*members.items(), ("__MACOSX/._stops.txt", b"\x00\x05\x16\x07"),
                            (".DS_Store", b"\x00\x00\x00\x01Bud1")])


@builder
def folder_wrong_case(work: Path, feed: Path, exp: dict) -> Path:
    (feed / "stops.txt").rename(feed / "Stops.txt")
    return feed


@builder
def zip_wrong_case(work: Path, feed: Path, exp: dict) -> Path:
    members = feed_members(feed)
    members["Stops.txt"] = members.pop("stops.txt")
    return write_zip(work, members)


@builder
def zip_both_cases(work: Path, feed: Path, exp: dict) -> Path:
    members = feed_members(feed)
    return write_zip(work, [*members.items(), ("Stops.txt", members["stops.txt"])])


@builder
def folder_both_cases(work: Path, feed: Path, exp: dict) -> Path:
    shutil.copyfile(feed / "stops.txt", feed / "Stops.txt")
    return feed


@builder
def folder_symlink_etc_passwd(work: Path, feed: Path, exp: dict) -> Path:
    (feed / "stops.txt").unlink()
    (feed / "stops.txt").symlink_to("/etc/passwd")
    return feed


@builder
def folder_symlink_relative_escape(work: Path, feed: Path, exp: dict) -> Path:
    (feed / "stops.txt").rename(work / "outside_stops.txt")
    (feed / "stops.txt").symlink_to("../outside_stops.txt")
    return feed


@builder
def folder_symlink_inside_ok(work: Path, feed: Path, exp: dict) -> Path:
    (feed / "stops.txt").rename(feed / "stops_data.csv")
    (feed / "stops.txt").symlink_to("stops_data.csv")
    return feed


@builder
def folder_fifo(work: Path, feed: Path, exp: dict) -> Path:
    (feed / "trips.txt").unlink()
    os.mkfifo(feed / "trips.txt")
    return feed


@builder
def input_is_fifo(work: Path, feed: Path, exp: dict) -> Path:
    path = work / "feed.zip"
    os.mkfifo(path)
    return path


# ---------------------------------------------------------------- B. CSV and encoding
def _append(path: Path, data: bytes) -> None:
    path.write_bytes(path.read_bytes() + data)


@builder
def bom_every_file(work: Path, feed: Path, exp: dict) -> Path:
    for p in feed.iterdir():
        p.write_bytes(BOM + p.read_bytes())
    return feed


@builder
def windows1252_byte(work: Path, feed: Path, exp: dict) -> Path:
    _append(feed / "stops.txt", "Q1,Café Central,60.19000,24.90000,0,,Z1\n".encode("cp1252"))  # line 7
    return feed


@builder
def invalid_utf8_in_stop_times(work: Path, feed: Path, exp: dict) -> Path:
    _append(feed / "trips.txt", b"R1,WD,TX,Harbour,0\n")
    _append(feed / "stop_times.txt", b"TX,08:00:00,08:00:00,S1,1\n"      # line 64
                                     b"TX,08:10:00,08:10:00,S2\xff,2\n"  # line 65
                                     b"TX,08:20:00,08:20:00,S3,3\n")
    return feed


def _reencode(feed: Path, name: str, encoding: str, prefix: bytes = b"") -> Path:
    p = feed / name
    p.write_bytes(prefix + p.read_text(encoding="utf-8").encode(encoding))
    return feed


@builder
def utf16le_bom(work: Path, feed: Path, exp: dict) -> Path:
    return _reencode(feed, "stops.txt", "utf-16-le", b"\xff\xfe")


@builder
def utf16be_bom(work: Path, feed: Path, exp: dict) -> Path:
    return _reencode(feed, "stops.txt", "utf-16-be", b"\xfe\xff")


@builder
def utf16le_no_bom(work: Path, feed: Path, exp: dict) -> Path:
    return _reencode(feed, "stops.txt", "utf-16-le")


@builder
def crlf(work: Path, feed: Path, exp: dict) -> Path:
    for p in feed.iterdir():
        p.write_bytes(p.read_bytes().replace(b"\n", b"\r\n"))
    return feed


@builder
def mixed_line_endings(work: Path, feed: Path, exp: dict) -> Path:
    p = feed / "stop_times.txt"
    lines = p.read_bytes().split(b"\n")
    p.write_bytes(b"".join(line + (b"\r\n" if i % 2 else b"\n") for i, line in enumerate(lines[:-1])))
    return feed


@builder
def long_cell(work: Path, feed: Path, exp: dict) -> Path:
    _append(feed / "stops.txt", b"Q1," + b"x" * 10_000_000 + b",60.19000,24.90000,0,,Z1\n")  # line 7
    return feed


@builder
def nul_byte(work: Path, feed: Path, exp: dict) -> Path:
    _append(feed / "stops.txt", b"Q1,Nul\x00Name,60.19000,24.90000,0,,Z1\n")  # line 7
    return feed


@builder
def nul_byte_in_stop_times(work: Path, feed: Path, exp: dict) -> Path:
    _append(feed / "trips.txt", b"R1,WD,TX,Harbour,0\n")
    _append(feed / "stop_times.txt", b"TX,08:00:00,08:00:00,S1,1\n"        # line 64
                                     b"TX,08:10:00,08:10:00,S\x002,2\n"    # line 65
                                     b"TX,08:20:00,08:20:00,S3,3\n")
    return feed


@builder
def folder_symlink_loop(work: Path, feed: Path, exp: dict) -> Path:
    (feed / "stops.txt").unlink()
    (feed / "stops.txt").symlink_to("stops.txt")
    return feed


@builder
def folder_dangling_symlink(work: Path, feed: Path, exp: dict) -> Path:
    (feed / "stops.txt").unlink()
    (feed / "stops.txt").symlink_to("missing.txt")
    return feed


def _corrupt_member(feed: Path, method: int, skip: int) -> bytes:
    """The feed zipped with stops.txt compressed by ``method``, its stream XOR-ed after ``skip`` bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in feed_members(feed).items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            zf.writestr(info, data, method if name == "stops.txt" else zipfile.ZIP_DEFLATED)
    data = bytearray(buf.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("stops.txt")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for k in range(start + skip, start + info.compress_size - 5):
        data[k] ^= 0x55
    return bytes(data)


@builder
def zip_corrupt_deflate_data(work: Path, feed: Path, exp: dict) -> Path:
    return write_zip(work, _corrupt_member(feed, zipfile.ZIP_DEFLATED, 5))


@builder
def zip_corrupt_bzip2_data(work: Path, feed: Path, exp: dict) -> Path:
    return write_zip(work, _corrupt_member(feed, zipfile.ZIP_BZIP2, 10))


@builder
def zip_corrupt_lzma_data(work: Path, feed: Path, exp: dict) -> Path:
    return write_zip(work, _corrupt_member(feed, zipfile.ZIP_LZMA, 20))


@builder
def invalid_utf8_in_header(work: Path, feed: Path, exp: dict) -> Path:
    p = feed / "stops.txt"
    # the UTF-8 name keeps the file UTF-8 (more valid multi-byte characters than bad bytes)
    p.write_bytes(p.read_bytes().replace(b"zone_id", b"zone_\xe9d", 1)
                  + "Q1,Café Sørli,60.19000,24.90000,0,,Z1\n".encode())
    return feed


@builder
def utf8_bad_byte_in_name(work: Path, feed: Path, exp: dict) -> Path:
    """A UTF-8 stops.txt with one stray byte in a name: the row stays, the byte is U+FFFD."""
    _append(feed / "stops.txt", "Q1,Café Sørli ".encode() + b"\xe9" + b"st,60.19000,24.90000,0,,Z1\n")  # line 7
    return feed


@builder
def utf8_bad_byte_in_stop_id(work: Path, feed: Path, exp: dict) -> Path:
    """A UTF-8 stop_times.txt (trip id TÉÉ) with a stray byte in a stop_id: row and trip dropped."""
    _append(feed / "trips.txt", "R1,WD,TÉÉ,Harbour,0\n".encode())
    _append(feed / "stop_times.txt", "TÉÉ,08:00:00,08:00:00,S1,1\n".encode()           # line 64
                                     + "TÉÉ,08:10:00,08:10:00,S2".encode() + b"\xff,2\n"  # line 65
                                     + "TÉÉ,08:20:00,08:20:00,S3,3\n".encode())
    return feed


@builder
def random_bytes_stops(work: Path, feed: Path, exp: dict) -> Path:
    """stops.txt is 4 KiB of (seeded) random bytes: not text in any encoding."""
    import random

    (feed / "stops.txt").write_bytes(random.Random(21).randbytes(4096))
    return feed
