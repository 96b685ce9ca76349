"""Benchmarks that print figures: `make bench` runs them all (see bench/run_all.py)."""
