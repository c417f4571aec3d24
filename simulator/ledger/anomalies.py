"""The deliberate anomalies of the demo data (README.md beside this file), and the measures that show them.

``place`` finds the settlements the history generator built them into (``history.py`` says where) and states
their numbers; the renderers ask here whether a report is drifted or a v0 event is left out.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from decimal import Decimal

from simulator.ledger import history as h
from simulator.ledger.catalog import seller_profile
from simulator.ledger.model import Settlement
from simulator.ledger.records import InjectedAnomaly

V0_MISMATCH = "v0_group_mismatch"
SCHEMA_DRIFT = "settlement_schema_drift"
PAYOUT_ANOMALY = "payout_amount_anomaly"
FEE_RATE_ANOMALY = "fee_rate_anomaly"
REFUND_RATE_ANOMALY = "refund_rate_anomaly"

# Bands the demo data is built around (documented in README.md): every other closed settlement stays inside.
ROBUST_Z_LIMIT = Decimal("3.5")
MAD_FLOOR = Decimal("0.10")  # the MAD used is at least 10% of |median|
FEE_RATIO_BAND = (Decimal("0.15"), Decimal("0.45"))
REFUND_RATE_LIMIT = Decimal("0.20")


def principal(s: Settlement) -> Decimal:
    """Sales principal: ItemPrice/Principal on Order lines."""
    return sum(
        (
            line.amount
            for e in s.entries
            if e.transaction_type == "Order"
            for line in e.lines
            if line.amount_type == "ItemPrice" and line.amount_description == "Principal"
        ),
        Decimal("0"),
    )


def fees(s: Settlement) -> Decimal:
    """Every charge Amazon takes, as the warehouse's fee class counts them (int_settlement_lines_classified:
    whatever the amount type, on orders and refunds alike): the lines Amazon's Finances API files under
    Expenses (AmazonFees, Promotions such as coupon and deal fees, Advertising). Negative: charges."""
    return sum(
        (line.amount for e in s.entries for line in e.lines if line.breakdown_path[:1] == ("Expenses",)),
        Decimal("0"),
    )


def refunded_principal(s: Settlement) -> Decimal:
    return sum(
        (
            line.amount
            for e in s.entries
            if e.transaction_type == "Refund"
            for line in e.lines
            if line.amount_type == "ItemPrice" and line.amount_description == "Principal"
        ),
        Decimal("0"),
    )


def fee_ratio(s: Settlement) -> Decimal:
    """fees ÷ principal, as a positive ratio."""
    return (-fees(s) / principal(s)).quantize(Decimal("0.0001"))


def refund_rate(s: Settlement) -> Decimal:
    """refunded principal ÷ sold principal, as a positive ratio."""
    return (-refunded_principal(s) / principal(s)).quantize(Decimal("0.0001"))


def robust_z_scores(settlements: Iterable[Settlement]) -> dict[str, Decimal]:
    """0.6745 × (total − median) ÷ MAD per settlement, within one account and currency.

    The MAD is floored at MAD_FLOOR of the median's size: with a handful of steady payouts the raw MAD can be
    a few cents, and every ordinary wobble would then look like an outlier.
    """
    chosen = list(settlements)
    totals = [s.total for s in chosen]
    median = statistics.median(totals)
    mad = max(statistics.median([abs(t - median) for t in totals]), abs(median) * MAD_FLOOR)
    return {
        s.settlement_id: (Decimal("0.6745") * (s.total - median) / mad).quantize(Decimal("0.01"))
        for s in chosen
    }


def closed_settlements(settlements: list[Settlement], today: date) -> list[Settlement]:
    reference = datetime.combine(today, time(12, 0), tzinfo=UTC)
    return [s for s in settlements if s.period.end <= reference]


def _pick(settlements: list[Settlement], marketplace_id: str, periods_back: int, today: date) -> Settlement:
    candidates = [s for s in settlements if s.marketplace_id == marketplace_id]
    profile = seller_profile(candidates[0].account_id)
    assert profile is not None
    reference = datetime.combine(today, time(12, 0), tzinfo=UTC)
    index = h.Calendar(profile.period_time_of_day).index_of(reference) - periods_back
    return next(s for s in candidates if s.period.index == index)


def _v0_omitted_entry(s: Settlement) -> str:
    return next(e.entry_id for e in s.entries if e.kind == "Advertising")


def place(settlements_by_account: dict[str, list[Settlement]], today: date) -> list[InjectedAnomaly]:
    na = settlements_by_account["demo-na"]
    eu = settlements_by_account["demo-eu"]
    found: list[InjectedAnomaly] = []

    s = _pick(na, h.V0_MISMATCH_MARKETPLACE, h.V0_MISMATCH_PERIODS_BACK, today)
    omitted = next(e for e in s.entries if e.entry_id == _v0_omitted_entry(s))
    found.append(
        InjectedAnomaly(
            anomaly_id=V0_MISMATCH,
            issue=6,
            account_id=s.account_id,
            settlement_id=s.settlement_id,
            financial_event_group_id=s.financial_event_group_id,
            description=(
                "The ProductAdsPaymentEvent of this group is left out of every v0 events page, so the "
                "events add up to OriginalTotal minus its amount; the settlement report, the 2024-06-19 "
                "transactions and listSummary still carry it and reconcile."
            ),
            numbers={
                "original_total": str(s.total),
                "events_total": str(s.total - omitted.total),
                "difference": str(omitted.total),
                "omitted_transaction_id": omitted.entry_id,
                "currency": s.currency,
            },
        )
    )

    s = _pick(na, h.DRIFTED_REPORT_MARKETPLACE, h.DRIFTED_REPORT_PERIODS_BACK, today)
    found.append(
        InjectedAnomaly(
            anomaly_id=SCHEMA_DRIFT,
            issue=7,
            account_id=s.account_id,
            settlement_id=s.settlement_id,
            financial_event_group_id=s.financial_event_group_id,
            description=(
                "This settlement report's file has a column `marketplace-id` inserted after "
                "`marketplace-name` and `fulfillment-id` moved to the last position; its data is valid "
                "and reconciles."
            ),
            numbers={
                "added_columns": "marketplace-id",
                "moved_columns": "fulfillment-id",
                "column_count": "25",
                "total": str(s.total),
            },
        )
    )

    s = _pick(na, h.PAYOUT_ANOMALY_MARKETPLACE, h.PAYOUT_ANOMALY_PERIODS_BACK, today)
    peers = [p for p in closed_settlements(na, today) if p.currency == s.currency]
    totals = [p.total for p in peers]
    found.append(
        InjectedAnomaly(
            anomaly_id=PAYOUT_ANOMALY,
            issue=7,
            account_id=s.account_id,
            settlement_id=s.settlement_id,
            financial_event_group_id=s.financial_event_group_id,
            description=(
                "A lost inbound shipment reimbursed in one go (FBA Inventory Reimbursement WAREHOUSE_LOST, "
                "120 units) makes this payout several times the usual one; it still reconciles."
            ),
            numbers={
                "total": str(s.total),
                "median_total": str(statistics.median(totals)),
                "robust_z": str(robust_z_scores(peers)[s.settlement_id]),
                "currency": s.currency,
            },
        )
    )

    s = _pick(eu, h.FEE_OUTLIER_MARKETPLACE, h.FEE_OUTLIER_PERIODS_BACK, today)
    found.append(
        InjectedAnomaly(
            anomaly_id=FEE_RATE_ANOMALY,
            issue=7,
            account_id=s.account_id,
            settlement_id=s.settlement_id,
            financial_event_group_id=s.financial_event_group_id,
            description=(
                "Sixty orders of a mis-dimensioned SKU (NX-RK-0990) charged oversize FBA fees, so fees ÷ "
                "principal is about twice the usual; the payout itself barely moves."
            ),
            numbers={
                "fees": str(fees(s)),
                "principal": str(principal(s)),
                "fee_ratio": str(fee_ratio(s)),
                "currency": s.currency,
            },
        )
    )

    s = _pick(na, h.REFUND_SPIKE_MARKETPLACE, h.REFUND_SPIKE_PERIODS_BACK, today)
    found.append(
        InjectedAnomaly(
            anomaly_id=REFUND_RATE_ANOMALY,
            issue=7,
            account_id=s.account_id,
            settlement_id=s.settlement_id,
            financial_event_group_id=s.financial_event_group_id,
            description=(
                "A lightning deal on a defective batch: fifteen extra orders, twelve of them refunded in the "
                "same period, so the refund rate spikes; the payout stays ordinary."
            ),
            numbers={
                "refunded_principal": str(refunded_principal(s)),
                "principal": str(principal(s)),
                "refund_rate": str(refund_rate(s)),
                "currency": s.currency,
            },
        )
    )
    return found


def is_drifted_report(anomalies: list[InjectedAnomaly], settlement_id: str) -> bool:
    return any(a.anomaly_id == SCHEMA_DRIFT and a.settlement_id == settlement_id for a in anomalies)


def omitted_v0_entries(anomalies: list[InjectedAnomaly]) -> frozenset[str]:
    return frozenset(a.numbers["omitted_transaction_id"] for a in anomalies if a.anomaly_id == V0_MISMATCH)
