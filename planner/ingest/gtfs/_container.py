"""Safe access to the files of a GTFS feed given as a zip archive or a folder.

Nothing is ever extracted to disk: zip members are streamed with :meth:`zipfile.ZipFile.open`
with byte counters. Before reading, the archive is checked for unsafe member names
(traversal, absolute paths, drive letters, backslashes, control characters), encrypted or
unsupported members, duplicate names, members whose data overlap (the "overlapping entries"
zip bomb, cpython#109858, which the Python 3.11.7 this project targets does not detect), and
declared sizes and ratios beyond the limits in :class:`planner.config.Config`.

Folder input reads top-level regular files only; a symlink that leaves the folder and
anything that is not a regular file (a FIFO, a device) is refused without opening it.
"""

from __future__ import annotations

import lzma
import os
import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from planner.common.notices import Notices, Severity
from planner.errors import FeedError
from planner.ingest.gtfs.schema import KNOWN_UNREAD, TABLES

if TYPE_CHECKING:
    from planner.config import Config

KNOWN_FILES = frozenset({t.filename for t in TABLES.values()} | KNOWN_UNREAD)
_IGNORED = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|Thumbs\.db$|desktop\.ini$)", re.IGNORECASE)
_UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")
_CHUNK = 1 << 20
_SUPPORTED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


@dataclass
class Source:
    """An opened feed: a map from lower-case GTFS file names to readable members."""

    path: Path
    kind: str  # "zip" or "folder"
    feed: str
    members: dict[str, str] = field(default_factory=dict)  # lower-case name -> member/path
    unknown: list[str] = field(default_factory=list)
    _zip: zipfile.ZipFile | None = None
    _config: Config | None = None

    def has(self, filename: str) -> bool:
        return filename in self.members

    def read(self, filename: str, notices: Notices) -> bytes:
        """Bytes of ``filename``; FeedError(zip_corrupt/zip_too_large) on a bad member."""
        member = self.members[filename]
        cfg = self._config
        limit = cfg.max_member_bytes if cfg else 4 * 1024**3
        if self.kind == "folder":
            p = Path(member)
            size = p.stat().st_size
            if size > limit:
                _fatal(notices, self, "zip_too_large", f"{filename} is {size:,} bytes, over the {limit:,}-byte limit", file=filename)
            return p.read_bytes()
        zf = self._zip
        if zf is None:  # pragma: no cover - guarded by open_source
            msg = "zip source not open"
            raise RuntimeError(msg)
        chunks: list[bytes] = []
        total = 0
        try:
            with zf.open(member) as handle:
                while True:
                    chunk = handle.read(_CHUNK)
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > limit:
                        _fatal(notices, self, "zip_too_large", f"{member} inflates past the {limit:,}-byte limit", file=filename)
                    chunks.append(chunk)
        except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, NotImplementedError,
                RuntimeError, ValueError) as err:
            _fatal(notices, self, "zip_corrupt", f"cannot read member {member}: {err}", file=filename)
        return b"".join(chunks)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None


def _fatal(notices: Notices, src: Source | None, code: str, message: str, *, path: Path | None = None, file: str = "", hint: str | None = None, feed: str = "") -> None:
    feed_name = src.feed if src is not None else feed
    notices.add(code, Severity.ERROR, message, feed=feed_name, file=file, action="fatal")
    where = str(src.path if src is not None else path)
    msg = f"{where}: {message}"
    raise FeedError(msg, code=code, hint=hint, notices=notices.fatal())


