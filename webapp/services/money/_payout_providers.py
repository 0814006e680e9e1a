"""Payout providers: what sends an approved payout to the astrologer's bank account, behind one small
interface (the payment providers' counterpart, services/money/payments.py).

`send` is asked once per approval, with the payout's id as the provider's idempotency key, and
answers a Transfer: the provider's reference and whether the money is already in the account. A
provider that settles later (RazorpayX, Cashfree Payouts: "processing", then a webhook) answers
settled=False; services/money/payouts.py `mark_paid` or `fail` closes the payout when it reports back.
Adding a provider means one class in PROVIDERS and its name in PAYOUT_PROVIDER.

- `demo` settles at once with a reference of its own, so the demo shows the whole lifecycle.
- `manual`: staff send the bank transfer themselves. Approving with the bank's reference (a UTR)
  marks the payout paid; approving without one leaves it approved until staff record the reference
  (Mark paid on /admin/payouts).
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass

from flask import current_app


@dataclass(frozen=True)
class Transfer:
    reference: str | None  #: the provider's or the bank's reference, once known
    settled: bool  #: the money has reached the account: the payout is paid


class PayoutProvider(ABC):
    name = None

    @abstractmethod
    def send(self, payout, *, reference=None):
        """Send `payout` (approved, its amount held); `reference`: one staff entered. A Transfer."""


class DemoPayoutProvider(PayoutProvider):
    name = "demo"

    def send(self, payout, *, reference=None):
        return Transfer(reference or f"DEMO-{payout.id.hex[:12].upper()}", settled=True)


class ManualPayoutProvider(PayoutProvider):
    name = "manual"

    def send(self, payout, *, reference=None):
        return Transfer(reference, settled=reference is not None)


PROVIDERS = {provider.name: provider for provider in (DemoPayoutProvider, ManualPayoutProvider)}


def configured():
    return PROVIDERS[current_app.config["PAYOUT_PROVIDER"]]()
