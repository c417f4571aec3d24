"""One regional SP-API origin (na, eu or fe): authentication, faults, rate limits, then the operation.

The region decides which demo account answers (the seller, or the vendor for Vendor Orders), whatever refresh
token obtained the access token. Every response carries `x-amzn-RequestId`; every response
of a known operation carries `x-amzn-RateLimit-Limit`, throttled or not, as Amazon sends it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator import errors
from simulator.asgi_log import SCOPE_KEY, LoggedOrigin
from simulator.credentials import TokenCheck
from simulator.documents_origin import presign
from simulator.errors import InvalidInput, NotFound, error_response, new_request_id
from simulator.faults import Fault
from simulator.jsonbody import ExactJSONResponse
from simulator.operations import (
    finances_2024,
    finances_invoices,
    finances_v0,
    reports,
    transfers,
    vendor_orders,
)
from simulator.operations.context import OperationContext, ResultCache
from simulator.ratelimit import USAGE_PLANS, header_rate
from simulator.state import SimulatorState

# How much of a User-Agent the request log keeps as the caller.
MAX_CALLER_LENGTH = 200

Handler = Callable[[OperationContext], dict[str, Any]]


@dataclass(frozen=True)
class OperationRoute:
    path: str
    operation: str
    account_kind: str  # "seller" or "vendor"
    handler: Handler


OPERATION_ROUTES = (
    OperationRoute("/reports/2021-06-30/reports", "getReports", "seller", reports.get_reports),
    OperationRoute("/reports/2021-06-30/reports/{reportId}", "getReport", "seller", reports.get_report),
    OperationRoute(
        "/reports/2021-06-30/documents/{reportDocumentId}",
        "getReportDocument",
        "seller",
        reports.get_report_document,
    ),
    OperationRoute(
        "/finances/v0/financialEventGroups",
        "listFinancialEventGroups",
        "seller",
        finances_v0.list_financial_event_groups,
    ),
    OperationRoute(
        "/finances/v0/financialEventGroups/{eventGroupId}/financialEvents",
        "listFinancialEventsByGroupId",
        "seller",
        finances_v0.list_financial_events_by_group_id,
    ),
    OperationRoute(
        "/finances/v0/financialEvents", "listFinancialEvents", "seller", finances_v0.list_financial_events
    ),
    OperationRoute(
        "/finances/v0/orders/{orderId}/financialEvents",
        "listFinancialEventsByOrderId",
        "seller",
        finances_v0.list_financial_events_by_order_id,
    ),
    OperationRoute(
        "/finances/2024-06-19/transactions", "listTransactions", "seller", finances_2024.list_transactions
    ),
    OperationRoute("/finances/2024-06-19/balances", "listBalances", "seller", finances_2024.list_balances),
    OperationRoute("/finances/2024-06-19/summary", "listSummary", "seller", finances_2024.list_summary),
    OperationRoute(
        "/finances/transfers/2024-06-01/payouts/expected",
        "listExpectedPayouts",
        "seller",
        transfers.list_expected_payouts,
    ),
    OperationRoute(
        "/vendor/orders/v1/purchaseOrders", "getPurchaseOrders", "vendor", vendor_orders.get_purchase_orders
    ),
    OperationRoute(
        "/vendor/orders/v1/purchaseOrders/{purchaseOrderNumber}",
        "getPurchaseOrder",
        "vendor",
        vendor_orders.get_purchase_order,
    ),
    OperationRoute(
        "/vendor/orders/v1/purchaseOrdersStatus",
        "getPurchaseOrdersStatus",
        "vendor",
        vendor_orders.get_purchase_orders_status,
    ),
    OperationRoute(
        "/vendor/shipping/v1/shipments", "GetShipmentDetails", "vendor", vendor_orders.get_shipment_details
    ),
    OperationRoute(
        "/finances/invoices/2026-06-25/invoices",
        "getInvoiceHeaders",
        "vendor",
        finances_invoices.get_invoice_headers,
    ),
    OperationRoute(
        "/finances/invoices/2026-06-25/invoices/{invoiceIdentifier}",
        "getInvoice",
        "vendor",
        finances_invoices.get_invoice,
    ),
)


def build_spapi_origin(state: SimulatorState, region: str) -> LoggedOrigin:
    routes = [
        Route(route.path, _endpoint(state, region, route), methods=["GET"]) for route in OPERATION_ROUTES
    ]
    routes.append(Route("/{path:path}", _unknown(region), methods=["GET", "POST", "PUT", "DELETE", "PATCH"]))
    return LoggedOrigin(Starlette(routes=routes), origin="spapi", log=state.request_log)


def _unknown(region: str) -> Callable[[Request], Any]:
    async def unknown(request: Request) -> Response:
        request.scope[SCOPE_KEY]["region"] = region
        headers = {"x-amzn-RequestId": new_request_id()}
        return error_response(404, "NotFound", "Resource not found.", headers)

    return unknown


def _endpoint(state: SimulatorState, region: str, route: OperationRoute) -> Callable[[Request], Any]:
    plan = USAGE_PLANS[route.operation]
    cache = ResultCache()

    async def endpoint(request: Request) -> Response:
        notes = request.scope[SCOPE_KEY]
        notes["region"] = region
        headers = {"x-amzn-RequestId": new_request_id()}
        number = state.faults.next_request_number()
        fault = state.faults.fault_for(number)

        if fault is not None:
            notes["fault"] = fault.kind
            if fault.kind == Fault.CONNECTION_RESET:
                notes["reset"] = True
                return Response(status_code=500)  # never sent: the connection is dropped instead
            if fault.kind == Fault.SLOW_RESPONSE:
                await asyncio.sleep(state.slow_response_seconds)

        token_state, token = state.tokens.check(request.headers.get("x-amz-access-token"))
        if token_state == TokenCheck.UNKNOWN or token is None:
            return error_response(403, "Unauthorized", errors.ACCESS_DENIED, headers)
        if token_state == TokenCheck.EXPIRED:
            return error_response(403, "Unauthorized", errors.TOKEN_EXPIRED, headers)

        account = state.ledger.account_for(region, route.account_kind, token.grant)
        if account is None:  # e.g. a vendor operation where this region has no vendor: the role is missing
            return error_response(403, "Unauthorized", errors.ACCESS_DENIED, headers)

        headers["x-amzn-RateLimit-Limit"] = header_rate(plan, state.clock.time_scale)
        # Which account and operation, and who asked (the client's User-Agent), for the log's throttle ledger.
        notes["usage"] = {
            "account": account.account_id,
            "operation": route.operation,
            "caller": request.headers.get("user-agent", "")[:MAX_CALLER_LENGTH],
        }
        if fault is not None and fault.kind == Fault.THROTTLE:
            return error_response(429, "QuotaExceeded", errors.QUOTA_EXCEEDED, headers)
        if fault is not None and fault.kind == Fault.SERVER_ERROR:
            if fault.status == 503:
                return error_response(503, "ServiceUnavailable", errors.SERVICE_UNAVAILABLE, headers)
            return error_response(500, "InternalFailure", errors.INTERNAL_FAILURE, headers)
        if state.faults.take_token_expiry(number):
            notes["fault"] = Fault.TOKEN_EXPIRED
            state.tokens.expire(request.headers["x-amz-access-token"])
            return error_response(403, "Unauthorized", errors.TOKEN_EXPIRED, headers)
        if not state.limiter.admit((token.grant, account.account_id, route.operation), plan):
            notes["usage"]["over_limit"] = True  # the bucket was empty: callers together went over the plan
            return error_response(429, "QuotaExceeded", errors.QUOTA_EXCEEDED, headers)

        context = OperationContext(
            operation=route.operation,
            account=account,
            now=state.clock.data_now(),  # what the ledger shows; see SimClock.data_now
            query=request.query_params,
            path_params=dict(request.path_params),
            ledger=state.ledger,
            page_tokens=state.page_tokens,
            cache=cache,
            presign=lambda account_id, document_id, encoding: presign(
                state, account_id, document_id, encoding
            ),
        )
        try:
            body = route.handler(context)
        except InvalidInput as exc:
            return error_response(400, "InvalidInput", exc.message, headers)
        except NotFound as exc:
            return error_response(404, "NotFound", exc.message, headers)
        return ExactJSONResponse(body, status_code=200, headers=headers)

    return endpoint
