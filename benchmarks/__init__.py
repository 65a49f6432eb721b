"""Benchmarks: each prints numbers and ratios against a baseline measured in the same run."""
