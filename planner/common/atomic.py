"""Crash-safe writes: every output and cache file goes through a temp file and a rename.

A reader never sees a half-written file: data is written to a temp file in the same
directory (``.<name>.<owner>.<random>.tmp``), flushed and fsynced, then moved over the final
path with :func:`os.replace`, which is atomic on POSIX and Windows, and the directory is
fsynced. A crash (even ``kill -9``) leaves at most an orphan temp file, which a later run
removes (:func:`sweep_temp_files`; :func:`atomic_write` sweeps the orphans of the file it
writes).

``<owner>`` (``p<pid>h<host>``) names the writing process: ``<host>`` is a short hash of the
host name and the PID namespace, so an orphan whose writer is no longer alive on this host is
swept at once, while a temp file of a live writer (another process sharing the folder, even
one that has been writing for a long time) is never touched. Entries whose owner cannot be
checked (written on another host, or by an older version) are swept when older than
``older_than_s`` (10 minutes).

Multi-file outputs use :class:`OutputStage`: every file is written under a staging folder
inside the output directory and moved to its final path only after all of them succeeded,
so a failed run leaves the previous outputs (or nothing) at the final paths. Each final file
is always complete. A kill during the publishing renames themselves (microseconds) leaves
some files of the new run beside files of the previous one until the next run that opens an
``OutputStage`` on the folder: the staging folder holds a marker written before the first
move, and the sweep finishes the moves (rolls forward) instead of dropping the files.

Cache entries made of several files (a ``.npz`` and its ``.json``) are guarded by
:func:`entry_lock` (``flock`` on their folder; a no-op where ``fcntl`` is missing), so a reader never pairs one writer's JSON with another writer's arrays; the JSON
also carries the arrays' SHA-256, which the reader checks, so a pair left inconsistent by a
crash is a miss, never a wrong answer.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
import time
import uuid
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from planner.errors import OutputError

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["OutputStage", "atomic_write", "entry_lock", "sweep_temp_files", "temp_path", "write_bytes",
           "write_text"]

TEMP_SUFFIX = ".tmp"
STAGING_PREFIX = ".staging-"
#: written into a staging folder once all its files are complete, just before they are moved
PUBLISH_MARKER = ".publish.json"
#: entries whose owner cannot be checked are swept when older than this (seconds)
ORPHAN_AGE_S = 600.0

_TEMP_OWNER_RE = re.compile(r"\.p(\d+)h([0-9a-f]{8})\.[^.]*\.tmp$")
_STAGE_OWNER_RE = re.compile(r"^\.staging-p(\d+)h([0-9a-f]{8})-")


def _host_key() -> str:
    """8 hex digits naming this host and PID namespace (PIDs mean nothing elsewhere)."""
    ns = ""
    with contextlib.suppress(OSError):
        ns = os.readlink("/proc/self/ns/pid")
    return hashlib.sha256(f"{socket.gethostname()}|{ns}".encode()).hexdigest()[:8]


_HOST = _host_key()


def _owner() -> str:
    return f"p{os.getpid()}h{_HOST}"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive, owned by someone else
        return True
    return True


def _owner_gone(name: str) -> bool | None:
    """True when the entry's writer is known to be dead, False when alive, None when unknown."""
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        return None
    m = _TEMP_OWNER_RE.search(name) or _STAGE_OWNER_RE.match(name)
    if m is None or m.group(2) != _HOST:
        return None
    return not _pid_alive(int(m.group(1)))


def _umask() -> int:
    current = os.umask(0o022)  # os.umask only reads by writing; put it straight back
    os.umask(current)
    return current


def _fsync_dir(directory: Path) -> None:
    # durability of the rename across power loss; not available on every platform
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_file(path: Path) -> None:
    # files written by other libraries (GDAL, pyogrio) through a path: flush them to disk
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _unwritable(final: Path, err: OSError) -> OutputError:
    msg = f"cannot write {final}: {err.strerror or err}"
    return OutputError(msg, code="output_unwritable", hint="choose a writable folder")