def open_source(path: str | os.PathLike, feed: str, config: Config, notices: Notices) -> Source:
    """Open ``path`` (zip or folder) after every container check; raise FeedError if unusable."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError as err:
        _fatal(notices, None, "input_unreadable", f"cannot read {p}: {err.strerror or err}", path=p, feed=feed,
               hint="check the path; a GTFS feed is a .zip file or a folder of .txt files")
    if stat.S_ISDIR(st.st_mode):
        return _open_folder(p, feed, config, notices)
    if not stat.S_ISREG(st.st_mode):
        _fatal(notices, None, "input_unsafe_path", f"{p} is not a regular file or folder", path=p, feed=feed)
    return _open_zip(p, feed, config, notices, st.st_size)


def _register(src: Source, name: str, target: str, notices: Notices) -> None:
    lower = name.lower()
    if lower in src.members:
        _fatal(notices, src, "ambiguous_file", f"two files map to {lower}: {Path(src.members[lower]).name} and {name}",
               file=lower, hint="keep only one of them")
    if name != lower:
        notices.add("planner_file_name_case", Severity.WARNING,
                    f"file name {name} is not lower case; read as {lower}", feed=src.feed, file=name)
    src.members[lower] = target


def _open_folder(root: Path, feed: str, config: Config, notices: Notices) -> Source:
    src = Source(root, "folder", feed, _config=config)
    root_real = root.resolve()
    entries = sorted(os.scandir(root), key=lambda e: e.name)
    subdirs = []
    for entry in entries:
        name = entry.name
        if _IGNORED.search(name):
            continue
        if entry.is_dir(follow_symlinks=False):
            subdirs.append(entry)
            continue
        if entry.is_symlink():
            try:
                real = Path(entry.path).resolve(strict=True)
            except (OSError, RuntimeError) as err:  # dangling link, or a loop
                loop = isinstance(err, RuntimeError) or getattr(err, "errno", None) == 40
                _fatal(notices, src, "input_unsafe_path" if loop else "input_unreadable",
                       f"{name} is a symlink that {'loops' if loop else 'points to a missing file'}",
                       file=name, hint="replace the link by the file itself")
            if root_real not in real.parents:
                _fatal(notices, src, "input_unsafe_path", f"{name} is a symlink to {real}, outside the feed folder",
                       file=name, hint="copy the file into the folder instead of linking it")
        try:
            st = os.stat(entry.path)  # follows an in-folder link; never opens the file
        except OSError as err:
            _fatal(notices, src, "input_unreadable", f"cannot read {name}: {err.strerror or err}", file=name)
        if not stat.S_ISREG(st.st_mode):
            _fatal(notices, src, "input_unsafe_path", f"{name} is not a regular file (a FIFO or device?)", file=name)
        if name.lower() in KNOWN_FILES:
            _register(src, name, entry.path, notices)
        else:
            src.unknown.append(name)
    if not src.members:
        nested = _nested_feeds(root, subdirs)
        if len(nested) == 1 and config.allow_subfolder:
            notices.add("invalid_input_files_in_subfolder", Severity.WARNING,
                        f"GTFS files are in subfolder {nested[0]}/; read from there (--allow-subfolder)",
                        feed=feed, file=nested[0])
            return _open_folder(root / nested[0], feed, config, notices)
        if nested:
            _fatal(notices, src, "invalid_input_files_in_subfolder",
                   f"no GTFS files at the top of the folder; found them in {', '.join(d + '/' for d in nested)}",
                   hint=f"point to that subfolder ({root / nested[0]}), or pass --allow-subfolder")
        _fatal(notices, src, "input_unreadable", f"{root} holds no GTFS .txt files",
               hint="a GTFS feed is a .zip file or a folder with agency.txt, stops.txt, routes.txt, trips.txt, stop_times.txt")
    return src


#: how far down a folder is searched for a feed packed in subfolders (partridge's ``nested``
#: fixture sits four folders down), and how many folders are looked at in all
_NESTED_DEPTH = 6
_NESTED_FOLDERS = 2000


def _nested_feeds(root: Path, subdirs: list[os.DirEntry]) -> list[str]:
    """Sub-folders (relative, with ``/``) that hold stops.txt or stop_times.txt, the shallowest
    first; symlinked folders are not followed."""
    found: list[str] = []
    level = [(d.name, Path(d.path)) for d in subdirs]
    seen = 0
    for _depth in range(_NESTED_DEPTH):
        below: list[tuple[str, Path]] = []
        for rel, path in level:
            seen += 1
            if seen > _NESTED_FOLDERS:
                return found
            try:
                entries = sorted(os.scandir(path), key=lambda e: e.name)
            except OSError:
                continue
            names = {e.name.lower() for e in entries if not e.is_dir(follow_symlinks=False)}
            if names & {"stops.txt", "stop_times.txt"}:
                found.append(rel)
                continue
            below += [(f"{rel}/{e.name}", Path(e.path)) for e in entries
                      if e.is_dir(follow_symlinks=False) and not _IGNORED.search(e.name + "/")]
        if found or not below:
            return found
        level = below
    return found


def _unsafe_member(name: str) -> str | None:
    if not name:
        return "empty name"
    if len(name.encode("utf-8", "surrogateescape")) > 255:
        return "name longer than 255 bytes"
    if _UNSAFE_CHARS.search(name):
        return "backslash or control character in name"
    if name.startswith("/"):
        return "absolute path"
    if re.match(r"^[A-Za-z]:", name):
        return "drive letter"
    if any(part == ".." for part in name.split("/")):
        return "'..' path segment"
    return None


def _local_header_end(fh, info: zipfile.ZipInfo, archive_size: int) -> int | None:
    """Offset just past the member's data, from its local header; None if unreadable."""
    # zipfile shifts offsets by the bytes found before the archive; a forged directory can
    # make the shifted offset negative (issue 11 fuzzing: seek() then raised EINVAL)
    if info.header_offset < 0 or info.header_offset + 30 > archive_size:
        return None
    fh.seek(info.header_offset)
    header = fh.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        return None
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + name_len + extra_len + info.compress_size


