"""The one place where numba compilation options are set.

* ``cache=True``: compiled machine code is kept on disk (``__pycache__`` beside the module,
  or ``NUMBA_CACHE_DIR``), so the second run of a command does not pay the compile time.
* ``nogil=True``: kernels release the GIL, so Python threads (and Dask workers' threads)
  can run them side by side.
* ``fastmath`` is never enabled: kernels use ``inf`` as "unreached" and would be wrong
  under the ``nnan``/``ninf`` assumptions. A test fails on any ``fastmath`` in the package.
* Parallel kernels (``prange`` over origins) write one output row per origin, so their
  results do not depend on the number of threads.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import numba

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["jit", "jit_parallel", "numba_threads"]

#: serial kernels
jit = numba.njit(cache=True, nogil=True, fastmath=False, error_model="numpy")


#: kernels with ``prange`` loops
jit_parallel = numba.njit(cache=True, nogil=True, fastmath=False, parallel=True, error_model="numpy")


@contextlib.contextmanager
def numba_threads(n: int | None) -> Iterator[int]:
    """Run the block with ``n`` numba threads (``None``: leave as is); always restored."""
    before = numba.get_num_threads()
    if n is None:
        yield before
        return
    n = max(1, min(int(n), numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(n)
    try:
        yield n
    finally:
        numba.set_num_threads(before)
