"""One execution layer for many-origin work: local numba threads or Dask distributed.

Work is split into *chunks* of origins. A chunk function ``fn(shared, chunk)`` takes a
shared object (the routing core: timetable arrays, footpaths, parameters; the same for
every chunk) and a chunk (plain arrays), and returns an array whose first axis is the
chunk's origins. Results are assembled by origin index, so the output does not depend on
where or in which order chunks ran.

* :class:`LocalExecutor` runs chunks one after the other in this process; each chunk uses
  the numba threads of the machine (the default).
* :class:`DaskExecutor` runs them on a Dask cluster: a ``LocalCluster`` of ``workers``
  processes (``--workers N``) or an existing scheduler (``--scheduler tcp://HOST:PORT`` or a
  scheduler file). The shared object is broadcast to every worker once (``scatter``), not
  sent with each task; a chunk whose worker dies is recomputed elsewhere (``retries``); an
  unreachable scheduler is an :class:`~planner.errors.InputError` with the address.

Chunk size: :func:`chunk_size` times one pilot chunk and sizes the rest so a task runs
about ``target_s`` seconds (0.75 s by default), so that scheduling overhead (about a
millisecond per task in Dask) stays negligible.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from planner.errors import InputError

__all__ = ["DaskExecutor", "LocalExecutor", "chunk_size", "executor", "run_chunks"]

log = logging.getLogger(__name__)


class LocalExecutor:
    """Chunks run in this process, in order."""

    name = "local"
    workers = 1

    def map(self, fn: Callable, shared: Any, chunks: Sequence) -> Iterator[tuple[int, Any]]:
        for i, chunk in enumerate(chunks):
            yield i, fn(shared, chunk)

    def close(self) -> None:
        return None


@dataclass
class DaskExecutor:
    """Chunks run on a Dask cluster (see the module docstring)."""

    client: Any
    cluster: Any = None
    retries: int = 3
    name: str = "dask"

    def map(self, fn: Callable, shared: Any, chunks: Sequence) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed

        shared_f = self.client.scatter(shared, broadcast=True, hash=False)
        futures = [self.client.submit(fn, shared_f, chunk, pure=False, retries=self.retries, key=f"chunk-{i}-{id(chunks)}")
                   for i, chunk in enumerate(chunks)]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for fut in as_completed(futures):
                yield index[fut.key], fut.result()
        finally:
            for f in futures:
                f.release()

    @property
    def workers(self) -> int:
        try:
            return max(1, len(self.client.scheduler_info()["workers"]))
        except (OSError, KeyError, TypeError):
            return 1

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()


@contextlib.contextmanager
def executor(*, workers: int | None = None, scheduler: str | None = None,
             threads_per_worker: int = 1) -> Iterator[LocalExecutor | DaskExecutor]:
    """The executor for a run: local unless ``workers`` or ``scheduler`` is given."""
    if workers is None and scheduler is None:
        yield LocalExecutor()
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as err:  # pragma: no cover - dask[distributed] is a dependency
        msg = "Dask distributed is not installed"
        raise InputError(msg, code="dask_missing", hint="pip install 'dask[distributed]'") from err
    cluster = None
    if scheduler is not None:
        try:
            if scheduler.startswith(("tcp://", "tls://", "ws://", "inproc://")):
                client = Client(scheduler, timeout="10s")
            else:
                client = Client(scheduler_file=scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as err:
            msg = f"cannot reach the Dask scheduler at {scheduler}: {err}"
            raise InputError(msg, code="scheduler_unreachable",
                             hint="start it with 'dask scheduler' and the workers with 'dask worker ADDRESS'") from err
    else:
        if workers is not None and workers < 1:
            msg = f"--workers must be at least 1, got {workers}"
            raise InputError(msg, code="invalid_parameter")
        cluster = LocalCluster(n_workers=workers, threads_per_worker=threads_per_worker, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
    ex = DaskExecutor(client, cluster)
    try:
        yield ex
    finally:
        ex.close()


def chunk_size(per_origin_s: float, n: int, *, target_s: float = 0.75, workers: int = 1) -> int:
    """Origins per chunk so that a task takes about ``target_s`` seconds, but with at least
    two chunks per worker when there is enough work."""
    if per_origin_s <= 0:
        return max(1, n)
    size = max(1, math.ceil(target_s / per_origin_s))
    if workers > 1 and n >= 2 * workers:
        size = min(size, max(1, n // (2 * workers)))
    return size


def run_chunks(ex, fn: Callable, shared: Any, chunks: Sequence, out: np.ndarray, offsets: Sequence[int],
               *, progress: bool = False, desc: str = "origins") -> np.ndarray:
    """Run every chunk and write its result rows into ``out`` at ``offsets[i]``."""
    from planner._progress import progress as bar

    sizes = [len(c) for c in chunks]
    t0 = time.perf_counter()
    with bar(total=int(sum(sizes)), enabled=progress, desc=desc, unit="origin") as pb:
        for i, res in ex.map(fn, shared, chunks):
            out[offsets[i]:offsets[i] + len(res)] = res
            pb.update(sizes[i])
    log.info("%d chunks on %s in %.2f s", len(chunks), getattr(ex, "name", "?"), time.perf_counter() - t0)
    return out

