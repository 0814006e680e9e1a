"""`make bench-smoke`: every benchmark's own code at tiny sizes (bench/sizes.py), so a schema or API
change cannot break `make bench` unseen (migration 0019's NOT NULL video columns broke two of them:
the billing and listing seeds stopped before their first request)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]


def test_every_benchmark_runs_at_smoke_size_and_leaves_the_results_alone():
    results = ROOT / "bench" / "RESULTS.md"
    before = results.read_bytes()
    admin_url = os.environ["TEST_DATABASE_URL"]
    run = subprocess.run(
        [sys.executable, "-m", "bench.run"],
        cwd=ROOT,
        env={**os.environ, "BENCH_SMOKE": "1", "BENCH_DATABASE_URL": admin_url},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    rows = [line for line in run.stdout.splitlines() if line.startswith("| ")]
    for benchmark in ("listing", "chat", "billing", "user sync", "memory", "kundli"):
        assert any(row.startswith(f"| {benchmark}:") for row in rows), (benchmark, run.stdout[-2000:])
    assert results.read_bytes() == before
