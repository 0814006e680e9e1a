"""The billing benchmark's own code at a tiny size, so a schema change cannot break `make bench`
silently (migration 0019's NOT NULL video columns did: its seed stopped before the first charge)."""

import os

import pytest

pytestmark = pytest.mark.postgres


def test_the_billing_benchmark_seeds_and_charges_every_session():
    from bench import billing

    elapsed, passes = billing._charge_all(os.environ["TEST_DATABASE_URL"], 40, astrologers=4)
    assert passes >= 1 and elapsed >= 0  # _charge_all itself asserts every session charged and the ledger clean
