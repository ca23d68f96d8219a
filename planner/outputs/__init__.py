"""Outputs: the report, maps, rasters and layers every analysis writes with."""
