"""Renders a settlement as Amazon's V2 flat file (GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2).

Tab-separated: a header, a summary row (settlement id, period, deposit date, total-amount, currency), then one
row per line. NA files write ``yyyy-MM-dd HH:mm:ss UTC`` and a decimal point; EU files write Amazon EU's
``dd.MM.yyyy HH:mm:ss UTC``, short ``dd.MM.yyyy`` posted dates and a decimal comma.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from simulator.ledger.catalog import MARKETPLACES, Marketplace
from simulator.ledger.model import Entry, Line, Settlement

# Amazon's V2 header, written out here on purpose rather than imported from transforms/settlement/headers.py:
# the simulator is the oracle the importer is tested against, so a mistake in ACORN's list must not reach both.
V2_COLUMNS: tuple[str, ...] = (
    "settlement-id",
    "settlement-start-date",
    "settlement-end-date",
    "deposit-date",
    "total-amount",
    "currency",
    "transaction-type",
    "order-id",
    "merchant-order-id",
    "adjustment-id",
    "shipment-id",
    "marketplace-name",
    "amount-type",
    "amount-description",
    "amount",
    "fulfillment-id",
    "posted-date",
    "posted-date-time",
    "order-item-code",
    "merchant-order-item-id",
    "merchant-adjustment-item-id",
    "sku",
    "quantity-purchased",
    "promotion-id",
)


def drifted_columns() -> tuple[str, ...]:
    """The drifted layout (one of the anomalies in README.md): ``marketplace-id`` inserted after
    marketplace-name, fulfillment-id moved to the end. Every original column is still there, so the data stays
    valid and reconciles."""
    columns = [c for c in V2_COLUMNS if c != "fulfillment-id"]
    columns.insert(columns.index("marketplace-name") + 1, "marketplace-id")
    columns.append("fulfillment-id")
    return tuple(columns)


def format_amount(value: Decimal, mp: Marketplace) -> str:
    text = f"{value:.{mp.minor_digits}f}"
    return text.replace(".", ",") if mp.file_style == "eu" else text


def format_timestamp(moment: datetime, mp: Marketplace) -> str:
    if mp.file_style == "eu":
        return moment.strftime("%d.%m.%Y %H:%M:%S UTC")
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def format_posted_date(moment: datetime, mp: Marketplace) -> str:
    if mp.file_style == "eu":
        return moment.strftime("%d.%m.%Y")
    return moment.strftime("%Y-%m-%d 00:00:00 UTC")


def _line_row(settlement: Settlement, entry: Entry, line: Line, mp: Marketplace) -> dict[str, str]:
    is_item_line = line.order_item_code is not None
    return {
        "settlement-id": settlement.settlement_id,
        "currency": settlement.currency,
        "transaction-type": entry.transaction_type,
        "order-id": entry.order_id or "",
        "adjustment-id": entry.adjustment_id or "",
        "shipment-id": entry.shipment_id or "",
        "marketplace-name": mp.name,
        "marketplace-id": mp.marketplace_id,
        "amount-type": line.amount_type,
        "amount-description": line.amount_description,
        "amount": format_amount(line.amount, mp),
        "fulfillment-id": "AFN" if is_item_line else "",
        "posted-date": format_posted_date(entry.posted_at, mp),
        "posted-date-time": format_timestamp(entry.posted_at, mp),
        "order-item-code": line.order_item_code or "",
        "merchant-adjustment-item-id": line.adjustment_item_id or "",
        "sku": line.sku or "",
        "quantity-purchased": str(line.quantity)
        if line.quantity is not None and entry.kind == "Order"
        else "",
        "promotion-id": line.promotion_id or "",
    }


def render_settlement_report(settlement: Settlement, *, drifted: bool = False) -> bytes:
    """The file's bytes, encoded in the marketplace's charset with its line ending."""
    mp = MARKETPLACES[settlement.marketplace_id]
    columns = drifted_columns() if drifted else V2_COLUMNS
    summary = {
        "settlement-id": settlement.settlement_id,
        "settlement-start-date": format_timestamp(settlement.period.start, mp),
        "settlement-end-date": format_timestamp(settlement.period.end, mp),
        "deposit-date": format_timestamp(settlement.deposit_at, mp),
        "total-amount": format_amount(settlement.total, mp),
        "currency": settlement.currency,
    }
    rows = [list(columns), [summary.get(c, "") for c in columns]]
    for entry in settlement.entries:
        for line in entry.lines:
            values = _line_row(settlement, entry, line, mp)
            rows.append([values.get(c, "") for c in columns])
    text = "".join("\t".join(row) + mp.line_ending for row in rows)
    return text.encode(mp.charset)
