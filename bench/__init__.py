"""Benchmarks: programs that measure and print (run with `python -m bench` or `make bench`), not tests."""
