"""Finances Invoices 2026-06-25: the invoices demo-vendor sends for its purchase orders, and how Amazon settles them.

One AP_INVENTORY invoice per purchase order with accepted units, issued when the vendor ships (two days before
the first delivery), for the accepted quantities at the PO's net costs. Amazon matches it against its receipts
two days after the last delivery, queues it for payment five days before it is due (NET60 from issue) and pays it
on the due date. Between those moments the invoice is IN_PROGRESS; once paid it is PAID. One invoice matched and
not yet due (not a quick-pay or rejected one) is queued from its matching on, as an invoice approved early for
the payment run of its due date is, so that the demo shows money queued for payment whatever day it is.

Some invoices get a role (chosen by their timing relative to ``today``, so that the demo shows every status):

- ``shortage_true``: a few invoiced units never arrived: Amazon's PO receipts and the vendor's own shipment (its
  ASN, GetShipmentDetails) both show fewer units than the invoice, and Amazon deducts them (PQV,
  SHORTAGES_IN_TRANSIT). Correct: not a dispute candidate. (The PO line's ``lost_in_transit`` holds them.)
- ``shortage_planted``: Amazon deducts a shortage (PQV, SHORTAGES_IN_TRANSIT) although its own PO receipts and the
  ASN show every invoiced unit shipped and arrived: a dispute candidate.
- ``price_variance``: the vendor invoiced one line at its regular cost while the PO carried a deal cost (DEALBUY);
  Amazon deducts the difference (PPV).
- ``damage_allowance`` / ``price_protection``: Amazon nets a service charge against the invoice (settlement
  breakdown ``Other`` with a nested breakdown naming the service charge type).
- ``quick_pay``: paid early, five days after matching, less a 2% quick-pay discount.
- ``held_line``: one line is held after matching and paid 45 days after the rest (PARTIALLY_PAID meanwhile).
- ``rejected``: Amazon rejected the invoice (REJECTED from the day after issue; nothing is settled).

An invoice with a deduction is PARTIALLY_DEDUCTED from matching until it is paid, then DEDUCTED. Settlement
amounts are positive: invoice amount = AmountPaid + QueuedForPayment + QuickPayDiscount + QuantityVarianceAmount +
PriceVariance + Other + what is still open, to the cent.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from simulator.ledger.history import money
from simulator.ledger.vendor_orders import (
    SELLING_PARTY,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
)

PAYEE_CODE = SELLING_PARTY
CURRENCY = "USD"
PAYMENT_TERMS = "NET60"
NET_DAYS = timedelta(days=60)
MATCH_DELAY = timedelta(days=2)
QUEUE_BEFORE_DUE = timedelta(days=5)
QUICK_PAY_DELAY = timedelta(days=5)
QUICK_PAY_RATE = Decimal("0.02")
HOLD = timedelta(days=45)
DEALBUY_UPLIFT = Decimal("1.25")  # the regular cost the vendor invoiced, above the PO's deal cost
ROLES_PAID = ("shortage_planted", "shortage_true", "price_variance", "damage_allowance", "held_line")
ROLES_OPEN = ("shortage_planted", "shortage_true", "price_protection", "quick_pay", "rejected")


@dataclass(frozen=True)
class InvoiceLine:
    line_id: str
    po_line: PurchaseOrderLine
    quantity: int
    unit_cost: Decimal
    short_units: int = 0  # units Amazon deducted as short (PQV)
    price_variance: Decimal = Decimal("0")  # deducted per unit (PPV)
    held: bool = False

    @property
    def amount(self) -> Decimal:
        return money(self.unit_cost * self.quantity)


@dataclass(frozen=True)
class VendorInvoice:
    number: str
    po: PurchaseOrder
    issued_at: datetime
    matched_at: datetime
    due_at: datetime
    lines: tuple[InvoiceLine, ...]
    role: str | None = None
    service_charge: tuple[str, Decimal] | None = None  # (serviceChargeType, amount) netted as Other
    queued_at_match: bool = (
        False  # approved early: queued for payment from matching, not five days before due
    )

    @property
    def queued_at(self) -> datetime:
        return self.matched_at if self.queued_at_match else self.paid_at - QUEUE_BEFORE_DUE

    @property
    def identifier(self) -> str:
        return f"{self.number}~{PAYEE_CODE}"

    @property
    def amount(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0"))

    @property
    def paid_at(self) -> datetime:
        return self.matched_at + QUICK_PAY_DELAY if self.role == "quick_pay" else self.due_at

    @property
    def held_until(self) -> datetime:
        return self.paid_at + HOLD


def _shipment_at(po: PurchaseOrder) -> datetime:
    first = min(r.received_at for line in po.lines for r in line.receipts)
    return max(po.acknowledged_at, first - timedelta(days=2)).replace(microsecond=0)


def _invoiceable(po: PurchaseOrder) -> bool:
    return any(line.accepted and line.receipts for line in po.lines)


def build_invoices(
    orders: list[PurchaseOrder], seed: int, today: date
) -> tuple[list[PurchaseOrder], list[VendorInvoice]]:
    """The invoices of demo-vendor's orders, and the orders with the units that never arrived taken off their
    receipts (the shortages that are right)."""
    rng = random.Random(f"{seed}|vendor-invoices|{today.isoformat()}")
    midnight = datetime.combine(today, time(0, 0), tzinfo=UTC)
    invoices = []
    for po in orders:
        if not _invoiceable(po):
            continue
        issued = _shipment_at(po)
        matched = po.closed_at() + MATCH_DELAY
        first_lines = tuple(
            InvoiceLine(f"{index}", line, line.accepted, line.product.net_cost)
            for index, line in enumerate((x for x in po.lines if x.accepted), start=1)
        )
        invoices.append(
            VendorInvoice(
                number=f"DV{po.number}",
                po=po,
                issued_at=issued,
                matched_at=matched,
                due_at=issued + NET_DAYS,
                lines=first_lines,
            )
        )
    # Roles, by timing relative to today: paid ones (due by today, with a hold still running past today for
    # the held line), and matched ones not yet due (deductions shown before payment).
    paid = sorted(
        (i for i in invoices if i.due_at <= midnight - timedelta(days=1) and i.held_until > midnight),
        key=lambda i: i.due_at,
        reverse=True,
    )
    open_ = sorted(
        (i for i in invoices if i.matched_at <= midnight - timedelta(days=1) and i.due_at > midnight),
        key=lambda i: i.matched_at,
    )
    roles: dict[str, str] = {}
    for group, names in ((paid, ROLES_PAID), (open_, ROLES_OPEN)):
        candidates = [i for i in group if i.number not in roles]
        for name in names:
            if not candidates:
                break
            if name == "quick_pay":  # paid five days after matching: must already have been by today
                eligible = [i for i in candidates if i.matched_at + QUICK_PAY_DELAY <= midnight]
            elif name == "rejected":
                eligible = list(candidates)
            elif name == "held_line":  # one line held, the others paid: needs two lines at least
                eligible = [i for i in candidates if len(i.lines) >= 2][:3]
            else:
                eligible = candidates[:3]
            if not eligible:
                continue
            chosen = rng.choice(eligible)
            roles[chosen.number] = name
            candidates.remove(chosen)
    # Queued for payment all of today whatever the date: one open invoice due after today, approved early (an
    # invoice five days from its due date is queued too, but some days have none).
    queueable = [
        i
        for i in open_
        if roles.get(i.number) not in ("quick_pay", "rejected") and i.due_at >= midnight + timedelta(days=1)
    ]
    early = {rng.choice(queueable).number} if queueable else set()
    lost: dict[tuple[str, int], int] = {}
    shaped = []
    for invoice in invoices:
        if invoice.number in early:
            invoice = replace(invoice, queued_at_match=True)
        role = roles.get(invoice.number)
        if role is None:
            shaped.append(invoice)
            continue
        lines: list[InvoiceLine] = list(invoice.lines)
        target = max(range(len(lines)), key=lambda k: (lines[k].quantity, -k))
        line = lines[target]
        service: tuple[str, Decimal] | None = None
        if role in ("shortage_true", "shortage_planted"):
            short = min(line.quantity // 4, rng.choice((2, 3, 4, 6)))
            lines[target] = replace(line, short_units=short)
            if role == "shortage_true":
                lost[(invoice.po.number, line.po_line.sequence)] = short
        elif role == "price_variance":
            lines[target] = replace(
                line, unit_cost=line.unit_cost + DEALBUY_UPLIFT, price_variance=DEALBUY_UPLIFT
            )
        elif role == "held_line":
            lines[target] = replace(line, held=True)
        elif role == "damage_allowance":
            service = ("DAMAGE_ALLOWANCE", money(invoice.amount * Decimal("0.015")))
        elif role == "price_protection":
            service = ("PRICE_PROTECTION", money(line.quantity * Decimal("0.80")))
        shaped.append(replace(invoice, lines=tuple(lines), role=role, service_charge=service))
    return [_with_losses(po, lost) for po in orders], shaped


def _with_losses(po: PurchaseOrder, lost: dict[tuple[str, int], int]) -> PurchaseOrder:
    """The PO with units lost in transit missing from its last receipt of the line."""
    if not any(key[0] == po.number for key in lost):
        return po
    lines = []
    for line in po.lines:
        missing = lost.get((po.number, line.sequence), 0)
        if missing:
            *earlier, last = line.receipts
            receipts = (*earlier, Receipt(last.received_at, last.quantity - missing))
            line = replace(line, receipts=receipts, lost_in_transit=missing)
        lines.append(line)
    return replace(po, lines=tuple(lines))


# -- the invoice as it stands at `now` -------------------------------------------------------------------------


@dataclass(frozen=True)
class Settlement:
    status: str
    paid: Decimal
    queued: Decimal
    quick_pay_discount: Decimal
    quantity_variance: Decimal
    price_variance: Decimal
    other: Decimal
    last_change: datetime

    def open_amount(self, amount: Decimal) -> Decimal:
        return amount - (
            self.paid
            + self.queued
            + self.quick_pay_discount
            + self.quantity_variance
            + self.price_variance
            + self.other
        )


def _line_deductions(line: InvoiceLine) -> tuple[Decimal, Decimal]:
    return money(line.short_units * line.unit_cost), money(line.price_variance * line.quantity)


def settlement(invoice: VendorInvoice, now: datetime) -> Settlement:
    zero = Decimal("0")
    if invoice.role == "rejected" and now >= invoice.issued_at + timedelta(days=1):
        return Settlement(
            "REJECTED", zero, zero, zero, zero, zero, zero, invoice.issued_at + timedelta(days=1)
        )
    if now < invoice.matched_at:
        return Settlement("IN_PROGRESS", zero, zero, zero, zero, zero, zero, invoice.issued_at)
    quantity_variance = sum((_line_deductions(x)[0] for x in invoice.lines), zero)
    price_variance = sum((_line_deductions(x)[1] for x in invoice.lines), zero)
    other = invoice.service_charge[1] if invoice.service_charge else zero
    deducted = quantity_variance + price_variance + other
    held = sum((x.amount - sum(_line_deductions(x), zero) for x in invoice.lines if x.held), zero)
    payable = invoice.amount - deducted
    if now < invoice.paid_at:
        queue_at = invoice.queued_at
        queued = payable if now >= queue_at and invoice.role != "quick_pay" else zero
        status = "PARTIALLY_DEDUCTED" if deducted else "IN_PROGRESS"
        last = max(invoice.matched_at, queue_at) if queued else invoice.matched_at
        return Settlement(status, zero, queued, zero, quantity_variance, price_variance, other, last)
    discount = money(payable * QUICK_PAY_RATE) if invoice.role == "quick_pay" else zero
    if held and now < invoice.held_until:
        return Settlement(
            "PARTIALLY_PAID",
            payable - held,
            zero,
            zero,
            quantity_variance,
            price_variance,
            other,
            invoice.paid_at,
        )
    last = invoice.held_until if held else invoice.paid_at
    status = "DEDUCTED" if deducted else "PAID"
    return Settlement(
        status, payable - discount, zero, discount, quantity_variance, price_variance, other, last
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _currency(amount: Decimal) -> dict:
    return {"currencyCode": CURRENCY, "currencyAmount": money(amount)}


def _breakdown(name: str, amount: Decimal, nested: list[dict] | None = None) -> dict:
    return {"breakdownType": name, "breakdownAmount": _currency(amount), "breakdowns": nested or []}


def payment_id(invoice: VendorInvoice) -> str:
    return f"PMT{invoice.paid_at:%Y%m%d}{PAYEE_CODE}"


def header_dict(invoice: VendorInvoice, now: datetime) -> dict:
    state = settlement(invoice, now)
    breakdowns = []
    for name, amount in (
        ("AmountPaid", state.paid),
        ("QueuedForPayment", state.queued),
        ("QuickPayDiscount", state.quick_pay_discount),
        ("QuantityVarianceAmount", state.quantity_variance),
        ("PriceVariance", state.price_variance),
    ):
        if amount:
            breakdowns.append(_breakdown(name, amount))
    if state.other and invoice.service_charge:
        breakdowns.append(
            _breakdown(
                "Other", state.other, [_breakdown(invoice.service_charge[0], invoice.service_charge[1])]
            )
        )
    related = [
        {"relatedIdentifierName": "PURCHASE_ORDER_IDS", "relatedIdentifierValue": [invoice.po.number]},
        {"relatedIdentifierName": "VENDOR_CODE", "relatedIdentifierValue": [PAYEE_CODE]},
        {"relatedIdentifierName": "WAREHOUSE_ID", "relatedIdentifierValue": [invoice.po.ship_to]},
        {"relatedIdentifierName": "ASN_IDS", "relatedIdentifierValue": [asn_id(invoice.po)]},
    ]
    if state.quantity_variance:
        related.append(
            {
                "relatedIdentifierName": "SHORTAGE_INVOICE_IDS",
                "relatedIdentifierValue": [f"SC{invoice.number}"],
            }
        )
    if state.paid:
        related.append(
            {"relatedIdentifierName": "UNIQUE_PAYMENT_IDS", "relatedIdentifierValue": [payment_id(invoice)]}
        )
    header = {
        "invoiceNumber": invoice.number,
        "invoiceIdentifier": invoice.identifier,
        "invoiceStatus": state.status,
        "invoiceType": "AP_INVENTORY",
        "payee": {
            "partnerId": PAYEE_CODE,
            "partnerType": "VENDOR",
            "partnerName": "Demo Vendor",
            "partnerEntities": [PAYEE_CODE],
        },
        "payer": {
            "partnerId": "AMAZON_US",
            "partnerType": "AMAZON",
            "partnerName": "Amazon",
            "partnerEntities": [],
        },
        "issueDate": _iso(invoice.issued_at),
        "dueDate": _iso(invoice.due_at),
        "paymentTerms": PAYMENT_TERMS,
        "invoiceAmount": _currency(invoice.amount),
        "invoiceAmountBreakdowns": [
            _breakdown(
                "Total",
                invoice.amount,
                [
                    _breakdown("InvoiceAmountWithoutTax", invoice.amount),
                    _breakdown("TaxAmount", Decimal("0")),
                ],
            )
        ],
        "invoiceSettlementBreakdowns": breakdowns,
        "relatedIdentifiers": related,
        "creationDate": _iso(invoice.issued_at),
        "lastUpdatedDate": _iso(state.last_change),
    }
    return header


def asn_id(po: PurchaseOrder) -> str:
    return f"ASN{po.number}"


def item_dicts(invoice: VendorInvoice, now: datetime) -> list[dict]:
    state = settlement(invoice, now)
    matched = state.status != "REJECTED" and now >= invoice.matched_at
    items = []
    for line in invoice.lines:
        item: dict = {
            "lineItemId": line.line_id,
            "unitCost": _currency(line.unit_cost),
            "quantity": line.quantity,
            "taxRateCodes": [],
            "totalAmount": _currency(line.amount),
            "totalAmountBreakdown": [
                _breakdown("ItemCostWithoutTax", line.amount),
                _breakdown("ItemTaxAmount", Decimal("0")),
            ],
            "lineItemContext": {
                "lineItemType": "GOODS",
                "itemIdentifiers": [
                    {"itemIdentifierName": "ASIN", "itemIdentifierValue": line.po_line.product.asin},
                    {"itemIdentifierName": "EAN", "itemIdentifierValue": line.po_line.product.ean},
                ],
                "itemDescription": f"PO {invoice.po.number} item {line.po_line.sequence}",
            },
            "relatedItemIdentifiers": [
                {
                    "relatedIdentifierName": "PURCHASE_ORDER_IDS",
                    "relatedIdentifierValue": [invoice.po.number],
                },
                {"relatedIdentifierName": "ASN_IDS", "relatedIdentifierValue": [asn_id(invoice.po)]},
            ],
        }
        if matched:
            quantity_variance, price_variance = _line_deductions(line)
            matched_quantity = line.quantity - line.short_units
            paid_now = state.status in ("PAID", "DEDUCTED") or (
                state.status == "PARTIALLY_PAID" and not line.held
            )
            paid_amount = line.amount - quantity_variance - price_variance if paid_now else Decimal("0")
            if paid_now and invoice.role == "quick_pay":
                paid_amount -= money(paid_amount * QUICK_PAY_RATE)
            context: dict = {
                "matchedQuantity": matched_quantity,
                "matchedAmount": _currency(money(matched_quantity * (line.unit_cost - line.price_variance))),
                "quantityVariance": line.short_units,
                "priceVariance": _currency(price_variance),
                "paidQuantity": matched_quantity if paid_now else 0,
                "paidAmount": _currency(paid_amount),
            }
            reasons = []
            if line.short_units:
                reasons.append({"varianceType": "PQV", "defectTypes": ["SHORTAGES_IN_TRANSIT"]})
            if line.price_variance:
                reasons.append({"varianceType": "PPV", "defectTypes": ["DEALBUY"]})
            if reasons:
                context["varianceReasons"] = reasons
            item["lineItemContext"]["matchingContext"] = context
        items.append(item)
    return items


def headers_view(
    invoices: list[VendorInvoice],
    now: datetime,
    *,
    issued_from: datetime | None = None,
    issued_to: datetime | None = None,
    modified_after: datetime | None = None,
) -> list[dict]:
    """Invoices issued by ``now``, oldest issue first; filtered on issue date and last update."""
    selected = []
    for invoice in invoices:
        if invoice.issued_at > now:
            continue
        if issued_from is not None and invoice.issued_at < issued_from:
            continue
        if issued_to is not None and invoice.issued_at >= issued_to:
            continue
        header = header_dict(invoice, now)
        if modified_after is not None and settlement(invoice, now).last_change <= modified_after:
            continue
        selected.append(header)
    return selected


# -- Vendor Shipments v1: the ASN of each invoiced PO ----------------------------------------------------------


def shipment_dict(invoice: VendorInvoice) -> dict:
    """The vendor's shipment confirmation (ASN) for the invoice's PO: what it shipped, line by line. The units
    of a right shortage never left: the ASN, like Amazon's receipts, shows fewer than the invoice."""
    po = invoice.po
    shipped = invoice.issued_at
    created = shipped - timedelta(hours=6)
    return {
        "vendorShipmentIdentifier": asn_id(po),
        "transactionType": "New",
        "buyerReferenceNumber": po.number,
        "transactionDate": _iso(shipped),
        "currentShipmentStatus": "Shipped",
        "currentshipmentStatusDate": _iso(shipped),
        "shipmentStatusDetails": [
            {"shipmentStatus": "Created", "shipmentStatusDate": _iso(created)},
            {"shipmentStatus": "Shipped", "shipmentStatusDate": _iso(shipped)},
        ],
        "shipmentCreateDate": _iso(created),
        "shipmentConfirmDate": _iso(shipped),
        "shipmentFreightTerm": "Prepaid",
        "sellingParty": {"partyId": PAYEE_CODE},
        "shipFromParty": {"partyId": f"{PAYEE_CODE}-WH1"},
        "shipToParty": {"partyId": po.ship_to},
        "purchaseOrders": [
            {
                "purchaseOrderNumber": po.number,
                "purchaseOrderDate": _iso(po.ordered_at),
                "items": [
                    {
                        "itemSequenceNumber": str(line.po_line.sequence),
                        "buyerProductIdentifier": line.po_line.product.asin,
                        "vendorProductIdentifier": line.po_line.product.ean,
                        "shippedQuantity": {
                            "amount": line.quantity
                            - (line.short_units if invoice.role == "shortage_true" else 0),
                            "unitOfMeasure": "Eaches",
                            "unitSize": 1,
                        },
                    }
                    for line in invoice.lines
                ],
            }
        ],
        "transportationDetails": {
            "shipMode": "LessThanTruckLoad",
            "transportationMode": "Road",
            "shippedDate": _iso(shipped),
            "estimatedDeliveryDate": _iso(shipped + timedelta(days=2)),
        },
    }


def shipments_view(
    invoices: list[VendorInvoice],
    now: datetime,
    *,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> list[dict]:
    """Shipments created by ``now`` (oldest first), filtered on their creation date."""
    selected = []
    for invoice in sorted(invoices, key=lambda i: i.issued_at):
        created = invoice.issued_at - timedelta(hours=6)
        if created > now:
            continue
        if created_after is not None and created < created_after:
            continue
        if created_before is not None and created >= created_before:
            continue
        selected.append(shipment_dict(invoice))
    return selected
