"""demo-vendor's invoices (Finances Invoices 2026-06-25): valid, consistent with its POs, reconciled to the cent,
every status present, shortages right and planted, and statuses that move on with the clock."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from simulator.ledger import Ledger

from .conftest import NOW
from .model_schema import validate

MODEL = "financesInvoices_2026-06-25.json"
STATUSES = {"IN_PROGRESS", "PAID", "PARTIALLY_PAID", "PARTIALLY_DEDUCTED", "DEDUCTED", "REJECTED"}
DEDUCTIONS = ("QuickPayDiscount", "QuantityVarianceAmount", "PriceVariance", "Other")


def _settled(header: dict) -> dict[str, Decimal]:
    return {
        b["breakdownType"]: b["breakdownAmount"]["currencyAmount"]
        for b in header.get("invoiceSettlementBreakdowns", [])
    }


def _po_items(ledger: Ledger, now: datetime) -> dict[tuple[str, str], dict]:
    """(PO number, ASIN) -> the PO item's status (accepted and received quantities, net cost)."""
    return {
        (status["purchaseOrderNumber"], item["buyerProductIdentifier"]): item
        for status in ledger.purchase_order_statuses("demo-vendor", now)
        for item in status["itemStatus"]
    }


@pytest.fixture(scope="module")
def invoices(ledger: Ledger) -> list[tuple[dict, list[dict]]]:
    headers = ledger.invoice_headers("demo-vendor", NOW)
    found = [ledger.invoice("demo-vendor", h["invoiceIdentifier"], NOW) for h in headers]
    return [x for x in found if x is not None]


def test_every_status_and_valid_against_the_model(ledger: Ledger, invoices) -> None:  # type: ignore[no-untyped-def]
    assert {h["invoiceStatus"] for h, _ in invoices} == STATUSES
    for header, items in invoices:
        validate(header, MODEL, "InvoiceHeader")
        for item in items:
            validate(item, MODEL, "InvoiceItem")
        assert isinstance(header["invoiceAmount"]["currencyAmount"], Decimal)
        assert header["invoiceIdentifier"] == f"{header['invoiceNumber']}~{header['payee']['partnerId']}"
    assert ledger.invoice_headers("demo-na", NOW) == []


def test_invoices_match_their_purchase_orders(ledger: Ledger, invoices) -> None:  # type: ignore[no-untyped-def]
    po_items = _po_items(ledger, NOW)
    price_variance_lines = 0
    for header, items in invoices:
        [po] = next(
            r["relatedIdentifierValue"]
            for r in header["relatedIdentifiers"]
            if r["relatedIdentifierName"] == "PURCHASE_ORDER_IDS"
        )
        for item in items:
            asin = next(
                i["itemIdentifierValue"]
                for i in item["lineItemContext"]["itemIdentifiers"]
                if i["itemIdentifierName"] == "ASIN"
            )
            status = po_items[(po, asin)]
            assert item["quantity"] == status["acknowledgementStatus"]["acceptedQuantity"]["amount"]
            cost = Decimal(status["netCost"]["amount"])
            reasons = item["lineItemContext"].get("matchingContext", {}).get("varianceReasons", [])
            if any("DEALBUY" in r.get("defectTypes", []) for r in reasons):
                price_variance_lines += 1
                assert item["unitCost"]["currencyAmount"] > cost
            else:
                assert item["unitCost"]["currencyAmount"] == cost
    assert price_variance_lines >= 1


def test_each_invoice_reconciles_to_the_cent(invoices) -> None:  # type: ignore[no-untyped-def]
    discounts = Counter()
    for header, items in invoices:
        amount = header["invoiceAmount"]["currencyAmount"]
        assert sum(i["totalAmount"]["currencyAmount"] for i in items) == amount
        settled = _settled(header)
        open_amount = amount - sum(settled.values(), Decimal("0"))
        deducted = sum((settled.get(k, Decimal("0")) for k in DEDUCTIONS[1:]), Decimal("0"))
        status = header["invoiceStatus"]
        assert open_amount >= 0
        discounts.update(k for k in settled if k in DEDUCTIONS)
        if status in ("PAID", "DEDUCTED"):
            assert open_amount == 0 and settled.get("AmountPaid", 0) > 0
            assert (deducted > 0) is (status == "DEDUCTED")
        elif status == "PARTIALLY_PAID":
            assert open_amount > 0 and settled["AmountPaid"] > 0
        elif status == "PARTIALLY_DEDUCTED":
            assert deducted > 0 and "AmountPaid" not in settled
        else:  # IN_PROGRESS, REJECTED: nothing paid or deducted yet
            assert deducted == 0 and "AmountPaid" not in settled
    assert set(discounts) == set(DEDUCTIONS)


