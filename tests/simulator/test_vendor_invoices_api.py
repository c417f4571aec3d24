"""getInvoiceHeaders and getInvoice over HTTP: every body valid against the model, pages in full, Amazon's
parameter rules (marketplaceId required, issue-date windows of at most 90 days, both dates or neither)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from simkit import iso

from simulator.operations import finances_invoices

MARKETPLACE = "ATVPDKIKX0DER"


def test_headers_page_in_full_and_windows_are_checked(api, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(finances_invoices, "HEADERS_PAGE_SIZE", 4)
    now = api.sim.clock.now().replace(microsecond=0)
    window = {
        "marketplaceId": MARKETPLACE,
        "fromIssueDate": iso(now - timedelta(days=90)),
        "toIssueDate": iso(now),
    }
    expected = api.sim.ledger.invoice_headers(
        "demo-vendor", now, issued_from=now - timedelta(days=90), issued_to=now
    )
    assert len(expected) > 4
    body = api.json("getInvoiceHeaders", params=window)
    headers, pages = list(body["invoices"]), 1
    while body.get("nextToken"):
        body = api.json("getInvoiceHeaders", params={**window, "nextToken": body["nextToken"]})
        headers.extend(body["invoices"])
        pages += 1
    assert pages > 1
    assert [h["invoiceIdentifier"] for h in headers] == [h["invoiceIdentifier"] for h in expected]

    too_wide = {**window, "fromIssueDate": iso(now - timedelta(days=91))}
    assert api.call("getInvoiceHeaders", params=too_wide).status_code == 400
    assert api.call("getInvoiceHeaders", params={**window, "marketplaceId": ""}).status_code == 400
    one_date = {"marketplaceId": MARKETPLACE, "fromIssueDate": window["fromIssueDate"]}
    assert api.call("getInvoiceHeaders", params=one_date).status_code == 400
    since = {"marketplaceId": MARKETPLACE, "invoicesModifiedAfter": iso(now - timedelta(days=3))}
    modified = api.json("getInvoiceHeaders", params=since)
    assert all(h["lastUpdatedDate"] > iso(now - timedelta(days=3)) for h in modified["invoices"])


def test_invoice_lines_page_with_their_own_token(api, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(finances_invoices, "LINES_PAGE_SIZE", 1)
    now = api.sim.clock.now().replace(microsecond=0)
    header, items = max(
        (
            api.sim.ledger.invoice("demo-vendor", h["invoiceIdentifier"], now) or ({}, [])
            for h in api.sim.ledger.invoice_headers("demo-vendor", now)
        ),
        key=lambda x: len(x[1]),
    )
    assert len(items) >= 2
    path = {"invoiceIdentifier": header["invoiceIdentifier"]}
    body = api.json("getInvoice", params={"marketplaceId": MARKETPLACE}, path_params=path)
    lines = list(body["invoiceItems"])
    while body.get("nextTokenForLineItems"):
        token = body["nextTokenForLineItems"]
        body = api.json(
            "getInvoice",
            params={"marketplaceId": MARKETPLACE, "nextTokenForLineItems": token},
            path_params=path,
        )
        assert body["invoiceHeader"]["invoiceIdentifier"] == header["invoiceIdentifier"]
        lines.extend(body["invoiceItems"])
    assert [x["lineItemId"] for x in lines] == [x["lineItemId"] for x in items]
    missing = api.call(
        "getInvoice", params={"marketplaceId": MARKETPLACE}, path_params={"invoiceIdentifier": "X~Y"}
    )
    assert missing.status_code == 404


def test_shipment_details_page_in_full(api) -> None:  # type: ignore[no-untyped-def]
    now = api.sim.clock.now().replace(microsecond=0)
    since = now - timedelta(days=150)
    expected = api.sim.ledger.shipments("demo-vendor", now, created_after=since)
    assert len(expected) > 5
    params = {"createdAfter": iso(since), "limit": 5}
    body = api.json("GetShipmentDetails", params=params)
    shipments, pages = list(body["payload"]["shipments"]), 1
    while body["payload"].get("pagination", {}).get("nextToken"):
        token = body["payload"]["pagination"]["nextToken"]
        body = api.json("GetShipmentDetails", params={**params, "nextToken": token})
        shipments.extend(body["payload"]["shipments"])
        pages += 1
    assert pages > 1
    assert [s["vendorShipmentIdentifier"] for s in shipments] == [
        s["vendorShipmentIdentifier"] for s in expected
    ]
    assert api.call("GetShipmentDetails", params={"limit": 51}).status_code == 400
