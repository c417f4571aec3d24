"""Finances v0 event groups and events: one group per settlement, events that add up to it (but one)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

from simulator.ledger import Ledger

from .conftest import NOW, SELLERS
from .model_schema import validate

SHIPMENT_LIKE = {"ShipmentEventList", "RefundEventList", "ChargebackEventList", "GuaranteeClaimEventList"}


def _amount(currency: dict) -> Decimal:
    value = currency["CurrencyAmount"]
    assert isinstance(value, Decimal)
    return value


def event_total(list_name: str, event: dict) -> Decimal:
    """The money of one event, read the way a consumer of v0 must (components, or the one total field)."""
    if list_name in SHIPMENT_LIKE:
        total = Decimal("0")
        for item in event.get("ShipmentItemList", []) + event.get("ShipmentItemAdjustmentList", []):
            for key in ("ItemChargeList", "ItemChargeAdjustmentList"):
                total += sum((_amount(c["ChargeAmount"]) for c in item.get(key, [])), Decimal(0))
            for key in ("ItemFeeList", "ItemFeeAdjustmentList"):
                total += sum((_amount(f["FeeAmount"]) for f in item.get(key, [])), Decimal(0))
            for key in ("PromotionList", "PromotionAdjustmentList"):
                total += sum((_amount(p["PromotionAmount"]) for p in item.get(key, [])), Decimal(0))
            for withheld in item.get("ItemTaxWithheldList", []):
                total += sum((_amount(c["ChargeAmount"]) for c in withheld["TaxesWithheld"]), Decimal(0))
        return total
    single_field = {
        "ProductAdsPaymentEventList": "transactionValue",
        "CouponPaymentEventList": "TotalAmount",
        "SellerDealPaymentEventList": "totalAmount",
        "AdjustmentEventList": "AdjustmentAmount",
    }
    if list_name in single_field:
        return _amount(event[single_field[list_name]])
    if list_name == "ServiceFeeEventList":
        return sum((_amount(f["FeeAmount"]) for f in event["FeeList"]), Decimal(0))
    if list_name == "FBALiquidationEventList":
        return _amount(event["LiquidationProceedsAmount"]) + _amount(event["LiquidationFeeAmount"])
    raise AssertionError(f"unexpected event list {list_name}")


def test_one_group_per_settlement_with_its_total_and_deposit(ledger: Ledger) -> None:
    for account in SELLERS:
        groups = {g["FinancialEventGroupId"]: g for g in ledger.financial_event_groups(account, NOW)}
        started = [s for s in ledger.settlements(account) if s.start <= NOW]
        assert set(groups) == {s.financial_event_group_id for s in started}
        for s in started:
            group = groups[s.financial_event_group_id]
            validate(group, "financesV0.json", "FinancialEventGroup")
            assert group["AccountTail"].isdigit() and len(group["AccountTail"]) == 4
            if s.end <= NOW:
                assert group["ProcessingStatus"] == "Closed"
                assert _amount(group["OriginalTotal"]) == s.total
                assert group["OriginalTotal"]["CurrencyCode"] == s.currency
                assert group["FundTransferDate"] == s.deposit.strftime("%Y-%m-%dT%H:%M:%SZ")
                assert group["FundTransferStatus"] == ("Succeeded" if s.deposit <= NOW else "Processing")
                assert ("TraceId" in group) is (s.deposit <= NOW)
            else:
                assert group["ProcessingStatus"] == "Open" and "FundTransferDate" not in group


def test_events_add_up_to_every_group_except_the_documented_one(ledger: Ledger) -> None:
    mismatched = {}
    checked = 0
    for account in SELLERS:
        for group in ledger.financial_event_groups(account, NOW):
            group_id = group["FinancialEventGroupId"]
            events = ledger.financial_events(account, NOW, group_id=group_id)
            total = sum((event_total(name, event) for name, event in events), Decimal(0))
            difference = _amount(group["OriginalTotal"]) - total
            if difference:
                mismatched[group_id] = difference
            checked += 1
    assert checked >= 36
    [anomaly] = [a for a in ledger.injected_anomalies() if a.anomaly_id == "v0_group_mismatch"]
    assert mismatched == {anomaly.financial_event_group_id: Decimal(anomaly.numbers["difference"])}
    settlement = next(
        s for s in ledger.settlements(anomaly.account_id) if s.settlement_id == anomaly.settlement_id
    )
    assert Decimal(anomaly.numbers["original_total"]) == settlement.total


def test_the_open_group_shows_its_running_balance(ledger: Ledger) -> None:
    for account in SELLERS:
        for moment in (NOW, NOW + timedelta(days=3, hours=5)):
            open_groups = [
                g for g in ledger.financial_event_groups(account, moment) if g["ProcessingStatus"] == "Open"
            ]
            marketplaces = {s.marketplace_id for s in ledger.settlements(account)}
            assert len(open_groups) == len(marketplaces)  # one per marketplace
            for group in open_groups:
                events = ledger.financial_events(account, moment, group_id=group["FinancialEventGroupId"])
                assert _amount(group["OriginalTotal"]) == sum(
                    (event_total(name, event) for name, event in events), Decimal(0)
                )


def test_at_least_eight_event_types_and_valid_shapes(ledger: Ledger) -> None:
    kinds: Counter[str] = Counter()
    definition = {
        "ShipmentEventList": "ShipmentEvent",
        "RefundEventList": "ShipmentEvent",
        "ChargebackEventList": "ShipmentEvent",
        "GuaranteeClaimEventList": "ShipmentEvent",
        "ServiceFeeEventList": "ServiceFeeEvent",
        "ProductAdsPaymentEventList": "ProductAdsPaymentEvent",
        "CouponPaymentEventList": "CouponPaymentEvent",
        "SellerDealPaymentEventList": "SellerDealPaymentEvent",
        "AdjustmentEventList": "AdjustmentEvent",
        "FBALiquidationEventList": "FBALiquidationEvent",
    }
    for account in SELLERS:
        for name, event in ledger.financial_events(account, NOW):
            if kinds[name] < 20:
                validate(event, "financesV0.json", definition[name])
            kinds[name] += 1
    assert len(kinds) >= 8, kinds
    assert set(kinds) == set(definition)


def test_deferred_money_is_invisible_to_v0_until_released(ledger: Ledger) -> None:
    events = ledger.financial_events("demo-na", NOW)
    posted = [datetime.fromisoformat(e.get("PostedDate", "2000-01-01T00:00:00+00:00")) for _, e in events]
    assert max(posted) <= NOW
    later = ledger.financial_events("demo-na", NOW + timedelta(days=10))
    assert len(later) > len(events)
    window = ledger.financial_events(
        "demo-na", NOW, posted_after=NOW - timedelta(days=7), posted_before=NOW - timedelta(days=2)
    )
    for name, event in window:
        if name != "ServiceFeeEventList":
            posted_at = datetime.fromisoformat(event.get("PostedDate") or event["postedDate"])
            assert NOW - timedelta(days=7) <= posted_at < NOW - timedelta(days=2)
    refunded = [e["AmazonOrderId"] for name, e in events if name == "RefundEventList"]
    both = 0
    for order_id in refunded:
        by_order = ledger.financial_events("demo-na", NOW, order_id=order_id)
        assert {e["AmazonOrderId"] for _, e in by_order} == {order_id}
        both += {name for name, _ in by_order} == {"ShipmentEventList", "RefundEventList"}
    assert both >= len(refunded) // 2
