"""Finances Invoices 2026-06-25 payloads (getInvoiceHeaders, getInvoice) as typed Arrow tables.

- `invoice_headers_table`: one row per invoice header: status, dates, amount and its tax split, the settlement
  breakdowns (paid, queued, quick-pay discount, quantity and price variance, other with the service charge types it
  nests), and the related identifiers (POs, shortage invoices, ASNs, returns, payments), comma-joined;
- `invoice_lines_table`: one row per line item with its matching context (matched, paid, variances and reasons).

Money is read exactly (the JSON numbers arrive as Decimal) into decimal128(18, 4): invoice unit costs may carry
sub-cent precision; more places raise, nothing is rounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pyarrow as pa

from transforms.finances.errors import PayloadShapeError
from transforms.finances.values import (
    TIMESTAMP_TYPE,
    currency_parts,
    get_ci,
    to_optional_int,
    to_optional_str,
    to_timestamp,
)

SCALE = 4
AMOUNT = pa.decimal128(18, SCALE)
SETTLEMENT_COLUMNS = {
    "AmountPaid": "paid_amount",
    "QueuedForPayment": "queued_amount",
    "QuickPayDiscount": "quick_pay_discount",
    "QuantityVarianceAmount": "quantity_variance_amount",
    "PriceVariance": "price_variance_amount",
    "Other": "other_deduction_amount",
}
RELATED_COLUMNS = {
    "PURCHASE_ORDER_IDS": "purchase_order_ids",
    "SHORTAGE_INVOICE_IDS": "shortage_invoice_ids",
    "ASN_IDS": "asn_ids",
    "RETURN_IDS": "return_ids",
    "AGREEMENT_IDS": "agreement_ids",
    "UNIQUE_PAYMENT_IDS": "payment_ids",
    "VENDOR_CODE": "vendor_codes",
    "WAREHOUSE_ID": "warehouse_ids",
}

VENDOR_INVOICES_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("marketplace_id", pa.string(), nullable=False),
        pa.field("invoice_identifier", pa.string(), nullable=False),
        pa.field("invoice_number", pa.string()),
        pa.field("invoice_status", pa.string()),
        pa.field("invoice_type", pa.string()),
        pa.field("payee_code", pa.string()),
        pa.field("payer_id", pa.string()),
        pa.field("issued_at", TIMESTAMP_TYPE),
        pa.field("due_at", TIMESTAMP_TYPE),
        pa.field("created_at", TIMESTAMP_TYPE),
        pa.field("last_updated_at", TIMESTAMP_TYPE),
        pa.field("payment_terms", pa.string()),
        pa.field("currency", pa.string()),
        pa.field("invoice_amount", AMOUNT),
        pa.field("amount_without_tax", AMOUNT),
        pa.field("tax_amount", AMOUNT),
        *[pa.field(column, AMOUNT) for column in SETTLEMENT_COLUMNS.values()],
        pa.field("other_deduction_types", pa.string()),
        *[pa.field(column, pa.string()) for column in RELATED_COLUMNS.values()],
        pa.field("source_sha256", pa.string(), nullable=False),
    ]
)

# One row per status an invoice was seen in: a status change adds a row, a re-read of the same one does not.
VENDOR_INVOICE_STATUS_HISTORY_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("invoice_identifier", pa.string(), nullable=False),
        pa.field("issued_at", TIMESTAMP_TYPE),
        pa.field("invoice_status", pa.string(), nullable=False),
        pa.field("last_updated_at", TIMESTAMP_TYPE),
        pa.field("paid_amount", AMOUNT),
        pa.field("source_sha256", pa.string(), nullable=False),
    ]
)

VENDOR_INVOICE_LINES_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("invoice_identifier", pa.string(), nullable=False),
        pa.field("issued_at", TIMESTAMP_TYPE),
        pa.field("line_item_id", pa.string(), nullable=False),
        pa.field("line_item_type", pa.string()),
        pa.field("asin", pa.string()),
        pa.field("external_id", pa.string()),
        pa.field("item_description", pa.string()),
        pa.field("service_charge_type", pa.string()),
        pa.field("purchase_order_id", pa.string()),
        pa.field("asn_id", pa.string()),
        pa.field("currency", pa.string()),
        pa.field("unit_cost", AMOUNT),
        pa.field("quantity", pa.int64()),
        pa.field("tax_rate_codes", pa.string()),
        pa.field("total_amount", AMOUNT),
        pa.field("cost_without_tax", AMOUNT),
        pa.field("item_tax_amount", AMOUNT),
        pa.field("is_matched", pa.bool_(), nullable=False),
        pa.field("matched_quantity", pa.int64()),
        pa.field("matched_amount", AMOUNT),
        pa.field("quantity_variance", pa.int64()),
        pa.field("price_variance_amount", AMOUNT),
        pa.field("paid_quantity", pa.int64()),
        pa.field("paid_amount", AMOUNT),
        pa.field("pqv_reasons", pa.string()),
        pa.field("ppv_reasons", pa.string()),
        pa.field("other_variance_reasons", pa.string()),
        pa.field("source_sha256", pa.string(), nullable=False),
    ]
)


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PayloadShapeError("expected an object", where=where)
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadShapeError("expected a list", where=where)
    return value


def _money(value: Any, where: str) -> tuple[Decimal | None, str | None]:
    if value is None:
        return None, None
    return currency_parts(_object(value, where), where=where, scale=SCALE)


def _breakdowns(value: Any, where: str) -> dict[str, tuple[Decimal, list[str]]]:
    """breakdownType -> (amount summed, the nested breakdown types)."""
    found: dict[str, tuple[Decimal, list[str]]] = {}
    for index, entry in enumerate(_list(value, where)):
        entry = _object(entry, f"{where}[{index}]")
        name = to_optional_str(get_ci(entry, "breakdownType"))
        amount, _ = _money(get_ci(entry, "breakdownAmount"), f"{where}[{index}].breakdownAmount")
        if name is None or amount is None:
            continue
        nested = [
            str(get_ci(_object(n, where), "breakdownType"))
            for n in _list(get_ci(entry, "breakdowns"), f"{where}[{index}].breakdowns")
        ]
        total, names = found.get(name, (Decimal("0"), []))
        found[name] = (total + amount, names + nested)
    return found


def _related(value: Any, where: str) -> dict[str, str | None]:
    columns: dict[str, str | None] = dict.fromkeys(RELATED_COLUMNS.values())
    for index, entry in enumerate(_list(value, where)):
        entry = _object(entry, f"{where}[{index}]")
        column = RELATED_COLUMNS.get(str(get_ci(entry, "relatedIdentifierName")))
        values = [str(v) for v in _list(get_ci(entry, "relatedIdentifierValue"), where)]
        if column and values:
            columns[column] = ",".join(values)
    return columns


def header_row(
    header: Mapping[str, Any],
    *,
    account_id: str,
    marketplace_id: str,
    source_sha256: str,
    where: str = "header",
) -> dict[str, Any]:
    identifier = to_optional_str(get_ci(header, "invoiceIdentifier"))
    if identifier is None:
        raise PayloadShapeError("invoice without invoiceIdentifier", where=where)
    amount, currency = _money(get_ci(header, "invoiceAmount"), f"{where}.invoiceAmount")
    split = _breakdowns(get_ci(header, "invoiceAmountBreakdowns"), f"{where}.invoiceAmountBreakdowns")
    nested_split: dict[str, Decimal] = {}
    for index, total in enumerate(_list(get_ci(header, "invoiceAmountBreakdowns"), where)):
        for inner in _list(get_ci(_object(total, where), "breakdowns"), f"{where}[{index}].breakdowns"):
            inner = _object(inner, where)
            value, _ = _money(get_ci(inner, "breakdownAmount"), where)
            if value is not None:
                nested_split[str(get_ci(inner, "breakdownType"))] = value
    settled = _breakdowns(
        get_ci(header, "invoiceSettlementBreakdowns"), f"{where}.invoiceSettlementBreakdowns"
    )
    payee = _object(get_ci(header, "payee"), f"{where}.payee")
    payer = _object(get_ci(header, "payer"), f"{where}.payer")
    row: dict[str, Any] = {
        "account_id": account_id,
        "marketplace_id": marketplace_id,
        "invoice_identifier": identifier,
        "invoice_number": to_optional_str(get_ci(header, "invoiceNumber")),
        "invoice_status": to_optional_str(get_ci(header, "invoiceStatus")),
        "invoice_type": to_optional_str(get_ci(header, "invoiceType")),
        "payee_code": to_optional_str(get_ci(payee, "partnerId")),
        "payer_id": to_optional_str(get_ci(payer, "partnerId")),
        "issued_at": to_timestamp(get_ci(header, "issueDate"), where=f"{where}.issueDate"),
        "due_at": to_timestamp(get_ci(header, "dueDate"), where=f"{where}.dueDate"),
        "created_at": to_timestamp(get_ci(header, "creationDate"), where=f"{where}.creationDate"),
        "last_updated_at": to_timestamp(get_ci(header, "lastUpdatedDate"), where=f"{where}.lastUpdatedDate"),
        "payment_terms": to_optional_str(get_ci(header, "paymentTerms")),
        "currency": currency,
        "invoice_amount": amount,
        "amount_without_tax": nested_split.get(
            "InvoiceAmountWithoutTax", split.get("InvoiceAmountWithoutTax", (None,))[0]
        ),
        "tax_amount": nested_split.get("TaxAmount", split.get("TaxAmount", (None,))[0]),
        "other_deduction_types": ",".join(settled.get("Other", (Decimal("0"), []))[1]) or None,
        "source_sha256": source_sha256,
    }
    for name, column in SETTLEMENT_COLUMNS.items():
        row[column] = settled[name][0] if name in settled else Decimal("0")
    row.update(_related(get_ci(header, "relatedIdentifiers"), f"{where}.relatedIdentifiers"))
    return row


def invoice_headers_table(
    headers: list[Any], *, account_id: str, marketplace_id: str, source_sha256: str
) -> pa.Table:
    rows = [
        header_row(
            _object(h, f"invoices[{i}]"),
            account_id=account_id,
            marketplace_id=marketplace_id,
            source_sha256=source_sha256,
            where=f"invoices[{i}]",
        )
        for i, h in enumerate(headers)
    ]
    return pa.Table.from_pylist(rows, schema=VENDOR_INVOICES_SCHEMA)


def _reasons(reasons: list[Any], kind: str, where: str) -> str | None:
    found: list[str] = []
    for index, reason in enumerate(reasons):
        reason = _object(reason, f"{where}[{index}]")
        if str(get_ci(reason, "varianceType")) == kind:
            found.extend(str(d) for d in _list(get_ci(reason, "defectTypes"), where) or [kind])
    return ",".join(found) or None


def invoice_lines_table(
    items: list[Any], *, account_id: str, invoice_identifier: str, issued_at: Any, source_sha256: str
) -> pa.Table:
    rows = []
    for index, raw in enumerate(items):
        where = f"invoiceItems[{index}]"
        item = _object(raw, where)
        line_id = to_optional_str(get_ci(item, "lineItemId"))
        if line_id is None:
            raise PayloadShapeError("line without lineItemId", where=where)
        context = _object(get_ci(item, "lineItemContext"), f"{where}.lineItemContext")
        identifiers = {
            str(get_ci(_object(i, where), "itemIdentifierName")): to_optional_str(
                get_ci(_object(i, where), "itemIdentifierValue")
            )
            for i in _list(get_ci(context, "itemIdentifiers"), where)
        }
        related = _related(get_ci(item, "relatedItemIdentifiers"), f"{where}.relatedItemIdentifiers")
        matching = get_ci(context, "matchingContext")
        match = _object(matching, f"{where}.matchingContext")
        reasons = _list(get_ci(match, "varianceReasons"), f"{where}.varianceReasons")
        unit_cost, currency = _money(get_ci(item, "unitCost"), f"{where}.unitCost")
        total, total_currency = _money(get_ci(item, "totalAmount"), f"{where}.totalAmount")
        split = _breakdowns(get_ci(item, "totalAmountBreakdown"), f"{where}.totalAmountBreakdown")
        rows.append(
            {
                "account_id": account_id,
                "invoice_identifier": invoice_identifier,
                "issued_at": issued_at,
                "line_item_id": line_id,
                "line_item_type": to_optional_str(get_ci(context, "lineItemType")),
                "asin": identifiers.get("ASIN"),
                "external_id": identifiers.get("EAN")
                or identifiers.get("UPC")
                or identifiers.get("EXTERNAL_ID"),
                "item_description": to_optional_str(get_ci(context, "itemDescription")),
                "service_charge_type": to_optional_str(get_ci(context, "serviceChargeType")),
                "purchase_order_id": (related["purchase_order_ids"] or "").split(",")[0] or None,
                "asn_id": (related["asn_ids"] or "").split(",")[0] or None,
                "currency": currency or total_currency,
                "unit_cost": unit_cost,
                "quantity": to_optional_int(get_ci(item, "quantity"), where=f"{where}.quantity"),
                "tax_rate_codes": ",".join(str(c) for c in _list(get_ci(item, "taxRateCodes"), where))
                or None,
                "total_amount": total,
                "cost_without_tax": split["ItemCostWithoutTax"][0] if "ItemCostWithoutTax" in split else None,
                "item_tax_amount": split["ItemTaxAmount"][0] if "ItemTaxAmount" in split else None,
                "is_matched": matching is not None,
                "matched_quantity": to_optional_int(get_ci(match, "matchedQuantity"), where=where),
                "matched_amount": _money(get_ci(match, "matchedAmount"), where)[0],
                "quantity_variance": to_optional_int(get_ci(match, "quantityVariance"), where=where),
                "price_variance_amount": _money(get_ci(match, "priceVariance"), where)[0],
                "paid_quantity": to_optional_int(get_ci(match, "paidQuantity"), where=where),
                "paid_amount": _money(get_ci(match, "paidAmount"), where)[0],
                "pqv_reasons": _reasons(reasons, "PQV", where),
                "ppv_reasons": _reasons(reasons, "PPV", where),
                "other_variance_reasons": _reasons(reasons, "OTHER", where),
                "source_sha256": source_sha256,
            }
        )
    return pa.Table.from_pylist(rows, schema=VENDOR_INVOICE_LINES_SCHEMA)


# One row per shipped item of a vendor shipment (Vendor Shipments v1 GetShipmentDetails), PO by PO.
VENDOR_SHIPMENT_ITEMS_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("vendor_shipment_identifier", pa.string(), nullable=False),
        pa.field("transaction_type", pa.string()),
        pa.field("current_shipment_status", pa.string()),
        pa.field("shipment_created_at", TIMESTAMP_TYPE),
        pa.field("shipment_confirmed_at", TIMESTAMP_TYPE),
        pa.field("shipped_at", TIMESTAMP_TYPE),
        pa.field("estimated_delivery_at", TIMESTAMP_TYPE),
        pa.field("ship_to_party_id", pa.string()),
        pa.field("purchase_order_number", pa.string(), nullable=False),
        pa.field("item_sequence_number", pa.string(), nullable=False),
        pa.field("buyer_product_identifier", pa.string()),
        pa.field("vendor_product_identifier", pa.string()),
        pa.field("shipped_quantity", pa.int64()),
        pa.field("shipped_quantity_unit", pa.string()),
        pa.field("shipped_quantity_eaches", pa.int64()),
        pa.field("source_sha256", pa.string(), nullable=False),
    ]
)


def shipment_items_table(shipments: list[Any], *, account_id: str, source_sha256: str) -> pa.Table:
    rows = []
    for index, raw in enumerate(shipments):
        where = f"shipments[{index}]"
        shipment = _object(raw, where)
        identifier = to_optional_str(get_ci(shipment, "vendorShipmentIdentifier"))
        if identifier is None:
            raise PayloadShapeError("shipment without vendorShipmentIdentifier", where=where)
        transport = _object(get_ci(shipment, "transportationDetails"), f"{where}.transportationDetails")
        base = {
            "account_id": account_id,
            "vendor_shipment_identifier": identifier,
            "transaction_type": to_optional_str(get_ci(shipment, "transactionType")),
            "current_shipment_status": to_optional_str(get_ci(shipment, "currentShipmentStatus")),
            "shipment_created_at": to_timestamp(get_ci(shipment, "shipmentCreateDate"), where=where),
            "shipment_confirmed_at": to_timestamp(get_ci(shipment, "shipmentConfirmDate"), where=where),
            "shipped_at": to_timestamp(get_ci(transport, "shippedDate"), where=where),
            "estimated_delivery_at": to_timestamp(get_ci(transport, "estimatedDeliveryDate"), where=where),
            "ship_to_party_id": to_optional_str(
                get_ci(_object(get_ci(shipment, "shipToParty"), where), "partyId")
            ),
            "source_sha256": source_sha256,
        }
        for po_index, po in enumerate(_list(get_ci(shipment, "purchaseOrders"), f"{where}.purchaseOrders")):
            po = _object(po, f"{where}.purchaseOrders[{po_index}]")
            number = to_optional_str(get_ci(po, "purchaseOrderNumber"))
            for item_index, item in enumerate(
                _list(get_ci(po, "items"), f"{where}.purchaseOrders[{po_index}].items")
            ):
                item_where = f"{where}.purchaseOrders[{po_index}].items[{item_index}]"
                item = _object(item, item_where)
                quantity = _object(get_ci(item, "shippedQuantity"), f"{item_where}.shippedQuantity")
                amount = to_optional_int(get_ci(quantity, "amount"), where=item_where)
                unit = to_optional_str(get_ci(quantity, "unitOfMeasure"))
                size = to_optional_int(get_ci(quantity, "unitSize"), where=item_where) or 1
                eaches = amount * size if amount is not None and unit and unit.lower() == "cases" else amount
                rows.append(
                    {
                        **base,
                        "purchase_order_number": number or "",
                        "item_sequence_number": to_optional_str(get_ci(item, "itemSequenceNumber")) or "",
                        "buyer_product_identifier": to_optional_str(get_ci(item, "buyerProductIdentifier")),
                        "vendor_product_identifier": to_optional_str(get_ci(item, "vendorProductIdentifier")),
                        "shipped_quantity": amount,
                        "shipped_quantity_unit": unit,
                        "shipped_quantity_eaches": eaches,
                    }
                )
    return pa.Table.from_pylist(rows, schema=VENDOR_SHIPMENT_ITEMS_SCHEMA)
