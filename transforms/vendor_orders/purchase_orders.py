"""Vendor Orders v1 getPurchaseOrders: PO headers and items, with party ids and countries only.

No personal data reaches the lake: party names, addresses, phone numbers and tax registrations are never
read; shipping instructions (free text) neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from transforms.finances.errors import PayloadShapeError
from transforms.finances.payload import unwrap_payload
from transforms.finances.values import TIMESTAMP_TYPE, get_ci, to_optional_str, to_timestamp
from transforms.vendor_orders.vendor_values import (
    UNIT_PRICE_TYPE,
    interval_bounds,
    party_columns,
    quantity_columns,
    unit_price_columns,
)

PARTIES = ("buying", "selling", "ship_to", "bill_to")

VENDOR_PO_HEADERS_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("purchase_order_number", pa.string(), nullable=False),
        pa.field("order_index", pa.int32(), nullable=False),
        pa.field("purchase_order_state", pa.string()),
        pa.field("purchase_order_type", pa.string()),
        pa.field("purchase_order_at", TIMESTAMP_TYPE),
        pa.field("changed_at", TIMESTAMP_TYPE),
        pa.field("state_changed_at", TIMESTAMP_TYPE),
        pa.field("payment_method", pa.string()),
        pa.field("deal_code", pa.string()),
        *[
            field
            for party in PARTIES
            for field in (
                pa.field(f"{party}_party_id", pa.string()),
                pa.field(f"{party}_country", pa.string()),
            )
        ],
        pa.field("ship_window_start_at", TIMESTAMP_TYPE),
        pa.field("ship_window_end_at", TIMESTAMP_TYPE),
        pa.field("delivery_window_start_at", TIMESTAMP_TYPE),
        pa.field("delivery_window_end_at", TIMESTAMP_TYPE),
        pa.field("import_method_of_payment", pa.string()),
        pa.field("international_commercial_terms", pa.string()),
        pa.field("port_of_delivery", pa.string()),
        pa.field("item_count", pa.int32(), nullable=False),
        pa.field("source_sha256", pa.string(), nullable=False),
    ]
)

VENDOR_PO_ITEMS_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("purchase_order_number", pa.string(), nullable=False),
        pa.field("order_index", pa.int32(), nullable=False),
        pa.field("changed_at", TIMESTAMP_TYPE),
        pa.field("item_sequence_number", pa.string()),
        pa.field("amazon_product_identifier", pa.string()),
        pa.field("vendor_product_identifier", pa.string()),
        pa.field("is_back_order_allowed", pa.bool_()),
        pa.field("ordered_quantity", pa.int64()),
        pa.field("ordered_quantity_unit", pa.string()),
        pa.field("ordered_quantity_unit_size", pa.int64()),
        pa.field("ordered_quantity_eaches", pa.int64()),
        pa.field("net_cost", UNIT_PRICE_TYPE),
        pa.field("net_cost_currency", pa.string()),
        pa.field("net_cost_unit_of_measure", pa.string()),
        pa.field("list_price", UNIT_PRICE_TYPE),
        pa.field("list_price_currency", pa.string()),
        pa.field("list_price_unit_of_measure", pa.string()),
        pa.field("source_sha256", pa.string(), nullable=False),
    ]
)


def _orders(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    orders = get_ci(payload, "orders")
    if orders is None:
        # Airbyte's VendorOrders fixture nests the orders under `ordersStatus` (PROVENANCE.md §4); accept it
        # when its entries are orders (they carry orderDetails), not status records.
        candidates = get_ci(payload, "ordersStatus")
        if isinstance(candidates, list) and all(
            isinstance(order, Mapping) and get_ci(order, "orderDetails") is not None for order in candidates
        ):
            orders = candidates
    if orders is None:
        return []
    if not isinstance(orders, list) or not all(isinstance(order, Mapping) for order in orders):
        raise PayloadShapeError("orders is not a list of objects", where="payload.orders")
    return orders


def _detail(order: Mapping[str, Any], details: Mapping[str, Any], name: str) -> Any:
    """A field of orderDetails, or of the order itself where some payloads put it (Airbyte: items)."""
    value = get_ci(details, name)
    return get_ci(order, name) if value is None else value


def purchase_orders_tables(
    body: Mapping[str, Any], *, account_id: str, source_sha256: str
) -> tuple[pa.Table, pa.Table]:
    """(vendor_po_headers, vendor_po_items) of one getPurchaseOrders page (or a getPurchaseOrder body)."""
    payload = unwrap_payload(body, operation="getPurchaseOrders")
    orders = [payload] if get_ci(payload, "purchaseOrderNumber") is not None else _orders(payload)
    headers: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for order_index, order in enumerate(orders):
        where = f"orders[{order_index}]"
        number = to_optional_str(get_ci(order, "purchaseOrderNumber"))
        if number is None:
            raise PayloadShapeError("order without purchaseOrderNumber", where=where)
        details = get_ci(order, "orderDetails") or {}
        if not isinstance(details, Mapping):
            raise PayloadShapeError("orderDetails is not an object", where=f"{where}.orderDetails")
        changed_at = to_timestamp(get_ci(details, "purchaseOrderChangedDate"), where=f"{where}.changedDate")
        ship_start, ship_end = interval_bounds(
            _detail(order, details, "shipWindow"), where=f"{where}.shipWindow"
        )
        delivery_start, delivery_end = interval_bounds(
            _detail(order, details, "deliveryWindow"), where=f"{where}.deliveryWindow"
        )
        import_details = _detail(order, details, "importDetails") or {}
        order_items = _detail(order, details, "items") or []
        if not isinstance(order_items, list) or not all(isinstance(item, Mapping) for item in order_items):
            raise PayloadShapeError("items is not a list of objects", where=f"{where}.items")
        header: dict[str, Any] = {
            "account_id": account_id,
            "purchase_order_number": number,
            "order_index": order_index,
            "purchase_order_state": to_optional_str(get_ci(order, "purchaseOrderState")),
            "purchase_order_type": to_optional_str(_detail(order, details, "purchaseOrderType")),
            "purchase_order_at": to_timestamp(
                _detail(order, details, "purchaseOrderDate"), where=f"{where}.date"
            ),
            "changed_at": changed_at,
            "state_changed_at": to_timestamp(
                _detail(order, details, "purchaseOrderStateChangedDate"), where=f"{where}.stateChangedDate"
            ),
            "payment_method": to_optional_str(_detail(order, details, "paymentMethod")),
            "deal_code": to_optional_str(_detail(order, details, "dealCode")),
            "ship_window_start_at": ship_start,
            "ship_window_end_at": ship_end,
            "delivery_window_start_at": delivery_start,
            "delivery_window_end_at": delivery_end,
            "import_method_of_payment": to_optional_str(get_ci(import_details, "methodOfPayment")),
            "international_commercial_terms": to_optional_str(
                get_ci(import_details, "internationalCommercialTerms")
            ),
            "port_of_delivery": to_optional_str(get_ci(import_details, "portOfDelivery")),
            "item_count": len(order_items),
            "source_sha256": source_sha256,
        }
        for party in PARTIES:
            key = "".join(part.title() for part in party.split("_"))
            party_value = _detail(order, details, key[0].lower() + key[1:] + "Party")
            header.update(party_columns(party_value, party, where=f"{where}.{party}Party"))
        headers.append(header)
        for item_index, item in enumerate(order_items):
            item_where = f"{where}.items[{item_index}]"
            back_order = get_ci(item, "isBackOrderAllowed")
            items.append(
                {
                    "account_id": account_id,
                    "purchase_order_number": number,
                    "order_index": order_index,
                    "changed_at": changed_at,
                    "item_sequence_number": to_optional_str(get_ci(item, "itemSequenceNumber")),
                    "amazon_product_identifier": to_optional_str(get_ci(item, "amazonProductIdentifier")),
                    "vendor_product_identifier": to_optional_str(get_ci(item, "vendorProductIdentifier")),
                    "is_back_order_allowed": back_order if isinstance(back_order, bool) else None,
                    **quantity_columns(get_ci(item, "orderedQuantity"), "ordered_quantity", where=item_where),
                    **unit_price_columns(get_ci(item, "netCost"), "net_cost", where=f"{item_where}.netCost"),
                    **unit_price_columns(
                        get_ci(item, "listPrice"), "list_price", where=f"{item_where}.listPrice"
                    ),
                    "source_sha256": source_sha256,
                }
            )
    return (
        pa.Table.from_pylist(headers, schema=VENDOR_PO_HEADERS_SCHEMA),
        pa.Table.from_pylist(items, schema=VENDOR_PO_ITEMS_SCHEMA),
    )
