"""Benchmarks for CICA-KG (not tests): synthetic data, build/export and endpoint load.

Run `python -m benchmarks.run --help`; see benchmarks/README.md."""
