"""The lake's settlement tables: Arrow schemas (dbt staging reads exactly these names) and the file
columns."""

from __future__ import annotations

import pyarrow as pa

# Line numbers of a V2 file are implied by file order and filled in by every reader (lake/read.py); the import
# records that convention in the Parquet key-value metadata.
from lake.read import FIRST_DATA_LINE as FIRST_DATA_LINE
from lake.read import POSITIONAL_NUMBERING as POSITIONAL_NUMBERING
from lake.read import POSITIONAL_NUMBERING_KEY as POSITIONAL_NUMBERING_KEY

MONEY = pa.decimal128(18, 2)
UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")

SETTLEMENT_LINES_SCHEMA = pa.schema(
    [
        ("settlement_id", pa.string()),
        ("line_number", pa.int64()),
        ("source_line", pa.int64()),
        ("account_id", pa.string()),
        ("source_layout", pa.string()),
        ("marketplace_name", pa.string()),
        ("currency", pa.string()),
        ("transaction_type", pa.string()),
        ("order_id", pa.string()),
        ("merchant_order_id", pa.string()),
        ("adjustment_id", pa.string()),
        ("shipment_id", pa.string()),
        ("amount_type", pa.string()),
        ("amount_description", pa.string()),
        ("amount", MONEY),
        ("posted_at", UTC_TIMESTAMP),
        ("posted_date", pa.date32()),
        ("sku", pa.string()),
        ("quantity", pa.int32()),
        ("fulfillment_id", pa.string()),
        ("order_item_code", pa.string()),
        ("merchant_order_item_id", pa.string()),
        ("merchant_adjustment_item_id", pa.string()),
        ("promotion_id", pa.string()),
        ("extra_columns", pa.string()),
        ("raw_sha256", pa.string()),
    ]
)

SETTLEMENTS_SCHEMA = pa.schema(
    [
        ("settlement_id", pa.string()),
        ("account_id", pa.string()),
        ("source_layout", pa.string()),
        ("marketplace_name", pa.string()),
        ("currency", pa.string()),
        ("period_start_at", UTC_TIMESTAMP),
        ("period_end_at", UTC_TIMESTAMP),
        ("deposit_at", UTC_TIMESTAMP),
        ("total_amount", MONEY),
        ("lines_total", MONEY),
        ("line_count", pa.int64()),
        ("raw_sha256", pa.string()),
        ("source_name", pa.string()),
        ("document_created_at", UTC_TIMESTAMP),
        ("encoding", pa.string()),
        ("decimal_style", pa.string()),
        ("header_columns", pa.list_(pa.string())),
    ]
)

LAYOUT_V2 = "flat_file_v2"
LAYOUT_V1 = "flat_file"

# Columns both layouts share, file name -> lake name. Strings are copied as written (trimmed, empty -> null).
SHARED_TEXT_COLUMNS = {
    "transaction-type": "transaction_type",
    "order-id": "order_id",
    "merchant-order-id": "merchant_order_id",
    "adjustment-id": "adjustment_id",
    "shipment-id": "shipment_id",
    "marketplace-name": "marketplace_name",
    "fulfillment-id": "fulfillment_id",
    "order-item-code": "order_item_code",
    "merchant-order-item-id": "merchant_order_item_id",
    "merchant-adjustment-item-id": "merchant_adjustment_item_id",
    "sku": "sku",
    "promotion-id": "promotion_id",
}
SUMMARY_COLUMNS = ("settlement-start-date", "settlement-end-date", "deposit-date", "total-amount", "currency")
SHARED_COLUMNS = (
    "settlement-id",
    *SUMMARY_COLUMNS,
    *SHARED_TEXT_COLUMNS,
    "posted-date",
    "posted-date-time",
    "quantity-purchased",
)

V2_LINE_COLUMNS = ("amount-type", "amount-description", "amount")

# The older layout's amount columns, unpivoted in this order (one line per non-empty amount). Each maps to
# the V2 amount-type that carries the same money, and to the column that describes it (its description).
# Every *-fee-amount maps to ItemFees or Shipment-Fees, so the fee rule classifies both layouts alike.
V1_AMOUNT_COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("price-amount", "ItemPrice", "price-type"),
    ("item-related-fee-amount", "ItemFees", "item-related-fee-type"),
    ("shipment-fee-amount", "Shipment-Fees", "shipment-fee-type"),
    ("order-fee-amount", "ItemFees", "order-fee-type"),
    ("misc-fee-amount", "ItemFees", None),
    ("other-fee-amount", "ItemFees", "other-fee-reason-description"),
    ("promotion-amount", "Promotion", "promotion-type"),
    ("direct-payment-amount", "other-transaction", "direct-payment-type"),
    ("other-amount", "other-transaction", "transaction-type"),
)
# Fixed descriptions where the older layout has no type column of its own.
V1_DEFAULT_DESCRIPTIONS = {"misc-fee-amount": "MiscFee"}
V1_LINE_COLUMNS = tuple(
    {name for amount, _, described in V1_AMOUNT_COLUMNS for name in (amount, described) if name}
    | {"promotion-type"}
)

REQUIRED_COMMON = ("settlement-id", "total-amount", "transaction-type")
REQUIRED_V2 = ("amount-type", "amount-description", "amount")
# 33-column files (no promotion columns) are real: only the core amount columns are required.
REQUIRED_V1 = (
    "price-type",
    "price-amount",
    "item-related-fee-type",
    "item-related-fee-amount",
    "other-amount",
)

SUMMARY_DATE_COLUMNS = ("settlement-start-date", "settlement-end-date", "deposit-date")
