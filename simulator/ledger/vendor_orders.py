"""Vendor Orders v1: the purchase orders Amazon Retail sends demo-vendor, and how each one progresses.

A purchase order is created (state New), acknowledged a day or two later (Acknowledged; some lines accepted
only in part), then received in one or two deliveries at Amazon's warehouse; it is Closed once everything
accepted has arrived. The views render an order as it stands at ``now``; its last change is the latest of
those steps that has happened by then. ``Money.amount`` is a string, as the model says.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from simulator.ledger.history import money, stable_token

VENDOR_ACCOUNT_ID = "demo-vendor"
PURCHASE_ORDER_COUNT = 36
HISTORY = timedelta(days=120)  # orders start this long before today; a few more arrive in the next 30 days
SELLING_PARTY = "DEMOV"
WAREHOUSES = ("ABE2", "MDW2", "ONT8", "SDF8")


@dataclass(frozen=True)
class VendorProduct:
    asin: str
    ean: str
    list_price: Decimal
    net_cost: Decimal


CATALOG = (
    VendorProduct("B0C7HD1200", "4006381333931", Decimal("59.99"), Decimal("31.40")),
    VendorProduct("B0C7CB0450", "4006381333948", Decimal("34.50"), Decimal("16.85")),
    VendorProduct("B0C7AC0071", "4006381333955", Decimal("18.99"), Decimal("8.10")),
    VendorProduct("B0C7KT0330", "4006381333962", Decimal("72.00"), Decimal("38.75")),
    VendorProduct("B0C7SC0012", "4006381333979", Decimal("24.95"), Decimal("11.60")),
    VendorProduct("B0C7RK0990", "4006381333986", Decimal("19.99"), Decimal("9.05")),
)


@dataclass(frozen=True)
class Receipt:
    received_at: datetime
    quantity: int


@dataclass(frozen=True)
class PurchaseOrderLine:
    sequence: int
    product: VendorProduct
    ordered: int
    accepted: int
    receipts: tuple[Receipt, ...]
    back_order_allowed: bool
    lost_in_transit: int = 0  # shipped and invoiced but never received (vendor_invoices' true shortages)

    @property
    def expected_received(self) -> int:
        return self.accepted - self.lost_in_transit


@dataclass(frozen=True)
class PurchaseOrder:
    number: str
    ordered_at: datetime
    acknowledged_at: datetime
    ship_to: str
    ship_window: tuple[datetime, datetime]
    delivery_window: tuple[datetime, datetime]
    order_type: str
    lines: tuple[PurchaseOrderLine, ...]

    def closed_at(self) -> datetime:
        """When the last accepted unit arrived (Closed from then on)."""
        return max(
            (r.received_at for line in self.lines for r in line.receipts), default=self.acknowledged_at
        )

    def is_closed(self, now: datetime) -> bool:
        all_received = all(
            sum(r.quantity for r in line.receipts) == line.expected_received for line in self.lines
        )
        return all_received and self.closed_at() <= now

    def changes(self, now: datetime) -> list[datetime]:
        moments = [self.ordered_at, self.acknowledged_at] + [
            r.received_at for x in self.lines for r in x.receipts
        ]
        return sorted(m for m in moments if m <= now)


def build_purchase_orders(seed: int, today: date) -> list[PurchaseOrder]:
    rng = random.Random(f"{seed}|vendor|{today.isoformat()}")
    start = datetime.combine(today, time(0, 0), tzinfo=UTC) - HISTORY
    span = HISTORY + timedelta(days=30)
    orders = []
    for number in range(PURCHASE_ORDER_COUNT):
        ordered_at = start + span * (number / PURCHASE_ORDER_COUNT) + timedelta(minutes=rng.randint(0, 3000))
        ordered_at = ordered_at.replace(microsecond=0)
        if (
            number == PURCHASE_ORDER_COUNT - 8
        ):  # one order arrives this morning: still New at the demo's start
            ordered_at = datetime.combine(today, time(6, 0), tzinfo=UTC)
        acknowledged_at = ordered_at + timedelta(hours=rng.randint(20, 44))
        ship_start = datetime.combine(ordered_at.date() + timedelta(days=3), time(0, 0), tzinfo=UTC)
        ship_window = (ship_start, ship_start + timedelta(days=4))
        delivery_window = (ship_start + timedelta(days=3), ship_start + timedelta(days=9))
        lines = []
        for sequence, product in enumerate(rng.sample(CATALOG, rng.randint(1, 4)), start=1):
            ordered = rng.choice((12, 24, 36, 48, 60, 96))
            accepted = ordered if rng.random() < 0.75 else ordered - rng.choice((6, 12))
            first = delivery_window[0] + timedelta(hours=rng.randint(0, 96))
            if rng.random() < 0.5:  # two deliveries: most first, the rest ten to fourteen days later
                part = accepted * 2 // 3
                second = first + timedelta(days=rng.randint(10, 14))
                receipts: tuple[Receipt, ...] = (Receipt(first, part), Receipt(second, accepted - part))
            else:
                receipts = (Receipt(first, accepted),)
            lines.append(
                PurchaseOrderLine(sequence, product, ordered, accepted, receipts, rng.random() < 0.5)
            )
        orders.append(
            PurchaseOrder(
                number=stable_token(seed, "po", number, length=8).upper(),
                ordered_at=ordered_at,
                acknowledged_at=acknowledged_at,
                ship_to=rng.choice(WAREHOUSES),
                ship_window=ship_window,
                delivery_window=delivery_window,
                order_type="RushOrder" if number % 11 == 5 else "RegularOrder",
                lines=tuple(lines),
            )
        )
    return orders


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(amount: Decimal) -> dict:
    return {"currencyCode": "USD", "amount": str(money(amount))}


def _quantity(amount: int) -> dict:
    return {"amount": amount, "unitOfMeasure": "Eaches", "unitSize": 1}


def _interval(window: tuple[datetime, datetime]) -> str:
    return f"{_iso(window[0])}--{_iso(window[1])}"


def _state(po: PurchaseOrder, now: datetime) -> tuple[str, datetime]:
    if po.is_closed(now):
        return "Closed", po.closed_at()
    if po.acknowledged_at <= now:
        return "Acknowledged", po.acknowledged_at
    return "New", po.ordered_at


def order_dict(po: PurchaseOrder, now: datetime) -> dict:
    state, state_changed = _state(po, now)
    return {
        "purchaseOrderNumber": po.number,
        "purchaseOrderState": state,
        "orderDetails": {
            "purchaseOrderDate": _iso(po.ordered_at),
            "purchaseOrderChangedDate": _iso(po.changes(now)[-1]),
            "purchaseOrderStateChangedDate": _iso(state_changed),
            "purchaseOrderType": po.order_type,
            "paymentMethod": "Invoice",
            "buyingParty": {"partyId": "AMAZON"},
            "sellingParty": {"partyId": SELLING_PARTY},
            "shipToParty": {"partyId": po.ship_to},
            "billToParty": {"partyId": "AMZN_US"},
            "shipWindow": _interval(po.ship_window),
            "deliveryWindow": _interval(po.delivery_window),
            "items": [
                {
                    "itemSequenceNumber": str(line.sequence),
                    "amazonProductIdentifier": line.product.asin,
                    "vendorProductIdentifier": line.product.ean,
                    "orderedQuantity": _quantity(line.ordered),
                    "isBackOrderAllowed": line.back_order_allowed,
                    "netCost": _money(line.product.net_cost),
                    "listPrice": _money(line.product.list_price),
                }
                for line in po.lines
            ],
        },
    }


def status_dict(po: PurchaseOrder, now: datetime) -> dict:
    items = []
    acknowledged = po.acknowledged_at <= now
    for line in po.lines:
        arrived = [r for r in line.receipts if r.received_at <= now]
        received = sum(r.quantity for r in arrived)
        if not acknowledged:
            confirmation = "UNCONFIRMED"
        elif line.accepted == line.ordered:
            confirmation = "ACCEPTED"
        else:
            confirmation = "PARTIALLY_ACCEPTED" if line.accepted else "REJECTED"
        acknowledgement: dict = {"confirmationStatus": confirmation}
        if acknowledged:
            acknowledgement["acceptedQuantity"] = _quantity(line.accepted)
            acknowledgement["rejectedQuantity"] = _quantity(line.ordered - line.accepted)
            acknowledgement["acknowledgementStatusDetails"] = [
                {
                    "acknowledgementDate": _iso(po.acknowledged_at),
                    "acceptedQuantity": _quantity(line.accepted),
                    "rejectedQuantity": _quantity(line.ordered - line.accepted),
                }
            ]
        receiving: dict = {
            "receiveStatus": (
                "NOT_RECEIVED"
                if not received
                else "RECEIVED"
                if received == line.accepted
                else "PARTIALLY_RECEIVED"
            ),
            "receivedQuantity": _quantity(received),
        }
        if arrived:
            receiving["lastReceiveDate"] = _iso(arrived[-1].received_at)
        items.append(
            {
                "itemSequenceNumber": str(line.sequence),
                "buyerProductIdentifier": line.product.asin,
                "vendorProductIdentifier": line.product.ean,
                "netCost": _money(line.product.net_cost),
                "listPrice": _money(line.product.list_price),
                "orderedQuantity": {
                    "orderedQuantity": _quantity(line.ordered),
                    "orderedQuantityDetails": [
                        {"updatedDate": _iso(po.ordered_at), "orderedQuantity": _quantity(line.ordered)}
                    ],
                },
                "acknowledgementStatus": acknowledgement,
                "receivingStatus": receiving,
            }
        )
    return {
        "purchaseOrderNumber": po.number,
        "purchaseOrderStatus": "CLOSED" if po.is_closed(now) else "OPEN",
        "purchaseOrderDate": _iso(po.ordered_at),
        "lastUpdatedDate": _iso(po.changes(now)[-1]),
        "sellingParty": {"partyId": SELLING_PARTY},
        "shipToParty": {"partyId": po.ship_to},
        "itemStatus": items,
    }


def _within(moment: datetime, after: datetime | None, before: datetime | None) -> bool:
    return (after is None or moment >= after) and (before is None or moment <= before)


def orders_view(
    orders: list[PurchaseOrder],
    now: datetime,
    *,
    changed_after: datetime | None = None,
    changed_before: datetime | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> list[dict]:
    """Orders created by ``now``, oldest first; changed* filters the last change, created* the order date."""
    return [
        order_dict(po, now)
        for po in orders
        if po.ordered_at <= now
        and _within(po.changes(now)[-1], changed_after, changed_before)
        and _within(po.ordered_at, created_after, created_before)
    ]


def statuses_view(
    orders: list[PurchaseOrder],
    now: datetime,
    *,
    updated_after: datetime | None = None,
    updated_before: datetime | None = None,
) -> list[dict]:
    return [
        status_dict(po, now)
        for po in orders
        if po.ordered_at <= now and _within(po.changes(now)[-1], updated_after, updated_before)
    ]
