"""listTransactions: leaf rows, item vs transaction breakdowns, sum checks, exact decimals, status merge."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.finances import (
    TRANSACTION_STATUS_HISTORY_SCHEMA,
    merge_transactions,
    replace_by_transaction,
    transactions_tables,
)

T0 = datetime(2026, 11, 10, tzinfo=UTC)


def _money(amount: str, code: str = "USD") -> dict[str, Any]:
    return {"currencyCode": code, "currencyAmount": Decimal(amount)}


def _node(kind: str, amount: str, *children: dict[str, Any]) -> dict[str, Any]:
    return {"breakdownType": kind, "breakdownAmount": _money(amount), "breakdowns": list(children) or None}


def _transaction(
    tid: str, status: str, total: str, breakdowns: list[dict[str, Any]] | None, **extra: Any
) -> dict[str, Any]:
    return {
        "transactionId": tid,
        "transactionType": "Shipment",
        "transactionStatus": status,
        "postedDate": "2026-11-01T10:00:00Z",
        "totalAmount": _money(total),
        "relatedIdentifiers": [
            {"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": "111-1"},
            {"relatedIdentifierName": "SETTLEMENT_ID", "relatedIdentifierValue": "S-9"},
            {"relatedIdentifierName": "SOMETHING_NEW", "relatedIdentifierValue": "x"},
        ],
        "breakdowns": breakdowns,
        **extra,
    }


def _tables(*transactions: dict[str, Any], sha: str = "sha"):
    return transactions_tables(
        {"payload": {"transactions": list(transactions)}}, account_id="acct", source_sha256=sha
    )


PAGE_WITH_TENTHS = """
{"payload": {"transactions": [{
  "transactionId": "T1", "transactionStatus": "RELEASED", "postedDate": "2026-11-01T10:00:00Z",
  "totalAmount": {"currencyCode": "USD", "currencyAmount": 0.3},
  "breakdowns": [{"breakdownType": "Sales", "breakdownAmount": {"currencyCode": "USD", "currencyAmount": 0.3},
    "breakdowns": [
      {"breakdownType": "A", "breakdownAmount": {"currencyCode": "USD", "currencyAmount": 0.1}},
      {"breakdownType": "B", "breakdownAmount": {"currencyCode": "USD", "currencyAmount": 0.2}}]}]}]}}
