"""Finances 2024-06-19 renderings (transactions, balances, summaries) and Transfers expected payouts.

Every ledger entry is one transaction. Its status depends on ``now``: RELEASED (never deferred), DEFERRED
(maturity after ``now``) or DEFERRED_RELEASED. Its SETTLEMENT_ID and FINANCIAL_EVENT_GROUP_ID are known once
its money is released into a period.

Balances as of a moment, per marketplace (documented in README.md):
* DEFERRED: posted by then and not yet released;
* ACCOUNT_LEVEL_RESERVE: the previous period's reserve carried into a settlement not yet paid out;
* AVAILABLE: everything else released into settlements not yet paid out (the deposit is after the moment);
* RESERVED = DEFERRED + ACCOUNT_LEVEL_RESERVE; TOTAL = AVAILABLE + RESERVED.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from simulator.ledger.catalog import EXPECTED_PAYOUT_MARKETPLACES, MARKETPLACES, SellerProfile
from simulator.ledger.model import Entry, Line, Settlement

ACCOUNT_TYPE = "Standard Orders"

TRANSACTION_TYPES = {
    "Order": "Shipment",
    "Refund": "Refund",
    "Chargeback": "Chargeback",
    "GuaranteeClaim": "GuaranteeClaim",
    "ServiceFee": "ServiceFee",
    "Advertising": "ProductAdsPayment",
    "Coupon": "CouponPayment",
    "Deal": "SellerDealPayment",
    "Reimbursement": "Adjustment",
    "ReserveRelease": "Transfer",
    "ReserveHold": "Transfer",
    "Liquidation": "FBALiquidation",
}

_ASINS = {p.sku: p.asin for mp in MARKETPLACES.values() for p in (*mp.products, mp.bulky_product)}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def currency(amount: Decimal, code: str) -> dict:
    return {"currencyAmount": amount, "currencyCode": code}


def identifier(name: str, value: str) -> dict:
    return {"relatedIdentifierName": name, "relatedIdentifierValue": value}


def breakdowns(lines: list[Line], code: str, depth: int = 0) -> list[dict]:
    """Nested breakdowns from the lines' paths; each node's amount is the sum of its children."""
    groups: dict[str, list[Line]] = defaultdict(list)
    for line in lines:
        if len(line.breakdown_path) > depth:
            groups[line.breakdown_path[depth]].append(line)
    return [
        {
            "breakdownType": name,
            "breakdownAmount": currency(sum((x.amount for x in members), Decimal("0")), code),
            "breakdowns": breakdowns(members, code, depth + 1),
        }
        for name, members in groups.items()
    ]


def _items(e: Entry) -> list[dict]:
    by_item: dict[str, list[Line]] = defaultdict(list)
    for line in e.lines:
        if line.sku is not None:
            by_item[line.order_item_code or line.sku].append(line)
    items = []
    for lines in by_item.values():
        first = lines[0]
        item: dict = {
            "description": first.sku,
            "totalAmount": currency(sum((x.amount for x in lines), Decimal("0")), e.currency),
            "breakdowns": breakdowns(lines, e.currency),
            "contexts": [
                {
                    "contextType": "ProductContext",
                    "sku": first.sku,
                    "asin": _ASINS.get(first.sku or "", ""),
                    "quantityShipped": first.quantity,
                    "fulfillmentNetwork": "AFN",
                }
            ],
        }
        if first.adjustment_item_id:
            item["relatedIdentifiers"] = [
                {
                    "itemRelatedIdentifierName": "ORDER_ADJUSTMENT_ITEM_ID",
                    "itemRelatedIdentifierValue": first.adjustment_item_id,
                }
            ]
        items.append(item)
    return items


def transaction(
    e: Entry, s: Settlement, now: datetime, selling_partner_id: str, cache: dict[str, tuple] | None = None
) -> dict:
    """The transaction as seen at ``now``. ``cache`` keeps the parts that never change (items, breakdowns)
    between calls, so paging through months stays cheap; treat the returned dicts as read-only."""
    related = []
    if e.order_id:
        related.append(identifier("ORDER_ID", e.order_id))
    if e.shipment_id and e.kind == "Order":
        related.append(identifier("SHIPMENT_ID", e.shipment_id))
    if "invoice_id" in e.attributes and e.kind == "Order":
        related.append(identifier("INVOICE_ID", e.attributes["invoice_id"]))
    if e.release_at <= now:
        related.append(identifier("SETTLEMENT_ID", s.settlement_id))
        related.append(identifier("FINANCIAL_EVENT_GROUP_ID", s.financial_event_group_id))
    mp = MARKETPLACES[e.marketplace_id]
    static = cache.get(e.entry_id) if cache is not None else None
    if static is None:
        static = (_items(e), breakdowns(list(e.lines), e.currency))
        if cache is not None:
            cache[e.entry_id] = static
    items, tree = static
    result: dict = {
        "sellingPartnerMetadata": {
            "sellingPartnerId": selling_partner_id,
            "accountType": ACCOUNT_TYPE,
            "marketplaceId": e.marketplace_id,
        },
        "relatedIdentifiers": related,
        "transactionType": TRANSACTION_TYPES[e.kind],
        "transactionId": e.entry_id,
        "transactionStatus": e.status_at(now),
        "description": e.lines[0].amount_description if e.kind != "Order" else "Order Payment",
        "postedDate": iso(e.posted_at),
        "totalAmount": currency(e.total, e.currency),
        "marketplaceDetails": {"marketplaceId": mp.marketplace_id, "marketplaceName": mp.name},
        "items": items,
        "contexts": [],
        "breakdowns": tree,
    }
    if e.deferral_reason is not None:
        result["contexts"].append(
            {
                "contextType": "DeferredContext",
                "deferralReason": e.deferral_reason,
                "maturityDate": iso(e.release_at),
            }
        )
    return result


def balance_amounts(
    settlements: list[Settlement], marketplace_id: str, as_of: datetime
) -> dict[str, Decimal]:
    """AVAILABLE, DEFERRED, ACCOUNT_LEVEL_RESERVE, RESERVED and TOTAL for one marketplace at ``as_of``."""
    zero = Decimal("0")
    available = deferred = reserve = zero
    for s in settlements:
        if s.marketplace_id != marketplace_id:
            continue
        for e in s.entries:
            if e.posted_at <= as_of < e.release_at:
                deferred += e.total
            elif e.release_at <= as_of < s.deposit_at:
                if e.kind == "ReserveRelease":
                    reserve += e.total
                else:
                    available += e.total
    return {
        "AVAILABLE": available,
        "DEFERRED": deferred,
        "ACCOUNT_LEVEL_RESERVE": reserve,
        "RESERVED": deferred + reserve,
        "TOTAL": available + deferred + reserve,
    }


def balance(
    settlements: list[Settlement], marketplace_id: str, code: str, as_of: datetime, partner: str
) -> dict:
    amounts = balance_amounts(settlements, marketplace_id, as_of)
    return {
        "partnerMetadata": {
            "partnerId": partner,
            "accountType": ACCOUNT_TYPE,
            "marketplaceId": marketplace_id,
        },
        "balanceType": "TOTAL",
        "amount": currency(amounts["TOTAL"], code),
        "asOfDate": iso(as_of),
        "lastUpdatedTime": iso(as_of),
        "balances": [
            {"balanceType": "AVAILABLE", "amount": currency(amounts["AVAILABLE"], code)},
            {
                "balanceType": "RESERVED",
                "amount": currency(amounts["RESERVED"], code),
                "balances": [
                    {"balanceType": "DEFERRED", "amount": currency(amounts["DEFERRED"], code)},
                    {
                        "balanceType": "ACCOUNT_LEVEL_RESERVE",
                        "amount": currency(amounts["ACCOUNT_LEVEL_RESERVE"], code),
                    },
                ],
            },
        ],
    }


def summary(s: Settlement, selling_partner_id: str) -> dict:
    return {
        "partnerMetadata": {
            "partnerId": selling_partner_id,
            "accountType": ACCOUNT_TYPE,
            "marketplaceId": s.marketplace_id,
        },
        "netProceeds": currency(s.total, s.currency),
        "relatedIdentifiers": [
            identifier("SETTLEMENT_ID", s.settlement_id),
            identifier("FINANCIAL_EVENT_GROUP_ID", s.financial_event_group_id),
        ],
        "breakdowns": breakdowns([line for e in s.entries for line in e.lines], s.currency),
        "periodStart": iso(s.period.start),
        "periodEnd": iso(s.period.end),
    }


def expected_payouts(upcoming: list[Settlement], now: datetime, profile: SellerProfile) -> list[dict]:
    """Payouts not yet made at ``now``: a closed period's total, or the open period's balance so far."""
    payouts = []
    for s in upcoming:
        if s.marketplace_id not in EXPECTED_PAYOUT_MARKETPLACES:
            continue
        amount = s.total if s.period.end <= now else s.released_total(now)
        payouts.append(
            {
                "partnerMetadata": {
                    "partnerId": profile.account.selling_partner_id,
                    "accountType": "STANDARD_ORDERS",
                    "marketplaceId": s.marketplace_id,
                },
                "amount": {"currencyCode": s.currency, "currencyAmount": amount},
                "status": "SCHEDULED",
                "scheduledDate": iso(s.deposit_at),
                "accountTail": profile.account_tail,
                "paymentMethod": "BANK_ACCOUNT",
                "period": {"startDate": iso(s.period.start), "endDate": iso(s.period.end)},
                "relatedIdentifiers": [identifier("SETTLEMENT_ID", s.settlement_id)],
            }
        )
    return payouts
