"""Vendor purchase orders: every money field lands once, no personal data, quirks, window de-duplication."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from transforms.finances import MoneyPrecisionError
from transforms.vendor_orders import (
    dedupe_purchase_order_status,
    dedupe_purchase_orders,
    purchase_order_status_table,
    purchase_orders_tables,
)

AIRBYTE = "api-fixtures/airbyte-source-amazon-seller-partner"


def _order_files(shared: Path) -> list[Path]:
    examples = sorted((shared / "spapi-examples").glob("getPurchaseOrder*.json"))
    return [p for p in examples if ".400." not in p.name and "Status" not in p.name] + [
        shared / AIRBYTE / "VendorOrders.json"
    ]


def _status_files(shared: Path) -> list[Path]:
    examples = sorted((shared / "spapi-examples").glob("getPurchaseOrdersStatus.*.json"))
    return [p for p in examples if ".400." not in p.name] + [shared / AIRBYTE / "VendorOrdersStatus.json"]


def _landed(table: pa.Table) -> Counter[tuple[Decimal, str | None]]:
    counter: Counter[tuple[Decimal, str | None]] = Counter()
    for prefix in ("net_cost", "list_price"):
        for amount, currency in zip(
            table[prefix].to_pylist(), table[f"{prefix}_currency"].to_pylist(), strict=True
        ):
            if amount is not None or currency is not None:
                counter[(amount, currency)] += 1
    return counter


def test_every_po_money_field_lands_once(shared_fixtures, exact_loader, money_walker):
    checked = 0
    for path in _order_files(shared_fixtures):
        body = exact_loader(path)
        _, items = purchase_orders_tables(body, account_id="acct", source_sha256="s")
        raw = Counter((amount, code) for _, amount, code in money_walker(body))
        assert _landed(items) == raw, path.name
        checked += sum(raw.values())
    for path in _status_files(shared_fixtures):
        body = exact_loader(path)
        status = purchase_order_status_table(body, account_id="acct", source_sha256="s")
        raw = Counter((amount, code) for _, amount, code in money_walker(body))
        assert _landed(status) == raw, path.name
        checked += sum(raw.values())
    assert checked > 40


def test_no_personal_data_reaches_the_tables(shared_fixtures, exact_loader):
    body = exact_loader(shared_fixtures / AIRBYTE / "VendorOrders.json")
    headers, items = purchase_orders_tables(body, account_id="acct", source_sha256="s")
    text = json.dumps(headers.to_pylist() + items.to_pylist(), default=str)
    for personal in (
        "APPARIO",
        "Siddhapudur",
        "641044",
        "206-266-8000",
        "098522PCA6346DTEDD",
        "PREFERENCE IS PALLET",
    ):
        assert personal not in text
    header = headers.to_pylist()[0]
    assert (header["buying_party_id"], header["buying_country"], header["selling_party_id"]) == (
        "ABCD",
        "IN",
        "TEST1",
    )


def test_airbyte_quirks_orders_under_orders_status_and_items_outside_details(shared_fixtures, exact_loader):
    headers, items = purchase_orders_tables(
        exact_loader(shared_fixtures / AIRBYTE / "VendorOrders.json"), account_id="a", source_sha256="s"
    )
    header = headers.to_pylist()[0]
    assert header["purchase_order_number"] == "L8266355" and header["item_count"] == 1
    assert (header["delivery_window_start_at"], header["delivery_window_end_at"]) == (
        datetime(2019, 5, 23, 10, tzinfo=UTC),
        datetime(2019, 5, 30, 10, tzinfo=UTC),
    )
    item = items.to_pylist()[0]
    assert (item["ordered_quantity"], item["ordered_quantity_unit"], item["ordered_quantity_eaches"]) == (
        2,
        "Cases",
        20,
    )
    assert (item["net_cost"], item["net_cost_currency"], item["list_price"]) == (
        Decimal("1800"),
        "INR",
        Decimal("2000"),
    )
    status = purchase_order_status_table(
        exact_loader(shared_fixtures / AIRBYTE / "VendorOrdersStatus.json"), account_id="a", source_sha256="s"
    )
    assert status["net_cost"].to_pylist()[0] == Decimal("27.37")  # a JSON number here, a string in the model


def test_ship_window_and_status_quantities(examples, exact_loader):
    headers, _ = purchase_orders_tables(
        exact_loader(examples / "getPurchaseOrders.1.json"), account_id="a", source_sha256="s"
    )
    first = headers.to_pylist()[0]
    assert (first["ship_window_start_at"], first["ship_window_end_at"]) == (
        datetime(2019, 8, 21, 7, tzinfo=UTC),
        datetime(2019, 8, 27, 7, tzinfo=UTC),
    )
    status = purchase_order_status_table(
        exact_loader(examples / "getPurchaseOrdersStatus.1.json"), account_id="a", source_sha256="s"
    )
    item = status.to_pylist()[0]
    assert (item["purchase_order_number"], item["item_sequence_number"], item["ordered_quantity"]) == (
        "2JK3S9VB",
        "1",
        1,
    )
    assert (item["accepted_quantity"], item["rejected_quantity"], item["received_quantity"]) == (1, 0, 1)
    assert item["received_quantity_unit"] == "Cases" and item["acknowledged_at"] == datetime(
        2020, 8, 17, 21, 5, 58, 193000, tzinfo=UTC
    )
    second = status.to_pylist()[1]
    assert (second["ordered_quantity"], second["ordered_quantity_updated_at"]) == (
        20,
        datetime(2020, 8, 17, 20, 35, tzinfo=UTC),
    )


def _order(number: str, changed: str, cost: Any) -> dict[str, Any]:
    return {
        "purchaseOrderNumber": number,
        "purchaseOrderState": "Acknowledged",
        "orderDetails": {
            "purchaseOrderDate": "2026-11-01T00:00:00Z",
            "purchaseOrderChangedDate": changed,
            "purchaseOrderStateChangedDate": "2026-11-01T00:00:00Z",
            "items": [
                {
                    "itemSequenceNumber": "1",
                    "orderedQuantity": {"amount": 4},
                    "isBackOrderAllowed": False,
                    "netCost": {"amount": cost, "currencyCode": "EUR"},
                }
            ],
        },
    }


def test_same_po_in_two_windows_counts_once_latest_change_wins():
    window_1 = purchase_orders_tables(
        {
            "payload": {
                "orders": [
                    _order("PO1", "2026-11-02T00:00:00Z", "10.00"),
                    _order("PO2", "2026-11-02T00:00:00Z", 5),
                ]
            }
        },
        account_id="a",
        source_sha256="w1",
    )
    window_2 = purchase_orders_tables(
        {"payload": {"orders": [_order("PO1", "2026-11-03T00:00:00Z", "11.25")]}},
        account_id="a",
        source_sha256="w2",
    )
    for ordering in ((window_1, window_2), (window_2, window_1)):
        headers = pa.concat_tables([ordering[0][0], ordering[1][0]])
        items = pa.concat_tables([ordering[0][1], ordering[1][1]])
        unique_headers, unique_items = dedupe_purchase_orders(headers, items)
        assert unique_headers["purchase_order_number"].to_pylist() == ["PO1", "PO2"]
        assert [(r["purchase_order_number"], r["net_cost"]) for r in unique_items.to_pylist()] == [
            ("PO1", Decimal("11.25")),
            ("PO2", Decimal("5")),
        ]


def test_status_dedupe_keeps_latest_update(examples, exact_loader):
    body = exact_loader(examples / "getPurchaseOrdersStatus.1.json")
    older = purchase_order_status_table(body, account_id="a", source_sha256="old")
    body["payload"]["ordersStatus"][0]["lastUpdatedDate"] = "2021-01-01T00:00:00Z"
    newer = purchase_order_status_table(body, account_id="a", source_sha256="new")
    unique = dedupe_purchase_order_status(pa.concat_tables([newer, older]))
    assert unique.num_rows == older.num_rows
    by_po = {(r["purchase_order_number"], r["source_sha256"]) for r in unique.to_pylist()}
    assert ("2JK3S9VB", "new") in by_po and ("2JK3S9VB", "old") not in by_po


def test_unit_prices_keep_four_places_and_refuse_more():
    _, items = purchase_orders_tables(
        {"payload": {"orders": [_order("PO1", "2026-11-02T00:00:00Z", "0.1234")]}},
        account_id="a",
        source_sha256="s",
    )
    assert items["net_cost"].to_pylist() == [Decimal("0.1234")]
    with pytest.raises(MoneyPrecisionError):
        purchase_orders_tables(
            {"payload": {"orders": [_order("PO1", "2026-11-02T00:00:00Z", "0.12345")]}},
            account_id="a",
            source_sha256="s",
        )
