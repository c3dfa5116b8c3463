"""Test helpers importable from any test module."""
