"""Vendor purchase orders into the lake: headers, items, item status; a partition per account and order month.

- `vendor_po_headers/account_id=<id>,order_month=<YYYY-MM>/`: one row per PO, its latest version;
- `vendor_po_items/...`: one row per PO item (of that latest version);
- `vendor_po_item_status/...`: one row per PO item from getPurchaseOrdersStatus (acknowledged, received).
A PO's order date never changes, so it always lands in the same partition; a newer version of a PO replaces
the older one there (latest change date wins), and a PO re-read unchanged keeps its stored rows.

Each run reads changedAfter (and updatedAfter) windows from `lookback_days` before the newest change already
in the lake, or six months back (as far as Amazon serves) on the first run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lake.partitions import (
    drop_unchanged,
    partition_name,
    partitions,
    read_partition,
    write_partition,
)
from orchestration.raw_pages import archive_page
from spapi.calls import VendorOrdersCalls
from spapi.config import AccountConfig
from spapi.windows import VENDOR_MAX_AGE, as_utc
from transforms.archive import RawArchive
from transforms.vendor_orders import (
    VENDOR_PO_HEADERS_SCHEMA,
    VENDOR_PO_ITEM_STATUS_SCHEMA,
    VENDOR_PO_ITEMS_SCHEMA,
    dedupe_purchase_order_status,
    dedupe_purchase_orders,
    purchase_order_status_table,
    purchase_orders_tables,
)

HEADERS = "vendor_po_headers"
ITEMS = "vendor_po_items"
ITEM_STATUS = "vendor_po_item_status"

PO_KEY = ("account_id", "purchase_order_number")
# What identifies the page a row came from; two reads of an unchanged PO differ only in these.
PAGE_COLUMNS = ("source_sha256", "order_index")
HEADER_SORT = ("account_id", "purchase_order_number")
ITEM_SORT = ("account_id", "purchase_order_number", "item_sequence_number")
NO_MONTH = "unknown"


@dataclass
class VendorOutcome:
    account_id: str
    orders_window_start: str = ""
    status_window_start: str = ""
    pages: int = 0
    orders_read: int = 0
    statuses_read: int = 0
    partitions_changed: int = 0
    months: list[str] = field(default_factory=list)


def order_month(moment: datetime | None) -> str:
    return NO_MONTH if moment is None else as_utc(moment).strftime("%Y-%m")


def month_partition(account_id: str, month: str) -> str:
    return partition_name(account_id=account_id, order_month=month)


def _account_partitions(lake: Path, dataset: str, account_id: str) -> list[str]:
    prefix = partition_name(account_id=account_id) + ","
    return [name for name in partitions(lake, dataset) if name.startswith(prefix)]


def _newest(lake: Path, dataset: str, account_id: str, column: str, schema: pa.Schema) -> datetime | None:
    newest: datetime | None = None
    for name in _account_partitions(lake, dataset, account_id):
        table = read_partition(lake, dataset, name, schema)
        if table is None or table.num_rows == 0:
            continue
        value = pc.max(table[column]).as_py()
        if isinstance(value, datetime) and (newest is None or value > newest):
            newest = value
    return newest


def window_start(newest: datetime | None, *, now: datetime, lookback_days: int) -> datetime:
    """Where the run's windows start: the lookback before the newest change landed, else six months back."""
    earliest = as_utc(now) - VENDOR_MAX_AGE
    if newest is None:
        return earliest
    return max(earliest, min(as_utc(newest), as_utc(now)) - timedelta(days=lookback_days))


def _filtered_body(page: Any, key: str) -> dict[str, Any]:
    """The page as the transform expects it, holding only the items the client kept (in range, first seen)."""
    return {"payload": {key: list(page.items)}}


