"""The birth chart: time to compute one chart (nine bodies, ascendant, nakshatras, 81 dasha periods)
with services/astrology/kundli.py, beside the Swiss Ephemeris (the tests' oracle, a C library) computing the same
positions and ascendant, in the same run; and a chart served again from the cache (the room's case).
No database. Target (issue 25): a chart well under the 50 ms a page may spend on it."""

import random
import sys
import time
from datetime import UTC, datetime, timedelta

from webapp.services.astrology import kundli

from .sizes import size

CHARTS = size(300, 5)
TARGET_MS = 50


def _births(count):
    rng = random.Random(25)
    for _ in range(count):
        moment = datetime(1900, 1, 1, tzinfo=UTC) + timedelta(days=rng.uniform(0, 200 * 365.25))
        yield moment, rng.uniform(-60, 60), rng.uniform(-180, 180)


def _per_chart_ms(compute, births):
    started = time.perf_counter()
    for birth in births:
        compute(*birth)
    return (time.perf_counter() - started) * 1000 / len(births)


def _oracle():
    try:
        import swisseph as swe
    except ImportError:
        return None
    bodies = (swe.SUN, swe.MOON, swe.MARS, swe.MERCURY, swe.JUPITER, swe.VENUS, swe.SATURN, swe.MEAN_NODE)
    swe.set_sid_mode(swe.SIDM_LAHIRI)

    def compute(moment, latitude, longitude):
        jd = swe.julday(moment.year, moment.month, moment.day, moment.hour + moment.minute / 60 + moment.second / 3600)
        for body in bodies:
            swe.calc_ut(jd, body, swe.FLG_SIDEREAL | swe.FLG_SPEED)
        swe.houses_ex(jd, latitude, longitude, b"W", swe.FLG_SIDEREAL)

    return compute


def run(admin_url=None):
    births = list(_births(CHARTS))
    kundli._compute.cache_clear()
    ours = _per_chart_ms(kundli.compute, births)
    cached = _per_chart_ms(kundli.compute, births)  # the same births again: from the cache
    oracle = _oracle()
    baseline = (
        f"Swiss Ephemeris (C, positions and ascendant only): {_per_chart_ms(oracle, births):.3f} ms a chart"
        if oracle
        else "Swiss Ephemeris not installed"
    )
    return [
        dict(
            name=f"kundli: one chart (9 bodies, lagna, nakshatras, dasha), {CHARTS} random births 1900-2100",
            figure=f"{ours:.2f} ms a chart computed, {cached * 1000:.1f} µs from the cache",
            baseline=baseline,
            target=f"< {TARGET_MS} ms",
            verdict="met" if ours < TARGET_MS else "missed",
        )
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
    sys.exit(0)
