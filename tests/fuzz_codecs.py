"""Byte-level builders for the fuzz and resource-limit tests (issue 11).

* :func:`build_zip`: a zip archive written field by field, so that every header value can
  lie (sizes, CRC, offsets, flags, method, names that differ between the local and the
  central header, entry counts), including ZIP64 sizes of many gigabytes;
* :func:`deflate_zeros`: a raw deflate stream of ``n`` zero bytes built in milliseconds by
  repeating one fully flushed block (10 GB of zeros is about 10 MB of stream), for zip and
  gzip bombs that cost nothing to make;
* a minimal protobuf reader/writer and :func:`pbf_blocks` / :func:`pbf_join`, which split
  an ``.osm.pbf`` file into its blocks (``BlobHeader`` + ``Blob``) and put it back together,
  so that a fuzzer can mutate the *decompressed* content of a block and re-compress it with
  valid framing, or forge ``datasize`` / ``raw_size``.

Nothing here touches the disk.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

LOCAL_SIG = b"PK\x03\x04"
CENTRAL_SIG = b"PK\x01\x02"
EOCD_SIG = b"PK\x05\x06"
U32 = 0xFFFFFFFF


# ------------------------------------------------------------------------------ zip
@dataclass
class RawMember:
    """One zip member exactly as it will be written.

    ``data`` is what is stored (already compressed with ``method``). ``file_size`` and
    ``compress_size`` are the *declared* sizes (default: honest for stored data); ``None``
    fields are filled in honestly. Sizes of 4 GiB or more are written as ZIP64 extras.
    """

    name: bytes
    data: bytes
    method: int = 0
    file_size: int | None = None
    compress_size: int | None = None
    crc: int | None = None
    flags: int = 0
    local_name: bytes | None = None       # a different name in the local header
    extra: bytes = b""
    header_offset: int | None = None      # a forged offset in the central directory
    external_attr: int = 0o644 << 16

    def declared(self) -> tuple[int, int, int]:
        fs = len(self.data) if self.file_size is None else self.file_size
        cs = len(self.data) if self.compress_size is None else self.compress_size
        crc = zlib.crc32(self.data) if self.crc is None and self.method == 0 else (self.crc or 0)
        return fs, cs, crc


def stored(name: str | bytes, data: bytes, **kw) -> RawMember:
    """A member stored without compression (honest CRC and sizes unless overridden)."""
    n = name.encode("utf-8", "surrogateescape") if isinstance(name, str) else name
    return RawMember(n, data, 0, **kw)


def deflated(name: str | bytes, data: bytes, **kw) -> RawMember:
    """A deflated member with honest CRC and sizes unless overridden."""
    n = name.encode("utf-8", "surrogateescape") if isinstance(name, str) else name
    co = zlib.compressobj(6, zlib.DEFLATED, -15)
    packed = co.compress(data) + co.flush()
    kw.setdefault("file_size", len(data))
    kw.setdefault("crc", zlib.crc32(data))
    return RawMember(n, packed, 8, **kw)


def _zip64_extra(values: list[int]) -> bytes:
    return struct.pack("<HH", 1, 8 * len(values)) + b"".join(struct.pack("<Q", v) for v in values)


def build_zip(members: list[RawMember], *, comment: bytes = b"", eocd_entries: int | None = None,
              prefix: bytes = b"", cd_offset: int | None = None) -> bytes:
    """The archive bytes: local headers and data, central directory, end record."""
    out = bytearray(prefix)
    offsets = []
    for m in members:
        fs, cs, crc = m.declared()
        offsets.append(len(out))
        big = fs >= U32 or cs >= U32
        local_extra = (_zip64_extra([fs, cs]) if big else b"") + m.extra
        lname = m.name if m.local_name is None else m.local_name
        out += struct.pack("<4sHHHHHIIIHH", LOCAL_SIG, 45 if big else 20, m.flags, m.method, 0, 0x21,
                           crc, U32 if big else cs, U32 if big else fs, len(lname), len(local_extra))
        out += lname + local_extra + m.data
    cd_start = len(out)
    for m, off in zip(members, offsets, strict=True):
        fs, cs, crc = m.declared()
        hoff = off if m.header_offset is None else m.header_offset
        z64 = [v for v in (fs, cs, hoff) if v >= U32]
        extra = (_zip64_extra([v for v in (fs, cs) if v >= U32] + ([hoff] if hoff >= U32 else []))
                 if z64 else b"") + m.extra
        out += struct.pack("<4sHHHHHHIIIHHHHHII", CENTRAL_SIG, 45 if z64 else 20, 45 if z64 else 20, m.flags,
                           m.method, 0, 0x21, crc, U32 if cs >= U32 else cs, U32 if fs >= U32 else fs,
                           len(m.name), len(extra), 0, 0, 0, m.external_attr, U32 if hoff >= U32 else hoff)
        out += m.name + extra
    cd_size = len(out) - cd_start
    n = len(members) if eocd_entries is None else eocd_entries
    out += struct.pack("<4sHHHHIIH", EOCD_SIG, 0, 0, min(n, 0xFFFF), min(n, 0xFFFF), cd_size,
                       cd_start if cd_offset is None else cd_offset, len(comment))
    out += comment
    return bytes(out)


def deflate_zeros(n: int, chunk: int = 1 << 20) -> bytes:
    """A raw deflate stream that inflates to ``n`` zero bytes (about 1/1000 of ``n``)."""
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = co.compress(bytes(chunk)) + co.flush(zlib.Z_FULL_FLUSH)
    full, rest = divmod(n, chunk)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    end = tail.compress(bytes(rest)) + tail.flush()
    return block * full + end


def gzip_zeros(n: int, prefix: bytes = b"") -> bytes:
    """A gzip file of ``prefix`` followed by zero bytes, ``n`` bytes in all (CRC not checked:
    a reader must stop at its cap long before the trailer)."""
    head = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = co.compress(prefix) + co.flush(zlib.Z_FULL_FLUSH)
    body = deflate_zeros(max(n - len(prefix), 0))
    return head + first + body + struct.pack("<II", 0, n & U32)


def gzip_repeat(unit: bytes, count: int, prefix: bytes = b"", suffix: bytes = b"") -> bytes:
    """A gzip file of ``prefix + unit * count + suffix``, built from one flushed block of units.

    The CRC is right when the content is at most 64 MiB (computing it for 10 GB would take
    seconds; a reader must stop at its cap long before the trailer anyway)."""
    head = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = co.compress(prefix) + co.flush(zlib.Z_FULL_FLUSH)
    per = max(1, (1 << 20) // len(unit))
    block_co = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = block_co.compress(unit * per) + block_co.flush(zlib.Z_FULL_FLUSH)
    full, rest = divmod(count, per)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    end = tail.compress(unit * rest + suffix) + tail.flush()
    total = len(prefix) + len(unit) * count + len(suffix)
    crc = 0
    if total <= 64 << 20:
        crc = zlib.crc32(suffix, zlib.crc32(unit * count, zlib.crc32(prefix)))
    return head + first + block * full + end + struct.pack("<II", crc, total & U32)


# ------------------------------------------------------------------------------ protobuf
def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _read_varint(data: bytes, i: int) -> tuple[int, int]:
    shift = 0
    value = 0
    while True:
        if i >= len(data) or shift > 63:
            raise ValueError("bad varint")
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7


@dataclass
class PbField:
    num: int
    wire: int        # 0 varint, 1 fixed64, 2 bytes, 5 fixed32
    value: int | bytes


def pb_parse(data: bytes) -> list[PbField] | None:
    """The fields of a protobuf message, or None if ``data`` does not parse as one."""
    fields: list[PbField] = []
    i = 0
    try:
        while i < len(data):
            key, i = _read_varint(data, i)
            num, wire = key >> 3, key & 7
            if num == 0:
                return None
            if wire == 0:
                v, i = _read_varint(data, i)
                fields.append(PbField(num, 0, v))
            elif wire == 1:
                if i + 8 > len(data):
                    return None
                fields.append(PbField(num, 1, data[i:i + 8]))
                i += 8
            elif wire == 2:
                n, i = _read_varint(data, i)
                if i + n > len(data):
                    return None
                fields.append(PbField(num, 2, data[i:i + n]))
                i += n
            elif wire == 5:
                if i + 4 > len(data):
                    return None
                fields.append(PbField(num, 5, data[i:i + 4]))
                i += 4
            else:
                return None
    except ValueError:
        return None
    return fields


def pb_build(fields: list[PbField]) -> bytes:
    out = bytearray()
    for f in fields:
        out += _varint((f.num << 3) | f.wire)
        if f.wire == 0:
            out += _varint(int(f.value))
        elif f.wire == 2:
            out += _varint(len(f.value)) + bytes(f.value)
        else:
            out += bytes(f.value)
    return bytes(out)


# ------------------------------------------------------------------------------ OSM PBF
@dataclass
class PbfBlock:
    """One block of an ``.osm.pbf``: its type, and its payload decompressed."""

    type: str
    payload: bytes
    extra_header: list[PbField] = field(default_factory=list)


def pbf_blocks(data: bytes) -> list[PbfBlock]:
    """Split a (valid) PBF file into blocks with decompressed payloads."""
    blocks = []
    i = 0
    while i < len(data):
        (hlen,) = struct.unpack(">I", data[i:i + 4])
        header = pb_parse(data[i + 4:i + 4 + hlen]) or []
        i += 4 + hlen
        btype = next(bytes(f.value).decode() for f in header if f.num == 1)
        size = next(int(f.value) for f in header if f.num == 3)
        blob = pb_parse(data[i:i + size]) or []
        i += size
        raw = next((bytes(f.value) for f in blob if f.num == 1), None)
        z = next((bytes(f.value) for f in blob if f.num == 3), None)
        payload = raw if raw is not None else zlib.decompress(z or b"")
        blocks.append(PbfBlock(btype, payload, [f for f in header if f.num not in (1, 3)]))
    return blocks


def pbf_blob(payload: bytes, *, raw_size: int | None = None, compress: bool = True,
             zlib_data: bytes | None = None) -> bytes:
    """A ``Blob`` message holding ``payload`` (zlib by default; ``raw_size`` may lie)."""
    if not compress:
        return pb_build([PbField(1, 2, payload)])
    z = zlib.compress(payload) if zlib_data is None else zlib_data
    size = len(payload) if raw_size is None else raw_size
    return pb_build([PbField(2, 0, size), PbField(3, 2, z)])


def pbf_frame(btype: str, blob: bytes, *, datasize: int | None = None, header_len: int | None = None,
              extra_header: list[PbField] | None = None) -> bytes:
    """Length prefix + ``BlobHeader`` + ``blob``; ``datasize`` and ``header_len`` may lie."""
    header = pb_build([PbField(1, 2, btype.encode()), *(extra_header or []),
                       PbField(3, 0, len(blob) if datasize is None else datasize)])
    n = len(header) if header_len is None else header_len
    return struct.pack(">I", n & U32) + header + blob


def pbf_join(blocks: list[PbfBlock]) -> bytes:
    """A PBF file from blocks (each re-compressed with honest sizes)."""
    return b"".join(pbf_frame(b.type, pbf_blob(b.payload), extra_header=b.extra_header) for b in blocks)
