"""The one truth every rendering is derived from: ledger entries made of money lines, and settlements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

# Where a line's money sits in a Finances v0 event (charge, fee, withheld tax, promotion) or, for events that
# have no components, "flat" (the event's own amount fields carry it).
V0Slot = Literal["charge", "fee", "tax_withheld", "promotion", "flat"]


@dataclass(frozen=True)
class Line:
    """One money component: one settlement-report line, one v0 component, one 2024-06-19 breakdown leaf."""

    amount_type: str  # settlement amount-type (ItemPrice, ItemFees, ...)
    amount_description: str  # settlement amount-description (Principal, Commission, ...)
    amount: Decimal
    v0_slot: V0Slot
    v0_type: str  # ChargeType / FeeType / PromotionType as v0 names it
    breakdown_path: tuple[str, ...]  # Finances 2024-06-19 breakdown types, root first
    sku: str | None = None
    quantity: int | None = None
    order_item_code: str | None = None
    adjustment_item_id: str | None = None
    promotion_id: str | None = None


@dataclass(frozen=True)
class Entry:
    """One business event (an order shipment, a refund, a fee charge, ...): one v0 event, one transaction.

    Its money is released at ``release_at``: the posting time, or the maturity date of deferred money (DD+7,
    B2B). It belongs to the settlement of the period in which it was released.
    """

    entry_id: str  # the 2024-06-19 transactionId
    account_id: str
    marketplace_id: str
    currency: str
    kind: str  # Order, Refund, Chargeback, GuaranteeClaim, ServiceFee, Advertising, Coupon, Deal, ...
    transaction_type: str  # settlement transaction-type
    posted_at: datetime
    release_at: datetime
    deferral_reason: str | None  # "DD7" or "B2B"; None for money released when posted
    lines: tuple[Line, ...]
    order_id: str | None = None
    shipment_id: str | None = None
    adjustment_id: str | None = None
    attributes: dict[str, str] = field(
        default_factory=dict
    )  # coupon id, deal id, invoice id, fee reason, ...

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0"))

    def status_at(self, now: datetime) -> str:
        """The Finances 2024-06-19 transactionStatus as seen at ``now``."""
        if self.deferral_reason is None:
            return "RELEASED"
        return "DEFERRED_RELEASED" if self.release_at <= now else "DEFERRED"


@dataclass(frozen=True)
class Period:
    index: int  # periods since the epoch of the account's calendar
    start: datetime
    end: datetime  # exclusive: the next period starts here


@dataclass
class Settlement:
    """One (account, marketplace, period): its lines are the entries released in the period."""

    settlement_id: str
    account_id: str
    marketplace_id: str
    currency: str
    period: Period
    deposit_at: datetime
    report_created_at: datetime
    report_id: str
    report_document_id: str
    financial_event_group_id: str
    trace_id: str
    entries: list[Entry] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((entry.total for entry in self.entries), Decimal("0"))

    @property
    def line_count(self) -> int:
        return sum(len(entry.lines) for entry in self.entries)

    def released_total(self, now: datetime) -> Decimal:
        """The running balance at ``now``: what has been released into this period so far."""
        return sum((e.total for e in self.entries if e.release_at <= now), Decimal("0"))
