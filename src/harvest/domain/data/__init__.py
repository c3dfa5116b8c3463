"""Packaged reference data (the built-in crop catalog)."""
