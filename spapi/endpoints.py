"""The SP-API operations ACORN calls, and how each one's response envelope is read.

Paths, query parameter names, page-token names and envelopes are Amazon's, from the OpenAPI models in
tests/fixtures/shared/spapi-models/. The envelopes differ by API generation:

| operation | envelope | items | next page token (response -> request) |
|---|---|---|---|
| getReports | top level | `reports` | `nextToken` -> `nextToken` (sent alone) |
| listFinancialEventGroups | `payload` | `FinancialEventGroupList` | `NextToken` -> `NextToken` |
| listFinancialEventsByGroupId | `payload` | `[FinancialEvents]` (one dict of `*EventList`s) | `NextToken` |
| listTransactions | `payload` | `transactions` | `nextToken` -> `nextToken` |
| listBalances / listSummary | top level | `balances` / `summaries` | `nextToken` -> `nextToken` |
| listExpectedPayouts | top level | `expectedPayouts` | `nextToken` -> `nextToken` |
| getPurchaseOrders | `payload` | `orders` (Airbyte: `ordersStatus`) | `pagination.nextToken` -> `nextToken` |
| getPurchaseOrdersStatus | `payload` | `ordersStatus` | `pagination.nextToken` -> `nextToken` |
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Operation:
    operation_id: str
    path: str
    envelope: str | None = None  # the key that wraps the result (`payload`), if any
    items_keys: tuple[str, ...] = ()  # the first key present in the envelope holds the items
    items_is_object: bool = False  # the items key holds one object (v0 FinancialEvents), not a list
    next_token_path: tuple[str, ...] = ("nextToken",)  # inside the envelope
    next_token_param: str = "nextToken"
    # getReports wants the token as the only parameter; the others want the original arguments repeated.
    token_replaces_params: bool = False


GET_REPORTS = Operation(
    "getReports", "/reports/2021-06-30/reports", items_keys=("reports",), token_replaces_params=True
)
GET_REPORT = Operation("getReport", "/reports/2021-06-30/reports/{reportId}")
GET_REPORT_DOCUMENT = Operation("getReportDocument", "/reports/2021-06-30/documents/{reportDocumentId}")
LIST_FINANCIAL_EVENT_GROUPS = Operation(
    "listFinancialEventGroups",
    "/finances/v0/financialEventGroups",
    envelope="payload",
    items_keys=("FinancialEventGroupList",),
    next_token_path=("NextToken",),
    next_token_param="NextToken",
)
LIST_FINANCIAL_EVENTS_BY_GROUP_ID = Operation(
    "listFinancialEventsByGroupId",
    "/finances/v0/financialEventGroups/{eventGroupId}/financialEvents",
    envelope="payload",
    items_keys=("FinancialEvents",),
    items_is_object=True,
    next_token_path=("NextToken",),
    next_token_param="NextToken",
)
LIST_FINANCIAL_EVENTS = Operation(
    "listFinancialEvents",
    "/finances/v0/financialEvents",
    envelope="payload",
    items_keys=("FinancialEvents",),
    items_is_object=True,
    next_token_path=("NextToken",),
    next_token_param="NextToken",
)
LIST_FINANCIAL_EVENTS_BY_ORDER_ID = Operation(
    "listFinancialEventsByOrderId",
    "/finances/v0/orders/{orderId}/financialEvents",
    envelope="payload",
    items_keys=("FinancialEvents",),
    items_is_object=True,
    next_token_path=("NextToken",),
    next_token_param="NextToken",
)
LIST_TRANSACTIONS = Operation(
    "listTransactions", "/finances/2024-06-19/transactions", envelope="payload", items_keys=("transactions",)
)
LIST_BALANCES = Operation("listBalances", "/finances/2024-06-19/balances", items_keys=("balances",))
LIST_SUMMARY = Operation("listSummary", "/finances/2024-06-19/summary", items_keys=("summaries",))
LIST_PAYOUTS = Operation("listPayouts", "/finances/transfers/2024-06-01/payouts", items_keys=("payouts",))
LIST_EXPECTED_PAYOUTS = Operation(
    "listExpectedPayouts", "/finances/transfers/2024-06-01/payouts/expected", items_keys=("expectedPayouts",)
)
GET_PURCHASE_ORDERS = Operation(
    "getPurchaseOrders",
    "/vendor/orders/v1/purchaseOrders",
    envelope="payload",
    # Airbyte's VendorOrders fixture carries orders under `ordersStatus` (PROVENANCE.md §4): accept both.
    items_keys=("orders", "ordersStatus"),
    next_token_path=("pagination", "nextToken"),
)
GET_PURCHASE_ORDER = Operation("getPurchaseOrder", "/vendor/orders/v1/purchaseOrders/{purchaseOrderNumber}")
GET_PURCHASE_ORDERS_STATUS = Operation(
    "getPurchaseOrdersStatus",
    "/vendor/orders/v1/purchaseOrdersStatus",
    envelope="payload",
    items_keys=("ordersStatus",),
    next_token_path=("pagination", "nextToken"),
)
GET_SHIPMENT_DETAILS = Operation(
    "GetShipmentDetails",
    "/vendor/shipping/v1/shipments",
    envelope="payload",
    items_keys=("shipments",),
    next_token_path=("pagination", "nextToken"),
)
GET_INVOICE_HEADERS = Operation(
    "getInvoiceHeaders", "/finances/invoices/2026-06-25/invoices", items_keys=("invoices",)
)
# getInvoice pages its line items (600 a page) with their own token; every page repeats the header.
GET_INVOICE = Operation(
    "getInvoice",
    "/finances/invoices/2026-06-25/invoices/{invoiceIdentifier}",
    items_keys=("invoiceItems",),
    next_token_path=("nextTokenForLineItems",),
    next_token_param="nextTokenForLineItems",
)

OPERATIONS: dict[str, Operation] = {
    operation.operation_id: operation
    for operation in (
        GET_REPORTS,
        GET_REPORT,
        GET_REPORT_DOCUMENT,
        LIST_FINANCIAL_EVENT_GROUPS,
        LIST_FINANCIAL_EVENTS_BY_GROUP_ID,
        LIST_FINANCIAL_EVENTS,
        LIST_FINANCIAL_EVENTS_BY_ORDER_ID,
        LIST_TRANSACTIONS,
        LIST_BALANCES,
        LIST_SUMMARY,
        LIST_PAYOUTS,
        LIST_EXPECTED_PAYOUTS,
        GET_PURCHASE_ORDERS,
        GET_PURCHASE_ORDER,
        GET_PURCHASE_ORDERS_STATUS,
        GET_SHIPMENT_DETAILS,
        GET_INVOICE_HEADERS,
        GET_INVOICE,
    )
}


@dataclass(frozen=True)
class ApiPage:
    """One page of a list operation: the exact bytes received (for the raw archive) and their parsed
    reading."""

    operation: str
    raw: bytes
    body: dict[str, Any]
    items: list[Any]
    next_token: str | None
    request_id: str | None
    params: dict[str, str] = field(
        default_factory=dict
    )  # the query sent (no secrets: tokens travel in headers)


class MalformedResponseError(ValueError):
    """A 2xx body that is not the JSON object the operation's model describes."""


