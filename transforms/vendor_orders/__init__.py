"""Vendor Orders v1 payloads (getPurchaseOrders, getPurchaseOrdersStatus) as typed Arrow tables.

Pure functions, no I/O and no Dagster. Schemas are documented in README.md beside this file.
"""

from transforms.vendor_orders.dedupe import dedupe_purchase_order_status, dedupe_purchase_orders
from transforms.vendor_orders.purchase_order_status import (
    VENDOR_PO_ITEM_STATUS_SCHEMA,
    purchase_order_status_table,
)
from transforms.vendor_orders.purchase_orders import (
    VENDOR_PO_HEADERS_SCHEMA,
    VENDOR_PO_ITEMS_SCHEMA,
    purchase_orders_tables,
)

__all__ = [
    "VENDOR_PO_HEADERS_SCHEMA",
    "VENDOR_PO_ITEMS_SCHEMA",
    "VENDOR_PO_ITEM_STATUS_SCHEMA",
    "dedupe_purchase_order_status",
    "dedupe_purchase_orders",
    "purchase_order_status_table",
    "purchase_orders_tables",
]
