"""The client reads every sandbox example from Amazon's models and the real API fixtures of other projects.

Each example is served over loopback HTTP at its operation's path and read through the client's own method:
2xx examples must yield their envelope's items with every number an exact Decimal; 400 examples must raise a
typed `SpApiError` carrying Amazon's code and message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from spapi_testkit import SHARED_FIXTURES, Harness, Recorded, Reply, decimals_only, money_amounts

from spapi import endpoints as ops
from spapi.client import SpApiClient
from spapi.endpoints import parse_json, to_decimal
from spapi.errors import SpApiError

EXAMPLES = SHARED_FIXTURES / "spapi-examples"
API_FIXTURES = SHARED_FIXTURES / "api-fixtures"
SINCE = datetime(2026, 11, 1, tzinfo=UTC)

# How ACORN's client calls each operation; each returns what the caller would see (pages, or one object).
CALLS: dict[str, Callable[[SpApiClient], Any]] = {
    "getReports": lambda c: list(c.iter_reports(["FEE_DISCOUNTS_REPORT"])),
    "getReport": lambda c: c.get_report("ID323"),
    "getReportDocument": lambda c: c.get_report_document("0356cf79-b8b0-4226-b4b9-0ee058ea5760"),
    "listFinancialEventGroups": lambda c: list(c.iter_financial_event_groups(SINCE)),
    "listFinancialEventsByGroupId": lambda c: list(c.iter_financial_events_by_group("485734534857")),
    "listFinancialEventsByOrderId": lambda c: list(
        c.paginate(
            ops.LIST_FINANCIAL_EVENTS_BY_ORDER_ID,
            {},
            path="/finances/v0/orders/485-734-5434857/financialEvents",
        )
    ),
    "listFinancialEvents": lambda c: list(c.paginate(ops.LIST_FINANCIAL_EVENTS, {"MaxResultsPerPage": "10"})),
    "listTransactions": lambda c: list(c.iter_transactions(SINCE)),
    "listBalances": lambda c: list(c.list_balances()),
    "listSummary": lambda c: list(c.list_summary(settlement_id="1234")),
    "listPayouts": lambda c: list(c.paginate(ops.LIST_PAYOUTS, {"marketplaceIds": "ATVPDKIKX0DER"})),
    "listExpectedPayouts": lambda c: list(c.iter_expected_payouts("A1PA6795UKMFR9")),
    "getPurchaseOrders": lambda c: list(c.paginate(ops.GET_PURCHASE_ORDERS, {"limit": "100"})),
    "getPurchaseOrder": lambda c: c.get_purchase_order("4Z32PABC"),
    "getPurchaseOrdersStatus": lambda c: list(c.paginate(ops.GET_PURCHASE_ORDERS_STATUS, {"limit": "100"})),
}
PATH_VALUES = {
    "reportId": "ID323",
    "reportDocumentId": "0356cf79-b8b0-4226-b4b9-0ee058ea5760",
    "eventGroupId": "485734534857",
    "orderId": "485-734-5434857",
    "purchaseOrderNumber": "4Z32PABC",
}
# Where each operation's items sit in Amazon's envelope (from the models, written out independently).
ITEMS: dict[str, Callable[[dict[str, Any]], list[Any]]] = {
    "getReports": lambda b: b["reports"],
    "listFinancialEventGroups": lambda b: b["payload"]["FinancialEventGroupList"],
    "listFinancialEventsByGroupId": lambda b: [b["payload"]["FinancialEvents"]],
    "listFinancialEventsByOrderId": lambda b: [b["payload"]["FinancialEvents"]],
    "listFinancialEvents": lambda b: [b["payload"]["FinancialEvents"]],
    "listTransactions": lambda b: b["payload"]["transactions"],
    "listBalances": lambda b: b["balances"],
    "listSummary": lambda b: b["summaries"],
    "listPayouts": lambda b: b["payouts"],
    "listExpectedPayouts": lambda b: b["expectedPayouts"],
    "getPurchaseOrders": lambda b: b["payload"]["orders"],
    "getPurchaseOrdersStatus": lambda b: b["payload"]["ordersStatus"],
}
_NUMERIC_AMOUNT = re.compile(r'"(?:CurrencyAmount|currencyAmount)"\s*:\s*(-?[0-9][0-9.eE+-]*)')


def _index() -> list[dict[str, Any]]:
    return json.loads((EXAMPLES / "_index.json").read_text())


def _cases(success: bool) -> list[Any]:
    return [
        pytest.param(entry, id=entry["file"])
        for entry in _index()
        if entry["status"].startswith("2") == success
    ]


def _serve(harness: Harness, entry: dict[str, Any], status: int) -> str:
    path = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], entry["path"])
    example = Reply(
        status, (EXAMPLES / entry["file"]).read_bytes(), {"x-amzn-RequestId": f"req-{entry['file']}"}
    )
    # The examples carry a next token: the page after it is an empty last page.
    harness.api.route("GET", path, handler=lambda r: example if not _has_token(r) else Reply(200, b"{}"))
    return path


def _has_token(request: Recorded) -> bool:
    return any(name in request.query for name in ("nextToken", "NextToken"))


def _numeric_literals(raw: bytes) -> list[Decimal]:
    return [Decimal(text) for text in _NUMERIC_AMOUNT.findall(raw.decode())]


@pytest.mark.parametrize("entry", _cases(success=True))
def test_every_2xx_sandbox_example_is_read_exactly(harness: Harness, entry: dict[str, Any]) -> None:
    operation = entry["operationId"]
    raw = (EXAMPLES / entry["file"]).read_bytes()
    expected_body = parse_json(raw)
    if operation == "createReport":  # a POST ACORN never makes (Amazon refuses it for settlement reports)
        assert expected_body == {"reportId": "ID323"}
        return
    _serve(harness, entry, int(entry["status"]))
    with harness.client() as client:
        result = CALLS[operation](client)
    if isinstance(result, dict):  # single-object operations
        assert decimals_only(result)
        assert result in (expected_body, expected_body.get("payload"))
        return
    first = result[0]
    assert first.raw == raw and first.operation == operation
    assert first.request_id == f"req-{entry['file']}"
    assert first.items == ITEMS[operation](expected_body)
    assert first.items, "every 2xx example carries at least one item"
    assert decimals_only(first.body)
    amounts = money_amounts(first.body)
    assert all(isinstance(to_decimal(amount), Decimal) for amount in amounts)
    # Every numeric amount equals its JSON literal exactly (no pass through a binary float).
    numeric = [amount for amount in amounts if isinstance(amount, Decimal)]
    assert sorted(numeric) == sorted(_numeric_literals(raw))


@pytest.mark.parametrize("entry", _cases(success=False))
def test_every_400_sandbox_example_is_a_typed_error(harness: Harness, entry: dict[str, Any]) -> None:
    operation = entry["operationId"]
    error_body = json.loads((EXAMPLES / entry["file"]).read_text())["errors"][0]
    if operation == "createReport":
        assert error_body["code"] and error_body["message"]
        return
    path = _serve(harness, entry, 400)
    with harness.client() as client, pytest.raises(SpApiError) as raised:
        CALLS[operation](client)
    error = raised.value
    assert (error.operation, error.status, error.code) == (operation, 400, error_body["code"])
    assert error_body["message"] in error.error_message
    assert error.request_id == f"req-{entry['file']}"
    assert len(harness.api.calls(path)) == 1  # a first-page 400 is never retried


def test_money_sums_exactly(harness: Harness) -> None:
    body = (
        b'{"payload": {"transactions": [{"totalAmount": {"currencyAmount": 0.1, "currencyCode": "USD"}},'
        b' {"totalAmount": {"currencyAmount": 0.2, "currencyCode": "USD"}}]}}'
    )
    harness.api.route("GET", "/finances/2024-06-19/transactions", Reply(200, body))
    with harness.client() as client:
        (page,) = list(client.iter_transactions(SINCE))
    total = sum(item["totalAmount"]["currencyAmount"] for item in page.items)
    assert total == Decimal("0.3") and 0.1 + 0.2 != 0.3


def test_airbyte_vendor_orders_under_orders_status(harness: Harness) -> None:
    raw = (API_FIXTURES / "airbyte-source-amazon-seller-partner" / "VendorOrders.json").read_bytes()
    harness.api.route("GET", "/vendor/orders/v1/purchaseOrders", Reply(200, raw))
    with harness.client() as client:
        (page,) = list(client.paginate(ops.GET_PURCHASE_ORDERS, {}))
    assert [order["purchaseOrderNumber"] for order in page.items] == ["L8266355"]


def test_airbyte_vendor_order_status_numeric_net_cost(harness: Harness) -> None:
    raw = (API_FIXTURES / "airbyte-source-amazon-seller-partner" / "VendorOrdersStatus.json").read_bytes()
    harness.api.route("GET", "/vendor/orders/v1/purchaseOrdersStatus", Reply(200, raw))
    with harness.client() as client:
        (page,) = list(client.paginate(ops.GET_PURCHASE_ORDERS_STATUS, {}))
    net_costs = [item["netCost"]["amount"] for order in page.items for item in order["itemStatus"]]
    assert net_costs and all(isinstance(cost, Decimal) for cost in net_costs)
    assert to_decimal(net_costs[0]) == Decimal("27.37")
    assert to_decimal("346.27") == Decimal("346.27")  # the model's string form reads the same way


def test_eolabs_event_groups(harness: Harness) -> None:
    raw = (API_FIXTURES / "eolabs-sp-api-response-parser" / "fetchListFinancialEventGroups.json").read_bytes()
    harness.api.route(
        "GET",
        "/finances/v0/financialEventGroups",
        handler=lambda r: Reply(200, raw if not _has_token(r) else b"{}"),
    )
    with harness.client() as client:
        pages = list(client.iter_financial_event_groups(SINCE))
    groups = pages[0].items
    assert groups and groups == parse_json(raw)["payload"]["FinancialEventGroupList"]
    assert all(isinstance(amount, Decimal) for amount in money_amounts(groups))


def test_eolabs_real_event_pages_follow_next_token(harness: Harness) -> None:
    folder = API_FIXTURES / "eolabs-sp-api-response-parser"
    files = [
        "fetchListFinancialEvents.json",
        "fetchListFinancialEventsToken.json",
        "fetchListFinancialEventsToken2.json",
    ]
    bodies = [(folder / name).read_bytes() for name in files]
    tokens = [json.loads(body)["payload"].get("NextToken") for body in bodies]
    by_token = {None: bodies[0], tokens[0]: bodies[1], tokens[1]: bodies[2]}
    path = "/finances/v0/financialEventGroups/G1/financialEvents"
    harness.api.route("GET", path, handler=lambda r: Reply(200, by_token[r.q("NextToken")]))
    with harness.client() as client:
        pages = list(client.iter_financial_events_by_group("G1"))
    assert [page.raw for page in pages] == bodies
    assert [page.next_token for page in pages] == [tokens[0], tokens[1], None]
    assert [call.q("NextToken") for call in harness.api.calls(path)] == [None, tokens[0], tokens[1]]
    for page, raw in zip(pages, bodies, strict=True):
        (events,) = page.items
        assert set(events) == set(json.loads(raw)["payload"]["FinancialEvents"])
        numeric = [a for a in money_amounts(page.body) if isinstance(a, Decimal)]
        assert sorted(numeric) == sorted(_numeric_literals(raw))
