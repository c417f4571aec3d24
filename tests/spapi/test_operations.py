"""Each operation: Amazon's parameter names, its page-token convention, and its windows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from spapi_testkit import FIXED_NOW, Harness, Recorded, Reply

from spapi.errors import SpApiError


def two_pages(first: dict[str, Any], second: dict[str, Any], token_param: str) -> Callable[[Recorded], Reply]:
    def handler(request: Recorded) -> Reply:
        return Reply(200, second if request.q(token_param) else first)

    return handler


def test_event_groups_repeat_their_arguments_with_next_token(harness: Harness) -> None:
    path = "/finances/v0/financialEventGroups"
    harness.api.route(
        "GET",
        path,
        handler=two_pages(
            {"payload": {"FinancialEventGroupList": [{"FinancialEventGroupId": "a"}], "NextToken": "T2"}},
            {"payload": {"FinancialEventGroupList": [{"FinancialEventGroupId": "b"}]}},
            "NextToken",
        ),
    )
    with harness.client() as client:
        pages = list(client.iter_financial_event_groups(datetime(2026, 9, 1, tzinfo=UTC)))
    assert [g["FinancialEventGroupId"] for p in pages for g in p.items] == ["a", "b"]
    first, second = harness.api.calls(path)
    assert first.q("FinancialEventGroupStartedAfter") == "2026-09-01T00:00:00Z"
    assert first.q("MaxResultsPerPage") == "100"
    assert first.q("FinancialEventGroupStartedBefore") < FIXED_NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert second.q("NextToken") == "T2"
    assert second.q("FinancialEventGroupStartedAfter") == first.q("FinancialEventGroupStartedAfter")


def test_events_by_group_are_windowed_when_dates_are_given(harness: Harness) -> None:
    path = "/finances/v0/financialEventGroups/GROUP%2F1/financialEvents"
    harness.api.route("GET", path, Reply(200, {"payload": {"FinancialEvents": {"ShipmentEventList": []}}}))
    with harness.client() as client:
        pages = list(
            client.iter_financial_events_by_group("GROUP/1", posted_after=FIXED_NOW - timedelta(days=400))
        )
    calls = harness.api.calls(path)
    assert len(pages) == len(calls) == 3  # 400 days in windows of at most 180
    assert pages[0].items == [{"ShipmentEventList": []}]
    spans = [
        datetime.fromisoformat(c.q("PostedBefore").replace("Z", "+00:00"))  # type: ignore[union-attr]
        - datetime.fromisoformat(c.q("PostedAfter").replace("Z", "+00:00"))  # type: ignore[union-attr]
        for c in calls
    ]
    assert all(span <= timedelta(days=180) for span in spans)


def test_transactions_windows_identifiers_and_empty_pages(harness: Harness) -> None:
    path = "/finances/2024-06-19/transactions"
    pages_by_token = {
        None: {"payload": {"transactions": [], "nextToken": "empty-but-more"}},  # empty pages happen
        "empty-but-more": {"payload": {"transactions": [{"transactionId": "t9"}]}},
    }
    harness.api.route("GET", path, handler=lambda r: Reply(200, pages_by_token[r.q("nextToken")]))
    with harness.client() as client:
        pages = list(
            client.iter_transactions(
                datetime(2026, 1, 1, tzinfo=UTC),
                marketplace_id="ATVPDKIKX0DER",
                related_identifier=("FINANCIAL_EVENT_GROUP_ID", "G-42"),
            )
        )
    calls = harness.api.calls(path)
    assert len(calls) == 4  # two windows (326 days), two pages each
    assert [p.items for p in pages].count([{"transactionId": "t9"}]) == 2
    assert {c.q("relatedIdentifierName") for c in calls} == {"FINANCIAL_EVENT_GROUP_ID"}
    assert {c.q("relatedIdentifierValue") for c in calls} == {"G-42"}
    assert {c.q("marketplaceId") for c in calls} == {"ATVPDKIKX0DER"}
    assert calls[1].q("nextToken") == "empty-but-more" and calls[1].q("postedAfter") == calls[0].q(
        "postedAfter"
    )
    assert calls[0].q("postedAfter") == "2026-01-01T00:00:00Z"
    assert calls[0].q("postedBefore") == calls[2].q("postedAfter")


def test_balances_and_summary_parameters(harness: Harness) -> None:
    harness.api.route(
        "GET", "/finances/2024-06-19/balances", Reply(200, {"balances": [{"balanceType": "TOTAL"}]})
    )
    harness.api.route("GET", "/finances/2024-06-19/summary", Reply(200, {"summaries": [{"netProceeds": {}}]}))
    with harness.client() as client:
        (current,) = list(client.list_balances())
        (_historic,) = list(
            client.list_balances(as_of=datetime(2026, 11, 1, 15, tzinfo=UTC), marketplace_id="M1")
        )
        list(client.list_summary(settlement_id="12345678"))
        list(
            client.list_summary(
                start=datetime(2026, 10, 1, tzinfo=UTC), end=datetime(2026, 10, 15, tzinfo=UTC)
            )
        )
    assert current.items == [{"balanceType": "TOTAL"}]
    now_call, as_of_call = harness.api.calls("/finances/2024-06-19/balances")
    assert now_call.query == {}
    assert as_of_call.q("asOfDate") == "2026-11-01" and as_of_call.q("marketplaceIds") == "M1"
    by_settlement, by_period = harness.api.calls("/finances/2024-06-19/summary")
    assert (by_settlement.q("relatedIdentifierName"), by_settlement.q("relatedIdentifierValue")) == (
        "SETTLEMENT_ID",
        "12345678",
    )
    assert (by_period.q("periodStart"), by_period.q("periodEnd")) == ("2026-10-01", "2026-10-15")


def test_expected_payouts_paginate(harness: Harness) -> None:
    path = "/finances/transfers/2024-06-01/payouts/expected"
    harness.api.route(
        "GET",
        path,
        handler=two_pages(
            {"expectedPayouts": [{"status": "SCHEDULED"}], "nextToken": "p2"},
            {"expectedPayouts": [{"status": "IN_PROGRESS"}]},
            "nextToken",
        ),
    )
    with harness.client() as client:
        pages = list(client.iter_expected_payouts("A1PA6795UKMFR9"))
    assert [item["status"] for p in pages for item in p.items] == ["SCHEDULED", "IN_PROGRESS"]
    assert {c.q("marketplaceIds") for c in harness.api.calls(path)} == {"A1PA6795UKMFR9"}


def _po(number: str, changed: datetime) -> dict[str, Any]:
    return {"purchaseOrderNumber": number, "purchaseOrderChangedDate": changed.strftime("%Y-%m-%dT%H:%M:%SZ")}


def test_purchase_orders_seven_day_windows_filtered_and_deduplicated(harness: Harness) -> None:
    path = "/vendor/orders/v1/purchaseOrders"
    start = FIXED_NOW - timedelta(days=10)
    inside = _po("PO-1", start + timedelta(days=1))
    later = _po("PO-2", start + timedelta(days=8))
    ancient = _po("PO-OLD", start - timedelta(days=60))  # Amazon ignoring the filter

    def handler(request: Recorded) -> Reply:
        if request.q("nextToken") == "more":
            return Reply(200, {"payload": {"orders": [inside, later]}})  # the same POs again
        return Reply(200, {"payload": {"pagination": {"nextToken": "more"}, "orders": [inside, ancient]}})

    harness.api.route("GET", path, handler=handler)
    with harness.client() as client:
        pages = list(client.iter_purchase_orders(start))
    calls = harness.api.calls(path)
    assert len(calls) == 4  # two 7-day windows, two pages each
    assert (
        calls[0].q("changedAfter") == "2026-11-13T12:00:00Z"
        and calls[0].q("changedBefore") == "2026-11-20T12:00:00Z"
    )
    assert calls[1].q("nextToken") == "more" and calls[1].q("changedAfter") == calls[0].q("changedAfter")
    kept = [order["purchaseOrderNumber"] for page in pages for order in page.items]
    assert kept == ["PO-1", "PO-2"]
    assert all(b'"orders"' in page.raw for page in pages)  # the raw bytes stay untouched for the archive


def test_purchase_order_statuses_use_updated_window(harness: Harness) -> None:
    path = "/vendor/orders/v1/purchaseOrdersStatus"
    harness.api.route("GET", path, Reply(200, {"payload": {"ordersStatus": [{"purchaseOrderNumber": "X"}]}}))
    with harness.client() as client:
        pages = list(client.iter_purchase_order_statuses(FIXED_NOW - timedelta(days=3)))
    (call,) = harness.api.calls(path)
    assert (
        call.q("updatedAfter") == "2026-11-20T12:00:00Z" and call.q("updatedBefore") == "2026-11-23T12:00:00Z"
    )
    assert pages[0].items == [{"purchaseOrderNumber": "X"}]  # no date on the item: kept


def test_a_repeated_next_token_stops_instead_of_looping(harness: Harness) -> None:
    harness.api.route(
        "GET", "/finances/2024-06-19/balances", Reply(200, {"balances": [], "nextToken": "same"})
    )
    with harness.client() as client, pytest.raises(SpApiError, match="PaginationLoop"):
        list(client.list_balances())
    assert len(harness.api.calls()) == 2
