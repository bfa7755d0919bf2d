"""Benchmarks. Not installed in production; see bench/README.md."""
