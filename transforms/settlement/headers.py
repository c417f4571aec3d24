"""The headers Amazon writes, column by column in file order: the one definition every reader of them uses (the
schema-drift check compares files against them, tests write files with them).

The parser itself matches columns by name (schema.py), never by position, so it accepts these in any order.
"""

from __future__ import annotations

# The summary row's columns and the first columns of every line, shared by both layouts.
_SHARED_HEAD = (
    "settlement-id",
    "settlement-start-date",
    "settlement-end-date",
    "deposit-date",
    "total-amount",
    "currency",
    "transaction-type",
    "order-id",
    "merchant-order-id",
    "adjustment-id",
    "shipment-id",
    "marketplace-name",
)

# GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2 (24 columns).
V2_HEADER: tuple[str, ...] = (
    *_SHARED_HEAD,
    "amount-type",
    "amount-description",
    "amount",
    "fulfillment-id",
    "posted-date",
    "posted-date-time",
    "order-item-code",
    "merchant-order-item-id",
    "merchant-adjustment-item-id",
    "sku",
    "quantity-purchased",
    "promotion-id",
)

_V1_HEAD = (
    *_SHARED_HEAD,
    "shipment-fee-type",
    "shipment-fee-amount",
    "order-fee-type",
    "order-fee-amount",
    "fulfillment-id",
    "posted-date",
    "order-item-code",
    "merchant-order-item-id",
    "merchant-adjustment-item-id",
    "sku",
    "quantity-purchased",
    "price-type",
    "price-amount",
    "item-related-fee-type",
    "item-related-fee-amount",
    "misc-fee-amount",
    "other-fee-amount",
    "other-fee-reason-description",
)
_V1_TAIL = ("direct-payment-type", "direct-payment-amount", "other-amount")
# GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE, the older layout: with promotion columns (36) and without them (33);
# both are Amazon's.
V1_HEADER: tuple[str, ...] = (*_V1_HEAD, "promotion-id", "promotion-type", "promotion-amount", *_V1_TAIL)
V1_HEADER_NO_PROMOTIONS: tuple[str, ...] = (*_V1_HEAD, *_V1_TAIL)
