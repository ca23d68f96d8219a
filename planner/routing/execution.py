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
  sent with each task. A worker process runs one chunk at a time on its numba threads: in a
  ``LocalCluster`` the machine's cores divided among the processes, on an existing cluster
  all of each worker's ``NUMBA_NUM_THREADS`` (its cores unless set). Results come back as
  they finish and are written at their origins' rows. A chunk whose worker dies is
  recomputed on another (the scheduler does this; a worker restarted by its nanny fetches
  the shared object from a peer). When every copy of the shared object is lost (the only
  worker died), it is sent again and the chunks not done yet are resubmitted (up to
  ``retries`` times). A chunk that raises is retried (``retries``) before the error reaches
  the caller; one that keeps killing its workers (memory) is a
  :class:`~planner.errors.PlannerError` (``worker_killed``). An interrupted run cancels its tasks and releases the shared
  object; an unreachable scheduler is an :class:`~planner.errors.InputError` (exit code 2)
  with the address.

Inside a chunk, :func:`in_threads` runs independent calls of a kernel that releases the GIL
on the chunk's numba thread count of Python threads (a McRAPTOR query per origin and
departure, whose results Python post-processes).

Chunk size: :func:`chunk_size` times one pilot chunk and sizes the rest so a task runs
about ``target_s`` seconds (0.75 s by default), so that scheduling overhead (about a
millisecond per task in Dask) stays negligible.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numba
import numpy as np

from planner.common.progress import progress as bar
from planner.errors import InputError, PlannerError
from planner.kernels.options import parallel_rows, thread_ceiling
from planner.routing.raptor import ride_cap_tally

__all__ = ["DaskExecutor", "LocalExecutor", "chunk_size", "executor", "in_threads", "run_chunks"]

log = logging.getLogger(__name__)


def in_threads(fn: Callable[[int], None], n: int) -> None:
    """``fn(i)`` for ``i`` in ``range(n)`` on the calling thread's numba thread count of
    Python threads; each call writes its own part of the output only (so the result does not
    depend on the thread count) and spends most of its time in a ``nogil`` kernel. An
    exception in any call is raised here."""
    parallel_rows(fn, n)


class LocalExecutor:
    """Chunks run in this process, in order."""

    name = "local"
    workers = 1
    #: a task's time here relative to the pilot's (which also runs here)
    slowdown = 1.0

    def map(self, fn: Callable, shared: Any, chunks: Sequence) -> Iterator[tuple[int, Any]]:
        for i, chunk in enumerate(chunks):
            yield i, fn(shared, chunk)

    def close(self) -> None:
        return None


#: one chunk at a time per worker process: each uses all of the worker's numba threads
_TASK_LOCK = threading.Lock()


def _worker_numba_threads() -> int:
    return int(numba.config.NUMBA_NUM_THREADS)


def _run_task(fn: Callable, threads: int | None, shared: Any, chunk: Any) -> Any:
    """A chunk on a Dask worker: one at a time per process (a worker started with several
    threads still runs them in turn, so numba is never called concurrently and the cores
    are not oversubscribed), on ``threads`` numba threads (None: all of the worker's)."""
    with _TASK_LOCK, thread_ceiling(threads):
        return fn(shared, chunk)


