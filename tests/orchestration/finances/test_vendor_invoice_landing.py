"""Vendor invoices landed from the simulator over HTTP: one row per invoice and line, a status change updates the
invoice in place (its history grows, the invoice is not counted twice), a re-run with nothing new is identical."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.vendor_orders import invoices_landing as invoices

pytestmark = [pytest.mark.slow]


def _land(landing) -> invoices.InvoiceOutcome:  # type: ignore[no-untyped-def]
    account = landing.accounts["demo-vendor"]
    with landing.client(account.id) as client:
        now = client.options.now()
        invoices.land_vendor_shipments(
            client, account, lake=landing.lake, archive=landing.archive, now=now, lookback_days=7
        )
        return invoices.land_vendor_invoices(
            client, account, lake=landing.lake, archive=landing.archive, now=now, lookback_days=7
        )


def _query(lake: Path, sql: str) -> list[tuple]:
    with duckdb.connect() as connection:
        for dataset in (
            invoices.INVOICES,
            invoices.INVOICE_LINES,
            invoices.INVOICE_STATUS_HISTORY,
            invoices.SHIPMENT_ITEMS,
        ):
            connection.execute(
                f"create view {dataset} as select * from read_parquet('{lake}/{dataset}/*/*.parquet')"
            )
        return connection.execute(sql).fetchall()


def test_invoices_land_once_and_status_changes_update_in_place(landing) -> None:  # type: ignore[no-untyped-def]
    first = _land(landing)
    assert first.headers_read > 0 and first.invoices_changed == first.headers_read and first.lines_read > 0
    [(rows, distinct, statuses)] = _query(
        landing.lake,
        "select count(*), count(distinct invoice_identifier), count(distinct invoice_status) from vendor_invoices",
    )
    assert rows == distinct == first.headers_read and statuses == 6
    # Lines sum to their invoice, exactly (decimal all the way).
    mismatched = _query(
        landing.lake,
        "select i.invoice_identifier from vendor_invoices i join (select invoice_identifier, sum(total_amount) s "
        "from vendor_invoice_lines group by 1) l using (invoice_identifier) where l.s <> i.invoice_amount",
    )
    assert mismatched == []
    # Every invoice line's PO item was shipped on the invoice's ASN.
    unshipped = _query(
        landing.lake,
        "select l.invoice_identifier, l.line_item_id from vendor_invoice_lines l left join vendor_shipment_items s "
        "on s.vendor_shipment_identifier = l.asn_id and s.buyer_product_identifier = l.asin "
        "where s.shipped_quantity_eaches is null",
    )
    assert unshipped == []
    [(amount_type,)] = _query(landing.lake, "select typeof(invoice_amount) from vendor_invoices limit 1")
    assert amount_type.startswith("DECIMAL")

    before = {p: p.read_bytes() for p in sorted(landing.lake.rglob("*.parquet"))}
    again = _land(landing)
    assert again.invoices_changed == 0 and again.modified_after
    assert {p: p.read_bytes() for p in sorted(landing.lake.rglob("*.parquet"))} == before

    status_before = dict(
        _query(landing.lake, "select invoice_identifier, invoice_status from vendor_invoices")
    )
    landing.simulator.advance(timedelta(days=40))
    later = _land(landing)
    assert 0 < later.invoices_changed < later.headers_read + 1
    status_after = dict(
        _query(landing.lake, "select invoice_identifier, invoice_status from vendor_invoices")
    )
    moved = {k for k in status_before if status_after[k] != status_before[k]}
    assert moved and any(status_before[k] == "PARTIALLY_DEDUCTED" for k in moved)
    [(rows, distinct)] = _query(
        landing.lake, "select count(*), count(distinct invoice_identifier) from vendor_invoices"
    )
    assert rows == distinct
    [(lines, distinct_lines)] = _query(
        landing.lake,
        "select count(*), count(distinct (invoice_identifier, line_item_id)) from vendor_invoice_lines",
    )
    assert lines == distinct_lines
    histories = dict(
        _query(
            landing.lake, "select invoice_identifier, count(*) from vendor_invoice_status_history group by 1"
        )
    )
    assert all(histories[k] >= 2 for k in moved)
    [(paid,)] = _query(landing.lake, "select sum(paid_amount) from vendor_invoices")
    assert isinstance(paid, Decimal) and paid > 0
