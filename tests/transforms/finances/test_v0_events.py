"""Finances v0 events: all 34 event lists (instances generated from Amazon's model), catch-all, edge cases."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from transforms.finances import MoneyFormatError, MoneyPrecisionError, financial_events_tables, v0_model
from transforms.finances.v0_events import DETAIL_DEFINITIONS, NON_ADDITIVE_FIELDS
from transforms.finances.v0_model_gen import build_v0_knowledge


def _instance(model: dict[str, Any], name: str, amounts: itertools.count) -> Any:
    """A fully populated instance of a model definition: every property present, one item per array."""
    schema = model["definitions"][name]
    if name == "Currency":
        return {"CurrencyCode": "USD", "CurrencyAmount": Decimal(next(amounts)) / 100}
    if name == "Date":
        return "2024-03-04T05:06:07Z"
    if schema.get("type") == "array":
        return [_instance(model, schema["items"]["$ref"].rsplit("/", 1)[-1], amounts)]
    if "properties" not in schema:
        return Decimal(7) if schema.get("type") in ("integer", "number") else f"{name}-value"
    instance: dict[str, Any] = {}
    for prop, prop_schema in schema["properties"].items():
        if "$ref" in prop_schema:
            instance[prop] = _instance(model, prop_schema["$ref"].rsplit("/", 1)[-1], amounts)
        elif prop_schema.get("type") == "array" and "$ref" in prop_schema.get("items", {}):
            instance[prop] = [_instance(model, prop_schema["items"]["$ref"].rsplit("/", 1)[-1], amounts)]
        elif prop_schema.get("type") == "integer" or prop.lower() == "quantity":
            instance[prop] = Decimal(3) if prop_schema.get("type") == "integer" else "3"
        else:
            instance[prop] = f"{prop}-value"
    return instance


def _page(events: dict[str, Any]) -> dict[str, Any]:
    return {"payload": {"FinancialEvents": events}}


def test_generated_model_module_matches_the_model(finances_v0_model):
    knowledge = build_v0_knowledge(finances_v0_model)
    assert knowledge["EVENT_LISTS"] == v0_model.EVENT_LISTS
    assert knowledge["DEFINITIONS"] == v0_model.DEFINITIONS
    assert knowledge["COMPONENT_TYPE_FIELDS"] == v0_model.COMPONENT_TYPE_FIELDS
    assert knowledge["EVENT_SUBTYPE_FIELDS"] == v0_model.EVENT_SUBTYPE_FIELDS
    assert len(v0_model.EVENT_LISTS) == 34


def test_hand_listed_judgements_still_name_model_fields():
    for definition, prop in NON_ADDITIVE_FIELDS:
        assert v0_model.DEFINITIONS[definition][prop] == ("currency", "")
    assert set(v0_model.DEFINITIONS) >= DETAIL_DEFINITIONS


def test_all_34_event_lists_land_every_amount(finances_v0_model, money_walker):
    amounts = itertools.count(1)
    events = {
        list_name: _instance(finances_v0_model, schema["$ref"].rsplit("/", 1)[-1], amounts)
        for list_name, schema in finances_v0_model["definitions"]["FinancialEvents"]["properties"].items()
    }
    body = _page(events)
    table, unknown = financial_events_tables(body, account_id="acct", source_sha256="sha")
    raw = Counter(
        (path.removeprefix("payload.FinancialEvents."), amount, code)
        for path, amount, code in money_walker(body)
    )
    landed = Counter(
        zip(
            table["component_key"].to_pylist(),
            table["amount"].to_pylist(),
            table["currency"].to_pylist(),
            strict=True,
        )
    )
    assert landed == raw
    assert unknown.num_rows == 0
    assert all(table["is_modelled"].to_pylist())
    assert set(table["event_type"].to_pylist()) == {name.removesuffix("EventList") for name in events}
    kinds = set(table["component_kind"].to_pylist())
    assert {
        "charge",
        "fee",
        "promotion",
        "direct_payment",
        "tax_withheld",
        "charge_refund",
        "amount",
    } <= kinds
    rows = table.to_pylist()
    by_key = {row["component_key"]: row for row in rows}
    withheld = by_key[
        "ShipmentEventList[0].ShipmentItemList[0].ItemTaxWithheldList[0].TaxesWithheld[0].ChargeAmount"
    ]
    assert (withheld["component_kind"], withheld["component_type"]) == ("tax_withheld", "ChargeType-value")
    assert withheld["amount_field"] == "TaxesWithheld"
    fee = by_key["ShipmentEventList[0].ShipmentItemList[0].ItemFeeAdjustmentList[0].FeeAmount"]
    assert (fee["component_kind"], fee["amount_field"]) == ("fee", "ItemFeeAdjustmentList")
    coupon_fee = by_key["CouponPaymentEventList[0].FeeComponent.FeeAmount"]
    assert (coupon_fee["component_kind"], coupon_fee["amount_field"]) == ("fee", "FeeComponent")
    assert withheld["tax_collection_model"] == "TaxCollectionModel-value"
    assert (withheld["sku"], withheld["order_item_id"], withheld["quantity"]) == (
        "SellerSKU-value",
        "OrderItemId-value",
        3,
    )
    flat = by_key["SAFETReimbursementEventList[0].ReimbursedAmount"]
    assert (flat["component_kind"], flat["component_type"], flat["is_additive"]) == (
        "amount",
        "ReimbursedAmount",
        True,
    )
    assert flat["amount_field"] == "ReimbursedAmount"
    detail = by_key[
        "SAFETReimbursementEventList[0].SAFETReimbursementItemList[0].itemChargeList[0].ChargeAmount"
    ]
    assert detail["is_additive"] is False
    assert by_key["AdjustmentEventList[0].AdjustmentItemList[0].TotalAmount"]["is_additive"] is False
    assert by_key["ProductAdsPaymentEventList[0].transactionValue"]["is_additive"] is False
    assert by_key["AdjustmentEventList[0].AdjustmentAmount"]["event_subtype"] == "AdjustmentType-value"
    assert (
        by_key["ShipmentEventList[0].ShipmentItemList[0].ItemChargeList[0].ChargeAmount"]["posted_at"]
        is not None
    )


def test_unknown_event_list_goes_to_the_catch_all_verbatim():
    novel = [
        {
            "PostedDate": "2026-01-01T00:00:00Z",
            "NovelAmount": {"CurrencyCode": "EUR", "CurrencyAmount": Decimal("1.10")},
        }
    ]
    body = _page({"ShipmentEventList": [], "BrandNewThingEventList": novel, "FutureFlag": True})
    events, unknown = financial_events_tables(
        body, account_id="acct", source_sha256="sha", financial_event_group_id="G1"
    )
    assert events.num_rows == 0
    rows = unknown.to_pylist()
    assert [(row["event_list"], row["event_index"]) for row in rows] == [
        ("BrandNewThingEventList", 0),
        ("FutureFlag", None),
    ]
    assert json.loads(rows[0]["raw_json"], parse_float=Decimal) == novel[0]
    assert '"CurrencyAmount":1.10' in rows[0]["raw_json"]  # the literal as sent, not a float's
    assert rows[0]["financial_event_group_id"] == "G1"


@pytest.mark.parametrize(
    "body",
    [
        {"payload": {}},
        {},
        {"payload": {"FinancialEvents": {}}},
        _page({"ShipmentEventList": [], "RefundEventList": None}),
    ],
)
def test_empty_pages_yield_empty_tables(body):
    events, unknown = financial_events_tables(body, account_id="acct", source_sha256="sha")
    assert (events.num_rows, unknown.num_rows) == (0, 0)


def test_events_without_posted_date_or_order_id_still_land():
    fee = {
        "FeeType": "FBAStorageFee",
        "FeeAmount": {"CurrencyCode": "USD", "CurrencyAmount": Decimal("-3.20")},
    }
    body = _page(
        {
            "ServiceFeeEventList": [{"FeeReason": "storage", "FeeList": [fee]}],
            "DebtRecoveryEventList": [
                {
                    "DebtRecoveryType": "DebtPayment",
                    "RecoveryAmount": {"CurrencyCode": "USD", "CurrencyAmount": Decimal("5")},
                }
            ],
            "AdjustmentEventList": [
                {
                    "AdjustmentType": "ReserveDebit",
                    "AdjustmentAmount": {"CurrencyCode": "USD", "CurrencyAmount": Decimal("-1.5")},
                }
            ],
        }
    )
    events, _ = financial_events_tables(
        body, account_id="acct", source_sha256="sha", financial_event_group_id="G9"
    )
    rows = events.to_pylist()
    assert [(row["event_type"], row["amount"]) for row in rows] == [
        ("ServiceFee", Decimal("-3.20")),
        ("DebtRecovery", Decimal("5.00")),
        ("Adjustment", Decimal("-1.50")),
    ]
    assert {row["posted_at"] for row in rows} == {None}
    assert {row["order_id"] for row in rows} == {None}
    assert {row["financial_event_group_id"] for row in rows} == {"G9"}
    assert rows[0]["component_kind"] == "fee" and rows[0]["component_type"] == "FBAStorageFee"


def test_component_keys_do_not_shift_when_other_events_change(eolabs, exact_loader):
    body = exact_loader(eolabs / "fetchListFinancialEvents.json")
    before, _ = financial_events_tables(body, account_id="acct", source_sha256="sha")
    first_event = body["payload"]["FinancialEvents"]["ShipmentEventList"][0]
    first_event["ShipmentItemList"][0]["ItemFeeList"].insert(
        0, {"FeeType": "NewFee", "FeeAmount": {"CurrencyCode": "USD", "CurrencyAmount": Decimal("-0.01")}}
    )
    after, _ = financial_events_tables(body, account_id="acct", source_sha256="sha")
    untouched = [
        row for row in before.to_pylist() if not row["component_key"].startswith("ShipmentEventList[0]")
    ]
    after_by_key = {row["component_key"]: row for row in after.to_pylist()}
    assert untouched and all(after_by_key[row["component_key"]] == row for row in untouched)
    assert after.num_rows == before.num_rows + 1


def test_real_page_case_differences_and_additive_totals(eolabs, exact_loader):
    events, _ = financial_events_tables(
        exact_loader(eolabs / "fetchListFinancialEvents.json"), account_id="a", source_sha256="s"
    )
    rows = events.to_pylist()
    ads = [row for row in rows if row["event_type"] == "ProductAdsPayment"]
    assert {row["component_type"]: row["is_additive"] for row in ads} == {
        "baseValue": True,
        "taxValue": True,
        "transactionValue": False,
    }
    assert all(
        row["posted_at"] is not None and row["is_modelled"] for row in ads
    )  # `PostedDate` vs model's `postedDate`
    for event_type in ("ProductAdsPayment", "CouponPayment"):
        additive = sum(
            row["amount"] for row in rows if row["event_type"] == event_type and row["is_additive"]
        )
        total = [row["amount"] for row in rows if row["event_type"] == event_type and not row["is_additive"]]
        assert total == [additive]
    # The real refund nests a FeeComponent inside a FeeComponent, which the model does not describe: it still
    # lands, marked as not modelled.
    nested = [row for row in rows if row["event_type"] == "Refund" and not row["is_modelled"]]
    assert [(row["component_kind"], row["amount"]) for row in nested] == [("amount", Decimal("3.99"))]
    assert nested[0]["component_key"] == "RefundEventList[0].ShipmentFeeList[0].FeeComponent.FeeAmount"


def test_amounts_are_never_rounded_or_guessed():
    def page(amount: Any) -> dict[str, Any]:
        return _page(
            {
                "TDSReimbursementEventList": [
                    {"ReimbursedAmount": {"CurrencyCode": "INR", "CurrencyAmount": amount}}
                ]
            }
        )

    with pytest.raises(MoneyPrecisionError) as error:
        financial_events_tables(page(Decimal("1.005")), account_id="a", source_sha256="s")
    assert "TDSReimbursementEventList[0].ReimbursedAmount" in str(error.value)
    with pytest.raises(MoneyFormatError):
        financial_events_tables(page("12,50"), account_id="a", source_sha256="s")
    for loose in (Decimal("12.50"), 12.5, "12.5", "12.500"):
        events, _ = financial_events_tables(page(loose), account_id="a", source_sha256="s")
        assert events["amount"].to_pylist() == [Decimal("12.50")]