@dataclass
class DaskExecutor:
    """Chunks run on a Dask cluster (see the module docstring).

    ``threads``: numba threads per task on each worker (None: all of the worker's
    ``NUMBA_NUM_THREADS``, which defaults to its cores); :func:`executor` sets it to the
    cores divided among the processes of a ``LocalCluster``."""

    client: Any
    cluster: Any = None
    retries: int = 3
    threads: int | None = None
    name: str = "dask"
    _task_threads: int | None = field(default=None, repr=False)

    def map(self, fn: Callable, shared: Any, chunks: Sequence) -> Iterator[tuple[int, Any]]:
        # slow (1.2 s): only a run on a Dask cluster
        from distributed import KilledWorker, as_completed

        run = uuid.uuid4().hex[:12]
        name = getattr(fn, "__name__", "chunk")
        pending = set(range(len(chunks)))
        held: list = []
        try:
            for attempt in range(self.retries + 1):
                # the shared object goes to every worker once; tasks refer to it by key
                shared_f = self.client.scatter(shared, broadcast=True, hash=False)
                futures = {self.client.submit(_run_task, fn, self.threads, shared_f, chunks[i], pure=False,
                                              retries=self.retries, key=f"{name}-{run}-{attempt}-{i}"): i
                           for i in sorted(pending)}
                held = [*futures, shared_f]
                try:
                    for fut in as_completed(futures, loop=self.client.loop):
                        res = fut.result()
                        pending.discard(futures[fut])
                        yield futures[fut], res
                except KilledWorker as err:
                    msg = (f"a chunk of origins killed its worker again and again ({err}); "
                           "the workers probably ran out of memory")
                    raise PlannerError(msg, code="worker_killed",
                                       hint="give the workers more memory, or use fewer processes per host") from err
                except CancelledError as err:
                    # every worker holding the shared object died (a one-worker cluster, a lost
                    # host): send it again and resubmit the chunks not done yet
                    if attempt == self.retries:
                        msg = f"the cluster lost the run's data {attempt + 1} times: {err}"
                        raise PlannerError(msg, code="cluster_lost_data",
                                           hint="check the workers' logs and memory") from err
                    log.warning("the cluster lost the run's shared data (%s); sending it again for the %d chunks "
                                "not done yet", err, len(pending))
                    with contextlib.suppress(Exception):
                        self.client.cancel(held)
                    self.client.wait_for_workers(1, timeout=120)
                    continue
                return
        finally:
            # an interrupted or failed run leaves nothing running (nor held) on the cluster
            with contextlib.suppress(Exception):
                self.client.cancel(held)

    @property
    def workers(self) -> int:
        try:
            return max(1, len(self.client.nthreads()))
        except (OSError, KeyError, TypeError):
            return 1

    @property
    def task_threads(self) -> int:
        """Numba threads a task uses (the fewest over the workers when they differ)."""
        if self.threads is not None:
            return self.threads
        if self._task_threads is None:
            try:
                found = self.client.run(_worker_numba_threads)
                self._task_threads = max(1, min(found.values())) if found else 1
            except Exception:  # a worker gone while asked: assume the least
                self._task_threads = 1
        return self._task_threads

    @property
    def slowdown(self) -> float:
        """How much longer a chunk takes on a worker than the pilot took here: the ratio of
        numba threads (this process's to a task's). Chunks are sized with it."""
        return max(1.0, numba.get_num_threads() / self.task_threads)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()


