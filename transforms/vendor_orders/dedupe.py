"""The same purchase order fetched in several changedAfter windows counts once: the latest version wins.

Amazon is reported to ignore `updatedAfter`/`sortOrder` at times (AMAZON-FACTS.md), so windows overlap and
the client de-duplicates: per (account_id, purchase_order_number) the version with the latest change date
is kept; equal dates are broken by the highest `source_sha256`, then `order_index`: arbitrary but stable, so
the result does not depend on the order of the input rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _version_rank(row: dict[str, Any], date_columns: tuple[str, ...]) -> tuple[Any, ...]:
    dates = tuple(row.get(column) or _EPOCH for column in date_columns)
    return (*dates, row["source_sha256"], row["order_index"])


def _winning_versions(table: pa.Table, date_columns: tuple[str, ...]) -> set[tuple[str, str, str, int]]:
    columns = ["account_id", "purchase_order_number", "source_sha256", "order_index", *date_columns]
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for row in table.select(columns).to_pylist():
        key = (row["account_id"], row["purchase_order_number"])
        if key not in best or _version_rank(row, date_columns) > _version_rank(best[key], date_columns):
            best[key] = row
    return {
        (r["account_id"], r["purchase_order_number"], r["source_sha256"], r["order_index"])
        for r in best.values()
    }


def _keep(table: pa.Table, versions: set[tuple[str, str, str, int]]) -> pa.Table:
    rows = table.select(["account_id", "purchase_order_number", "source_sha256", "order_index"]).to_pylist()
    mask = [
        (r["account_id"], r["purchase_order_number"], r["source_sha256"], r["order_index"]) in versions
        for r in rows
    ]
    return table.filter(pa.array(mask, type=pa.bool_()))


def _sorted(table: pa.Table, extra: tuple[str, ...] = ()) -> pa.Table:
    return table.sort_by(
        [("account_id", "ascending"), ("purchase_order_number", "ascending")]
        + [(column, "ascending") for column in extra]
    )


def dedupe_purchase_orders(headers: pa.Table, items: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Headers and items with one version per PO: latest `changed_at`, then `state_changed_at`."""
    versions = _winning_versions(headers, ("changed_at", "state_changed_at"))
    return _sorted(_keep(headers, versions)), _sorted(_keep(items, versions), ("item_sequence_number",))


def dedupe_purchase_order_status(status: pa.Table) -> pa.Table:
    """Item status rows with one version per PO: the latest `last_updated_at` wins."""
    versions = _winning_versions(status, ("last_updated_at",))
    return _sorted(_keep(status, versions), ("item_sequence_number",))
