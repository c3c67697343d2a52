"""Benchmarks: `python -m bench [--quick] [--only NAME]`; each compares against a reference measured in the same run."""
