"""``plan evaluate``: candidate scenarios against the baseline."""
