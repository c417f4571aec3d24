"""Vendor purchase orders of demo-vendor: shapes, consistent statuses, progression with the clock."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

from simulator.ledger import Ledger

from .conftest import NOW
from .model_schema import validate


def test_a_few_dozen_valid_orders_with_string_money(ledger: Ledger) -> None:
    orders = ledger.purchase_orders("demo-vendor", NOW)
    assert 24 <= len(orders) <= 60
    assert len(ledger.purchase_orders("demo-vendor", NOW + timedelta(days=40))) > len(orders)
    for order in orders:
        validate(order, "vendorOrders.json", "Order")
        assert datetime.fromisoformat(order["orderDetails"]["purchaseOrderDate"]) <= NOW
        for item in order["orderDetails"]["items"]:
            assert isinstance(item["netCost"]["amount"], str)
            assert Decimal(item["netCost"]["amount"]) < Decimal(item["listPrice"]["amount"])
    for status in ledger.purchase_order_statuses("demo-vendor", NOW):
        validate(status, "vendorOrders.json", "OrderStatus")
    assert ledger.purchase_orders("demo-na", NOW) == []
    assert ledger.purchase_order_statuses("demo-eu", NOW) == []


def test_statuses_are_consistent_with_orders(ledger: Ledger) -> None:
    orders = {o["purchaseOrderNumber"]: o for o in ledger.purchase_orders("demo-vendor", NOW)}
    statuses = ledger.purchase_order_statuses("demo-vendor", NOW)
    assert set(orders) == {s["purchaseOrderNumber"] for s in statuses}
    receive = Counter()
    # Units lost in transit (the invoices' right shortages) never arrive: such a PO closes without them.
    lost = {
        (invoice.po.number, str(line.po_line.sequence)): line.short_units
        for invoice in ledger.vendor_invoice_plan()
        if invoice.role == "shortage_true"
        for line in invoice.lines
    }
    assert any(lost.values())
    for status in statuses:
        order = orders[status["purchaseOrderNumber"]]
        assert (order["purchaseOrderState"] == "Closed") is (status["purchaseOrderStatus"] == "CLOSED")
        assert status["lastUpdatedDate"] == order["orderDetails"]["purchaseOrderChangedDate"]
        ordered = {
            i["itemSequenceNumber"]: i["orderedQuantity"]["amount"] for i in order["orderDetails"]["items"]
        }
        all_received = True
        for item in status["itemStatus"]:
            quantity = item["orderedQuantity"]["orderedQuantity"]["amount"]
            assert quantity == ordered[item["itemSequenceNumber"]]
            ack = item["acknowledgementStatus"]
            received = item["receivingStatus"]["receivedQuantity"]["amount"]
            receive[item["receivingStatus"]["receiveStatus"]] += 1
            if ack["confirmationStatus"] == "UNCONFIRMED":
                assert order["purchaseOrderState"] == "New" and received == 0
                all_received = False
                continue
            accepted, rejected = ack["acceptedQuantity"]["amount"], ack["rejectedQuantity"]["amount"]
            assert accepted + rejected == quantity and 0 <= received <= accepted
            assert (ack["confirmationStatus"] == "ACCEPTED") is (rejected == 0)
            assert (item["receivingStatus"]["receiveStatus"] == "RECEIVED") is (received == accepted > 0)
            missing = lost.get((order["purchaseOrderNumber"], item["itemSequenceNumber"]), 0)
            all_received &= received == accepted - missing
        assert all_received is (status["purchaseOrderStatus"] == "CLOSED")
    states = Counter(o["purchaseOrderState"] for o in orders.values())
    assert states["Acknowledged"] >= 1 and states["Closed"] >= 10
    assert receive["PARTIALLY_RECEIVED"] >= 1


def test_orders_progress_as_the_clock_moves(ledger: Ledger) -> None:
    # The newest order, followed from the moment it was placed (whether any order is still New at NOW depends
    # on the time of day).
    newest = max(
        ledger.purchase_orders("demo-vendor", NOW), key=lambda o: o["orderDetails"]["purchaseOrderDate"]
    )
    number = newest["purchaseOrderNumber"]
    placed = datetime.fromisoformat(newest["orderDetails"]["purchaseOrderDate"])

    def state_at(moment: datetime) -> str:
        [order] = [
            o for o in ledger.purchase_orders("demo-vendor", moment) if o["purchaseOrderNumber"] == number
        ]
        return order["purchaseOrderState"]

    assert state_at(placed) == "New"
    assert state_at(placed + timedelta(days=2)) == "Acknowledged"
    assert state_at(placed + timedelta(days=40)) == "Closed"


def test_change_and_creation_filters(ledger: Ledger) -> None:
    since = NOW - timedelta(days=10)
    changed = ledger.purchase_orders("demo-vendor", NOW, changed_after=since)
    assert changed
    assert all(
        datetime.fromisoformat(o["orderDetails"]["purchaseOrderChangedDate"]) >= since for o in changed
    )
    everything = ledger.purchase_orders("demo-vendor", NOW)
    assert len(changed) < len(everything)
    created = ledger.purchase_orders(
        "demo-vendor", NOW, created_after=NOW - timedelta(days=60), created_before=NOW - timedelta(days=30)
    )
    assert created
    for order in created:
        created_at = datetime.fromisoformat(order["orderDetails"]["purchaseOrderDate"])
        assert NOW - timedelta(days=60) <= created_at <= NOW - timedelta(days=30)
    updated = ledger.purchase_order_statuses("demo-vendor", NOW, updated_after=since)
    assert {s["purchaseOrderNumber"] for s in updated} == {o["purchaseOrderNumber"] for o in changed}
