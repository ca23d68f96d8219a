"""Routing: the validating wrappers around the numba kernels, and the execution of many-origin work."""