def _open_zip(path: Path, feed: str, config: Config, notices: Notices, size: int) -> Source:
    src = Source(path, "zip", feed, _config=config)
    if size == 0:
        _fatal(notices, src, "input_not_zip", "the file is empty (0 bytes)", hint="download the feed again")
    if size > config.max_archive_bytes:
        _fatal(notices, src, "zip_too_large", f"archive is {size:,} bytes, over the {config.max_archive_bytes:,}-byte limit")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic not in (b"PK\x03\x04", b"PK\x05\x06"):
        shown = magic.decode("latin-1").encode("unicode_escape").decode("ascii")
        _fatal(notices, src, "input_not_zip", f"not a zip archive or folder (starts with '{shown}')",
               hint="a GTFS feed is a .zip file or a folder; an HTML error page saved as .zip looks like this")
    _check_directory_size(src, config, notices, size)
    try:
        zf = zipfile.ZipFile(path)
    except NotImplementedError as err:  # e.g. "zip file version 6.4" (a multi-disk or newer format)
        _fatal(notices, src, "zip_unsupported", f"zip archive uses a feature Python cannot read: {err}",
               hint="re-create the zip with a standard tool (deflate, one disk)")
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error, IndexError, KeyError) as err:
        _fatal(notices, src, "zip_corrupt", f"zip archive is corrupt: {err}", hint="download the feed again")
    src._zip = zf
    try:
        _check_zip(src, zf, config, notices, size)
    except BaseException:
        src.close()
        raise
    return src


#: generous room per central-directory entry: 46 fixed bytes, a name of at most 255 bytes
#: (longer ones are refused anyway) and extra fields (timestamps, ZIP64 sizes, unicode names)
_MAX_CD_ENTRY_BYTES = 4096


def _check_directory_size(src: Source, config: Config, notices: Notices, size: int) -> None:
    """Refuse too many members *before* ``zipfile`` parses the central directory.

    ``zipfile.ZipFile`` builds a ``ZipInfo`` for every entry up front: a 100 MB archive of a
    million empty members costs about a gigabyte and many seconds before any member count
    could be checked (issue 11). The end record states the entry count and the directory
    size; both are checked here against ``max_archive_members``. An end record that cannot
    be found is left to ``zipfile`` to report.
    """
    tail_len = min(size, 22 + 0xFFFF)
    with open(src.path, "rb") as fh:
        fh.seek(size - tail_len)
        tail = fh.read(tail_len)
        # as zipfile does: the record without a comment first, else the last signature
        at = len(tail) - 22 if tail[-22:-18] == b"PK\x05\x06" else tail.rfind(b"PK\x05\x06")
        if at < 0 or at + 22 > len(tail):
            return
        _sig, _d, _dcd, _n_disk, entries, cd_size, _cd_off, _clen = struct.unpack("<4s4H2LH", tail[at:at + 22])
        eocd_pos = size - tail_len + at
        if (entries == 0xFFFF or cd_size == 0xFFFFFFFF) and eocd_pos >= 20:
            fh.seek(eocd_pos - 20)
            loc = fh.read(20)
            if loc[:4] == b"PK\x06\x07":
                (z64_off,) = struct.unpack("<Q", loc[8:16])
                if 0 <= z64_off <= size - 56:
                    fh.seek(z64_off)
                    rec = fh.read(56)
                    if rec[:4] == b"PK\x06\x06":
                        entries, cd_size = struct.unpack("<QQ", rec[32:48])
    limit = config.max_archive_members
    if entries > limit:
        _fatal(notices, src, "zip_too_large", f"archive declares {entries:,} members, over the limit of {limit:,}")
    if cd_size > max(limit, 1) * _MAX_CD_ENTRY_BYTES:
        _fatal(notices, src, "zip_too_large",
               f"archive's central directory is {cd_size:,} bytes, more than {limit:,} members can need "
               "(a directory of very many members or huge extra fields)")


