"""Harvest Exchange backend."""
