"""Finances 2024-06-19 transactions, balances and summaries, and Transfers expected payouts."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from simulator.ledger import Ledger

from .conftest import NOW, SELLERS, parse_settlement_file
from .model_schema import validate

EPOCH = datetime(2024, 1, 1, tzinfo=NOW.tzinfo)


def _all_transactions(ledger: Ledger, account: str, now: datetime) -> list[dict]:
    return ledger.transactions(account, now, posted_after=EPOCH, posted_before=now + timedelta(seconds=1))


def _related(transaction: dict, name: str) -> str | None:
    return next(
        (
            r["relatedIdentifierValue"]
            for r in transaction["relatedIdentifiers"]
            if r["relatedIdentifierName"] == name
        ),
        None,
    )


def _check_breakdowns(nodes: list[dict], expected: Decimal) -> None:
    if not nodes:
        return
    assert sum((n["breakdownAmount"]["currencyAmount"] for n in nodes), Decimal(0)) == expected
    for node in nodes:
        _check_breakdowns(node["breakdowns"], node["breakdownAmount"]["currencyAmount"])


def test_all_three_statuses_with_deferred_context(ledger: Ledger) -> None:
    transactions = _all_transactions(ledger, "demo-na", NOW)
    statuses = Counter(t["transactionStatus"] for t in transactions)
    assert set(statuses) == {"RELEASED", "DEFERRED", "DEFERRED_RELEASED"}
    reasons = set()
    for t in transactions:
        deferred = [c for c in t["contexts"] if c["contextType"] == "DeferredContext"]
        if t["transactionStatus"] == "RELEASED":
            assert deferred == []
            continue
        [context] = deferred
        reasons.add(context["deferralReason"])
        maturity = datetime.fromisoformat(context["maturityDate"])
        assert (maturity > NOW) is (t["transactionStatus"] == "DEFERRED")
        # Released money carries its settlement and group; deferred money does not know them yet.
        assert (_related(t, "SETTLEMENT_ID") is None) is (t["transactionStatus"] == "DEFERRED")
    assert reasons == {"DD7", "B2B"}


def test_deferred_transactions_are_released_at_maturity(ledger: Ledger) -> None:
    deferred = [t for t in _all_transactions(ledger, "demo-eu", NOW) if t["transactionStatus"] == "DEFERRED"]
    assert deferred
    for t in deferred[:25]:
        maturity = datetime.fromisoformat(t["contexts"][0]["maturityDate"])
        posted = datetime.fromisoformat(t["postedDate"])
        window = {"posted_after": posted, "posted_before": posted + timedelta(seconds=1)}
        before = ledger.transactions("demo-eu", maturity - timedelta(seconds=1), **window)
        after = ledger.transactions("demo-eu", maturity, **window)
        [mine_before] = [x for x in before if x["transactionId"] == t["transactionId"]]
        [mine_after] = [x for x in after if x["transactionId"] == t["transactionId"]]
        assert mine_before["transactionStatus"] == "DEFERRED"
        assert mine_after["transactionStatus"] == "DEFERRED_RELEASED"
        assert mine_after["totalAmount"] == t["totalAmount"]


def test_breakdowns_and_items_add_up_and_shapes_are_valid(ledger: Ledger) -> None:
    for account in SELLERS:
        for number, t in enumerate(_all_transactions(ledger, account, NOW)):
            total = t["totalAmount"]["currencyAmount"]
            assert isinstance(total, Decimal)
            _check_breakdowns(t["breakdowns"], total)
            if t["transactionType"] in ("Shipment", "Refund"):
                assert sum((i["totalAmount"]["currencyAmount"] for i in t["items"]), Decimal(0)) == total
                for item in t["items"]:
                    _check_breakdowns(item["breakdowns"], item["totalAmount"]["currencyAmount"])
                    [product] = item["contexts"]
                    assert product["sku"] and product["quantityShipped"] >= 1
            if number % 40 == 0:
                validate(t, "finances_2024-06-19.json", "Transaction")
    paths = set()

    def walk(nodes: list[dict], prefix: tuple[str, ...]) -> None:
        for node in nodes:
            path = (*prefix, node["breakdownType"])
            if not node["breakdowns"]:
                paths.add("/".join(path))
            walk(node["breakdowns"], path)

    for t in _all_transactions(ledger, "demo-na", NOW):
        walk(t["breakdowns"], ())
    assert {"Sales/ProductCharges", "Expenses/AmazonFees/ReferralFee"} <= paths


def test_every_settlements_sources_agree_to_the_cent(ledger: Ledger) -> None:
    checked = 0
    for account in SELLERS:
        released: dict[str, Decimal] = Counter()
        for t in _all_transactions(ledger, account, NOW):
            settlement_id = _related(t, "SETTLEMENT_ID")
            if settlement_id and t["transactionStatus"] != "DEFERRED":
                released[settlement_id] += t["totalAmount"]["currencyAmount"]
        groups = {g["FinancialEventGroupId"]: g for g in ledger.financial_event_groups(account, NOW)}
        for s in ledger.settlements(account):
            if s.end > NOW:
                continue
            document = ledger.report_document(account, s.report_document_id)
            assert document is not None
            parsed = parse_settlement_file(document.content, document.charset)
            report_total = parsed.amount(parsed.summary["total-amount"])
            [summary] = ledger.summaries(account, NOW, settlement_id=s.settlement_id)
            validate(summary, "finances_2024-06-19.json", "Summary")
            _check_breakdowns(summary["breakdowns"], summary["netProceeds"]["currencyAmount"])
            group_total = groups[s.financial_event_group_id]["OriginalTotal"]["CurrencyAmount"]
            assert (
                report_total
                == summary["netProceeds"]["currencyAmount"]
                == released[s.settlement_id]
                == group_total
            )
            checked += 1
    assert checked >= 36


@pytest.mark.parametrize("days_back", [0, 1, 5, 13, 30, 60])
def test_balances_match_a_recomputation_from_transactions(ledger: Ledger, days_back: int) -> None:
    as_of = NOW - timedelta(days=days_back, hours=days_back)
    for account in SELLERS:
        seen_at_as_of = _all_transactions(ledger, account, as_of)
        deposits = {s.settlement_id: s.deposit for s in ledger.settlements(account)}
        for balance in ledger.balances(account, NOW, as_of=as_of):
            validate(balance, "finances_2024-06-19.json", "Balance")
            marketplace = balance["partnerMetadata"]["marketplaceId"]
            flat = {balance["balanceType"]: balance["amount"]["currencyAmount"]}
            for child in balance["balances"]:
                flat[child["balanceType"]] = child["amount"]["currencyAmount"]
                for grandchild in child.get("balances", []):
                    flat[grandchild["balanceType"]] = grandchild["amount"]["currencyAmount"]
            recomputed = sum(
                (
                    t["totalAmount"]["currencyAmount"]
                    for t in seen_at_as_of
                    if t["transactionStatus"] == "DEFERRED"
                    and t["sellingPartnerMetadata"]["marketplaceId"] == marketplace
                ),
                Decimal(0),
            )
            assert flat["DEFERRED"] == recomputed == ledger.deferred_balance(account, as_of, marketplace)
            assert flat["RESERVED"] == flat["DEFERRED"] + flat["ACCOUNT_LEVEL_RESERVE"]
            assert flat["TOTAL"] == flat["AVAILABLE"] + flat["RESERVED"]
            # AVAILABLE + reserve = released money of settlements not yet paid out at as_of.
            unpaid = sum(
                (
                    t["totalAmount"]["currencyAmount"]
                    for t in seen_at_as_of
                    if t["transactionStatus"] != "DEFERRED"
                    and t["sellingPartnerMetadata"]["marketplaceId"] == marketplace
                    and deposits[_related(t, "SETTLEMENT_ID")] > as_of
                ),
                Decimal(0),
            )
            assert flat["AVAILABLE"] + flat["ACCOUNT_LEVEL_RESERVE"] == unpaid
    assert ledger.deferred_balance("demo-na", as_of) > 0


def test_balances_never_look_past_now(ledger: Ledger) -> None:
    future = ledger.balances("demo-na", NOW, as_of=NOW + timedelta(days=5))
    assert future == ledger.balances("demo-na", NOW)
    assert len(ledger.balances("demo-na", NOW, marketplace_id="A2EUQ1WTGCTBG2")) == 1


def test_summaries_by_period_and_only_closed(ledger: Ledger) -> None:
    closed = [s for s in ledger.settlements("demo-eu") if s.end <= NOW]
    window = ledger.summaries("demo-eu", NOW, start=closed[-4].start, end=closed[-1].end)
    ids = {_related(x, "SETTLEMENT_ID") for x in window}
    assert ids == {s.settlement_id for s in closed if s.end > closed[-4].start and s.start < closed[-1].end}
    open_one = next(s for s in ledger.settlements("demo-eu") if s.start <= NOW < s.end)
    assert ledger.summaries("demo-eu", NOW, settlement_id=open_one.settlement_id) == []


def test_expected_payouts_for_the_eu_account(ledger: Ledger) -> None:
    for marketplace in ("A1PA6795UKMFR9", "A13V1IB3VIYZZH"):
        payouts = ledger.expected_payouts("demo-eu", NOW, marketplace_id=marketplace)
        assert payouts
        for payout in payouts:
            validate(payout, "transfers_2024-06-01.json", "ExpectedPayout")
            settlement_id = payout["relatedIdentifiers"][0]["relatedIdentifierValue"]
            s = next(s for s in ledger.settlements("demo-eu") if s.settlement_id == settlement_id)
            assert s.start <= NOW < s.deposit
            if s.end <= NOW:
                assert payout["amount"]["currencyAmount"] == s.total
            else:
                [group] = [
                    g
                    for g in ledger.financial_event_groups("demo-eu", NOW)
                    if g["FinancialEventGroupId"] == s.financial_event_group_id
                ]
                assert payout["amount"]["currencyAmount"] == group["OriginalTotal"]["CurrencyAmount"]
    assert ledger.expected_payouts("demo-na", NOW, marketplace_id="ATVPDKIKX0DER") == []


def test_transactions_filter_by_related_identifier_and_marketplace(ledger: Ledger) -> None:
    group = ledger.financial_event_groups("demo-na", NOW)[4]
    by_group = ledger.transactions(
        "demo-na",
        NOW,
        posted_after=EPOCH,
        posted_before=NOW,
        related_identifier_name="FINANCIAL_EVENT_GROUP_ID",
        related_identifier_value=group["FinancialEventGroupId"],
    )
    assert by_group
    assert (
        sum((t["totalAmount"]["currencyAmount"] for t in by_group), Decimal(0))
        == (group["OriginalTotal"]["CurrencyAmount"])
    )
    ca = ledger.transactions(
        "demo-na",
        NOW,
        posted_after=NOW - timedelta(days=20),
        posted_before=NOW,
        marketplace_id="A2EUQ1WTGCTBG2",
    )
    assert ca and {t["marketplaceDetails"]["marketplaceId"] for t in ca} == {"A2EUQ1WTGCTBG2"}
