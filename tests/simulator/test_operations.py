"""Every finance and vendor operation: first and later pages (schema-validated by the caller), the ledger's
items in full and in order, and the parameter checks Amazon applies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from simkit import iso


def _collect(
    api,
    operation: str,
    params: dict,
    items: Callable[[Any], list],
    token: Callable[[Any], Any],  # type: ignore[no-untyped-def]
    token_name: str,
    region: str = "na",
    path_params: dict | None = None,
) -> tuple[list, int]:
    body = api.json(operation, region, params=params, path_params=path_params)
    collected, pages = list(items(body)), 1
    while token(body):
        body = api.json(
            operation, region, params={**params, token_name: token(body)}, path_params=path_params
        )
        collected.extend(items(body))
        pages += 1
    return collected, pages


def test_financial_event_groups_page_by_max_results(api) -> None:  # type: ignore[no-untyped-def]
    now = api.sim.clock.now().replace(microsecond=0)  # whole seconds, as requests carry them
    expected = api.sim.ledger.financial_event_groups("demo-na", now)
    groups, pages = _collect(
        api,
        "listFinancialEventGroups",
        {"FinancialEventGroupStartedAfter": iso(now - timedelta(days=179)), "MaxResultsPerPage": 5},
        lambda b: b["payload"]["FinancialEventGroupList"],
        lambda b: b["payload"].get("NextToken"),
        "NextToken",
    )
    assert pages > 1
    cutoff = iso(now - timedelta(days=179))
    assert [g["FinancialEventGroupId"] for g in groups] == [
        g["FinancialEventGroupId"] for g in expected if g["FinancialEventGroupStart"] >= cutoff
    ]


def test_financial_events_by_group_pages_every_event(api) -> None:  # type: ignore[no-untyped-def]
    now = api.sim.clock.now().replace(microsecond=0)  # whole seconds, as requests carry them
    group = next(
        g for g in api.sim.ledger.financial_event_groups("demo-na", now) if g["ProcessingStatus"] == "Closed"
    )
    expected = api.sim.ledger.financial_events("demo-na", now, group_id=group["FinancialEventGroupId"])
    assert len(expected) > 20
    pages: list[dict] = []
    _, count = _collect(
        api,
        "listFinancialEventsByGroupId",
        {"MaxResultsPerPage": 20},
        lambda b: pages.append(b["payload"]["FinancialEvents"]) or [],
        lambda b: b["payload"].get("NextToken"),
        "NextToken",
        path_params={"eventGroupId": group["FinancialEventGroupId"]},
    )
    assert count == -(-len(expected) // 20)
    served = sorted(
        (name, repr(event)) for page in pages for name, events in page.items() for event in events
    )
    assert served == sorted((name, repr(event)) for name, event in expected)


def test_two_groups_asked_at_the_same_instant_get_their_own_events(api) -> None:  # type: ignore[no-untyped-def]
    """The data clock stands still within a run (SimClock.data_now), so requests for different groups share one
    snapshot time: each must still get its own group's events, not the first group's."""
    now = api.sim.clock.data_now()
    closed = [
        g for g in api.sim.ledger.financial_event_groups("demo-na", now) if g["ProcessingStatus"] == "Closed"
    ]
    first, second = closed[0]["FinancialEventGroupId"], closed[1]["FinancialEventGroupId"]
    served = {}
    for group_id in (first, second):
        body = api.json(
            "listFinancialEventsByGroupId",
            "na",
            params={"MaxResultsPerPage": 100},
            path_params={"eventGroupId": group_id},
        )
        served[group_id] = sorted(
            (name, repr(event))
            for name, events in body["payload"]["FinancialEvents"].items()
            for event in events
        )
    for group_id in (first, second):
        expected = api.sim.ledger.financial_events("demo-na", now, group_id=group_id)
        assert (
            served[group_id]
            == sorted((name, repr(event)) for name, event in expected)[: len(served[group_id])]
        )
    assert served[first] != served[second]


def test_list_financial_events_needs_posted_after_and_refuses_recent_dates(api) -> None:  # type: ignore[no-untyped-def]
    now = api.sim.clock.now().replace(microsecond=0)  # whole seconds, as requests carry them
    assert api.call("listFinancialEvents").status_code == 400
    recent = api.call("listFinancialEvents", params={"PostedAfter": iso(now - timedelta(seconds=30))})
    assert recent.status_code == 400 and recent.json()["errors"][0]["code"] == "InvalidInput"
    backwards = api.call(
        "listFinancialEvents",
        params={"PostedAfter": iso(now - timedelta(days=3)), "PostedBefore": iso(now - timedelta(days=5))},
    )
    assert backwards.status_code == 400
    body = api.json(
        "listFinancialEvents", params={"PostedAfter": iso(now - timedelta(days=10)), "MaxResultsPerPage": 3}
    )
    assert body["payload"]["FinancialEvents"] and body["payload"]["NextToken"]


def test_v0_windows_wider_than_180_days_answer_empty_as_the_model_says(api) -> None:  # type: ignore[no-untyped-def]
    now = api.sim.clock.now().replace(microsecond=0)  # whole seconds, as requests carry them
    body = api.json(
        "listFinancialEvents",
        params={"PostedAfter": iso(now - timedelta(days=200)), "PostedBefore": iso(now - timedelta(days=10))},
    )
    assert body == {"payload": {"FinancialEvents": {}}}


def test_unknown_event_group_is_not_found(api) -> None:  # type: ignore[no-untyped-def]
    response = api.call("listFinancialEventsByGroupId", path_params={"eventGroupId": "no-such-group"})
    assert response.status_code == 404


def test_transactions_page_through_the_ledger(api) -> None:  # type: ignore[no-untyped-def]
    # Whole seconds, as the request carries them: a transaction posted on the window's edge (many are, at
    # 00:00:00) must fall on the same side for the oracle as for the server.
    now = api.sim.clock.now().replace(microsecond=0)
    after, before = now - timedelta(days=45), now - timedelta(minutes=5)
    expected = api.sim.ledger.transactions("demo-na", now, posted_after=after, posted_before=before)
    transactions, pages = _collect(
        api,
        "listTransactions",
        {"postedAfter": iso(after), "postedBefore": iso(before)},
        lambda b: b["payload"]["transactions"],
        lambda b: b["payload"].get("nextToken"),
        "nextToken",
    )
    assert pages == -(-len(expected) // 100) and pages > 1
    assert [t["transactionId"] for t in transactions] == [t["transactionId"] for t in expected]
    statuses = {t["transactionStatus"] for t in transactions}
    assert {"RELEASED", "DEFERRED"} <= statuses


def test_transactions_filters_and_refusals(api) -> None:  # type: ignore[no-untyped-def]
    now = api.sim.clock.now().replace(microsecond=0)  # whole seconds, as requests carry them
    assert api.call("listTransactions").status_code == 400  # postedAfter or a related identifier is required
    too_recent = api.call(
        "listTransactions",
        params={
            "postedAfter": iso(now - timedelta(days=1)),
            "postedBefore": iso(now - timedelta(seconds=60)),
        },
    )
    assert too_recent.status_code == 400
    assert api.call("listTransactions", params={"relatedIdentifierName": "ORDER_ID"}).status_code == 400
    bad_name = api.call(
        "listTransactions", params={"relatedIdentifierName": "SETTLEMENT_ID", "relatedIdentifierValue": "1"}
    )
    assert bad_name.status_code == 400
    deferred = api.json(
        "listTransactions",
        params={"postedAfter": iso(now - timedelta(days=20)), "transactionStatus": "DEFERRED"},
    )
    assert deferred["payload"]["transactions"]
    assert {t["transactionStatus"] for t in deferred["payload"]["transactions"]} == {"DEFERRED"}
    group = next(
        g for g in api.sim.ledger.financial_event_groups("demo-na", now) if g["ProcessingStatus"] == "Closed"
    )
    by_group = api.json(
        "listTransactions",
        params={
            "relatedIdentifierName": "FINANCIAL_EVENT_GROUP_ID",
            "relatedIdentifierValue": group["FinancialEventGroupId"],
        },
    )
    assert by_group["payload"]["transactions"]


def test_balances_summaries_and_expected_payouts(api) -> None:  # type: ignore[no-untyped-def]
    now = api.sim.clock.now().replace(microsecond=0)  # whole seconds, as requests carry them
    balances = api.json("listBalances")["balances"]
    assert {b["balanceType"] for b in balances} == {"TOTAL"}
    deferred = api.json("listBalances", params={"balanceType": "DEFERRED", "marketplaceIds": "ATVPDKIKX0DER"})
    amounts = [b["amount"]["currencyAmount"] for b in deferred["balances"]]
    assert amounts == [api.sim.ledger.deferred_balance("demo-na", now, "ATVPDKIKX0DER")]
    past = api.json("listBalances", params={"asOfDate": (now - timedelta(days=30)).date().isoformat()})
    assert past["balances"]
    assert api.call("listBalances", params={"marketplaceIds": "A1PA6795UKMFR9"}).status_code == 400

    settlement = api.sim.ledger.settlements("demo-na")[0]
    by_id = api.json(
        "listSummary",
        params={"relatedIdentifierName": "SETTLEMENT_ID", "relatedIdentifierValue": settlement.settlement_id},
    )
    assert len(by_id["summaries"]) == 1
    assert api.call("listSummary").status_code == 400
    summaries, pages = _collect(
        api,
        "listSummary",
        {"periodStart": (now - timedelta(days=170)).date().isoformat(), "periodEnd": now.date().isoformat()},
        lambda b: b["summaries"],
        lambda b: b.get("nextToken"),
        "nextToken",
    )
    assert pages > 1 and len({repr(s) for s in summaries}) == len(summaries)

    payouts = api.json("listExpectedPayouts", "eu", params={"marketplaceIds": "A1PA6795UKMFR9"})
    assert payouts["expectedPayouts"]
    assert all(p["partnerMetadata"]["marketplaceId"] == "A1PA6795UKMFR9" for p in payouts["expectedPayouts"])


def test_purchase_orders_and_statuses(api) -> None:  # type: ignore[no-untyped-def]
    now = api.sim.clock.now().replace(microsecond=0)  # whole seconds, as requests carry them

    def changed_in_week_ending(end: datetime) -> list[dict]:
        return api.sim.ledger.purchase_orders(
            "demo-vendor", now, changed_after=end - timedelta(days=7), changed_before=end
        )

    # A week (the API's widest window) with more orders than one page holds: picked by what the ledger holds, not
    # by the date (some weeks before today see two orders change or fewer). The ledger's orders start 120 days
    # back, inside the API's 184-day lookback.
    end = next(
        (
            now - timedelta(days=back)
            for back in range(0, 100)
            if len(changed_in_week_ending(now - timedelta(days=back))) > 2
        ),
        now,
    )
    after, before = iso(end - timedelta(days=7)), iso(end)
    expected = changed_in_week_ending(end)
    assert len(expected) > 2
    orders, pages = _collect(
        api,
        "getPurchaseOrders",
        {"changedAfter": after, "changedBefore": before, "limit": 2},
        lambda b: b["payload"]["orders"],
        lambda b: b["payload"].get("pagination", {}).get("nextToken"),
        "nextToken",
    )
    assert pages > 1
    assert sorted(o["purchaseOrderNumber"] for o in orders) == sorted(
        o["purchaseOrderNumber"] for o in expected
    )
    net_costs = [i["netCost"]["amount"] for o in orders for i in o["orderDetails"]["items"]]
    assert all(isinstance(cost, str) for cost in net_costs)  # Vendor Money.amount is a string in the model

    wide = api.call(
        "getPurchaseOrders", params={"changedAfter": iso(end - timedelta(days=9)), "changedBefore": before}
    )
    assert wide.status_code == 400
    old = api.call(
        "getPurchaseOrders",
        params={
            "createdAfter": iso(now - timedelta(days=300)),
            "createdBefore": iso(now - timedelta(days=295)),
        },
    )
    assert old.status_code == 400
    assert api.call("getPurchaseOrders").status_code == 400
    numbers_only = api.json("getPurchaseOrders", params={"changedAfter": after, "includeDetails": "false"})
    assert all(
        set(o) == {"purchaseOrderNumber", "purchaseOrderState"} for o in numbers_only["payload"]["orders"]
    )

    statuses, _ = _collect(
        api,
        "getPurchaseOrdersStatus",
        {"updatedAfter": after, "updatedBefore": before, "limit": 3},
        lambda b: b["payload"]["ordersStatus"],
        lambda b: b["payload"].get("pagination", {}).get("nextToken"),
        "nextToken",
    )
    assert statuses
    one = api.json(
        "getPurchaseOrdersStatus", params={"purchaseOrderNumber": statuses[0]["purchaseOrderNumber"]}
    )
    assert [s["purchaseOrderNumber"] for s in one["payload"]["ordersStatus"]] == [
        statuses[0]["purchaseOrderNumber"]
    ]


@pytest.mark.parametrize(
    ("operation", "params", "items"),
    [
        ("listTransactions", {"postedAfter": "-45d"}, lambda b: b["payload"]["transactions"]),
        ("listFinancialEvents", {"PostedAfter": "-30d", "MaxResultsPerPage": "5"}, lambda b: b["payload"]),
        ("getReports", {"reportTypes": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2", "pageSize": "2"}, None),
    ],
)
def test_next_tokens_are_tamper_checked_and_bound_to_operation_and_account(  # type: ignore[no-untyped-def]
    api, operation: str, params: dict, items
) -> None:
    now = api.sim.clock.now().replace(microsecond=0)  # whole seconds, as requests carry them
    resolved = {
        k: iso(now - timedelta(days=int(v[1:-1]))) if v.startswith("-") else v for k, v in params.items()
    }
    body = api.json(operation, params=resolved)
    token_name = "NextToken" if operation == "listFinancialEvents" else "nextToken"
    token = (body.get("payload") or body).get(token_name)
    assert token
    carry = {} if operation == "getReports" else resolved
    assert api.call(operation, params={**carry, token_name: token}).status_code == 200
    payload, _, signature = token.partition(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    refused = api.call(operation, params={**carry, token_name: forged})
    assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == "InvalidInput"
    other_operation = "listFinancialEventGroups"
    assert api.call(other_operation, params={"NextToken": token}).status_code == 400
    other_account = api.call(operation, "eu", params={**carry, token_name: token})
    assert other_account.status_code == 400


def test_single_purchase_order_and_events_by_order(api) -> None:  # type: ignore[no-untyped-def]
    now = api.sim.clock.now().replace(microsecond=0)  # whole seconds, as requests carry them
    order = api.sim.ledger.purchase_orders("demo-vendor", now)[0]
    served = api.json("getPurchaseOrder", path_params={"purchaseOrderNumber": order["purchaseOrderNumber"]})
    assert served["payload"]["purchaseOrderNumber"] == order["purchaseOrderNumber"]
    missing = api.call("getPurchaseOrder", path_params={"purchaseOrderNumber": "NOPE0000"})
    assert missing.status_code == 404

    # An event of an order (by property: at some times the first event of the month is a fee of no order).
    recent = api.sim.ledger.financial_events("demo-na", now, posted_after=now - timedelta(days=30))
    name, event = next((name, event) for name, event in recent if event.get("AmazonOrderId"))
    order_id = event["AmazonOrderId"]
    body = api.json("listFinancialEventsByOrderId", path_params={"orderId": order_id})
    events = body["payload"]["FinancialEvents"][name]
    assert events and all(e.get("AmazonOrderId") == order_id for e in events)


def test_a_group_next_token_cannot_page_another_group(api) -> None:  # type: ignore[no-untyped-def]
    now = api.sim.clock.now().replace(microsecond=0)  # whole seconds, as requests carry them
    closed = [
        g for g in api.sim.ledger.financial_event_groups("demo-na", now) if g["ProcessingStatus"] == "Closed"
    ]
    first, second = closed[0]["FinancialEventGroupId"], closed[1]["FinancialEventGroupId"]
    body = api.json(
        "listFinancialEventsByGroupId", path_params={"eventGroupId": first}, params={"MaxResultsPerPage": 5}
    )
    token = body["payload"]["NextToken"]
    ok = api.call(
        "listFinancialEventsByGroupId", path_params={"eventGroupId": first}, params={"NextToken": token}
    )
    assert ok.status_code == 200
    other = api.call(
        "listFinancialEventsByGroupId", path_params={"eventGroupId": second}, params={"NextToken": token}
    )
    assert other.status_code == 400
