"""Nothing is dropped: every money field of every sandbox example and real API page lands exactly once.

The raw side is counted by an independent walk (conftest.walk_money) over the JSON; the output side is
rebuilt from the tables' own columns (component_key, amount_key, row order). Multisets of (JSON path,
amount, currency) must be equal, which proves each amount appears once, at its place, with its value.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from transforms.finances import (
    balances_table,
    expected_payouts_table,
    financial_event_groups_table,
    financial_events_tables,
    settlement_summaries_tables,
    transactions_tables,
)

AS_OF = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
EVENT_PAGES = [
    ("spapi-examples", "listFinancialEvents.json"),
    ("spapi-examples", "listFinancialEventsByGroupId.json"),
    ("spapi-examples", "listFinancialEventsByOrderId.json"),
    ("api-fixtures/eolabs-sp-api-response-parser", "fetchListFinancialEvents.json"),
    ("api-fixtures/eolabs-sp-api-response-parser", "fetchListFinancialEventsToken.json"),
    ("api-fixtures/eolabs-sp-api-response-parser", "fetchListFinancialEventsToken2.json"),
]
GROUP_PAGES = [
    ("spapi-examples", "listFinancialEventGroups.json"),
    ("api-fixtures/eolabs-sp-api-response-parser", "fetchListFinancialEventGroups.json"),
]


def _counter(items: Any) -> Counter[tuple[str, Decimal, str | None]]:
    return Counter((path, Decimal(amount), currency) for path, amount, currency in items)


def _sum(items: Counter[tuple[str, Decimal, str | None]]) -> Decimal:
    return sum((amount * count for (_, amount, _), count in items.items()), Decimal(0))


@pytest.mark.parametrize(("folder", "name"), EVENT_PAGES)
def test_every_event_amount_lands_once(shared_fixtures, exact_loader, money_walker, folder, name):
    body = exact_loader(shared_fixtures / folder / name)
    events, unknown = financial_events_tables(body, account_id="acct", source_sha256="sha")
    raw = _counter(
        (path.removeprefix("payload.FinancialEvents."), amount, code)
        for path, amount, code in money_walker(body)
    )
    landed = _counter(
        (row["component_key"], row["amount"], row["currency"])
        for row in events.select(["component_key", "amount", "currency"]).to_pylist()
    )
    assert raw, "the fixture should hold money"
    assert landed == raw
    assert _sum(landed) == _sum(raw)
    assert events.num_rows == sum(raw.values())
    assert unknown.num_rows == 0


@pytest.mark.parametrize(("folder", "name"), GROUP_PAGES)
def test_every_event_group_amount_lands_once(shared_fixtures, exact_loader, money_walker, folder, name):
    body = exact_loader(shared_fixtures / folder / name)
    groups = financial_event_groups_table(body, account_id="acct", source_sha256="sha", observed_at=AS_OF)
    fields = {
        "original_total": "OriginalTotal",
        "converted_total": "ConvertedTotal",
        "beginning_balance": "BeginningBalance",
    }
    landed = _counter(
        (f"payload.FinancialEventGroupList[{index}].{field}", row[column], row[f"{column}_currency"])
        for index, row in enumerate(groups.to_pylist())
        for column, field in fields.items()
        if row[f"{column}_currency"] is not None
    )
    assert landed == _counter(money_walker(body))


def _transaction_money(tables) -> Counter[tuple[str, Decimal, str | None]]:
    index_of = {
        tid: index for index, tid in enumerate(tables.transaction_totals["transaction_id"].to_pylist())
    }
    placed = []
    for row in tables.transactions.to_pylist():
        if row["amount_source"] == "breakdown":  # `total` rows repeat a total that lands in another table
            placed.append(
                (f"payload.transactions[{index_of[row['transaction_id']]}].{row['amount_key']}", row)
            )
    for row in tables.transaction_breakdown_subtotals.to_pylist():
        placed.append((f"payload.transactions[{index_of[row['transaction_id']]}].{row['amount_key']}", row))
    counter = _counter((path, row["amount"], row["currency"]) for path, row in placed)
    for index, row in enumerate(tables.transaction_totals.to_pylist()):
        if row["currency"] is not None:
            counter[
                (f"payload.transactions[{index}].totalAmount", Decimal(row["total_amount"]), row["currency"])
            ] += 1
    return counter


def model_transaction_example(shared_fixtures: Path) -> dict[str, Any]:
    model = json.loads(
        (shared_fixtures / "spapi-models" / "finances_2024-06-19.json").read_text(encoding="utf-8")
    )
    return json.loads(json.dumps(model["definitions"]["Transaction"]["example"]), parse_float=Decimal)


def test_every_transaction_amount_lands_once(shared_fixtures, exact_loader, money_walker):
    sandbox = exact_loader(shared_fixtures / "spapi-examples" / "listTransactions.json")
    # The model's own Transaction example has items, item breakdowns and the wrapped `breakdowns` object.
    page = {
        "payload": {
            "transactions": [*sandbox["payload"]["transactions"], model_transaction_example(shared_fixtures)]
        }
    }
    tables = transactions_tables(page, account_id="acct", source_sha256="sha")
    assert _transaction_money(tables) == _counter(money_walker(page))
    assert tables.transaction_totals["breakdowns_agree"].to_pylist() == [True, True]


def test_every_balance_summary_and_payout_amount_lands_once(shared_fixtures, exact_loader, money_walker):
    examples = shared_fixtures / "spapi-examples"
    for name in ("listBalances.1.json", "listBalances.2.json"):
        body = exact_loader(examples / name)
        table = balances_table(body, account_id="acct", source_sha256="sha", as_of=AS_OF)
        raw = Counter((amount, code) for _, amount, code in money_walker(body))
        assert Counter(zip(table["amount"].to_pylist(), table["currency"].to_pylist(), strict=True)) == raw

    body = exact_loader(examples / "listSummary.json")
    summaries, nodes = settlement_summaries_tables(
        body, account_id="acct", source_sha256="sha", settlement_id="1"
    )
    raw = Counter((amount, code) for _, amount, code in money_walker(body))
    landed = Counter(zip(nodes["amount"].to_pylist(), nodes["currency"].to_pylist(), strict=True))
    landed.update(zip(summaries["net_proceeds"].to_pylist(), summaries["currency"].to_pylist(), strict=True))
    assert landed == raw

    body = exact_loader(examples / "listExpectedPayouts.json")
    payouts = expected_payouts_table(body, account_id="acct", source_sha256="sha")
    raw = Counter((amount, code) for _, amount, code in money_walker(body))
    assert Counter(zip(payouts["amount"].to_pylist(), payouts["currency"].to_pylist(), strict=True)) == raw
