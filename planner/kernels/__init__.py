"""numba kernels: plain NumPy arrays in, arrays out.

Kernels never see DataFrames, dicts, strings or objects; the public wrappers around them
(``planner.network.streets``, ``planner.routing.raptor`` ...) validate input, map IDs to ``0..n-1``, call
the kernel and map the result back. All numba options live in :mod:`planner.kernels.options`.
"""
