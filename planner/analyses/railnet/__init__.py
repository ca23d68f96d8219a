"""``plan net``: the intercity rail net."""
