"""Benchmarks: scripts that print tables and write bench/results/*.json."""