#: how long to try to reach an existing scheduler before giving up
CONNECT_TIMEOUT = "10s"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _connect(scheduler: str):
    # slow (1.2 s): only a run on a Dask cluster
    from distributed import Client

    hint = "start it with 'dask scheduler' and the workers with 'dask worker ADDRESS' (see the README)"
    is_address = "://" in scheduler or (re.fullmatch(r"[\w.\-\[\]:]+:\d+", scheduler) is not None
                                        and not Path(scheduler).exists())
    if not is_address and not Path(scheduler).is_file():
        msg = f"--scheduler {scheduler}: neither an address (tcp://HOST:PORT) nor an existing scheduler file"
        raise InputError(msg, code="scheduler_unreachable", hint=hint)
    try:
        if is_address:
            return Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
        return Client(scheduler_file=scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except Exception as err:  # any failure to connect (timeout, refused, not a Dask scheduler) is the same to the user
        detail = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
        msg = f"cannot reach the Dask scheduler at {scheduler}: {detail}"
        raise InputError(msg, code="scheduler_unreachable", hint=hint) from err


@contextlib.contextmanager
def executor(*, workers: int | None = None, scheduler: str | None = None,
             threads_per_worker: int | None = None) -> Iterator[LocalExecutor | DaskExecutor]:
    """The executor for a run: local unless ``workers`` or ``scheduler`` is given.

    ``workers``: a ``LocalCluster`` of that many processes, each running one task at a time
    on ``threads_per_worker`` numba threads (default: this machine's cores divided among
    them, at least one). ``scheduler``: an existing cluster (address or scheduler file);
    each task uses all of its worker's numba threads. The cluster and client are closed
    when the block ends, also on an error or an interrupt.
    """
    if workers is None and scheduler is None:
        yield LocalExecutor()
        return
    try:
        import distributed  # noqa: F401  (optional: only to tell whether Dask is installed)
    except ImportError as err:  # pragma: no cover - dask[distributed] is a dependency
        msg = "Dask distributed is not installed"
        raise InputError(msg, code="dask_missing", hint="pip install 'dask[distributed]'") from err
    cluster = None
    if scheduler is not None:
        ex = DaskExecutor(_connect(scheduler), threads=threads_per_worker)
    else:
        # slow (1.2 s): only a run on a Dask cluster
        from distributed import Client, LocalCluster

        if workers is not None and workers < 1:
            msg = f"--workers must be at least 1, got {workers}"
            raise InputError(msg, code="invalid_parameter")
        threads = threads_per_worker or max(1, _cores() // workers)
        # one Dask thread per worker process: parallelism inside a task is numba's
        # the scheduler's HTTP server on a free local port (the default, 8787, warns when another
        # cluster holds it), without the dashboard pages
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address="127.0.0.1:0", scheduler_kwargs={"dashboard": False},
                               silence_logs=logging.ERROR)
        try:
            client = Client(cluster, set_as_default=False)
        except BaseException:
            cluster.close()
            raise
        ex = DaskExecutor(client, cluster, threads=threads)
    log.info("Dask executor: %d workers, %s numba threads per task", ex.workers, ex.threads or "all")
    try:
        yield ex
    finally:
        ex.close()


def chunk_size(per_origin_s: float, n: int, *, target_s: float = 0.75, workers: int = 1,
               slowdown: float = 1.0) -> int:
    """Origins per chunk so that a task takes about ``target_s`` seconds, but with at least
    two chunks per worker when there is enough work. ``per_origin_s`` is the pilot's time
    here; ``slowdown`` the executor's (a worker with fewer numba threads is slower)."""
    if per_origin_s <= 0:
        return max(1, n)
    size = max(1, math.ceil(target_s / (per_origin_s * max(slowdown, 1e-9))))
    if workers > 1 and n >= 2 * workers:
        size = min(size, max(1, n // (2 * workers)))
    return size


def run_chunks(ex, fn: Callable, shared: Any, chunks: Sequence, out: np.ndarray, offsets: Sequence[int],
               *, progress: bool = False, desc: str = "origins") -> np.ndarray:
    """Run every chunk and write its result rows into ``out`` at ``offsets[i]``."""
    sizes = [len(c) for c in chunks]
    t0 = time.perf_counter()
    with bar(total=int(sum(sizes)), enabled=progress, desc=desc, unit="origin") as pb:
        for i, res in ex.map(fn, shared, chunks):
            out[offsets[i]:offsets[i] + len(res)] = res
            pb.update(sizes[i])
    log.info("%d chunks on %s in %.2f s", len(chunks), getattr(ex, "name", "?"), time.perf_counter() - t0)
    return out


def run_in_chunks(ex, fn: Callable, shared: Any, n: int, make: Callable[[int, int], Any], out: np.ndarray, *,
                  chunk: int | None = None, pilot: int = 1, cap: int | None = None, progress: bool = False,
                  desc: str = "origins", making: str | None = None,
                  made: Callable[[int, Any], None] | None = None) -> np.ndarray:
    """Every origin ``0..n-1`` through ``fn(shared, make(a, b))``; rows ``a:b`` of ``out``
    get the result of the chunk of origins ``a..b-1``.

    ``ex`` runs the chunks (:func:`executor`; ``None``: here). Without ``chunk``, the first
    ``pilot`` origins run here first, timed, and size the other tasks (:func:`chunk_size`,
    the executor's slowdown counted); ``cap`` bounds the chunk size (memory). ``made(a,
    chunk)`` sees every chunk once it is made (``making``: a progress bar's label for making
    them, when that is slow). The result does not depend on the chunk size or the executor.
    """
    with ride_cap_tally():  # one ride-cap warning for the run, not one per chunk
        return _run_in_chunks(ex, fn, shared, n, make, out, chunk=chunk, pilot=pilot, cap=cap, progress=progress,
                              desc=desc, making=making, made=made)


def _run_in_chunks(ex, fn: Callable, shared: Any, n: int, make: Callable[[int, int], Any], out: np.ndarray, *,
                   chunk: int | None, pilot: int, cap: int | None, progress: bool, desc: str, making: str | None,
                   made: Callable[[int, Any], None] | None) -> np.ndarray:
    ex = ex if ex is not None else LocalExecutor()
    cap = max(1, int(cap)) if cap is not None else max(1, n)
    done = 0
    if chunk is None and n:
        done = min(n, pilot, cap)
        first = make(0, done)
        if made is not None:
            made(0, first)
        t = time.perf_counter()
        out[:done] = fn(shared, first)
        chunk = chunk_size((time.perf_counter() - t) / done, n - done, workers=ex.workers,
                           slowdown=getattr(ex, "slowdown", 1.0))
    chunk = max(1, min(int(chunk or 1), cap))
    starts = list(range(done, n, chunk))
    chunks = []
    with bar(total=n - done, enabled=progress and making is not None, desc=making or "", unit="origin") as pb:
        for a in starts:
            c = make(a, min(a + chunk, n))
            if made is not None:
                made(a, c)
            chunks.append(c)
            pb.update(len(c))
    return run_chunks(ex, fn, shared, chunks, out, starts, progress=progress, desc=desc)
