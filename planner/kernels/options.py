"""The one place where numba compilation options are set.

* ``cache=True``: compiled machine code is kept on disk (``__pycache__`` beside the module,
  or ``NUMBA_CACHE_DIR``), so the second run of a command does not pay the compile time.
* ``nogil=True``: kernels release the GIL, so Python threads (and Dask workers' threads)
  can run them side by side.
* Optimisation level: the ``plan`` command line, the tests and the benchmark scripts set
  ``NUMBA_OPT=1`` (LLVM ``-O1``) unless the environment sets it. Measured on this project's
  2-core machine: a cold ``plan evaluate`` compiles in about two thirds of the time, and
  McRAPTOR runs 1.6-1.7x faster than at numba's default ``-O3`` (scripts/bench_fares.py,
  Helsinki, 60 and 90 min horizons: 10.8 and 19.5 ms per query against 17.3 and 33.6 ms),
  plain RAPTOR the same, the penalised router about 1.2x slower. The level is process-wide
  and read when numba is imported, so library code does not change it: a program that
  imports :mod:`planner` compiles at whatever ``NUMBA_OPT`` it runs with.
* ``fastmath`` is never enabled: kernels use ``inf`` as "unreached" and would be wrong
  under the ``nnan``/``ninf`` assumptions. A test fails on any ``fastmath`` in the package.
* Parallel kernels (``prange`` over origins) write one output row per origin, so their
  results do not depend on the number of threads. Where a serial kernel is cheap to call per
  origin, :func:`parallel_rows` runs it on Python threads instead (the kernels release the
  GIL): the same parallelism without ``parallel=True``, whose compilation costs 10-15 s on
  a cold start.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numba

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["jit", "jit_inline", "jit_parallel", "jit_typed", "numba_threads", "parallel_rows", "thread_ceiling"]

#: serial kernels
jit = numba.njit(cache=True, nogil=True, fastmath=False, error_model="numpy")


#: kernels with ``prange`` loops
jit_parallel = numba.njit(cache=True, nogil=True, fastmath=False, parallel=True, error_model="numpy")


#: small helpers shared by kernels: inlined into each caller at numba's IR level
#: (``inline="always"``), so a helper costs no call and is typed per caller. Numba still
#: counts references to the arrays passed in, which costs in a kernel's innermost loop:
#: time a kernel before and after putting a helper there
jit_inline = numba.njit(cache=True, nogil=True, fastmath=False, error_model="numpy", inline="always")


def jit_typed(*argtypes):
    """A serial helper compiled for exactly these argument types (numba types, no return type).

    A lazily typed helper is compiled once per distinct tuple of argument types it is called
    with, and numba types constants as literals (``Literal[int](0)``), so a helper called with
    ``0`` here and a variable there is compiled several times, each copy costing seconds on a
    cold start. Callers' arguments are converted to these types (an ``int32`` stop id becomes
    ``int64``); a readonly array does not convert to a writable one, so use this only for
    helpers whose arrays a kernel allocates itself. Compiled (or loaded from the on-disk cache)
    when the module is imported."""
    return numba.njit(tuple(argtypes), cache=True, nogil=True, fastmath=False, error_model="numpy")


def parallel_rows(fn, n: int) -> None:
    """Call ``fn(i)`` for ``i`` in ``range(n)`` on as many Python threads as the calling
    thread's numba thread count (:func:`numba_threads`, :func:`thread_ceiling`); ``fn`` runs a
    ``nogil`` kernel and writes row ``i`` of its output only, so the result does not depend
    on the number of threads. An exception in any row is raised here."""
    threads = max(1, min(numba.get_num_threads(), n))
    if threads == 1:
        for i in range(n):
            fn(i)
        return
    pool = ThreadPoolExecutor(threads, thread_name_prefix="plan-kernel")
    try:
        for _ in pool.map(fn, range(n)):
            pass
    finally:
        # an error or an interrupt (Ctrl-C) cancels the rows not started yet
        pool.shutdown(wait=True, cancel_futures=True)


#: per calling thread: the most numba threads a kernel may use (set by :func:`thread_ceiling`)
_local = threading.local()


@contextlib.contextmanager
def numba_threads(n: int | None) -> Iterator[int]:
    """Run the block with ``n`` numba threads (``None``: leave as is); always restored.

    Inside :func:`thread_ceiling` (a Dask worker's share of its machine) ``n`` is capped at
    the ceiling."""
    before = numba.get_num_threads()
    if n is None:
        yield before
        return
    n = max(1, min(int(n), numba.config.NUMBA_NUM_THREADS, getattr(_local, "ceiling", None) or n))
    numba.set_num_threads(n)
    try:
        yield n
    finally:
        numba.set_num_threads(before)


@contextlib.contextmanager
def thread_ceiling(n: int | None) -> Iterator[int]:
    """Run the block with ``n`` numba threads (``None``: all of ``NUMBA_NUM_THREADS``) and
    no more: a :func:`numba_threads` inside asks for at most ``n``. Numba's thread count is
    per calling thread, so this holds for the thread that runs the block; always restored."""
    limit = numba.config.NUMBA_NUM_THREADS
    n = limit if n is None else max(1, min(int(n), limit))
    before, before_ceiling = numba.get_num_threads(), getattr(_local, "ceiling", None)
    numba.set_num_threads(n)
    _local.ceiling = n
    try:
        yield n
    finally:
        _local.ceiling = before_ceiling
        numba.set_num_threads(before)
