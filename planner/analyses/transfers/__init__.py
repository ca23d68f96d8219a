"""``plan transfers``: transfers between stations of different modes."""
