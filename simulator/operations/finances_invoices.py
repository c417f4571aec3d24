"""Finances Invoices 2026-06-25: getInvoiceHeaders, getInvoice (the vendor's invoices and how they were settled).

Amazon's rules as the model states them: `marketplaceId` is required; `fromIssueDate` and `toIssueDate` come
together or not at all (then the last 90 days), at most 90 days apart; `invoicesModifiedAfter` filters on the last
update; 100 headers per page (`nextToken`), 600 line items per page (`nextTokenForLineItems`). Amounts are JSON
numbers (BigDecimal), written exactly.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from simulator import params
from simulator.errors import InvalidInput, NotFound
from simulator.operations.context import OperationContext, dt, iso, ordered, paged

MAX_ISSUE_WINDOW = timedelta(days=90)
# Page sizes (the model's defaults); module constants so a test can make them small enough to page.
HEADERS_PAGE_SIZE = 100
LINES_PAGE_SIZE = 600


def _marketplace(ctx: OperationContext) -> str:
    marketplace = ctx.query.get("marketplaceId")
    if not marketplace:
        raise InvalidInput("marketplaceId is required.")
    if marketplace not in ctx.account.marketplace_ids:
        raise InvalidInput(f"Invalid marketplaceId: {marketplace}")
    return marketplace


def get_invoice_headers(ctx: OperationContext) -> dict[str, Any]:
    def read_filters() -> tuple[dict[str, Any], int]:
        _marketplace(ctx)
        issued_from = params.optional_datetime(ctx.query, "fromIssueDate")
        issued_to = params.optional_datetime(ctx.query, "toIssueDate")
        if (issued_from is None) != (issued_to is None):
            raise InvalidInput("Provide both fromIssueDate and toIssueDate, or neither.")
        if issued_from is None or issued_to is None:
            issued_to = ctx.now
            issued_from = ctx.now - MAX_ISSUE_WINDOW
        ordered("fromIssueDate", issued_from, "toIssueDate", issued_to)
        if issued_to - issued_from > MAX_ISSUE_WINDOW:
            raise InvalidInput("The range between fromIssueDate and toIssueDate must not exceed 90 days.")
        modified_after = params.optional_datetime(ctx.query, "invoicesModifiedAfter")
        filters = {"from": iso(issued_from), "to": iso(issued_to), "modifiedAfter": iso(modified_after)}
        return filters, HEADERS_PAGE_SIZE

    def fetch(filters: dict[str, Any], snapshot: datetime) -> list[Any]:
        return ctx.ledger.invoice_headers(
            ctx.account_id,
            snapshot,
            issued_from=dt(filters["from"]),
            issued_to=dt(filters["to"]),
            modified_after=dt(filters["modifiedAfter"]),
        )

    headers, next_token = paged(ctx, "nextToken", read_filters, fetch)
    body: dict[str, Any] = {"invoices": headers, "numOfRecords": len(headers)}
    if next_token:
        body["nextToken"] = next_token
    return body


def get_invoice(ctx: OperationContext) -> dict[str, Any]:
    _marketplace(ctx)
    identifier = ctx.path_params["invoiceIdentifier"]

    def fetch(snapshot: datetime) -> list[Any]:
        invoice = ctx.ledger.invoice(ctx.account_id, identifier, snapshot)
        if invoice is None:
            raise NotFound(f"Invoice {identifier} was not found.")
        return [invoice[0], *invoice[1]]  # the header first, kept with the lines in the cached list

    state = ctx.resume("nextTokenForLineItems")
    snapshot = datetime.fromisoformat(state["now"]) if state else ctx.now
    offset = int(state["offset"]) if state else 0
    everything = ctx.cache.get_or_build(
        f"getInvoice|{ctx.account_id}|{identifier}|{snapshot.isoformat()}", lambda: fetch(snapshot)
    )
    header, lines = everything[0], everything[1:]
    items, next_token = ctx.page(lines, filters={}, snapshot=snapshot, offset=offset, size=LINES_PAGE_SIZE)
    body: dict[str, Any] = {"invoiceHeader": header, "invoiceItems": items}
    if next_token:
        body["nextTokenForLineItems"] = next_token
    return body
