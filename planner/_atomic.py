"""Crash-safe writes: every output and cache file goes through a temp file and a rename.

A reader never sees a half-written file: data is written to a temp file in the same
directory (``.<name>.<random>.tmp``), flushed and fsynced, then moved over the final path
with :func:`os.replace`, which is atomic on POSIX and Windows. A crash leaves at most an
orphan temp file, which :func:`sweep_temp_files` removes on a later run.

Multi-file outputs use :class:`OutputStage`: every file is written under a staging folder
inside the output directory and moved to its final path only after all of them succeeded,
so a failed run leaves the previous outputs (or nothing) at the final paths.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from planner.errors import OutputError

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["OutputStage", "atomic_write", "sweep_temp_files", "write_bytes", "write_text"]

TEMP_SUFFIX = ".tmp"
STAGING_PREFIX = ".staging-"


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


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", **kwargs: Any) -> Iterator[IO]:
    """Open a temp file beside ``path``; on success move it over ``path``.

    On any exception the temp file is removed and ``path`` is left untouched.
    """
    final = Path(path)
    directory = final.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{final.name}.", suffix=TEMP_SUFFIX, dir=directory
        )
    except OSError as err:
        msg = f"cannot write {final}: {err.strerror or err}"
        raise OutputError(msg, code="output_unwritable", hint="choose a writable folder") from err
    tmp = Path(tmp_name)
    try:
        # mkstemp creates 0600 files; give the output the usual permissions (umask)
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(directory)


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, "wb") as handle:
        handle.write(data)


def write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically (``\\n`` line endings)."""
    with atomic_write(path, "w", encoding=encoding, newline="\n") as handle:
        handle.write(text)


def sweep_temp_files(directory: str | os.PathLike, older_than_s: float = 600.0) -> int:
    """Remove orphan temp files and staging folders older than ``older_than_s`` seconds.

    Returns the number of entries removed. Missing directories are fine.
    """
    root = Path(directory)
    if not root.is_dir():
        return 0
    now = time.time()
    removed = 0
    for entry in root.rglob("*"):
        name = entry.name
        is_tmp = name.startswith(".") and name.endswith(TEMP_SUFFIX)
        is_stage = name.startswith(STAGING_PREFIX) and entry.is_dir()
        if not (is_tmp or is_stage):
            continue
        try:
            if now - entry.lstat().st_mtime < older_than_s:
                continue
            if is_stage:
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed += 1
        except OSError:
            continue
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
            sweep_temp_files(self.out_dir)
            self._stage = self.out_dir / f"{STAGING_PREFIX}{uuid.uuid4().hex}"
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
                for name in self._names:
                    src = stage / name
                    if src.exists():
                        os.replace(src, self.out_dir / name)
                _fsync_dir(self.out_dir)
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    @property
    def written(self) -> list[Path]:
        """Final paths of the files staged so far."""
        return [self.out_dir / n for n in self._names]
