"""`make bench`: run every benchmark and write bench/RESULTS.md.

Each benchmark returns rows (name, figure, baseline, target, verdict); the
machine's core count and the date head the table. Needs PostgreSQL:
BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres)
names a server on which each benchmark creates and drops its own database.
"""

import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from . import billing, chat, kundli, listing, memory, sync

BENCHMARKS = [listing, chat, billing, sync, memory, kundli]
RESULTS = Path(__file__).with_name("RESULTS.md")
PROFILES = Path(__file__).with_name("PROFILES.md")  # what py-spy showed, what was fixed, before and after


def main():
    admin_url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    rows, started = [], time.monotonic()
    for benchmark in BENCHMARKS:
        print(f"== {benchmark.__name__}", flush=True)
        rows.extend(benchmark.run(admin_url))
    lines = [
        "# Benchmark results",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}; the whole run took {(time.monotonic() - started) / 60:.1f} minutes. "
        "Each figure is measured beside its baseline in the same run.",
        "",
        "| benchmark | figure | baseline (same run) | target | verdict |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {r['name']} | {r['figure']} | {r['baseline']} | {r['target']} | {r['verdict']} |" for r in rows]
    lines += ["", PROFILES.read_text().rstrip()]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0  # a benchmark reports; a missed target is a verdict in the table, not a failed command


if __name__ == "__main__":
    sys.exit(main())
