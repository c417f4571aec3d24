"""Finances v0: listFinancialEventGroups and listFinancialEvents (all, by group, by order)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulator import params
from simulator.errors import InvalidInput, NotFound
from simulator.operations.context import (
    OperationContext,
    dt,
    iso,
    not_too_recent,
    ordered,
    page_body,
    paged,
    too_wide,
)


def _v0_window(
    ctx: OperationContext, after_name: str, before_name: str
) -> tuple[datetime | None, datetime | None]:
    after = params.optional_datetime(ctx.query, after_name)
    before = params.optional_datetime(ctx.query, before_name)
    not_too_recent(ctx, after_name, after)
    not_too_recent(ctx, before_name, before)
    ordered(after_name, after, before_name, before)
    return after, before


def list_financial_event_groups(ctx: OperationContext) -> dict[str, Any]:
    def read_filters() -> tuple[dict[str, Any], int]:
        after, before = _v0_window(ctx, "FinancialEventGroupStartedAfter", "FinancialEventGroupStartedBefore")
        size = params.integer(ctx.query, "MaxResultsPerPage", default=10, minimum=1, maximum=100)
        return {"after": iso(after), "before": iso(before)}, size

    def fetch(filters: dict[str, Any], snapshot: datetime) -> list[Any]:
        after, before = dt(filters["after"]), dt(filters["before"])
        if too_wide(after, before):
            return []
        groups = []
        for group in ctx.ledger.financial_event_groups(ctx.account_id, snapshot):
            started = params.parse_datetime("start", group["FinancialEventGroupStart"])
            if (after is None or started >= after) and (before is None or started < before):
                groups.append(group)
        return groups

    groups, next_token = paged(ctx, "NextToken", read_filters, fetch)
    return {"payload": page_body("FinancialEventGroupList", groups, next_token, next_key="NextToken")}


def _events_body(pairs: list[tuple[str, dict[str, Any]]], next_token: str | None) -> dict[str, Any]:
    events: dict[str, list[dict[str, Any]]] = {}
    for list_name, event in pairs:
        events.setdefault(list_name, []).append(event)
    return {"payload": page_body("FinancialEvents", events, next_token, next_key="NextToken")}


def _list_events(ctx: OperationContext, group_id: str | None) -> dict[str, Any]:
    def read_filters() -> tuple[dict[str, Any], int]:
        after, before = _v0_window(ctx, "PostedAfter", "PostedBefore")
        if group_id is None and after is None:
            raise InvalidInput("PostedAfter is required when NextToken is not specified.")
        size = params.integer(ctx.query, "MaxResultsPerPage", default=100, minimum=1, maximum=100)
        return {"after": iso(after), "before": iso(before)}, size

    def fetch(filters: dict[str, Any], snapshot: datetime) -> list[Any]:
        after, before = dt(filters["after"]), dt(filters["before"])
        if too_wide(after, before):
            return []
        return [
            list(pair)
            for pair in ctx.ledger.financial_events(
                ctx.account_id, snapshot, group_id=group_id, posted_after=after, posted_before=before
            )
        ]

    pairs, next_token = paged(ctx, "NextToken", read_filters, fetch)
    return _events_body([(name, event) for name, event in pairs], next_token)


def list_financial_events(ctx: OperationContext) -> dict[str, Any]:
    return _list_events(ctx, None)


def list_financial_events_by_group_id(ctx: OperationContext) -> dict[str, Any]:
    group_id = ctx.path_params["eventGroupId"]
    groups = ctx.ledger.financial_event_groups(ctx.account_id, ctx.now)
    if not any(g.get("FinancialEventGroupId") == group_id for g in groups):
        raise NotFound("The financial event group does not exist.")
    return _list_events(ctx, group_id)


def list_financial_events_by_order_id(ctx: OperationContext) -> dict[str, Any]:
    order_id = ctx.path_params["orderId"]

    def read_filters() -> tuple[dict[str, Any], int]:
        return {}, params.integer(ctx.query, "MaxResultsPerPage", default=100, minimum=1, maximum=100)

    def fetch(filters: dict[str, Any], snapshot: datetime) -> list[Any]:
        return [
            list(pair) for pair in ctx.ledger.financial_events(ctx.account_id, snapshot, order_id=order_id)
        ]

    pairs, next_token = paged(ctx, "NextToken", read_filters, fetch)
    return _events_body([(name, event) for name, event in pairs], next_token)
