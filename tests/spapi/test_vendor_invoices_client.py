"""Finances Invoices 2026-06-25 through the client: 90-day issue windows, modified-after sweeps, line-item pages,
money read exactly (the sandbox example's JSON numbers), over real HTTP on loopback."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from spapi_testkit import FIXED_NOW, Harness, Recorded, Reply

HEADERS_PATH = "/finances/invoices/2026-06-25/invoices"


def _example(shared_fixtures: Path, name: str) -> dict:
    model = json.loads((shared_fixtures / "spapi-models" / "financesInvoices_2026-06-25.json").read_text())
    for methods in model["paths"].values():
        for operation in methods.values():
            if isinstance(operation, dict) and operation.get("operationId") == name:
                return operation["responses"]["200"]["x-amzn-api-sandbox"]["static"][0]["response"]
    raise AssertionError(name)


def test_headers_in_90_day_issue_windows_with_exact_money(harness: Harness, shared_fixtures: Path) -> None:
    example = _example(shared_fixtures, "getInvoiceHeaders")
    last = {**example, "nextToken": None}

    def handler(request: Recorded) -> Reply:
        return Reply(200, last if request.q("nextToken") else example)

    harness.api.route("GET", HEADERS_PATH, handler=handler)
    with harness.client() as client:
        pages = list(
            client.iter_invoice_headers("ATVPDKIKX0DER", issued_from=FIXED_NOW - timedelta(days=200))
        )
    calls = harness.api.calls(HEADERS_PATH)
    firsts = [c for c in calls if not c.q("nextToken")]
    assert len(firsts) == 3 and len(pages) == 6  # 200 days in windows of at most 90, two pages each
    for call in firsts:
        start = datetime.fromisoformat(call.q("fromIssueDate").replace("Z", "+00:00"))  # type: ignore[union-attr]
        end = datetime.fromisoformat(call.q("toIssueDate").replace("Z", "+00:00"))  # type: ignore[union-attr]
        assert timedelta(0) < end - start <= timedelta(days=90)
        assert call.q("marketplaceId") == "ATVPDKIKX0DER"
    later = [c for c in calls if c.q("nextToken")]
    assert all(c.q("fromIssueDate") and c.q("nextToken") == "1" for c in later)  # the arguments repeated
    amount = pages[0].items[0]["invoiceAmount"]["currencyAmount"]
    assert isinstance(amount, Decimal) and amount == Decimal("2500.0")

    with harness.client() as client:
        list(client.iter_invoice_headers("ATVPDKIKX0DER", modified_after=FIXED_NOW - timedelta(days=3)))
    sweep = harness.api.calls(HEADERS_PATH)[len(calls)]
    assert sweep.q("invoicesModifiedAfter") == "2026-11-20T12:00:00Z" and sweep.q("fromIssueDate") is None


def test_invoice_line_items_follow_their_own_token(harness: Harness, shared_fixtures: Path) -> None:
    example = _example(shared_fixtures, "getInvoice")
    path = HEADERS_PATH + "/INV-202505001~ABCDEF"
    last = {**example, "nextTokenForLineItems": None}

    def handler(request: Recorded) -> Reply:
        return Reply(200, last if request.q("nextTokenForLineItems") else example)

    harness.api.route("GET", path, handler=handler)
    with harness.client() as client:
        pages = list(client.iter_invoice_pages("INV-202505001~ABCDEF", "ATVPDKIKX0DER"))
    assert len(pages) == 2
    _first, second = harness.api.calls(path)
    assert second.q("nextTokenForLineItems") == "5" and second.q("marketplaceId") == "ATVPDKIKX0DER"
    item = pages[1].items[0]
    assert item["unitCost"]["currencyAmount"] == Decimal("50.0") and item["quantity"] == 10
    assert pages[0].body["invoiceHeader"]["invoiceIdentifier"] == "INV-202505001~ABCDEF"


def test_the_conservative_default_follows_amazons_rate_header(harness: Harness) -> None:
    """No usage plan is published for Finances Invoices: the bucket starts at 0.5/s and takes the rate Amazon
    reports in x-amzn-RateLimit-Limit."""
    harness.api.route(
        "GET", HEADERS_PATH, Reply(200, {"invoices": []}, headers={"x-amzn-RateLimit-Limit": "2.5"})
    )
    with harness.client() as client:
        bucket = harness.registry.bucket(client.account.id, "getInvoiceHeaders")
        assert bucket.rate == 0.5
        list(client.iter_invoice_headers("ATVPDKIKX0DER"))
    assert bucket.rate == 2.5
