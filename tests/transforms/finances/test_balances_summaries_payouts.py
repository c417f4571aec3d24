"""listBalances, listSummary and listExpectedPayouts tables."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from transforms.finances import balances_table, expected_payouts_table, settlement_summaries_tables

AS_OF = datetime(2026, 11, 23, tzinfo=UTC)


def test_balances_keep_every_node_by_path(examples, exact_loader):
    table = balances_table(
        exact_loader(examples / "listBalances.1.json"), account_id="acct", source_sha256="s", as_of=AS_OF
    )
    rows = table.to_pylist()
    assert [(r["balance_path"], r["parent_balance_type"], r["amount"]) for r in rows] == [
        ("TOTAL", None, Decimal("15000.00")),
        ("TOTAL/AVAILABLE", "TOTAL", Decimal("8000.00")),
        ("TOTAL/RESERVED", "TOTAL", Decimal("7000.00")),
        ("TOTAL/RESERVED/DEFERRED", "RESERVED", Decimal("9000.00")),
        ("TOTAL/RESERVED/ACCOUNT_LEVEL_RESERVE", "RESERVED", Decimal("-2000.00")),
    ]
    assert {r["last_updated_at"] for r in rows} == {datetime(2025, 1, 12, 1, 30, tzinfo=UTC)}
    assert {(r["as_of"], r["marketplace_id"]) for r in rows} == {(AS_OF, "AXXXXXXXXXER")}


def test_balance_as_of_date_in_the_response_wins():
    body = {
        "balances": [
            {
                "balanceType": "DEFERRED",
                "asOfDate": "2026-11-01T00:00:00Z",
                "amount": {"currencyCode": "EUR", "currencyAmount": 12},
            }
        ]
    }
    row = balances_table(body, account_id="acct", source_sha256="s", as_of=AS_OF).to_pylist()[0]
    assert (row["as_of"], row["balance_path"], row["amount"]) == (
        datetime(2026, 11, 1, tzinfo=UTC),
        "DEFERRED",
        Decimal("12.00"),
    )
    assert balances_table({"balances": []}, account_id="a", source_sha256="s", as_of=AS_OF).num_rows == 0


def test_settlement_summary_net_proceeds_and_breakdowns(examples, exact_loader):
    summaries, nodes = settlement_summaries_tables(
        exact_loader(examples / "listSummary.json"), account_id="acct", source_sha256="s", settlement_id="123"
    )
    summary = summaries.to_pylist()[0]
    assert (summary["settlement_id"], summary["net_proceeds"], summary["currency"]) == (
        "123",
        Decimal("8000.00"),
        "USD",
    )
    assert (summary["leaves_sum"], summary["leaves_agree"]) == (Decimal("8000.00"), True)
    assert summary["period_start_at"] == datetime(2025, 1, 12, tzinfo=UTC)
    assert [(n["breakdown_path"], n["is_leaf"]) for n in nodes.to_pylist()] == [
        ("Sales", False),
        ("Sales/Product Charges", True),
        ("Expenses", False),
        ("Expenses/FBA fees", True),
    ]


def test_summary_settlement_id_from_the_response_wins_and_mismatch_is_flagged():
    body = {
        "summaries": [
            {
                "relatedIdentifiers": [
                    {"relatedIdentifierName": "SETTLEMENT_ID", "relatedIdentifierValue": "S-1"}
                ],
                "netProceeds": {"currencyCode": "EUR", "currencyAmount": Decimal("10.00")},
                "breakdowns": [
                    {
                        "breakdownType": "Sales",
                        "breakdownAmount": {"currencyCode": "EUR", "currencyAmount": Decimal("9.99")},
                    }
                ],
            }
        ]
    }
    summaries, _ = settlement_summaries_tables(
        body, account_id="acct", source_sha256="s", settlement_id="other"
    )
    row = summaries.to_pylist()[0]
    assert (row["settlement_id"], row["leaves_sum"], row["leaves_agree"]) == ("S-1", Decimal("9.99"), False)


def test_expected_payouts(examples, exact_loader):
    row = expected_payouts_table(
        exact_loader(examples / "listExpectedPayouts.json"), account_id="acct", source_sha256="s"
    ).to_pylist()[0]
    assert (row["amount"], row["currency"], row["status"], row["settlement_id"]) == (
        Decimal("2547.89"),
        "USD",
        "SCHEDULED",
        "SGI_20240308_001",
    )
    assert row["scheduled_at"] == datetime(2024, 3, 22, 14, 0, tzinfo=UTC)
    assert row["account_tail_masked"] == "****34" and "1234" not in str(row)
