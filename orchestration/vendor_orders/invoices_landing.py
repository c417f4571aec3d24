"""Vendor invoices (Finances Invoices 2026-06-25) into the lake; a partition per account and issue month.

- `vendor_invoices/account_id=<id>,issue_month=<YYYY-MM>/`: one row per invoice, its latest version: a status
  change replaces the row in place (an invoice is never counted twice);
- `vendor_invoice_status_history/...`: one row per (invoice, status, last update) seen: the invoice's history;
- `vendor_invoice_lines/...`: the line items of each invoice's latest version, with their matching context;
- `vendor_shipment_items/account_id=<id>,created_month=<YYYY-MM>/`: the vendor's shipments (GetShipmentDetails),
  one row per shipped PO item.

Each run sweeps issue-date windows of at most 90 days over `history_days` back; after the first run it asks only
for invoices modified after the newest update landed, less `lookback_days`. A header that changed (or is new) is
read in full with getInvoice (every page of line items); an unchanged header keeps its stored rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from lake.partitions import partition_name, partitions, read_partition, write_partition
from orchestration.raw_pages import archive_page
from spapi.calls import VendorInvoicesCalls
from spapi.config import AccountConfig
from spapi.windows import as_utc
from transforms.archive import RawArchive
from transforms.vendor_invoices import (
    VENDOR_INVOICE_LINES_SCHEMA,
    VENDOR_INVOICE_STATUS_HISTORY_SCHEMA,
    VENDOR_INVOICES_SCHEMA,
    VENDOR_SHIPMENT_ITEMS_SCHEMA,
    invoice_headers_table,
    invoice_lines_table,
    shipment_items_table,
)

INVOICES = "vendor_invoices"
INVOICE_LINES = "vendor_invoice_lines"
INVOICE_STATUS_HISTORY = "vendor_invoice_status_history"
HISTORY_DAYS = 365
NO_MONTH = "unknown"


@dataclass
class InvoiceOutcome:
    account_id: str
    modified_after: str = ""
    pages: int = 0
    headers_read: int = 0
    invoices_changed: int = 0
    lines_read: int = 0
    months: list[str] = field(default_factory=list)


def issue_month(moment: datetime | None) -> str:
    return NO_MONTH if moment is None else as_utc(moment).strftime("%Y-%m")


def _stored(lake: Path, dataset: str, account_id: str, schema: pa.Schema) -> dict[str, pa.Table]:
    prefix = partition_name(account_id=account_id) + ","
    found = {}
    for name in partitions(lake, dataset):
        if name.startswith(prefix):
            table = read_partition(lake, dataset, name, schema)
            if table is not None:
                found[name] = table
    return found


def _comparable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "source_sha256"}


def land_vendor_invoices(
    client: VendorInvoicesCalls,
    account: AccountConfig,
    *,
    lake: Path,
    archive: RawArchive,
    now: datetime,
    lookback_days: int,
    history_days: int = HISTORY_DAYS,
) -> InvoiceOutcome:
    outcome = InvoiceOutcome(account.id)
    stored_headers = _stored(lake, INVOICES, account.id, VENDOR_INVOICES_SCHEMA)
    stored_rows = {
        row["invoice_identifier"]: row for table in stored_headers.values() for row in table.to_pylist()
    }
    newest = max((r["last_updated_at"] for r in stored_rows.values() if r["last_updated_at"]), default=None)
    modified_after = None if newest is None else as_utc(newest) - timedelta(days=lookback_days)
    outcome.modified_after = modified_after.isoformat() if modified_after else ""

    latest: dict[str, dict[str, Any]] = {}
    for marketplace in account.marketplaces:
        for page in client.iter_invoice_headers(
            marketplace, issued_from=as_utc(now) - timedelta(days=history_days), modified_after=modified_after
        ):
            sha = archive_page(archive, page, account_id=account.id)
            outcome.pages += 1
            table = invoice_headers_table(
                list(page.items), account_id=account.id, marketplace_id=marketplace, source_sha256=sha
            )
            for row in table.to_pylist():
                outcome.headers_read += 1
                known = latest.get(row["invoice_identifier"])
                if known is None or (row["last_updated_at"] or now) >= (known["last_updated_at"] or now):
                    latest[row["invoice_identifier"]] = row

    changed = {
        identifier: row
        for identifier, row in latest.items()
        if identifier not in stored_rows or _comparable(stored_rows[identifier]) != _comparable(row)
    }
    outcome.invoices_changed = len(changed)
    new_lines: list[pa.Table] = []
    for identifier, row in sorted(changed.items()):
        for page in client.iter_invoice_pages(identifier, row["marketplace_id"]):
            sha = archive_page(archive, page, account_id=account.id)
            outcome.pages += 1
            lines = invoice_lines_table(
                list(page.items),
                account_id=account.id,
                invoice_identifier=identifier,
                issued_at=row["issued_at"],
                source_sha256=sha,
            )
            outcome.lines_read += lines.num_rows
            new_lines.append(lines)
    lines_by_invoice: dict[str, list[dict[str, Any]]] = {}
    for table in new_lines:
        for line in table.to_pylist():
            lines_by_invoice.setdefault(line["invoice_identifier"], []).append(line)

    by_month: dict[str, list[dict[str, Any]]] = {}
    for row in changed.values():
        by_month.setdefault(issue_month(row["issued_at"]), []).append(row)
    for month, rows in sorted(by_month.items()):
        partition = partition_name(account_id=account.id, issue_month=month)
        replaced = {r["invoice_identifier"] for r in rows}
        kept_headers = [
            r
            for r in (stored_headers[partition].to_pylist() if partition in stored_headers else [])
            if r["invoice_identifier"] not in replaced
        ]
        stored_lines = read_partition(lake, INVOICE_LINES, partition, VENDOR_INVOICE_LINES_SCHEMA)
        kept_lines = [
            r
            for r in (stored_lines.to_pylist() if stored_lines else [])
            if r["invoice_identifier"] not in replaced
        ]
        lines = kept_lines + [
            line for r in rows for line in lines_by_invoice.get(r["invoice_identifier"], [])
        ]
        stored_history = read_partition(
            lake, INVOICE_STATUS_HISTORY, partition, VENDOR_INVOICE_STATUS_HISTORY_SCHEMA
        )
        history = stored_history.to_pylist() if stored_history else []
        seen = {(h["invoice_identifier"], h["invoice_status"], h["last_updated_at"]) for h in history}
        for r in rows:
            key = (r["invoice_identifier"], r["invoice_status"], r["last_updated_at"])
            if key not in seen:
                seen.add(key)
                history.append({name: r.get(name) for name in VENDOR_INVOICE_STATUS_HISTORY_SCHEMA.names})
        for dataset, data, schema, keys in (
            (INVOICES, kept_headers + rows, VENDOR_INVOICES_SCHEMA, ("invoice_identifier",)),
            (INVOICE_LINES, lines, VENDOR_INVOICE_LINES_SCHEMA, ("invoice_identifier", "line_item_id")),
            (
                INVOICE_STATUS_HISTORY,
                history,
                VENDOR_INVOICE_STATUS_HISTORY_SCHEMA,
                ("invoice_identifier", "last_updated_at"),
            ),
        ):
            write_partition(
                lake, dataset, partition, pa.Table.from_pylist(data, schema=schema), sort_keys=keys
            )
        outcome.months.append(month)
    return outcome


SHIPMENT_ITEMS = "vendor_shipment_items"


@dataclass
class ShipmentOutcome:
    account_id: str
    created_after: str = ""
    pages: int = 0
    shipments_read: int = 0
    items_written: int = 0


def land_vendor_shipments(
    client: VendorInvoicesCalls,
    account: AccountConfig,
    *,
    lake: Path,
    archive: RawArchive,
    now: datetime,
    lookback_days: int,
    history_days: int = HISTORY_DAYS,
) -> ShipmentOutcome:
    """Shipments (ASNs) created since the newest landed (less `lookback_days`), or over `history_days` on the
    first run; a partition per account and creation month; a shipment re-read replaces its rows."""
    outcome = ShipmentOutcome(account.id)
    stored = _stored(lake, SHIPMENT_ITEMS, account.id, VENDOR_SHIPMENT_ITEMS_SCHEMA)
    newest = max(
        (r for t in stored.values() for r in t.column("shipment_created_at").to_pylist() if r is not None),
        default=None,
    )
    start = (
        as_utc(now) - timedelta(days=history_days)
        if newest is None
        else as_utc(newest) - timedelta(days=lookback_days)
    )
    outcome.created_after = start.isoformat()
    rows: dict[str, list[dict[str, Any]]] = {}
    for page in client.iter_shipment_details(start):
        sha = archive_page(archive, page, account_id=account.id)
        outcome.pages += 1
        outcome.shipments_read += len(page.items)
        for row in shipment_items_table(
            list(page.items), account_id=account.id, source_sha256=sha
        ).to_pylist():
            rows.setdefault(row["vendor_shipment_identifier"], []).append(row)
    by_month: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for identifier, items in rows.items():
        by_month.setdefault(issue_month(items[0]["shipment_created_at"]), {})[identifier] = items
    for month, shipments in sorted(by_month.items()):
        partition = partition_name(account_id=account.id, created_month=month)
        existing = stored[partition].to_pylist() if partition in stored else []
        kept = [r for r in existing if r["vendor_shipment_identifier"] not in shipments]
        merged = kept + [r for items in shipments.values() for r in items]
        if [_comparable(r) for r in sorted(existing, key=_shipment_key)] == [
            _comparable(r) for r in sorted(merged, key=_shipment_key)
        ]:
            continue
        table = pa.Table.from_pylist(merged, schema=VENDOR_SHIPMENT_ITEMS_SCHEMA)
        write_partition(
            lake,
            SHIPMENT_ITEMS,
            partition,
            table,
            sort_keys=("vendor_shipment_identifier", "purchase_order_number", "item_sequence_number"),
        )
        outcome.items_written += table.num_rows
    return outcome


def _shipment_key(row: dict[str, Any]) -> tuple[str, str, str]:
    return (row["vendor_shipment_identifier"], row["purchase_order_number"], row["item_sequence_number"])
