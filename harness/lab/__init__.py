"""ADL stress lab."""
