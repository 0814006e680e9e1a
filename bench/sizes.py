"""How big each benchmark runs: its real sizes, or with BENCH_SMOKE=1 tiny ones that take every
benchmark's code path in seconds (`make bench-smoke`; tests/integration/test_bench_smoke.py runs it
in CI, so a schema or API change cannot break `make bench` unseen). A smoke run's figures mean
nothing and are printed only, never written to bench/RESULTS.md."""

import os

SMOKE = os.environ.get("BENCH_SMOKE") == "1"


def size(full, smoke):
    return smoke if SMOKE else full
