"""Helpers the tests (and the benchmarks) import; fixtures stay in conftest.py files."""