"""


def test_point_one_plus_point_two_is_exactly_point_three():
    raw = PAGE_WITH_TENTHS
    body = json.loads(raw, parse_float=Decimal, parse_int=Decimal)
    tables = transactions_tables(body, account_id="acct", source_sha256="sha")
    totals = tables.transaction_totals.to_pylist()[0]
    assert totals["breakdowns_sum"] == Decimal("0.30") and totals["breakdowns_agree"] is True
    assert sum(tables.transactions["amount"].to_pylist()) == Decimal("0.3")
    assert tables.transactions["breakdown_path"].to_pylist() == ["Sales/A", "Sales/B"]
    assert tables.transaction_breakdown_subtotals.to_pylist()[0]["children_agree"] is True


def test_leaf_rows_carry_path_identifiers_and_deferral():
    deferred = _transaction(
        "T1",
        "DEFERRED",
        "7.00",
        [
            _node("Sales", "10.00", _node("ProductCharges", "10.00")),
            _node("Expenses", "-3.00", _node("AmazonFees", "-3.00", _node("ReferralFee", "-3.00"))),
        ],
        contexts=[
            {
                "contextType": "DeferredContext",
                "deferralReason": "DD7",
                "maturityDate": "2026-11-08T00:00:00+01:00",
            }
        ],
        items=[
            {
                "description": "Widget",
                "totalAmount": _money("7.00"),
                "contexts": [
                    {"contextType": "ProductContext", "sku": "SKU-1", "asin": "B0", "quantityShipped": 2}
                ],
            }
        ],
    )
    tables = _tables(deferred)
    rows = tables.transactions.to_pylist()
    assert [row["breakdown_path"] for row in rows] == [
        "Sales/ProductCharges",
        "Expenses/AmazonFees/ReferralFee",
    ]
    assert {(row["order_id"], row["settlement_id"], row["sku"], row["quantity"]) for row in rows} == {
        ("111-1", "S-9", "SKU-1", 2)
    }
    assert {row["maturity_at"] for row in rows} == {datetime(2026, 11, 7, 23, 0, tzinfo=UTC)}
    assert {row["deferral_reason"] for row in rows} == {"DD7"}
    assert "SOMETHING_NEW" in rows[0]["related_identifiers_json"]
    assert all(row["counts_toward_total"] and row["breakdown_level"] == "transaction" for row in rows)
    assert tables.transaction_totals.to_pylist()[0]["breakdowns_agree"] is True


def test_breakdowns_that_do_not_add_up_are_kept_and_flagged():
    tables = _tables(
        _transaction("T1", "RELEASED", "5.00", [_node("Sales", "4.00"), _node("Expenses", "-0.50")])
    )
    assert tables.transactions.num_rows == 2
    totals = tables.transaction_totals.to_pylist()[0]
    assert (totals["total_amount"], totals["breakdowns_sum"], totals["breakdowns_agree"]) == (
        Decimal("5.00"),
        Decimal("3.50"),
        False,
    )


def test_item_breakdowns_restate_transaction_breakdowns_and_are_not_counted_twice(shared_fixtures):
    model = json.loads(
        (shared_fixtures / "spapi-models" / "finances_2024-06-19.json").read_text(encoding="utf-8")
    )
    example = json.loads(json.dumps(model["definitions"]["Transaction"]["example"]), parse_float=Decimal)
    tables = _tables(example)
    rows = tables.transactions.to_pylist()
    counted = [row for row in rows if row["counts_toward_total"]]
    restated = [row for row in rows if not row["counts_toward_total"]]
    assert [(r["breakdown_level"], r["breakdown_path"]) for r in counted] == [
        ("transaction", "Sales/Product Charges")
    ]
    assert [(r["breakdown_level"], r["breakdown_path"], r["sku"]) for r in restated] == [
        ("item", "Product Charges/Principle", "sku-12")
    ]
    assert tables.transaction_totals.to_pylist()[0]["breakdowns_sum"] == Decimal("10.00")


def test_item_only_breakdowns_count_and_an_item_without_breakdowns_counts_its_total():
    items = [
        {
            "totalAmount": _money("6.00"),
            "breakdowns": [_node("ProductCharges", "8.00"), _node("Fees", "-2.00")],
        },
        {
            "totalAmount": _money("1.22"),
            "breakdowns": None,
            "contexts": [{"contextType": "ProductContext", "sku": "S2"}],
        },
    ]
    tables = _tables(_transaction("T1", "RELEASED", "7.22", None, items=items))
    rows = tables.transactions.to_pylist()
    assert [
        (r["breakdown_level"], r["item_index"], r["breakdown_path"], r["amount_source"]) for r in rows
    ] == [
        ("item", 0, "ProductCharges", "breakdown"),
        ("item", 0, "Fees", "breakdown"),
        ("item", 1, "Total", "total"),
    ]
    assert all(r["counts_toward_total"] for r in rows)
    totals = tables.transaction_totals.to_pylist()[0]
    assert (totals["breakdown_source"], totals["breakdowns_sum"], totals["breakdowns_agree"]) == (
        "item",
        Decimal("7.22"),
        True,
    )


def test_transaction_without_breakdowns_is_one_total_row(examples, exact_loader):
    tables = transactions_tables(
        exact_loader(examples / "listTransactions.json"), account_id="acct", source_sha256="sha"
    )
    rows = tables.transactions.to_pylist()
    assert [(r["breakdown_path"], r["amount"], r["currency"]) for r in rows] == [
        ("Total", Decimal("10.00"), "USD")
    ]
    assert rows[0]["transaction_id_is_derived"] and rows[0]["transaction_id"].startswith("derived:")
    assert rows[0]["financial_event_group_id"] == "4MVaHcsAfaYAlwlaPWrXJxrfUiKfYZ2ooWtY7528FUA"
    again = transactions_tables(
        exact_loader(examples / "listTransactions.json"), account_id="acct", source_sha256="sha"
    )
    assert again.transactions.equals(tables.transactions)
    released = exact_loader(examples / "listTransactions.json")
    released["payload"]["transactions"][0]["transactionStatus"] = "DEFERRED_RELEASED"
    relabelled = transactions_tables(
        released, account_id="acct", source_sha256="sha"
    ).transactions.to_pylist()
    assert (
        relabelled[0]["transaction_id"] == rows[0]["transaction_id"]
    )  # a status change keeps the derived id


def test_empty_page():
    tables = transactions_tables({"payload": {"transactions": []}}, account_id="acct", source_sha256="sha")
    assert tables.transactions.num_rows == tables.transaction_totals.num_rows == 0
    assert transactions_tables({"payload": {}}, account_id="a", source_sha256="s").transactions.num_rows == 0


def test_status_change_replaces_rows_in_place_and_keeps_history():
    deferred = _tables(
        _transaction("T1", "DEFERRED", "7.00", [_node("Sales", "7.00")]),
        _transaction("T2", "RELEASED", "1.00", None),
        sha="p1",
    )
    released = _tables(_transaction("T1", "DEFERRED_RELEASED", "7.00", [_node("Sales", "7.00")]), sha="p2")
    first = merge_transactions(None, deferred.transactions, T0)
    second = merge_transactions(
        first.transactions,
        released.transactions,
        T0 + timedelta(days=8),
        existing_history=first.transaction_status_history,
    )
    rows = second.transactions.to_pylist()
    assert [(r["transaction_id"], r["transaction_status"], r["amount"]) for r in rows] == [
        ("T1", "DEFERRED_RELEASED", Decimal("7.00")),
        ("T2", "RELEASED", Decimal("1.00")),
    ]
    assert [
        (r["transaction_id"], r["transaction_status"], r["first_observed_at"])
        for r in second.transaction_status_history.to_pylist()
    ] == [
        ("T1", "DEFERRED", T0),
        ("T1", "DEFERRED_RELEASED", T0 + timedelta(days=8)),
        ("T2", "RELEASED", T0),
    ]
    again = merge_transactions(
        second.transactions,
        released.transactions,
        T0 + timedelta(days=9),
        existing_history=second.transaction_status_history,
    )
    assert again.transactions.equals(second.transactions)
    assert again.transaction_status_history.equals(second.transaction_status_history)
    assert second.transaction_status_history.schema == TRANSACTION_STATUS_HISTORY_SCHEMA

    totals = replace_by_transaction(deferred.transaction_totals, released.transaction_totals)
    assert [(r["transaction_id"], r["transaction_status"]) for r in totals.to_pylist()] == [
        ("T1", "DEFERRED_RELEASED"),
        ("T2", "RELEASED"),
    ]


def test_same_transaction_on_two_pages_of_one_run_counts_once():
    page_a = _tables(_transaction("T1", "DEFERRED", "7.00", [_node("Sales", "7.00")]), sha="a")
    page_b = _tables(_transaction("T1", "RELEASED", "7.00", [_node("Sales", "7.00")]), sha="b")
    merged = merge_transactions(None, pa.concat_tables([page_a.transactions, page_b.transactions]), T0)
    assert [(r["transaction_status"], r["source_sha256"]) for r in merged.transactions.to_pylist()] == [
        ("RELEASED", "b")
    ]


def test_tenths_sum_exactly_whatever_the_json_number_parser():
    for parse_float in (Decimal, float):
        body = json.loads(PAGE_WITH_TENTHS, parse_float=parse_float)
        totals = transactions_tables(
            body, account_id="acct", source_sha256="sha"
        ).transaction_totals.to_pylist()[0]
        assert (totals["breakdowns_sum"], totals["breakdowns_agree"]) == (Decimal("0.3"), True)


_cents = st.integers(min_value=-(10**9), max_value=10**9).map(lambda cents: Decimal(cents).scaleb(-2))
_trees = st.recursive(
    st.builds(
        lambda kind, amount: {"breakdownType": kind, "breakdownAmount": _money(str(amount))},
        st.sampled_from("ABC"),
        _cents,
    ),
    lambda children: st.builds(
        lambda kind, kids: {
            "breakdownType": kind,
            "breakdownAmount": _money(
                str(sum((k["breakdownAmount"]["currencyAmount"] for k in kids), Decimal(0)))
            ),
            "breakdowns": kids,
        },
        st.sampled_from("XYZ"),
        st.lists(children, min_size=1, max_size=3),
    ),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(top=st.lists(_trees, max_size=3), item_trees=st.lists(st.lists(_trees, max_size=2), max_size=2))
def test_any_breakdown_tree_lands_every_amount_once_and_sums_exactly(money_walker, top, item_trees):
    items = [
        {
            "totalAmount": _money(
                str(sum((t["breakdownAmount"]["currencyAmount"] for t in trees), Decimal(0)))
            ),
            "breakdowns": trees,
        }
        for trees in item_trees
    ]
    top_total = sum((t["breakdownAmount"]["currencyAmount"] for t in top), Decimal(0))
    item_total = sum((i["totalAmount"]["currencyAmount"] for i in items), Decimal(0))
    total = top_total if top else item_total
    transaction = _transaction("T1", "RELEASED", str(total), top, items=items)
    body = {"payload": {"transactions": [transaction]}}
    tables = transactions_tables(body, account_id="acct", source_sha256="sha")
    placed = Counter(
        (f"payload.transactions[0].{row['amount_key']}", row["amount"])
        for table in (
            tables.transactions.filter(pc.equal(tables.transactions["amount_source"], "breakdown")),
            tables.transaction_breakdown_subtotals,
        )
        for row in table.to_pylist()
    )
    placed[("payload.transactions[0].totalAmount", Decimal(total))] += 1
    assert placed == Counter((path, amount) for path, amount, _ in money_walker(body))
    totals = tables.transaction_totals.to_pylist()[0]
    assert totals["breakdowns_agree"] and totals["subtotals_agree"]
    counted = [row["amount"] for row in tables.transactions.to_pylist() if row["counts_toward_total"]]
    assert sum(counted, Decimal(0)) == total


def test_deferral_stated_on_an_item_applies_to_the_transaction():
    item = {
        "totalAmount": _money("2.00"),
        "contexts": [
            {
                "contextType": "DeferredContext",
                "deferralReason": "B2B",
                "maturityDate": "2026-12-01T00:00:00Z",
            }
        ],
    }
    tables = _tables(_transaction("T1", "DEFERRED", "2.00", [_node("Sales", "2.00")], items=[item]))
    assert {(r["maturity_at"], r["deferral_reason"]) for r in tables.transactions.to_pylist()} == {
        (datetime(2026, 12, 1, tzinfo=UTC), "B2B")
    }
