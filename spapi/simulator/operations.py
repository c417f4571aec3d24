"""The SP-API operations the simulator serves: parameters validated as Amazon does, pages cut from the ledger.

Each handler takes an :class:`OperationContext` and returns the response body (the envelope of its model), or
raises :class:`InvalidInput` / :class:`NotFound`. A next token carries the first page's filters and its
snapshot time, so later pages are cut from the same list even while the simulated clock moves on.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.datastructures import QueryParams

from spapi.simulator import params
from spapi.simulator.errors import InvalidInput, NotFound
from spapi.simulator.jsonbody import money_as_strings
from spapi.simulator.ledger import Ledger, SimAccount
from spapi.simulator.signing import PageTokens

# Amazon refuses dates closer to the request than this (Finances v0 and 2024-06-19).
MIN_AGE = timedelta(minutes=2)
# Finances windows wider than this answer an empty page (not an error), as the models say.
MAX_FINANCES_WINDOW = timedelta(days=180)
VENDOR_MAX_WINDOW = timedelta(days=7)
VENDOR_MAX_LOOKBACK = timedelta(days=184)  # "the past 6 months"
REPORT_RETENTION = timedelta(days=90)
TRANSACTIONS_PAGE_SIZE = 100
BALANCES_PAGE_SIZE = 500
SUMMARIES_PAGE_SIZE = 10
EXPECTED_PAYOUTS_PAGE_SIZE = 10
FAR_PAST = datetime(2000, 1, 1, tzinfo=UTC)


class ResultCache:
    """The last few full result lists, keyed by (operation, account, filters, snapshot).

    A page after the first reuses its list instead of asking the ledger again (building a listTransactions
    list takes ~0.3 s).
    """

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._entries: OrderedDict[str, list[Any]] = OrderedDict()

    def get_or_build(self, key: str, build: Callable[[], list[Any]]) -> list[Any]:
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        value = build()
        self._entries[key] = value
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return value


@dataclass
class OperationContext:
    operation: str
    account: SimAccount
    now: datetime
    query: QueryParams
    path_params: dict[str, str]
    ledger: Ledger
    page_tokens: PageTokens
    presign: Callable[[str, str, bool], str]  # (account_id, report_document_id, content_encoding) -> URL
    cache: ResultCache

    @property
    def account_id(self) -> str:
        return self.account.account_id

    def resume(self, token_param: str) -> dict[str, Any] | None:
        """The state of the page token in the query (None on a first page); 400 if it is not ours."""
        token = self.query.get(token_param)
        if token is None:
            return None
        state = self.page_tokens.decode(token, self.operation, self.account_id)
        # A token also belongs to its path (the event group, the order): it must not page another one.
        if state is None or state.get("path") != self.path_params:
            raise InvalidInput(f"Invalid {token_param}.")
        return state

    def page(
        self, items: list[Any], *, filters: dict[str, Any], snapshot: datetime, offset: int, size: int
    ) -> tuple[list[Any], str | None]:
        chunk = items[offset : offset + size]
        if offset + size >= len(items):
            return chunk, None
        state = {
            "filters": filters,
            "path": self.path_params,
            "now": snapshot.isoformat(),
            "offset": offset + size,
            "size": size,
        }
        return chunk, self.page_tokens.encode(self.operation, self.account_id, state)


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _paged(
    ctx: OperationContext,
    token_param: str,
    read_filters: Callable[[], tuple[dict[str, Any], int]],
    fetch: Callable[[dict[str, Any], datetime], list[Any]],
) -> tuple[list[Any], str | None]:
    state = ctx.resume(token_param)
    if state is None:
        filters, size = read_filters()
        snapshot, offset = ctx.now, 0
    else:
        filters, size = state["filters"], int(state["size"])
        snapshot, offset = datetime.fromisoformat(state["now"]), int(state["offset"])
    # The path parameters (e.g. the event group id) select the list as much as the filters do.
    key = json.dumps(
        [ctx.operation, ctx.account_id, ctx.path_params, filters, snapshot.isoformat()], sort_keys=True
    )
    items = ctx.cache.get_or_build(key, lambda: fetch(filters, snapshot))
    return ctx.page(items, filters=filters, snapshot=snapshot, offset=offset, size=size)


def _not_too_recent(ctx: OperationContext, name: str, value: datetime | None) -> None:
    if value is not None and value > ctx.now - MIN_AGE:
        raise InvalidInput(f"{name} must be more than two minutes before the time of the request.")


def _ordered(after_name: str, after: datetime | None, before_name: str, before: datetime | None) -> None:
    if after is not None and before is not None and before <= after:
        raise InvalidInput(f"{before_name} must be later than {after_name}.")


# -- Reports API 2021-06-30 ----------------------------------------------------------------------------------


def get_reports(ctx: OperationContext) -> dict[str, Any]:
    if "nextToken" in ctx.query and len(ctx.query) > 1:
        raise InvalidInput("nextToken must be the only parameter when it is specified.")
    if "nextToken" not in ctx.query and not params.string_list(ctx.query, "reportTypes"):
        raise InvalidInput("reportTypes or nextToken is required.")

    def read_filters() -> tuple[dict[str, Any], int]:
        report_types = params.string_list(ctx.query, "reportTypes", max_items=10)
        since = params.optional_datetime(ctx.query, "createdSince") or ctx.now - REPORT_RETENTION
        until = params.optional_datetime(ctx.query, "createdUntil") or ctx.now
        _ordered("createdSince", since, "createdUntil", until)
        filters = {
            "reportTypes": report_types,
            "processingStatuses": params.string_list(ctx.query, "processingStatuses"),
            "marketplaceIds": params.string_list(ctx.query, "marketplaceIds", max_items=10),
            "createdSince": _iso(since),
            "createdUntil": _iso(until),
        }
        return filters, params.integer(ctx.query, "pageSize", default=10, minimum=1, maximum=100)

    def fetch(filters: dict[str, Any], snapshot: datetime) -> list[Any]:
        since, until = _dt(filters["createdSince"]), _dt(filters["createdUntil"])
        selected = []
        for report in ctx.ledger.reports(ctx.account_id, snapshot):
            created = params.parse_datetime("createdTime", report["createdTime"])
            if report["reportType"] not in filters["reportTypes"]:
                continue
            if (
                filters["processingStatuses"]
                and report["processingStatus"] not in filters["processingStatuses"]
            ):
                continue
            if filters["marketplaceIds"] and not set(filters["marketplaceIds"]) & set(
                report.get("marketplaceIds", [])
            ):
                continue
            if (since is not None and created < since) or (until is not None and created > until):
                continue
            selected.append(report)
        return selected

    reports, next_token = _paged(ctx, "nextToken", read_filters, fetch)
    body: dict[str, Any] = {"reports": reports}
    if next_token:
        body["nextToken"] = next_token
    return body


def get_report(ctx: OperationContext) -> dict[str, Any]:
    report = ctx.ledger.report(ctx.account_id, ctx.path_params["reportId"], ctx.now)
    if report is None:
        raise NotFound("The report does not exist.")
    return report


def get_report_document(ctx: OperationContext) -> dict[str, Any]:
    document_id = ctx.path_params["reportDocumentId"]
    visible = any(
        r.get("reportDocumentId") == document_id for r in ctx.ledger.reports(ctx.account_id, ctx.now)
    )
    document = ctx.ledger.report_document(ctx.account_id, document_id) if visible else None
    if document is None:
        raise NotFound("The report document does not exist.")
    content_encoding = params.boolean(ctx.query, "enableContentEncodingUrlHeader", default=False)
    body: dict[str, Any] = {
        "reportDocumentId": document_id,
        "url": ctx.presign(ctx.account_id, document_id, content_encoding and document.compress),
    }
    if document.compress:
        body["compressionAlgorithm"] = "GZIP"
    return body


# -- Finances v0 ---------------------------------------------------------------------------------------------


def _v0_window(
    ctx: OperationContext, after_name: str, before_name: str
) -> tuple[datetime | None, datetime | None]:
    after = params.optional_datetime(ctx.query, after_name)
    before = params.optional_datetime(ctx.query, before_name)
    _not_too_recent(ctx, after_name, after)
    _not_too_recent(ctx, before_name, before)
    _ordered(after_name, after, before_name, before)
    return after, before


def _too_wide(after: datetime | None, before: datetime | None) -> bool:
    return after is not None and before is not None and before - after > MAX_FINANCES_WINDOW


def list_financial_event_groups(ctx: OperationContext) -> dict[str, Any]:
    def read_filters() -> tuple[dict[str, Any], int]:
        after, before = _v0_window(ctx, "FinancialEventGroupStartedAfter", "FinancialEventGroupStartedBefore")
        size = params.integer(ctx.query, "MaxResultsPerPage", default=10, minimum=1, maximum=100)
        return {"after": _iso(after), "before": _iso(before)}, size

    def fetch(filters: dict[str, Any], snapshot: datetime) -> list[Any]:
        after, before = _dt(filters["after"]), _dt(filters["before"])
        if _too_wide(after, before):
            return []
        groups = []
        for group in ctx.ledger.financial_event_groups(ctx.account_id, snapshot):
            started = params.parse_datetime("start", group["FinancialEventGroupStart"])
            if (after is None or started >= after) and (before is None or started < before):
                groups.append(group)
        return groups

    groups, next_token = _paged(ctx, "NextToken", read_filters, fetch)
    payload: dict[str, Any] = {"FinancialEventGroupList": groups}
    if next_token:
        payload["NextToken"] = next_token
    return {"payload": payload}


def _events_body(pairs: list[tuple[str, dict[str, Any]]], next_token: str | None) -> dict[str, Any]:
    events: dict[str, list[dict[str, Any]]] = {}
    for list_name, event in pairs:
        events.setdefault(list_name, []).append(event)
    payload: dict[str, Any] = {"FinancialEvents": events}
    if next_token:
        payload["NextToken"] = next_token
    return {"payload": payload}


def _list_events(ctx: OperationContext, group_id: str | None) -> dict[str, Any]:
    def read_filters() -> tuple[dict[str, Any], int]:
        after, before = _v0_window(ctx, "PostedAfter", "PostedBefore")
        if group_id is None and after is None:
            raise InvalidInput("PostedAfter is required when NextToken is not specified.")
        size = params.integer(ctx.query, "MaxResultsPerPage", default=100, minimum=1, maximum=100)
        return {"after": _iso(after), "before": _iso(before)}, size

    def fetch(filters: dict[str, Any], snapshot: datetime) -> list[Any]:
        after, before = _dt(filters["after"]), _dt(filters["before"])
        if _too_wide(after, before):
            return []
        return [
            list(pair)
            for pair in ctx.ledger.financial_events(
                ctx.account_id, snapshot, group_id=group_id, posted_after=after, posted_before=before
            )
        ]

    pairs, next_token = _paged(ctx, "NextToken", read_filters, fetch)
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

    pairs, next_token = _paged(ctx, "NextToken", read_filters, fetch)
    return _events_body([(name, event) for name, event in pairs], next_token)


# -- Finances 2024-06-19 -------------------------------------------------------------------------------------

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
        _not_too_recent(ctx, "postedAfter", after)
        _not_too_recent(ctx, "postedBefore", before)
        _ordered("postedAfter", after, "postedBefore", before)
        filters = {
            "after": _iso(after),
            "before": _iso(before),
            "marketplaceId": ctx.query.get("marketplaceId") or None,
            "status": params.enum(ctx.query, "transactionStatus", TRANSACTION_STATUSES),
            "identifierName": identifier_name,
            "identifierValue": identifier_value,
        }
        return filters, TRANSACTIONS_PAGE_SIZE

    def fetch(filters: dict[str, Any], snapshot: datetime) -> list[Any]:
        after = _dt(filters["after"]) or FAR_PAST
        before = _dt(filters["before"]) or snapshot - MIN_AGE  # Amazon's default: two minutes ago
        if _too_wide(after, before) and filters["identifierName"] is None:
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

    transactions, next_token = _paged(ctx, "nextToken", read_filters, fetch)
    payload: dict[str, Any] = {"transactions": transactions}
    if next_token:
        payload["nextToken"] = next_token
    return {"payload": payload}


BALANCE_TYPES = ("AVAILABLE", "RESERVED", "TOTAL", "DEFERRED", "ACCOUNT_LEVEL_RESERVE")


def _balances_of_type(balances: list[dict[str, Any]], balance_type: str) -> list[dict[str, Any]]:
    found = []
    for balance in balances:
        if balance.get("balanceType") == balance_type:
            found.append(balance)
        else:
            found.extend(_balances_of_type(balance.get("balances") or [], balance_type))
    return found


def _marketplaces(ctx: OperationContext) -> list[str]:
    requested = params.string_list(ctx.query, "marketplaceIds")
    unknown = [m for m in requested if m not in ctx.account.marketplace_ids]
    if unknown:
        raise InvalidInput(f"Invalid marketplaceIds: {', '.join(unknown)}")
    return requested or list(ctx.account.marketplace_ids)


def list_balances(ctx: OperationContext) -> dict[str, Any]:
    def read_filters() -> tuple[dict[str, Any], int]:
        as_of = params.optional_date(ctx.query, "asOfDate")
        if as_of is not None and as_of > ctx.now:
            raise InvalidInput("asOfDate must not be in the future.")
        filters = {
            "marketplaceIds": _marketplaces(ctx),
            "balanceType": params.enum(ctx.query, "balanceType", BALANCE_TYPES),
            "asOf": _iso(as_of),
        }
        return filters, BALANCES_PAGE_SIZE

    def fetch(filters: dict[str, Any], snapshot: datetime) -> list[Any]:
        balances: list[dict[str, Any]] = []
        for marketplace_id in filters["marketplaceIds"]:
            balances.extend(
                ctx.ledger.balances(
                    ctx.account_id, snapshot, as_of=_dt(filters["asOf"]), marketplace_id=marketplace_id
                )
            )
        return _balances_of_type(balances, filters["balanceType"]) if filters["balanceType"] else balances

    balances, next_token = _paged(ctx, "nextToken", read_filters, fetch)
    body: dict[str, Any] = {"balances": balances}
    if next_token:
        body["nextToken"] = next_token
    return body


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
            "start": _iso(start),
            # periodEnd is a date and inclusive: the ledger takes an exclusive end.
            "end": _iso(end + timedelta(days=1)) if end else None,
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
                    start=_dt(filters["start"]),
                    end=_dt(filters["end"]),
                    marketplace_id=marketplace_id,
                )
            )
        return summaries

    summaries, next_token = _paged(ctx, "nextToken", read_filters, fetch)
    body: dict[str, Any] = {"summaries": summaries}
    if next_token:
        body["nextToken"] = next_token
    return body


# -- Transfers 2024-06-01 ------------------------------------------------------------------------------------


def list_expected_payouts(ctx: OperationContext) -> dict[str, Any]:
    def read_filters() -> tuple[dict[str, Any], int]:
        return {"marketplaceIds": _marketplaces(ctx)}, EXPECTED_PAYOUTS_PAGE_SIZE

    def fetch(filters: dict[str, Any], snapshot: datetime) -> list[Any]:
        payouts: list[dict[str, Any]] = []
        for marketplace_id in filters["marketplaceIds"]:
            payouts.extend(
                ctx.ledger.expected_payouts(ctx.account_id, snapshot, marketplace_id=marketplace_id)
            )
        return payouts

    payouts, next_token = _paged(ctx, "nextToken", read_filters, fetch)
    body: dict[str, Any] = {"expectedPayouts": payouts}
    if next_token:
        body["nextToken"] = next_token
    return body


# -- Vendor Orders v1 ----------------------------------------------------------------------------------------


def _vendor_window(
    ctx: OperationContext, after_name: str, before_name: str
) -> tuple[datetime | None, datetime | None]:
    after = params.optional_datetime(ctx.query, after_name)
    before = params.optional_datetime(ctx.query, before_name)
    if after is None:
        if before is not None:
            raise InvalidInput(f"{before_name} requires {after_name}.")
        return None, None
    _ordered(after_name, after, before_name, before)
    # Only an explicit window is checked: with `before` omitted it ends at the simulated now, which a client
    # cannot know when time runs scaled (its "7 days ago" is then more than 7 simulated days back).
    if before is not None and before - after > VENDOR_MAX_WINDOW:
        raise InvalidInput(f"The date range between {after_name} and {before_name} must not exceed 7 days.")
    if after < ctx.now - VENDOR_MAX_LOOKBACK:
        raise InvalidInput(f"{after_name} must be within the past 6 months.")
    return after, before


def _purchase_order_date(order: dict[str, Any]) -> str:
    return str(order.get("purchaseOrderDate") or order.get("orderDetails", {}).get("purchaseOrderDate", ""))


def get_purchase_orders(ctx: OperationContext) -> dict[str, Any]:
    def read_filters() -> tuple[dict[str, Any], int]:
        created_after, created_before = _vendor_window(ctx, "createdAfter", "createdBefore")
        changed_after, changed_before = _vendor_window(ctx, "changedAfter", "changedBefore")
        if created_after is None and changed_after is None:
            raise InvalidInput("Specify createdAfter or changedAfter.")
        filters = {
            "createdAfter": _iso(created_after),
            "createdBefore": _iso(created_before),
            "changedAfter": _iso(changed_after),
            "changedBefore": _iso(changed_before),
            "sortOrder": params.enum(ctx.query, "sortOrder", ("ASC", "DESC")) or "ASC",
            "includeDetails": params.boolean(ctx.query, "includeDetails", default=True),
            "state": params.enum(ctx.query, "purchaseOrderState", ("New", "Acknowledged", "Closed")),
        }
        return filters, params.integer(ctx.query, "limit", default=100, minimum=1, maximum=100)

    def fetch(filters: dict[str, Any], snapshot: datetime) -> list[Any]:
        orders = ctx.ledger.purchase_orders(
            ctx.account_id,
            snapshot,
            changed_after=_dt(filters["changedAfter"]),
            changed_before=_dt(filters["changedBefore"]),
            created_after=_dt(filters["createdAfter"]),
            created_before=_dt(filters["createdBefore"]),
        )
        if filters["state"]:
            orders = [o for o in orders if o.get("purchaseOrderState") == filters["state"]]
        orders = sorted(orders, key=_purchase_order_date, reverse=filters["sortOrder"] == "DESC")
        if not filters["includeDetails"]:
            orders = [{k: v for k, v in o.items() if k != "orderDetails"} for o in orders]
        return money_as_strings(orders)

    orders, next_token = _paged(ctx, "nextToken", read_filters, fetch)
    payload: dict[str, Any] = {"orders": orders}
    if next_token:
        payload["pagination"] = {"nextToken": next_token}
    return {"payload": payload}


def get_purchase_order(ctx: OperationContext) -> dict[str, Any]:
    number = ctx.path_params["purchaseOrderNumber"]
    for order in ctx.ledger.purchase_orders(ctx.account_id, ctx.now):
        if order["purchaseOrderNumber"] == number:
            return {"payload": money_as_strings(order)}
    raise NotFound("The purchase order does not exist.")


def get_purchase_orders_status(ctx: OperationContext) -> dict[str, Any]:
    def read_filters() -> tuple[dict[str, Any], int]:
        created_after, created_before = _vendor_window(ctx, "createdAfter", "createdBefore")
        updated_after, updated_before = _vendor_window(ctx, "updatedAfter", "updatedBefore")
        number = ctx.query.get("purchaseOrderNumber") or None
        if created_after is None and updated_after is None and number is None:
            raise InvalidInput("Specify createdAfter, updatedAfter or purchaseOrderNumber.")
        filters = {
            "createdAfter": _iso(created_after),
            "createdBefore": _iso(created_before),
            "updatedAfter": _iso(updated_after),
            "updatedBefore": _iso(updated_before),
            "purchaseOrderNumber": number,
            "status": params.enum(ctx.query, "purchaseOrderStatus", ("OPEN", "CLOSED")),
            "sortOrder": params.enum(ctx.query, "sortOrder", ("ASC", "DESC")) or "ASC",
        }
        return filters, params.integer(ctx.query, "limit", default=100, minimum=1, maximum=100)

    def fetch(filters: dict[str, Any], snapshot: datetime) -> list[Any]:
        statuses = ctx.ledger.purchase_order_statuses(
            ctx.account_id,
            snapshot,
            updated_after=_dt(filters["updatedAfter"]),
            updated_before=_dt(filters["updatedBefore"]),
        )
        created_after, created_before = _dt(filters["createdAfter"]), _dt(filters["createdBefore"])
        selected = []
        for status in statuses:
            created = params.parse_datetime("purchaseOrderDate", _purchase_order_date(status))
            if created_after is not None and created < created_after:
                continue
            if created_before is not None and created >= created_before:
                continue
            if (
                filters["purchaseOrderNumber"]
                and status["purchaseOrderNumber"] != filters["purchaseOrderNumber"]
            ):
                continue
            if filters["status"] and status.get("purchaseOrderStatus") != filters["status"]:
                continue
            selected.append(status)
        selected.sort(key=_purchase_order_date, reverse=filters["sortOrder"] == "DESC")
        return money_as_strings(selected)

    statuses, next_token = _paged(ctx, "nextToken", read_filters, fetch)
    payload: dict[str, Any] = {"ordersStatus": statuses}
    if next_token:
        payload["pagination"] = {"nextToken": next_token}
    return {"payload": payload}
