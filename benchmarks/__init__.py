"""Benchmarks of mmlib against its peers; run ``python benchmarks/run.py`` (see README.md)."""
