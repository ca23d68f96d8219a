"""``plan fares``: what a unified fare card saves."""
