"""Vendor POs landed from the simulator: one row per PO and line, updated in place, re-runs identical."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.vendor_orders import landing as vendor

pytestmark = [pytest.mark.slow]


def _land(landing) -> vendor.VendorOutcome:  # type: ignore[no-untyped-def]
    account = landing.accounts["demo-vendor"]
    with landing.client(account.id) as client:
        return vendor.land_vendor_orders(
            client,
            account,
            lake=landing.lake,
            archive=landing.archive,
            now=client.options.now(),
            lookback_days=7,
        )


def _count(lake: Path, dataset: str, keys: str) -> tuple[int, int]:
    with duckdb.connect() as connection:
        row = connection.execute(
            f"select count(*), count(distinct ({keys})) from read_parquet('{lake}/{dataset}/*/*.parquet')"
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def test_purchase_orders_land_once_per_po_and_line_and_rerun_identically(landing) -> None:  # type: ignore[no-untyped-def]
    first = _land(landing)
    assert first.orders_read > 0 and first.statuses_read > 0
    rows, distinct = _count(landing.lake, vendor.HEADERS, "account_id, purchase_order_number")
    assert rows == distinct > 0
    rows, distinct = _count(landing.lake, vendor.ITEMS, "purchase_order_number, item_sequence_number")
    assert rows == distinct > rows // 2 > 0
    rows, distinct = _count(landing.lake, vendor.ITEM_STATUS, "purchase_order_number, item_sequence_number")
    assert rows == distinct > 0
    # Every partition is the PO's order month.
    with duckdb.connect() as connection:
        headers = f"{landing.lake}/{vendor.HEADERS}/*/*.parquet"
        misplaced = connection.execute(
            f"select count(*) from read_parquet('{headers}', filename = true) "
            "where not contains(filename, 'order_month=' || strftime(purchase_order_at, '%Y-%m'))"
        ).fetchone()
    assert misplaced == (0,)

    before = {p: p.read_bytes() for p in sorted(landing.lake.rglob("*.parquet"))}
    again = _land(landing)
    assert again.partitions_changed == 0
    assert {p: p.read_bytes() for p in sorted(landing.lake.rglob("*.parquet"))} == before

    # Days later Amazon has changed some POs: they are replaced in place, never duplicated.
    landing.simulator.advance(timedelta(days=5))
    _land(landing)
    rows, distinct = _count(landing.lake, vendor.HEADERS, "account_id, purchase_order_number")
    assert rows == distinct
    rows, distinct = _count(landing.lake, vendor.ITEM_STATUS, "purchase_order_number, item_sequence_number")
    assert rows == distinct
