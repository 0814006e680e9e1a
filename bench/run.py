"""`make bench`: run every benchmark and write bench/RESULTS.md.

Each benchmark returns rows (name, figure, baseline, target, verdict); the
machine's core count and the date head the table. Needs PostgreSQL:
BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres)
names a server on which each benchmark creates and drops its own database.
`python -m bench.run chat billing` runs only those and prints their rows,
leaving RESULTS.md as it is; every benchmark's rows are printed as it ends,
so a run stopped part-way keeps what it measured. BENCH_SMOKE=1 (`make bench-smoke`) runs
every benchmark at tiny sizes, in seconds, to show each still runs (bench/sizes.py).
"""

import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from . import billing, chat, kundli, listing, memory, sync
from .sizes import SMOKE

BENCHMARKS = [listing, chat, billing, sync, memory, kundli]
RESULTS = Path(__file__).with_name("RESULTS.md")
PROFILES = Path(__file__).with_name("PROFILES.md")  # what py-spy showed, what was fixed, before and after


def _line(row):
    return f"| {row['name']} | {row['figure']} | {row['baseline']} | {row['target']} | {row['verdict']} |"


def main(names=()):
    admin_url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    by_name = {b.__name__.removeprefix("bench."): b for b in BENCHMARKS}
    if set(names) - by_name.keys():
        print(f"benchmarks are: {', '.join(by_name)}", file=sys.stderr)
        return 2
    chosen = [b for name, b in by_name.items() if not names or name in names]
    rows, started = [], time.monotonic()
    for benchmark in chosen:
        print(f"== {benchmark.__name__}", flush=True)
        measured = benchmark.run(admin_url)
        print("\n".join(map(_line, measured)), flush=True)
        rows.extend(measured)
    if names or SMOKE:  # a part, or tiny sizes (bench/sizes.py): printed, RESULTS.md kept
        return 0
    lines = [
        "# Benchmark results",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}; the whole run took {(time.monotonic() - started) / 60:.1f} minutes. "
        "Each figure is measured beside its baseline in the same run. Where a benchmark measures latency "
        "(listing, chat) the server under test runs on core 0 and the load generator on core 1 "
        "(taskset, bench/server.py SERVER_CPUS and LOAD_CPUS), so the two do not take turns on one core; "
        "PostgreSQL runs where the kernel puts it.",
        "",
        "| benchmark | figure | baseline (same run) | target | verdict |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [_line(r) for r in rows]
    lines += ["", PROFILES.read_text().rstrip()]
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS}")
    return 0  # a benchmark reports; a missed target is a verdict in the table, not a failed command


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