def parse_json(raw: bytes) -> Any:
    """JSON with every number as `Decimal`: money must never pass through a binary float."""
    return json.loads(raw, parse_float=Decimal, parse_int=Decimal)


def to_decimal(value: Any) -> Decimal | None:
    """A money amount as `Decimal`, whether the payload sent a string (as the models say) or a number (as some
    real payloads do). None for a missing or empty amount."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError("a boolean is not an amount")
    if isinstance(value, int | str):
        return Decimal(str(value).strip())
    if isinstance(
        value, float
    ):  # only from callers that parsed JSON themselves; repr() is the shortest round-trip
        return Decimal(repr(value))
    raise ValueError(f"not an amount: {type(value).__name__}")


def _dig(container: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(container, dict):
            return None
        container = container.get(key)
    return container


def parse_page(
    operation: Operation, raw: bytes, *, request_id: str | None = None, params: dict[str, str] | None = None
) -> ApiPage:
    """Read one 2xx response body of `operation` into an `ApiPage`."""
    try:
        body = parse_json(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise MalformedResponseError(f"{operation.operation_id}: body is not JSON ({error})") from None
    if not isinstance(body, dict):
        raise MalformedResponseError(f"{operation.operation_id}: body is not a JSON object")
    envelope = body.get(operation.envelope) if operation.envelope else body
    if envelope is None:
        envelope = {}  # Finances may answer an empty page without a payload
    if not isinstance(envelope, dict):
        raise MalformedResponseError(f"{operation.operation_id}: {operation.envelope!r} is not an object")
    items: list[Any] = []
    for key in operation.items_keys:
        if key in envelope and envelope[key] is not None:
            value = envelope[key]
            if operation.items_is_object:
                items = [value]
            elif isinstance(value, list):
                items = value
            else:
                raise MalformedResponseError(f"{operation.operation_id}: {key!r} is not a list")
            break
    token = _dig(envelope, operation.next_token_path)
    next_token = str(token) if token not in (None, "") else None
    return ApiPage(operation.operation_id, raw, body, items, next_token, request_id, dict(params or {}))
