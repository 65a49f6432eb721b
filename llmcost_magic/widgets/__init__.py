"""Notebook views: the live meter (and, later, the compression playground and dashboard)."""
