"""Finances 2024-06-19: listTransactions, listBalances, listSummary."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from simulator import params
from simulator.errors import InvalidInput
from simulator.operations.context import (
    FAR_PAST,
    MIN_AGE,
    OperationContext,
    dt,
    iso,
    not_too_recent,
    ordered,
    page_body,
    paged,
    requested_marketplaces,
    too_wide,
)

TRANSACTIONS_PAGE_SIZE = 100
BALANCES_PAGE_SIZE = 500
SUMMARIES_PAGE_SIZE = 10


TRANSACTION_FILTER_IDENTIFIERS = ("FINANCIAL_EVENT_GROUP_ID", "ORDER_ID")
TRANSACTION_STATUSES = ("DEFERRED", "RELEASED", "DEFERRED_RELEASED")


def list_transactions(ctx: OperationContext) -> dict[str, Any]:
    def read_filters() -> tuple[dict[str, Any], int]:
        identifier_name = params.enum(ctx.query, "relatedIdentifierName", TRANSACTION_FILTER_IDENTIFIERS)
        identifier_value = ctx.query.get("relatedIdentifierValue") or None
        if (identifier_name is None) != (identifier_value is None):
            raise InvalidInput("relatedIdentifierName and relatedIdentifierValue must be specified together.")
        after = params.optional_datetime(ctx.query, "postedAfter")
        if after is None and identifier_name is None:
            raise InvalidInput("postedAfter is required when no related identifier is specified.")
        before = params.optional_datetime(ctx.query, "postedBefore")
        not_too_recent(ctx, "postedAfter", after)
        not_too_recent(ctx, "postedBefore", before)
        ordered("postedAfter", after, "postedBefore", before)
        filters = {
            "after": iso(after),
            "before": iso(before),
            "marketplaceId": ctx.query.get("marketplaceId") or None,
            "status": params.enum(ctx.query, "transactionStatus", TRANSACTION_STATUSES),
            "identifierName": identifier_name,
            "identifierValue": identifier_value,
        }
        return filters, TRANSACTIONS_PAGE_SIZE

    def fetch(filters: dict[str, Any], snapshot: datetime) -> list[Any]:
        after = dt(filters["after"]) or FAR_PAST
        before = dt(filters["before"]) or snapshot - MIN_AGE  # Amazon's default: two minutes ago
        if too_wide(after, before) and filters["identifierName"] is None:
            return []
        transactions = ctx.ledger.transactions(
            ctx.account_id,
            snapshot,
            posted_after=after,
            posted_before=before,
            marketplace_id=filters["marketplaceId"],
            related_identifier_name=filters["identifierName"],
            related_identifier_value=filters["identifierValue"],
        )
        status = filters["status"]
        return [t for t in transactions if status is None or t.get("transactionStatus") == status]

    transactions, next_token = paged(ctx, "nextToken", read_filters, fetch)
    return {"payload": page_body("transactions", transactions, next_token)}


BALANCE_TYPES = ("AVAILABLE", "RESERVED", "TOTAL", "DEFERRED", "ACCOUNT_LEVEL_RESERVE")


def _balances_of_type(balances: list[dict[str, Any]], balance_type: str) -> list[dict[str, Any]]:
    found = []
    for balance in balances:
        if balance.get("balanceType") == balance_type:
            found.append(balance)
        else:
            found.extend(_balances_of_type(balance.get("balances") or [], balance_type))
    return found


def list_balances(ctx: OperationContext) -> dict[str, Any]:
    def read_filters() -> tuple[dict[str, Any], int]:
        as_of = params.optional_date(ctx.query, "asOfDate")
        if as_of is not None and as_of > ctx.now:
            raise InvalidInput("asOfDate must not be in the future.")
        filters = {
            "marketplaceIds": requested_marketplaces(ctx),
            "balanceType": params.enum(ctx.query, "balanceType", BALANCE_TYPES),
            "asOf": iso(as_of),
        }
        return filters, BALANCES_PAGE_SIZE

    def fetch(filters: dict[str, Any], snapshot: datetime) -> list[Any]:
        balances: list[dict[str, Any]] = []
        for marketplace_id in filters["marketplaceIds"]:
            balances.extend(
                ctx.ledger.balances(
                    ctx.account_id, snapshot, as_of=dt(filters["asOf"]), marketplace_id=marketplace_id
                )
            )
        return _balances_of_type(balances, filters["balanceType"]) if filters["balanceType"] else balances

    balances, next_token = paged(ctx, "nextToken", read_filters, fetch)
    return page_body("balances", balances, next_token)


def list_summary(ctx: OperationContext) -> dict[str, Any]:
    def read_filters() -> tuple[dict[str, Any], int]:
        identifier_name = params.enum(ctx.query, "relatedIdentifierName", ("SETTLEMENT_ID",))
        identifier_value = ctx.query.get("relatedIdentifierValue") or None
        if (identifier_name is None) != (identifier_value is None):
            raise InvalidInput("relatedIdentifierName and relatedIdentifierValue must be specified together.")
        start = params.optional_date(ctx.query, "periodStart")
        end = params.optional_date(ctx.query, "periodEnd")
        if identifier_value is None and start is None and end is None:
            raise InvalidInput("Specify a settlement (relatedIdentifierName=SETTLEMENT_ID) or a period.")
        if start is not None and end is not None and end < start:
            raise InvalidInput("periodEnd must not be before periodStart.")
        filters = {
            "marketplaceIds": params.string_list(ctx.query, "marketplaceIds"),
            "settlementId": identifier_value,
            "start": iso(start),
            # periodEnd is a date and inclusive: the ledger takes an exclusive end.
            "end": iso(end + timedelta(days=1)) if end else None,
        }
        return filters, SUMMARIES_PAGE_SIZE

    def fetch(filters: dict[str, Any], snapshot: datetime) -> list[Any]:
        marketplaces = filters["marketplaceIds"] or [None]
        summaries: list[dict[str, Any]] = []
        for marketplace_id in marketplaces:
            summaries.extend(
                ctx.ledger.summaries(
                    ctx.account_id,
                    snapshot,
                    settlement_id=filters["settlementId"],
                    start=dt(filters["start"]),
                    end=dt(filters["end"]),
                    marketplace_id=marketplace_id,
                )
            )
        return summaries

    summaries, next_token = paged(ctx, "nextToken", read_filters, fetch)
    return page_body("summaries", summaries, next_token)
