"""Finances v0 event pages (listFinancialEvents, ...ByGroupId, ...ByOrderId) as one long table of amounts.

The walk is generic: every Currency-shaped object anywhere in an event becomes one row, so nothing is
dropped even if Amazon adds a field. The model knowledge generated from financesV0.json (`v0_model`) only
classifies the rows: which objects are components (charge, fee, promotion, ...), which event lists exist.
Event lists the model does not know go, verbatim, to `financial_events_unknown`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa

from transforms.finances.canonical_json import canonical_json
from transforms.finances.errors import PayloadShapeError
from transforms.finances.payload import unwrap_payload
from transforms.finances.v0_model import COMPONENT_TYPE_FIELDS, DEFINITIONS, EVENT_LISTS, EVENT_SUBTYPE_FIELDS
from transforms.finances.values import (
    MONEY_TYPE,
    TIMESTAMP_TYPE,
    currency_parts,
    get_ci,
    is_currency,
    to_optional_int,
    to_optional_str,
    to_timestamp,
)

FINANCIAL_EVENTS_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("financial_event_group_id", pa.string()),
        pa.field("event_list", pa.string(), nullable=False),
        pa.field("event_type", pa.string(), nullable=False),
        pa.field("event_index", pa.int32(), nullable=False),
        pa.field("event_subtype", pa.string()),
        pa.field("component_key", pa.string(), nullable=False),
        pa.field("posted_at", TIMESTAMP_TYPE),
        pa.field("order_id", pa.string()),
        pa.field("seller_order_id", pa.string()),
        pa.field("marketplace_name", pa.string()),
        pa.field("marketplace_id", pa.string()),
        pa.field("sku", pa.string()),
        pa.field("fnsku", pa.string()),
        pa.field("asin", pa.string()),
        pa.field("order_item_id", pa.string()),
        pa.field("order_adjustment_item_id", pa.string()),
        pa.field("quantity", pa.int64()),
        pa.field("component_kind", pa.string(), nullable=False),
        pa.field("component_type", pa.string()),
        pa.field("amount_field", pa.string(), nullable=False),
        pa.field("promotion_id", pa.string()),
        pa.field("tax_collection_model", pa.string()),
        pa.field("amount", MONEY_TYPE),
        pa.field("currency", pa.string()),
        pa.field("is_additive", pa.bool_(), nullable=False),
        pa.field("is_modelled", pa.bool_(), nullable=False),
        pa.field("source_sha256", pa.string(), nullable=False),
    ]
)

FINANCIAL_EVENTS_UNKNOWN_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("financial_event_group_id", pa.string()),
        pa.field("event_list", pa.string(), nullable=False),
        pa.field("event_index", pa.int32()),
        pa.field("raw_json", pa.string(), nullable=False),
        pa.field("source_sha256", pa.string(), nullable=False),
    ]
)

# Component definitions -> component_kind. Inside TaxWithheldComponent.TaxesWithheld a ChargeComponent is
# `tax_withheld` instead of `charge`.
COMPONENT_KINDS: dict[str, str] = {
    "ChargeComponent": "charge",
    "FeeComponent": "fee",
    "Promotion": "promotion",
    "DirectPayment": "direct_payment",
    "ChargeRefundTransaction": "charge_refund",
}
TAX_WITHHELD_KIND = "tax_withheld"
FLAT_AMOUNT_KIND = "amount"

# Amounts that restate others, so summing them with the rest would count money twice (is_additive = false):
# totals equal to the sum of their event's components, and informational bases. Judgement, not model
# knowledge: the model does not say which amounts are sums; a test checks every pair still exists there.
NON_ADDITIVE_FIELDS: frozenset[tuple[str, str]] = frozenset(
    {
        ("CouponPaymentEvent", "TotalAmount"),  # = FeeComponent + ChargeComponent
        ("SellerReviewEnrollmentPaymentEvent", "TotalAmount"),  # = FeeComponent + ChargeComponent
        ("SellerDealPaymentEvent", "totalAmount"),  # = feeAmount + taxAmount
        ("ProductAdsPaymentEvent", "transactionValue"),  # = baseValue + taxValue
        ("AffordabilityExpenseEvent", "TotalExpense"),  # = BaseExpense + the three GST parts
        ("TaxWithholdingEvent", "BaseAmount"),  # the amount tax was computed on; WithheldAmount posts
        ("RentalTransactionEvent", "RentalInitialValue"),  # what the customer paid at rental start
    }
)
# Definitions whose amounts detail an amount of their parent event (AdjustmentItem -> AdjustmentAmount,
# DebtRecoveryItem/ChargeInstrument -> RecoveryAmount, SAFETReimbursementItem -> ReimbursedAmount).
DETAIL_DEFINITIONS: frozenset[str] = frozenset(
    {"AdjustmentItem", "DebtRecoveryItem", "ChargeInstrument", "SAFETReimbursementItem"}
)

# Row attributes taken from the scalars of the event and of the items around an amount (innermost wins).
_CONTEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "posted_at": ("PostedDate", "TransactionPostedDate", "TransactionCreationDate"),
    "order_id": ("AmazonOrderId", "OrderId", "TDSOrderId", "OriginalRemovalOrderId"),
    "seller_order_id": ("SellerOrderId", "MerchantOrderId"),
    "marketplace_name": ("MarketplaceName",),
    "marketplace_id": ("MarketplaceId",),
    "sku": ("SellerSKU", "SKU"),
    "fnsku": ("FnSKU", "FulfillmentNetworkSKU"),
    "asin": ("ASIN", "ParentASIN"),
    "order_item_id": ("OrderItemId",),
    "order_adjustment_item_id": ("OrderAdjustmentItemId",),
    "quantity": ("QuantityShipped", "Quantity", "AdjustedQuantity"),
    "promotion_id": ("PromotionId",),
    "tax_collection_model": ("TaxCollectionModel",),
}
_CONTEXT_LOOKUP: dict[str, str] = {
    synonym.lower(): column for column, synonyms in _CONTEXT_FIELDS.items() for synonym in synonyms
}


Emit = Callable[[Mapping[str, Any], str, str, "_Walk", str], None]


@dataclass(frozen=True)
class _Walk:
    """Where the walk is: the model definition of the current object (None outside the model) and context."""

    definition: str | None
    path: str
    context: dict[str, Any]
    in_tax_withheld: bool = False
    is_detail: bool = False
    modelled: bool = True
    component_type: str | None = None
    holder: str = ""  # the payload key (list or field) the current object sits under


def _scalar_context(node: Mapping[str, Any], inherited: dict[str, Any], where: str) -> dict[str, Any]:
    context = dict(inherited)
    for key, value in node.items():
        column = _CONTEXT_LOOKUP.get(key.lower()) if isinstance(key, str) else None
        if column is None or value is None or isinstance(value, Mapping | list):
            continue
        if column == "posted_at":
            context[column] = to_timestamp(value, where=f"{where}.{key}")
        elif column == "quantity":
            context[column] = to_optional_int(value, where=f"{where}.{key}")
        else:
            context[column] = to_optional_str(value)
    return context


def _model_property(definition: str | None, key: str) -> tuple[str, tuple[str, str]] | None:
    """(the model's spelling, shape) of `key` in `definition`, matched case-insensitively."""
    properties = DEFINITIONS.get(definition or "", {})
    if key in properties:
        return key, properties[key]
    for name, shape in properties.items():
        if name.lower() == key.lower():
            return name, shape
    return None


def _walk_object(node: Mapping[str, Any], walk: _Walk, emit: Emit) -> None:
    context = _scalar_context(node, walk.context, walk.path)
    is_detail = walk.is_detail or walk.definition in DETAIL_DEFINITIONS
    component_type = None
    if walk.definition in COMPONENT_TYPE_FIELDS:
        component_type = to_optional_str(get_ci(node, COMPONENT_TYPE_FIELDS[walk.definition or ""]))
    for key, value in node.items():
        found = _model_property(walk.definition, key)
        modelled = walk.modelled and found is not None
        prop = found[0] if found else key
        target = found[1][1] or None if found else None
        child_path = f"{walk.path}.{key}"
        in_tax_withheld = walk.in_tax_withheld or (
            walk.definition == "TaxWithheldComponent" and prop == "TaxesWithheld"
        )
        if is_currency(value):
            here = _Walk(
                walk.definition,
                child_path,
                context,
                in_tax_withheld,
                is_detail,
                modelled,
                component_type,
                walk.holder,
            )
            emit(value, child_path, key, here, prop)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                item_walk = _Walk(
                    target,
                    f"{child_path}[{index}]",
                    context,
                    in_tax_withheld,
                    is_detail,
                    modelled,
                    holder=key,
                )
                if is_currency(item):
                    # A bare amount inside a list (not in the model): it still lands, named by its list.
                    emit(item, item_walk.path, key, replace(item_walk, definition=walk.definition), key)
                elif isinstance(item, Mapping):
                    _walk_object(item, item_walk, emit)
        elif isinstance(value, Mapping):
            nested = _Walk(target, child_path, context, in_tax_withheld, is_detail, modelled, holder=key)
            _walk_object(value, nested, emit)


def _event_subtype(definition: str, event: Mapping[str, Any]) -> str | None:
    for subtype_field in EVENT_SUBTYPE_FIELDS.get(definition, []):
        subtype = to_optional_str(get_ci(event, subtype_field))
        if subtype is not None:
            return subtype
    return None


def _event_rows(
    event_list: str,
    event_index: int,
    event: Mapping[str, Any],
    *,
    account_id: str,
    financial_event_group_id: str | None,
    source_sha256: str,
) -> list[dict[str, Any]]:
    definition = EVENT_LISTS[event_list]
    subtype = _event_subtype(definition, event)
    group_id = financial_event_group_id or to_optional_str(get_ci(event, "FinancialEventGroupId"))
    rows: list[dict[str, Any]] = []

    def emit(money: Mapping[str, Any], path: str, holder: str, walk: _Walk, prop: str) -> None:
        # `walk.definition` is the object holding the amount; `holder` the payload key the amount sits in.
        amount, currency = currency_parts(money, where=path)
        container = walk.definition or ""
        if container in COMPONENT_TYPE_FIELDS and walk.modelled:
            kind = TAX_WITHHELD_KIND if walk.in_tax_withheld else COMPONENT_KINDS.get(container, container)
            component_type, amount_field = walk.component_type, walk.holder
        else:
            kind, component_type, amount_field = FLAT_AMOUNT_KIND, prop, holder
        rows.append(
            {
                **{column: walk.context.get(column) for column in _CONTEXT_FIELDS},
                "account_id": account_id,
                "financial_event_group_id": group_id,
                "event_list": event_list,
                "event_type": event_list.removesuffix("EventList"),
                "event_index": event_index,
                "event_subtype": subtype,
                "component_key": path,
                "component_kind": kind,
                "component_type": component_type,
                "amount_field": amount_field,
                "amount": amount,
                "currency": currency,
                "is_additive": not walk.is_detail and (container, prop) not in NON_ADDITIVE_FIELDS,
                "is_modelled": walk.modelled,
                "source_sha256": source_sha256,
            }
        )

    _walk_object(event, _Walk(definition, f"{event_list}[{event_index}]", {}), emit)
    return rows


def financial_events_tables(
    body: Mapping[str, Any],
    *,
    account_id: str,
    source_sha256: str,
    financial_event_group_id: str | None = None,
) -> tuple[pa.Table, pa.Table]:
    """(financial_events, financial_events_unknown) of one listFinancialEvents* page.

    `financial_event_group_id` is the group a ByGroupId page was requested for (v0 events do not carry it).
    `component_key` is `<EventList>[<event index in the page>].<path to the amount>`: it names an amount
    within its page (identified by `source_sha256`) and does not move when other events change.
    """
    payload = unwrap_payload(body, operation="listFinancialEvents")
    events = get_ci(payload, "FinancialEvents")
    if events is None:
        events = {}
    if not isinstance(events, Mapping):
        raise PayloadShapeError("FinancialEvents is not an object", where="payload.FinancialEvents")
    known_lists = {name.lower(): name for name in EVENT_LISTS}
    rows: list[dict[str, Any]] = []
    unknown: list[dict[str, Any]] = []
    for key, value in events.items():
        if value is None:
            continue
        event_list = known_lists.get(key.lower())
        if event_list is None:
            items: list[tuple[int | None, Any]] = (
                list(enumerate(value)) if isinstance(value, list) else [(None, value)]
            )
            unknown.extend(
                {
                    "account_id": account_id,
                    "financial_event_group_id": financial_event_group_id,
                    "event_list": key,
                    "event_index": index,
                    "raw_json": canonical_json(item),
                    "source_sha256": source_sha256,
                }
                for index, item in items
            )
            continue
        if not isinstance(value, list):
            raise PayloadShapeError(f"{key} is not a list", where=f"payload.FinancialEvents.{key}")
        for index, event in enumerate(value):
            if not isinstance(event, Mapping):
                raise PayloadShapeError("event is not an object", where=f"{key}[{index}]")
            rows.extend(
                _event_rows(
                    event_list,
                    index,
                    event,
                    account_id=account_id,
                    financial_event_group_id=financial_event_group_id,
                    source_sha256=source_sha256,
                )
            )
    return (
        pa.Table.from_pylist(rows, schema=FINANCIAL_EVENTS_SCHEMA),
        pa.Table.from_pylist(unknown, schema=FINANCIAL_EVENTS_UNKNOWN_SCHEMA),
    )
