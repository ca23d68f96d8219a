"""``plan access``: accessibility rasters on a grid."""