def _new_temp(final: Path) -> tuple[int, Path]:
    """Create the temp file for ``final`` (after sweeping dead writers' orphans of it)."""
    directory = final.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _sweep_orphans_of(final)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.{_owner()}.", suffix=TEMP_SUFFIX, dir=directory)
    except OSError as err:
        raise _unwritable(final, err) from err
    tmp = Path(tmp_name)
    try:
        # mkstemp creates 0600 files; give the output the usual permissions (umask)
        os.chmod(tmp, 0o666 & ~_umask())
    except OSError as err:
        os.close(fd)
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise _unwritable(final, err) from err
    return fd, tmp


def _sweep_orphans_of(final: Path) -> int:
    """Remove orphan temp files of ``final`` (its own folder only; cheap)."""
    removed = 0
    pattern = os.path.join(glob.escape(str(final.parent)), glob.escape(f".{final.name}.") + "*" + TEMP_SUFFIX)
    now = time.time()
    for name in glob.glob(pattern):
        removed += _remove_if_orphan(Path(name), now, ORPHAN_AGE_S)
    return removed


def _remove_if_orphan(entry: Path, now: float, older_than_s: float) -> int:
    try:
        gone = _owner_gone(entry.name)
        if gone is False:
            return 0
        if gone is None and now - entry.lstat().st_mtime < older_than_s:
            return 0
        if entry.is_dir() and not entry.is_symlink():
            if entry.name.startswith(STAGING_PREFIX):
                _finish_publish(entry)
            shutil.rmtree(entry)
        else:
            entry.unlink()
    except OSError:
        return 0
    return 1


def _finish_publish(stage: Path) -> int:
    """Complete the publishing of a staging folder whose writer died while moving its files.

    :meth:`OutputStage.__exit__` writes the marker (the list of file names) once every
    staged file is complete and flushed, before the first move. The files not moved yet go
    to the output folder unless the file there is newer than the marker (a later run has
    published since). Returns the number of files moved.
    """
    marker = stage / PUBLISH_MARKER
    try:
        names = json.loads(marker.read_text(encoding="utf-8"))
        since = marker.stat().st_mtime
    except (OSError, ValueError):
        return 0  # never started publishing: the staged files are dropped
    moved = 0
    for name in names if isinstance(names, list) else []:
        if not isinstance(name, str) or not name or "/" in name or "\\" in name or name in {".", ".."}:
            continue
        src, dst = stage / name, stage.parent / name
        try:
            if not src.is_file() or (dst.exists() and dst.stat().st_mtime > since):
                continue
            os.replace(src, dst)
            moved += 1
        except OSError:
            continue
    _fsync_dir(stage.parent)
    return moved


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", **kwargs: Any) -> Iterator[IO]:
    """Open a temp file beside ``path``; on success move it over ``path``.

    On any exception the temp file is removed and ``path`` is left untouched. Orphan temp
    files of ``path`` left by a killed writer are removed first.
    """
    final = Path(path)
    fd, tmp = _new_temp(final)
    try:
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(final.parent)


@contextlib.contextmanager
def temp_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temp file path beside ``path`` for writers that need a file name (GDAL, pyogrio).

    The block writes the file at the yielded path; on success it is fsynced and moved over
    ``path``; on an exception it is removed and ``path`` is left untouched.
    """
    final = Path(path)
    fd, tmp = _new_temp(final)
    os.close(fd)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(final.parent)


@contextlib.contextmanager
def entry_lock(directory: str | os.PathLike, *, shared: bool = False) -> Iterator[bool]:
    """Hold an advisory lock on the cache folder ``directory`` for the block.

    Writers of a multi-file cache entry take it exclusive, readers shared, so no reader sees
    the files of two different writes. The lock is ``flock`` on the folder itself (no lock
    files to leave behind); it dies with its process (``kill -9`` included). One lock per
    folder serialises writers of different entries too, which is fine for writes of a
    second or less. Yields whether a lock is held: not where ``fcntl`` is missing
    (Windows) or the folder cannot be locked (some network file systems); the entries'
    checksums still turn any mismatch into a miss there.
    """
    try:
        import fcntl  # optional: POSIX only (no lock on Windows)
    except ImportError:  # pragma: no cover - Windows
        yield False
        return
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing releases the lock


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, "wb") as handle:
        handle.write(data)


def write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically (``\\n`` line endings)."""
    with atomic_write(path, "w", encoding=encoding, newline="\n") as handle:
        handle.write(text)


