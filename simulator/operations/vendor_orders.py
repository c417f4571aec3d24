"""Vendor Orders v1: getPurchaseOrders, getPurchaseOrder, getPurchaseOrdersStatus."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from simulator import params
from simulator.errors import InvalidInput, NotFound
from simulator.jsonbody import money_as_strings
from simulator.operations.context import (
    OperationContext,
    dt,
    iso,
    ordered,
    paged,
)

VENDOR_MAX_WINDOW = timedelta(days=7)
VENDOR_MAX_LOOKBACK = timedelta(days=184)  # "the past 6 months"


def _vendor_window(
    ctx: OperationContext, after_name: str, before_name: str
) -> tuple[datetime | None, datetime | None]:
    after = params.optional_datetime(ctx.query, after_name)
    before = params.optional_datetime(ctx.query, before_name)
    if after is None:
        if before is not None:
            raise InvalidInput(f"{before_name} requires {after_name}.")
        return None, None
    ordered(after_name, after, before_name, before)
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
            "createdAfter": iso(created_after),
            "createdBefore": iso(created_before),
            "changedAfter": iso(changed_after),
            "changedBefore": iso(changed_before),
            "sortOrder": params.enum(ctx.query, "sortOrder", ("ASC", "DESC")) or "ASC",
            "includeDetails": params.boolean(ctx.query, "includeDetails", default=True),
            "state": params.enum(ctx.query, "purchaseOrderState", ("New", "Acknowledged", "Closed")),
        }
        return filters, params.integer(ctx.query, "limit", default=100, minimum=1, maximum=100)

    def fetch(filters: dict[str, Any], snapshot: datetime) -> list[Any]:
        orders = ctx.ledger.purchase_orders(
            ctx.account_id,
            snapshot,
            changed_after=dt(filters["changedAfter"]),
            changed_before=dt(filters["changedBefore"]),
            created_after=dt(filters["createdAfter"]),
            created_before=dt(filters["createdBefore"]),
        )
        if filters["state"]:
            orders = [o for o in orders if o.get("purchaseOrderState") == filters["state"]]
        orders = sorted(orders, key=_purchase_order_date, reverse=filters["sortOrder"] == "DESC")
        if not filters["includeDetails"]:
            orders = [{k: v for k, v in o.items() if k != "orderDetails"} for o in orders]
        return money_as_strings(orders)

    orders, next_token = paged(ctx, "nextToken", read_filters, fetch)
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
            "createdAfter": iso(created_after),
            "createdBefore": iso(created_before),
            "updatedAfter": iso(updated_after),
            "updatedBefore": iso(updated_before),
            "purchaseOrderNumber": number,
            "status": params.enum(ctx.query, "purchaseOrderStatus", ("OPEN", "CLOSED")),
            "sortOrder": params.enum(ctx.query, "sortOrder", ("ASC", "DESC")) or "ASC",
        }
        return filters, params.integer(ctx.query, "limit", default=100, minimum=1, maximum=100)

    def fetch(filters: dict[str, Any], snapshot: datetime) -> list[Any]:
        statuses = ctx.ledger.purchase_order_statuses(
            ctx.account_id,
            snapshot,
            updated_after=dt(filters["updatedAfter"]),
            updated_before=dt(filters["updatedBefore"]),
        )
        created_after, created_before = dt(filters["createdAfter"]), dt(filters["createdBefore"])
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

    statuses, next_token = paged(ctx, "nextToken", read_filters, fetch)
    payload: dict[str, Any] = {"ordersStatus": statuses}
    if next_token:
        payload["pagination"] = {"nextToken": next_token}
    return {"payload": payload}


def get_shipment_details(ctx: OperationContext) -> dict[str, Any]:
    """Vendor Shipments v1 GetShipmentDetails, filtered on createdAfter/createdBefore (the other filters of the
    model are accepted and not applied: the demo vendor's shipments are all Shipped)."""

    def read_filters() -> tuple[dict[str, Any], int]:
        created_after = params.optional_datetime(ctx.query, "createdAfter")
        created_before = params.optional_datetime(ctx.query, "createdBefore")
        ordered("createdAfter", created_after, "createdBefore", created_before)
        filters = {
            "createdAfter": iso(created_after),
            "createdBefore": iso(created_before),
            "sortOrder": params.enum(ctx.query, "sortOrder", ("ASC", "DESC")) or "ASC",
        }
        return filters, params.integer(ctx.query, "limit", default=50, minimum=1, maximum=50)

    def fetch(filters: dict[str, Any], snapshot: datetime) -> list[Any]:
        shipments = ctx.ledger.shipments(
            ctx.account_id,
            snapshot,
            created_after=dt(filters["createdAfter"]),
            created_before=dt(filters["createdBefore"]),
        )
        return list(reversed(shipments)) if filters["sortOrder"] == "DESC" else shipments

    shipments, next_token = paged(ctx, "nextToken", read_filters, fetch)
    payload: dict[str, Any] = {"shipments": shipments}
    if next_token:
        payload["pagination"] = {"nextToken": next_token}
    return {"payload": payload}
