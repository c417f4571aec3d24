"""Renders settlements as Finances v0 event groups and ledger entries as v0 financial events.

v0 sees money only once it is released (it cannot see DD+7 deferred money), so an event's PostedDate is the
release time; ServiceFeeEvent has no PostedDate in Amazon's model and gets none here either.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from simulator.ledger.catalog import MARKETPLACES
from simulator.ledger.model import Entry, Line, Settlement


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def currency(amount: Decimal, code: str) -> dict:
    return {"CurrencyCode": code, "CurrencyAmount": amount}


def event_group(s: Settlement, now: datetime, account_tail: str) -> dict:
    """The group as it stands at ``now``: Open with its running balance, then Closed, then Succeeded."""
    group: dict = {
        "FinancialEventGroupId": s.financial_event_group_id,
        "AccountTail": account_tail,
        "BeginningBalance": currency(Decimal("0.00"), s.currency),
        "FinancialEventGroupStart": iso(s.period.start),
    }
    if now < s.period.end:
        group["ProcessingStatus"] = "Open"
        group["OriginalTotal"] = currency(s.released_total(now), s.currency)
        return group
    group["ProcessingStatus"] = "Closed"
    group["FinancialEventGroupEnd"] = iso(s.period.end)
    group["OriginalTotal"] = currency(s.total, s.currency)
    group["ConvertedTotal"] = currency(s.total, s.currency)
    group["FundTransferDate"] = iso(s.deposit_at)
    if now < s.deposit_at:
        group["FundTransferStatus"] = "Processing"
    else:
        group["FundTransferStatus"] = "Succeeded"
        group["TraceId"] = s.trace_id
    return group


def _components(lines: list[Line], code: str, *, adjustment: bool) -> dict:
    suffix = "AdjustmentList" if adjustment else "List"
    charges = [
        {"ChargeType": x.v0_type, "ChargeAmount": currency(x.amount, code)}
        for x in lines
        if x.v0_slot == "charge"
    ]
    fees = [
        {"FeeType": x.v0_type, "FeeAmount": currency(x.amount, code)} for x in lines if x.v0_slot == "fee"
    ]
    withheld = [
        {"ChargeType": x.v0_type, "ChargeAmount": currency(x.amount, code)}
        for x in lines
        if x.v0_slot == "tax_withheld"
    ]
    promotions = [
        {
            "PromotionType": x.v0_type,
            "PromotionId": x.promotion_id or "",
            "PromotionAmount": currency(x.amount, code),
        }
        for x in lines
        if x.v0_slot == "promotion"
    ]
    item: dict = {}
    if charges:
        item[f"ItemCharge{suffix}"] = charges
    if fees:
        item[f"ItemFee{suffix}"] = fees
    if withheld:
        item["ItemTaxWithheldList"] = [
            {"TaxCollectionModel": "MarketplaceFacilitator", "TaxesWithheld": withheld}
        ]
    if promotions:
        item["PromotionAdjustmentList" if adjustment else "PromotionList"] = promotions
    return item


def _shipment_event(e: Entry, *, adjustment: bool) -> dict:
    by_item: dict[str, list[Line]] = defaultdict(list)
    for line in e.lines:
        by_item[line.order_item_code or ""].append(line)
    items = []
    for item_code, lines in by_item.items():
        item: dict = {
            "SellerSKU": lines[0].sku,
            "OrderItemId": item_code,
            "QuantityShipped": lines[0].quantity,
        }
        if adjustment and lines[0].adjustment_item_id:
            item["OrderAdjustmentItemId"] = lines[0].adjustment_item_id
        item.update(_components(lines, e.currency, adjustment=adjustment))
        items.append(item)
    return {
        "AmazonOrderId": e.order_id,
        # As in recorded responses of Amazon-fulfilled orders (the eolabs fixture), the seller's order id is
        # Amazon's when the seller set none.
        "SellerOrderId": e.order_id,
        "MarketplaceName": MARKETPLACES[e.marketplace_id].name,
        "PostedDate": iso(e.release_at),
        "ShipmentItemAdjustmentList" if adjustment else "ShipmentItemList": items,
    }


def event(e: Entry) -> tuple[str, dict]:
    """(EventListName, event) for one released entry."""
    code = e.currency
    posted = iso(e.release_at)
    first = e.lines[0]
    if e.kind == "Order":
        return "ShipmentEventList", _shipment_event(e, adjustment=False)
    if e.kind in ("Refund", "Chargeback", "GuaranteeClaim"):
        list_name = {"Refund": "RefundEventList", "Chargeback": "ChargebackEventList"}.get(
            e.kind, "GuaranteeClaimEventList"
        )
        return list_name, _shipment_event(e, adjustment=True)
    if e.kind == "ServiceFee":
        return "ServiceFeeEventList", {
            "FeeReason": e.attributes.get("fee_reason", first.amount_description),
            "FeeDescription": first.amount_description,
            "FeeList": [{"FeeType": x.v0_type, "FeeAmount": currency(x.amount, code)} for x in e.lines],
        }
    if e.kind == "Advertising":
        return "ProductAdsPaymentEventList", {
            "postedDate": posted,
            "transactionType": "Charge",
            "invoiceId": e.attributes["invoice_id"],
            "baseValue": currency(e.total, code),
            "taxValue": currency(Decimal("0.00"), code),
            "transactionValue": currency(e.total, code),
        }
    if e.kind == "Coupon":
        return "CouponPaymentEventList", {
            "PostedDate": posted,
            "CouponId": e.attributes["coupon_id"],
            "SellerCouponDescription": "10% off kitchen helpers",
            "ClipOrRedemptionCount": int(e.attributes["clips"]),
            "PaymentEventId": e.entry_id,
            "FeeComponent": {"FeeType": first.v0_type, "FeeAmount": currency(e.total, code)},
            "TotalAmount": currency(e.total, code),
        }
    if e.kind == "Deal":
        return "SellerDealPaymentEventList", {
            "postedDate": posted,
            "dealId": e.attributes["deal_id"],
            "dealDescription": "Lightning deal",
            "eventType": "SellerDealComplete",
            "feeType": first.v0_type,
            "feeAmount": currency(e.total, code),
            "taxAmount": currency(Decimal("0.00"), code),
            "totalAmount": currency(e.total, code),
        }
    if e.kind == "Reimbursement":
        return "AdjustmentEventList", {
            "AdjustmentType": first.v0_type,
            "PostedDate": posted,
            "AdjustmentAmount": currency(e.total, code),
            "AdjustmentItemList": [
                {
                    "Quantity": str(first.quantity),
                    "PerUnitAmount": currency(Decimal(e.attributes["per_unit"]), code),
                    "TotalAmount": currency(e.total, code),
                    "SellerSKU": first.sku,
                    "ASIN": e.attributes["asin"],
                    "ProductDescription": e.attributes["title"],
                }
            ],
        }
    if e.kind in ("ReserveRelease", "ReserveHold"):
        return "AdjustmentEventList", {
            "AdjustmentType": first.v0_type,
            "PostedDate": posted,
            "AdjustmentAmount": currency(e.total, code),
        }
    if e.kind == "Liquidation":
        by_type = {x.v0_type: x.amount for x in e.lines}
        return "FBALiquidationEventList", {
            "PostedDate": posted,
            "OriginalRemovalOrderId": e.attributes["removal_order_id"],
            "LiquidationProceedsAmount": currency(by_type["LiquidationProceeds"], code),
            "LiquidationFeeAmount": currency(by_type["LiquidationFee"], code),
        }
    raise ValueError(f"no v0 rendering for entry kind {e.kind}")