def test_shortages_right_and_planted(ledger: Ledger, invoices) -> None:  # type: ignore[no-untyped-def]
    """A shortage is right when Amazon's own PO receipts show fewer units than invoiced, planted otherwise."""
    po_items = _po_items(ledger, NOW)
    kinds = Counter()
    for header, items in invoices:
        [po] = next(
            r["relatedIdentifierValue"]
            for r in header["relatedIdentifiers"]
            if r["relatedIdentifierName"] == "PURCHASE_ORDER_IDS"
        )
        for item in items:
            matching = item["lineItemContext"].get("matchingContext")
            if not matching or not matching.get("quantityVariance"):
                continue
            assert {"varianceType": "PQV", "defectTypes": ["SHORTAGES_IN_TRANSIT"]} in matching[
                "varianceReasons"
            ]
            asin = item["lineItemContext"]["itemIdentifiers"][0]["itemIdentifierValue"]
            received = po_items[(po, asin)]["receivingStatus"]["receivedQuantity"]["amount"]
            if received >= item["quantity"]:
                kinds["planted"] += 1
            else:
                kinds["right"] += 1
                assert received == item["quantity"] - matching["quantityVariance"]
    assert kinds["planted"] >= 1 and kinds["right"] >= 1


def test_statuses_change_as_the_clock_moves(ledger: Ledger) -> None:
    before = {h["invoiceIdentifier"]: h for h in ledger.invoice_headers("demo-vendor", NOW)}
    later_now = NOW + timedelta(days=40)
    after = {h["invoiceIdentifier"]: h for h in ledger.invoice_headers("demo-vendor", later_now)}
    changed = {k for k in before if before[k]["invoiceStatus"] != after[k]["invoiceStatus"]}
    assert changed and any(before[k]["invoiceStatus"] == "PARTIALLY_DEDUCTED" for k in changed)
    modified = ledger.invoice_headers("demo-vendor", later_now, modified_after=NOW)
    assert changed <= {h["invoiceIdentifier"] for h in modified}
    for header in modified:
        assert datetime.fromisoformat(header["lastUpdatedDate"]) > NOW


def test_shipments_are_the_invoiced_pos_asns(ledger: Ledger, invoices) -> None:  # type: ignore[no-untyped-def]
    """One ASN per invoiced PO, valid against Vendor Shipments v1; it shows fewer units than invoiced exactly
    where Amazon's receipts do (the shortages that are right), so a planted shortage contradicts both."""
    shipments = ledger.shipments("demo-vendor", NOW)
    for shipment in shipments:
        validate(shipment, "vendorShipments.json", "Shipment")
    shipped = {
        (shipment["vendorShipmentIdentifier"], item["buyerProductIdentifier"]): item["shippedQuantity"][
            "amount"
        ]
        for shipment in shipments
        for po in shipment["purchaseOrders"]
        for item in po["items"]
    }
    po_items = _po_items(ledger, NOW)
    kinds: Counter[bool] = Counter()
    for header, items in invoices:
        [asn] = next(
            r["relatedIdentifierValue"]
            for r in header["relatedIdentifiers"]
            if r["relatedIdentifierName"] == "ASN_IDS"
        )
        [po] = next(
            r["relatedIdentifierValue"]
            for r in header["relatedIdentifiers"]
            if r["relatedIdentifierName"] == "PURCHASE_ORDER_IDS"
        )
        for item in items:
            asin = item["lineItemContext"]["itemIdentifiers"][0]["itemIdentifierValue"]
            received = po_items[(po, asin)]["receivingStatus"]["receivedQuantity"]["amount"]
            variance = item["lineItemContext"].get("matchingContext", {}).get("quantityVariance", 0)
            if (
                variance
            ):  # a shortage: right when the ASN and the receipts both show fewer units, planted else
                short = received < item["quantity"]
                assert (shipped[(asn, asin)] < item["quantity"]) is short
                kinds[short] += 1
            else:
                assert shipped[(asn, asin)] == item["quantity"]
    assert kinds[True] and kinds[False]
    assert ledger.shipments("demo-na", NOW) == []


def test_money_is_queued_for_payment_whatever_the_day(invoices) -> None:  # type: ignore[no-untyped-def]
    # Amazon queues an invoice five days before it is due, and some days no invoice is that close: one invoice
    # approved early keeps the demo showing money queued for payment (a mart column that would otherwise be all
    # zero on those days). Checked at NOW (the date sweep's day too) and over every 11th day of a year.
    assert any(_settled(header).get("QueuedForPayment", 0) > 0 for header, _ in invoices)
    for days in range(0, 366, 11):
        now = NOW + timedelta(days=days)
        ledger = Ledger(seed=7, today=now.date())
        headers = ledger.invoice_headers("demo-vendor", now)
        queued = [h for h in headers if _settled(h).get("QueuedForPayment", 0) > 0]
        assert queued, f"nothing queued for payment on {now:%Y-%m-%d}"
        for header in queued:
            assert header["invoiceStatus"] in ("IN_PROGRESS", "PARTIALLY_DEDUCTED")
