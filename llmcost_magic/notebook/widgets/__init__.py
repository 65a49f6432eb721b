"""Notebook views: the live meter, the compression playground and the dashboard."""