def land_vendor_orders(
    client: VendorOrdersCalls,
    account: AccountConfig,
    *,
    lake: Path,
    archive: RawArchive,
    now: datetime,
    lookback_days: int,
) -> VendorOutcome:
    outcome = VendorOutcome(account.id)
    orders_from = window_start(
        _newest(lake, HEADERS, account.id, "changed_at", VENDOR_PO_HEADERS_SCHEMA),
        now=now,
        lookback_days=lookback_days,
    )
    status_from = window_start(
        _newest(lake, ITEM_STATUS, account.id, "last_updated_at", VENDOR_PO_ITEM_STATUS_SCHEMA),
        now=now,
        lookback_days=lookback_days,
    )
    outcome.orders_window_start, outcome.status_window_start = (
        orders_from.isoformat(),
        status_from.isoformat(),
    )

    headers, items = [], []
    for page in client.iter_purchase_orders(changed_after=orders_from):
        sha = archive_page(archive, page, account_id=account.id)
        outcome.pages += 1
        page_headers, page_items = purchase_orders_tables(
            _filtered_body(page, "orders"), account_id=account.id, source_sha256=sha
        )
        headers.append(page_headers)
        items.append(page_items)
    statuses = []
    for page in client.iter_purchase_order_statuses(updated_after=status_from):
        sha = archive_page(archive, page, account_id=account.id)
        outcome.pages += 1
        statuses.append(
            purchase_order_status_table(
                _filtered_body(page, "ordersStatus"), account_id=account.id, source_sha256=sha
            )
        )
    new_headers = _concat(headers, VENDOR_PO_HEADERS_SCHEMA)
    new_items = _concat(items, VENDOR_PO_ITEMS_SCHEMA)
    new_status = _concat(statuses, VENDOR_PO_ITEM_STATUS_SCHEMA)
    outcome.orders_read, outcome.statuses_read = new_headers.num_rows, new_status.num_rows

    header_months = _months_of(new_headers, "purchase_order_at")
    for month in sorted(header_months):
        partition = month_partition(account.id, month)
        stored_headers = read_partition(lake, HEADERS, partition, VENDOR_PO_HEADERS_SCHEMA)
        stored_items = read_partition(lake, ITEMS, partition, VENDOR_PO_ITEMS_SCHEMA)
        month_headers = _only_pos(new_headers, header_months[month])
        changed = _po_numbers(
            drop_unchanged(stored_headers, month_headers, PO_KEY, ignore=PAGE_COLUMNS)
        ) | _po_numbers(
            drop_unchanged(
                stored_items, _only_pos(new_items, header_months[month]), PO_KEY, ignore=PAGE_COLUMNS
            )
        )
        if not changed:
            continue
        merged_headers, merged_items = dedupe_purchase_orders(
            _combine(stored_headers, _only_pos(new_headers, changed), VENDOR_PO_HEADERS_SCHEMA),
            _combine(stored_items, _only_pos(new_items, changed), VENDOR_PO_ITEMS_SCHEMA),
        )
        for dataset, table, keys in (
            (HEADERS, merged_headers, HEADER_SORT),
            (ITEMS, merged_items, ITEM_SORT),
        ):
            outcome.partitions_changed += int(
                write_partition(lake, dataset, partition, table, sort_keys=keys).changed
            )
        outcome.months.append(month)

    status_months = _months_of(new_status, "purchase_order_at")
    for month in sorted(status_months):
        partition = month_partition(account.id, month)
        stored = read_partition(lake, ITEM_STATUS, partition, VENDOR_PO_ITEM_STATUS_SCHEMA)
        month_status = _only_pos(new_status, status_months[month])
        changed = _po_numbers(drop_unchanged(stored, month_status, PO_KEY, ignore=PAGE_COLUMNS))
        if not changed:
            continue
        merged = dedupe_purchase_order_status(
            _combine(stored, _only_pos(new_status, changed), VENDOR_PO_ITEM_STATUS_SCHEMA)
        )
        written = write_partition(lake, ITEM_STATUS, partition, merged, sort_keys=ITEM_SORT)
        outcome.partitions_changed += int(written.changed)
    return outcome


def _concat(tables: Iterable[pa.Table], schema: pa.Schema) -> pa.Table:
    parts = [table.cast(schema) for table in tables]
    return pa.concat_tables(parts) if parts else schema.empty_table()


def _combine(stored: pa.Table | None, new: pa.Table, schema: pa.Schema) -> pa.Table:
    """Stored rows of the POs not re-read, then the re-read POs (what Amazon answers now replaces the stored
    version; versions of one PO read in several windows of this run are de-duplicated by the caller)."""
    if stored is None or stored.num_rows == 0:
        return new.cast(schema)
    replaced = pa.array(sorted(_po_numbers(new)), type=pa.string())
    kept = stored.filter(pc.invert(pc.is_in(stored["purchase_order_number"], value_set=replaced)))
    return pa.concat_tables([kept.cast(schema), new.cast(schema)])


def _po_numbers(table: pa.Table) -> set[str]:
    return set(table["purchase_order_number"].to_pylist())


def _only_pos(table: pa.Table, numbers: set[str]) -> pa.Table:
    return table.filter(
        pc.is_in(table["purchase_order_number"], value_set=pa.array(sorted(numbers), type=pa.string()))
    )


def _months_of(table: pa.Table, column: str) -> dict[str, set[str]]:
    """PO numbers by the month of their order date (the partition they belong to)."""
    months: dict[str, set[str]] = {}
    for row in table.select(["purchase_order_number", column]).to_pylist():
        months.setdefault(order_month(row[column]), set()).add(row["purchase_order_number"])
    return months