def sweep_temp_files(directory: str | os.PathLike, older_than_s: float = ORPHAN_AGE_S, *,
                     recursive: bool = True) -> int:
    """Remove orphan temp files and staging folders under ``directory``.

    An entry is removed when its writer is known to be dead (same host, PID gone), or when
    its writer cannot be checked and it is older than ``older_than_s`` seconds. Entries of
    live writers are kept. With ``recursive=False`` only the folder's own entries are
    looked at (output folders: staging folders sit at the top). Returns the number of
    entries removed. Missing directories are fine.
    """
    root = Path(directory)
    if not root.is_dir():
        return 0
    now = time.time()
    removed = 0
    entries = root.rglob("*") if recursive else root.iterdir()
    candidates = []
    try:
        for entry in entries:
            name = entry.name
            if name.startswith(".") and name.endswith(TEMP_SUFFIX):
                candidates.append(entry)
            elif name.startswith(STAGING_PREFIX) and entry.is_dir():
                candidates.append(entry)
    except OSError:
        pass
    for entry in candidates:
        removed += _remove_if_orphan(entry, now, older_than_s)
    return removed


class OutputStage:
    """Stage several output files and publish them together.

    Use as a context manager::

        with OutputStage(out_dir, overwrite=False) as stage:
            frame.to_csv(stage.path("matrix.csv"))
            write_text(stage.path("report.html"), html)

    ``stage.path(name)`` returns a path inside a hidden staging folder. When the block ends
    without an exception every staged file is moved to ``out_dir/name`` (each move atomic);
    on an exception the staging folder is deleted and ``out_dir`` is unchanged. Without
    ``overwrite``, existing final files are refused before anything is written.
    """

    def __init__(self, out_dir: str | os.PathLike, *, overwrite: bool = False):
        self.out_dir = Path(out_dir)
        self.overwrite = overwrite
        self._stage: Path | None = None
        self._names: list[str] = []

    def __enter__(self) -> OutputStage:
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            sweep_temp_files(self.out_dir, recursive=False)
            self._stage = self.out_dir / f"{STAGING_PREFIX}{_owner()}-{uuid.uuid4().hex}"
            self._stage.mkdir()
        except OSError as err:
            msg = f"cannot write to output folder {self.out_dir}: {err.strerror or err}"
            raise OutputError(msg, code="output_unwritable", hint="choose a writable folder") from err
        return self

    def path(self, name: str) -> Path:
        """Staging path for the output file ``name`` (a plain file name, no folders)."""
        if self._stage is None:
            msg = "OutputStage.path() called outside the 'with' block"
            raise RuntimeError(msg)
        if not name or "/" in name or "\\" in name or name in {".", ".."}:
            msg = f"invalid output file name {name!r}"
            raise OutputError(msg, code="output_unwritable")
        final = self.out_dir / name
        if final.exists() and not self.overwrite:
            msg = f"{final} already exists"
            raise OutputError(msg, code="output_exists", hint="pass --overwrite or choose another -o folder")
        if name not in self._names:
            self._names.append(name)
        return self._stage / name

    def __exit__(self, exc_type, exc, tb) -> None:
        stage = self._stage
        self._stage = None
        if stage is None:
            return
        try:
            if exc_type is None:
                present = [name for name in self._names if (stage / name).exists()]
                for name in present:  # files written by GDAL/pyogrio were never fsynced
                    _fsync_file(stage / name)
                # from here on the set is complete: a writer killed during the moves below
                # leaves the marker, and the next sweep of this folder finishes the moves
                write_text(stage / PUBLISH_MARKER, json.dumps(present))
                for name in present:
                    os.replace(stage / name, self.out_dir / name)
                _fsync_dir(self.out_dir)
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    @property
    def written(self) -> list[Path]:
        """Final paths of the files staged so far."""
        return [self.out_dir / n for n in self._names]
