"""Vendor Orders v1 getPurchaseOrdersStatus: ordered, acknowledged and received quantities per PO item."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pyarrow as pa

from transforms.finances.errors import PayloadShapeError
from transforms.finances.payload import unwrap_payload
from transforms.finances.values import TIMESTAMP_TYPE, get_ci, to_optional_str, to_timestamp
from transforms.vendor_orders.vendor_values import (
    UNIT_PRICE_TYPE,
    party_columns,
    quantity_columns,
    unit_price_columns,
)


def _quantity_fields(prefix: str) -> list[pa.Field]:
    return [
        pa.field(prefix, pa.int64()),
        pa.field(f"{prefix}_unit", pa.string()),
        pa.field(f"{prefix}_unit_size", pa.int64()),
        pa.field(f"{prefix}_eaches", pa.int64()),
    ]


VENDOR_PO_ITEM_STATUS_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("purchase_order_number", pa.string(), nullable=False),
        pa.field("order_index", pa.int32(), nullable=False),
        pa.field("purchase_order_status", pa.string()),
        pa.field("purchase_order_at", TIMESTAMP_TYPE),
        pa.field("last_updated_at", TIMESTAMP_TYPE),
        pa.field("selling_party_id", pa.string()),
        pa.field("selling_country", pa.string()),
        pa.field("ship_to_party_id", pa.string()),
        pa.field("ship_to_country", pa.string()),
        pa.field("item_sequence_number", pa.string(), nullable=False),
        pa.field("buyer_product_identifier", pa.string()),
        pa.field("vendor_product_identifier", pa.string()),
        pa.field("net_cost", UNIT_PRICE_TYPE),
        pa.field("net_cost_currency", pa.string()),
        pa.field("net_cost_unit_of_measure", pa.string()),
        pa.field("list_price", UNIT_PRICE_TYPE),
        pa.field("list_price_currency", pa.string()),
        pa.field("list_price_unit_of_measure", pa.string()),
        *_quantity_fields("ordered_quantity"),
        pa.field("ordered_quantity_updated_at", TIMESTAMP_TYPE),
        pa.field("confirmation_status", pa.string()),
        *_quantity_fields("accepted_quantity"),
        *_quantity_fields("rejected_quantity"),
        pa.field("acknowledged_at", TIMESTAMP_TYPE),
        pa.field("receive_status", pa.string()),
        *_quantity_fields("received_quantity"),
        pa.field("last_received_at", TIMESTAMP_TYPE),
        pa.field("source_sha256", pa.string(), nullable=False),
    ]
)


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PayloadShapeError("expected an object", where=where)
    return value


def _latest(details: Any, field: str, where: str) -> datetime | None:
    """The latest `field` timestamp among the detail entries (acknowledgementDate, updatedDate)."""
    stamps = [
        to_timestamp(get_ci(entry, field), where=f"{where}[{index}].{field}")
        for index, entry in enumerate(details if isinstance(details, list) else [])
        if isinstance(entry, Mapping)
    ]
    present = [stamp for stamp in stamps if stamp is not None]
    return max(present) if present else None


def purchase_order_status_table(body: Mapping[str, Any], *, account_id: str, source_sha256: str) -> pa.Table:
    """One row per PO item of a getPurchaseOrdersStatus page: ordered vs acknowledged vs received."""
    payload = unwrap_payload(body, operation="getPurchaseOrdersStatus")
    statuses = get_ci(payload, "ordersStatus") or []
    if not isinstance(statuses, list) or not all(isinstance(status, Mapping) for status in statuses):
        raise PayloadShapeError("ordersStatus is not a list of objects", where="payload.ordersStatus")
    rows: list[dict[str, Any]] = []
    for order_index, status in enumerate(statuses):
        where = f"ordersStatus[{order_index}]"
        if get_ci(status, "orderDetails") is not None:
            raise PayloadShapeError("a purchase order, not a status record, under ordersStatus", where=where)
        number = to_optional_str(get_ci(status, "purchaseOrderNumber"))
        if number is None:
            raise PayloadShapeError("status without purchaseOrderNumber", where=where)
        order = {
            "account_id": account_id,
            "purchase_order_number": number,
            "order_index": order_index,
            "purchase_order_status": to_optional_str(get_ci(status, "purchaseOrderStatus")),
            "purchase_order_at": to_timestamp(get_ci(status, "purchaseOrderDate"), where=f"{where}.date"),
            "last_updated_at": to_timestamp(
                get_ci(status, "lastUpdatedDate"), where=f"{where}.lastUpdatedDate"
            ),
            **party_columns(get_ci(status, "sellingParty"), "selling", where=f"{where}.sellingParty"),
            **party_columns(get_ci(status, "shipToParty"), "ship_to", where=f"{where}.shipToParty"),
            "source_sha256": source_sha256,
        }
        items = get_ci(status, "itemStatus") or []
        if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
            raise PayloadShapeError("itemStatus is not a list of objects", where=f"{where}.itemStatus")
        for item_index, item in enumerate(items):
            item_where = f"{where}.itemStatus[{item_index}]"
            sequence = to_optional_str(get_ci(item, "itemSequenceNumber"))
            if sequence is None:
                raise PayloadShapeError("item without itemSequenceNumber", where=item_where)
            ordered = _object(get_ci(item, "orderedQuantity"), f"{item_where}.orderedQuantity")
            acknowledgement = _object(
                get_ci(item, "acknowledgementStatus"), f"{item_where}.acknowledgementStatus"
            )
            receiving = _object(get_ci(item, "receivingStatus"), f"{item_where}.receivingStatus")
            rows.append(
                {
                    **order,
                    "item_sequence_number": sequence,
                    "buyer_product_identifier": to_optional_str(get_ci(item, "buyerProductIdentifier")),
                    "vendor_product_identifier": to_optional_str(get_ci(item, "vendorProductIdentifier")),
                    **unit_price_columns(get_ci(item, "netCost"), "net_cost", where=f"{item_where}.netCost"),
                    **unit_price_columns(
                        get_ci(item, "listPrice"), "list_price", where=f"{item_where}.listPrice"
                    ),
                    **quantity_columns(
                        get_ci(ordered, "orderedQuantity"), "ordered_quantity", where=item_where
                    ),
                    "ordered_quantity_updated_at": _latest(
                        get_ci(ordered, "orderedQuantityDetails"), "updatedDate", f"{item_where}.ordered"
                    ),
                    "confirmation_status": to_optional_str(get_ci(acknowledgement, "confirmationStatus")),
                    **quantity_columns(
                        get_ci(acknowledgement, "acceptedQuantity"), "accepted_quantity", where=item_where
                    ),
                    **quantity_columns(
                        get_ci(acknowledgement, "rejectedQuantity"), "rejected_quantity", where=item_where
                    ),
                    "acknowledged_at": _latest(
                        get_ci(acknowledgement, "acknowledgementStatusDetails"),
                        "acknowledgementDate",
                        f"{item_where}.acknowledgement",
                    ),
                    "receive_status": to_optional_str(get_ci(receiving, "receiveStatus")),
                    **quantity_columns(
                        get_ci(receiving, "receivedQuantity"), "received_quantity", where=item_where
                    ),
                    "last_received_at": to_timestamp(
                        get_ci(receiving, "lastReceiveDate"), where=f"{item_where}.lastReceiveDate"
                    ),
                }
            )
    return pa.Table.from_pylist(rows, schema=VENDOR_PO_ITEM_STATUS_SCHEMA)
