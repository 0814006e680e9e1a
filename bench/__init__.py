"""Benchmarks: each measures a figure beside its baseline in the same run (`make bench`)."""