def _check_zip(src: Source, zf: zipfile.ZipFile, config: Config, notices: Notices, size: int) -> None:
    infos = zf.infolist()
    if len(infos) > config.max_archive_members:
        _fatal(notices, src, "zip_too_large", f"archive has {len(infos):,} members, over the limit of {config.max_archive_members:,}")
    seen: set[str] = set()
    for info in infos:
        # zipfile cuts a name at a NUL byte; the original name is kept in orig_filename
        why = _unsafe_member(info.orig_filename if "\x00" in info.orig_filename else info.filename)
        if why:
            _fatal(notices, src, "zip_unsafe_member_name", f"unsafe member name {info.orig_filename!r}: {why}",
                   file=info.orig_filename.replace("\x00", "\\x00"), hint="rebuild the zip from the GTFS .txt files only")
        if info.filename in seen:
            _fatal(notices, src, "zip_corrupt", f"duplicate member {info.filename!r} (possible zip bomb)", file=info.filename)
        seen.add(info.filename)
    # overlapping entries (quoted-overlap zip bomb) and forged compressed sizes
    ordered = sorted(infos, key=lambda i: i.header_offset)
    cd_start = getattr(zf, "start_dir", size)
    with open(src.path, "rb") as fh:
        for k, info in enumerate(ordered):
            if info.compress_size > size:
                _fatal(notices, src, "zip_corrupt", f"member {info.filename!r} declares {info.compress_size:,} compressed bytes in a {size:,}-byte archive", file=info.filename)
            end = _local_header_end(fh, info, size)
            nxt = ordered[k + 1].header_offset if k + 1 < len(ordered) else cd_start
            if end is None or end > nxt:
                _fatal(notices, src, "zip_corrupt", f"member {info.filename!r} overlaps another entry or has a bad local header (possible zip bomb)",
                       file=info.filename, hint="do not use this archive; download the feed again")
    total = 0
    chosen: dict[str, zipfile.ZipInfo] = {}
    subfolder: dict[str, list[zipfile.ZipInfo]] = {}
    for info in infos:
        name = info.filename
        if info.is_dir() or _IGNORED.search(name):
            continue
        base = name.rsplit("/", 1)[-1]
        if "/" in name:
            if base.lower() in KNOWN_FILES:
                subfolder.setdefault(name.rsplit("/", 1)[0], []).append(info)
            else:
                src.unknown.append(name)
            continue
        if base.lower() not in KNOWN_FILES:
            src.unknown.append(name)
            continue
        chosen[name] = info
    if not chosen and subfolder:
        folders = sorted(subfolder)
        if len(folders) == 1 and config.allow_subfolder:
            notices.add("invalid_input_files_in_subfolder", Severity.WARNING,
                        f"GTFS files are in subfolder {folders[0]}/; read from there (--allow-subfolder)",
                        feed=src.feed, file=folders[0])
            chosen = {i.filename.rsplit("/", 1)[-1]: i for i in subfolder[folders[0]]}
        else:
            _fatal(notices, src, "invalid_input_files_in_subfolder",
                   f"GTFS files are inside subfolder(s) {', '.join(f + '/' for f in folders)} instead of at the top of the zip",
                   hint="zip the files, not the folder (or pass --allow-subfolder)")
    elif subfolder:
        for folder in sorted(subfolder):
            notices.add("invalid_input_files_in_subfolder", Severity.WARNING,
                        f"ignored GTFS-named files in subfolder {folder}/", feed=src.feed, file=folder)
    if not chosen:
        _fatal(notices, src, "input_unreadable", "the archive holds no GTFS .txt files",
               hint="a GTFS zip holds agency.txt, stops.txt, routes.txt, trips.txt, stop_times.txt at its top level")
    for base, info in sorted(chosen.items()):
        if info.flag_bits & 0x1:
            _fatal(notices, src, "zip_unsupported", f"member {info.filename} is encrypted", file=base)
        if info.compress_type not in _SUPPORTED_METHODS:
            _fatal(notices, src, "zip_unsupported", f"member {info.filename} uses unsupported compression method {info.compress_type}", file=base)
        if info.file_size > config.max_member_bytes:
            _fatal(notices, src, "zip_too_large", f"member {info.filename} declares {info.file_size:,} bytes, over the {config.max_member_bytes:,}-byte limit", file=base)
        if info.file_size > 1024**2 and info.file_size > config.max_compression_ratio * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            _fatal(notices, src, "zip_too_large", f"member {info.filename} would inflate {ratio:,.0f}:1 (limit {config.max_compression_ratio:.0f}:1): a zip bomb?", file=base)
        total += info.file_size
        if total > config.max_uncompressed_bytes:
            _fatal(notices, src, "zip_too_large", f"members inflate to more than {config.max_uncompressed_bytes:,} bytes")
        _register(src, base, info.filename, notices)
