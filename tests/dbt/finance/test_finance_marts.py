"""Finance marts over a lake landed from the simulator: the done-when of issues 6 and 9, on real data.

- the marts are populated and every contract, data test and relationship holds (dbt build succeeded);
- at least 90% of payouts match a financial event group, by the documented rule;
- exactly the simulator's injected v0 group mismatch is unreconciled, by its documented amount;
- fct_transactions holds all three statuses; rpt_deferred_schedule equals the DEFERRED balance to the cent;
- every settlement's sources agree, and the finance checks pass on it;
- `acorn demo`'s summary prints the deferred money per account and when it matures.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from finance_testkit import in_flight_deferred

from acorn_cli.summary import deferred_lines
from orchestration.finances import checks
from orchestration.resources import DataDirResource
from orchestration.verdict import evaluate
from spapi.windows import FINANCES_SAFE_LAG

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("finance_pipeline")]


def _rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_the_finance_marts_are_populated(pipeline) -> None:  # type: ignore[no-untyped-def]
    for mart in (
        "fct_financial_events",
        "fct_event_group_reconciliation",
        "fct_vendor_po_lines",
        "fct_transactions",
        "rpt_deferred_schedule",
        "fct_settlement_sources",
    ):
        count = _rows(pipeline.warehouse, f"select count(*) from marts.{mart}")[0][0]
        assert count > 0, f"marts.{mart} is empty"
    event_types = _rows(
        pipeline.warehouse, "select count(distinct event_type) from marts.fct_financial_events"
    )
    assert event_types[0][0] >= 8


def test_at_least_ninety_percent_of_payouts_match_a_group_by_the_rule(pipeline) -> None:  # type: ignore[no-untyped-def]
    payouts, matched = _rows(
        pipeline.warehouse, "select count(*), count(financial_event_group_id) from marts.fct_payouts"
    )[0]
    assert payouts >= 6 and matched / payouts >= 0.9, (matched, payouts)
    # The rule, re-checked from the marts: same account and currency, equal totals, dates at most a day apart.
    violations = _rows(
        pipeline.warehouse,
        """
        select p.settlement_id
        from marts.fct_payouts as p
        join staging.stg_lake_finance__financial_event_groups as g
            on p.financial_event_group_id = g.financial_event_group_id
        where p.account_id <> g.account_id or p.currency <> g.currency or p.total_amount <> g.original_total
           or abs(date_diff('day', cast(p.deposit_at as date), cast(g.fund_transfer_at as date))) > 1
        """,
    )
    assert violations == []
    ledger = {s.settlement_id: s.financial_event_group_id for s in _ledger_settlements(pipeline)}
    for settlement_id, group_id in _rows(
        pipeline.warehouse, "select settlement_id, financial_event_group_id from marts.fct_payouts"
    ):
        if group_id is not None:
            assert ledger[settlement_id] == group_id, f"{settlement_id} matched the wrong group"


def _ledger_settlements(pipeline):  # type: ignore[no-untyped-def]
    ledger = pipeline.landing.simulator.ledger
    return [s for account in ledger.accounts() for s in ledger.settlements(account.account_id)]


def test_exactly_the_injected_mismatch_is_unreconciled(pipeline) -> None:  # type: ignore[no-untyped-def]
    injected = [
        a
        for a in pipeline.landing.simulator.ledger.injected_anomalies()
        if a.anomaly_id == "v0_group_mismatch"
    ]
    assert len(injected) == 1
    anomaly = injected[0]
    unreconciled = _rows(
        pipeline.warehouse,
        "select account_id, financial_event_group_id, original_total, events_total, difference, "
        "settlement_id from marts.fct_event_group_reconciliation where not is_reconciled",
    )
    assert len(unreconciled) == 1, unreconciled
    account, group, original, events, difference, settlement = unreconciled[0]
    assert (account, group, settlement) == (
        anomaly.account_id,
        anomaly.financial_event_group_id,
        anomaly.settlement_id,
    )
    assert original == Decimal(anomaly.numbers["original_total"])
    assert events == Decimal(anomaly.numbers["events_total"])
    assert difference == Decimal(anomaly.numbers["difference"])
    judged = _rows(
        pipeline.warehouse,
        "select events_source, count(*) from marts.fct_event_group_reconciliation "
        "where is_reconciled is not null group by 1 order by 1",
    )
    assert dict(judged).keys() == {"transactions", "v0_events"}, judged


def test_transactions_hold_all_three_statuses_and_fee_categories(pipeline) -> None:  # type: ignore[no-untyped-def]
    statuses = {
        row[0]
        for row in _rows(pipeline.warehouse, "select distinct transaction_status from marts.fct_transactions")
    }
    assert statuses == {"RELEASED", "DEFERRED", "DEFERRED_RELEASED"}
    categories = dict(
        _rows(
            pipeline.warehouse,
            "select fee_category, count(*) from marts.fct_transactions "
            "where breakdown_path = 'Expenses/AmazonFees/ReferralFee' group by 1",
        )
    )
    assert list(categories) == ["referral_commission"]


def test_deferred_schedule_equals_the_simulators_deferred_balance_to_the_cent(pipeline) -> None:  # type: ignore[no-untyped-def]
    schedule = dict(
        ((account, currency), amount)
        for account, currency, amount in _rows(
            pipeline.warehouse,
            "select account_id, currency, sum(deferred_amount) from marts.rpt_deferred_schedule group by all",
        )
    )
    snapshots = _rows(
        pipeline.warehouse,
        "select account_id, max(as_of) from staging.stg_lake_finance__balances group by account_id",
    )
    assert {account for account, _ in snapshots} == {"demo-na", "demo-eu"}
    landed = {
        row[0]
        for row in _rows(pipeline.warehouse, "select distinct transaction_id from marts.fct_transactions")
    }
    ledger = pipeline.landing.simulator.ledger
    now = pipeline.landing.simulator.clock.data_now()
    expected: dict[tuple[str, str], Decimal] = {}
    for account, as_of in snapshots:
        # Asked of the simulator's ledger directly, as of the moment the run read its balances.
        for tree in ledger.balances(account, now, as_of=as_of):
            for node in _walk(tree):
                if node["balanceType"] == "DEFERRED":
                    key = (account, node["amount"]["currencyCode"])
                    expected[key] = expected.get(key, Decimal(0)) + Decimal(
                        str(node["amount"]["currencyAmount"])
                    )
        # Amazon lists transactions only up to its listing lag before a request, while the balance is as of the
        # request: deferred money posted in that gap is in the balance and not yet in the lake. Only that money
        # may be missing (older money missing fails the assertion here or the equality below); it is taken out
        # of the expectation. Statuses as seen at the snapshot.
        for transaction in ledger.transactions(
            account,
            as_of,
            posted_after=as_of - timedelta(hours=1),
            posted_before=as_of + timedelta(microseconds=1),
        ):
            if transaction["transactionStatus"] != "DEFERRED" or transaction["transactionId"] in landed:
                continue
            posted = datetime.fromisoformat(transaction["postedDate"].replace("Z", "+00:00"))
            assert posted > as_of - FINANCES_SAFE_LAG - timedelta(minutes=1), transaction["transactionId"]
            key = (account, transaction["totalAmount"]["currencyCode"])
            expected[key] -= Decimal(str(transaction["totalAmount"]["currencyAmount"]))
    assert expected and all(amount > 0 for amount in expected.values())
    assert schedule == expected


def _walk(node: dict):  # type: ignore[no-untyped-def]
    yield node
    for child in node.get("balances") or []:
        yield from _walk(child)


def test_every_settlements_sources_agree(pipeline) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(
        pipeline.warehouse,
        "select account_id, sources_compared, sources_agree from marts.fct_settlement_sources",
    )
    assert rows and all(agree for _, _, agree in rows)
    most = {account: max(n for a, n, _ in rows if a == account) for account, _, _ in rows}
    # demo-na reads both: report, listSummary, transactions and its v0 group all state the same payout.
    assert most == {"demo-na": 4, "demo-eu": 3}


def test_finance_checks_pass_on_the_demo_data(pipeline) -> None:  # type: ignore[no-untyped-def]
    data = DataDirResource(data_dir=str(pipeline.landing.root))
    results = {
        name: evaluate(check, data=data)
        for name, check in (
            (checks.TRANSACTION_BREAKDOWNS_SUM, checks.transaction_breakdowns_sum),
            (checks.SETTLEMENT_SOURCES_AGREE, checks.settlement_sources_agree),
            (checks.DEFERRED_BALANCE_MATCHES, checks.deferred_balance_matches),
            (checks.DEFERRED_RELEASE_OVERDUE, checks.deferred_release_overdue),
            (checks.FINANCIAL_EVENTS_UNKNOWN_TYPES, checks.financial_events_unknown_types),
        )
    }
    deferred = results.pop(checks.DEFERRED_BALANCE_MATCHES)
    failed = {name: result.metadata for name, result in results.items() if not result.passed}
    assert not failed, failed
    assert deferred.metadata["currencies_compared"].value == 3
    # One run, so no snapshot is covered yet; the run's own may differ only by the money the simulator posted
    # in the minutes listTransactions does not reach yet (when the suite happens to run right after one).
    in_flight: dict[tuple[str, str], Decimal] = {}
    for account_id in ("demo-na", "demo-eu"):
        for currency, amount in in_flight_deferred(pipeline.landing.simulator, account_id).items():
            in_flight[(account_id, currency)] = amount
    differences = {
        (row["account_id"], row["currency"]): Decimal(row["difference"])
        for row in deferred.metadata["comparison"].value
        if row["comparison"] == "provisional" and Decimal(row["difference"]) != 0
    }
    assert differences == {key: amount for key, amount in in_flight.items() if amount}, differences
    assert deferred.passed == (not differences)
    if differences:
        assert deferred.severity == checks.dg.AssetCheckSeverity.WARN


def test_demo_summary_prints_deferred_money_and_maturities(pipeline) -> None:  # type: ignore[no-untyped-def]
    lines = deferred_lines(pipeline.warehouse)
    first_maturity = _rows(
        pipeline.warehouse,
        "select min(maturity_date) from marts.rpt_deferred_schedule where account_id = 'demo-eu'",
    )[0][0]
    headline = [line for line in lines if "demo-eu" in line and "outstanding" in line]
    assert len(headline) == 1 and f"maturing {first_maturity}" in headline[0]
    total = _rows(
        pipeline.warehouse,
        "select sum(deferred_amount) from marts.rpt_deferred_schedule where account_id = 'demo-eu'",
    )[0][0]
    assert f"{total} EUR" in headline[0]


# -- vendor finance (issue 19): invoices, deductions, PO to cash, shortage claims --------------------------------


def test_vendor_invoices_in_every_status_reconcile_to_the_cent(pipeline) -> None:  # type: ignore[no-untyped-def]
    statuses = {
        s
        for (s,) in _rows(pipeline.warehouse, "select distinct invoice_status from marts.fct_vendor_invoices")
    }
    assert statuses == {"IN_PROGRESS", "PAID", "PARTIALLY_PAID", "PARTIALLY_DEDUCTED", "DEDUCTED", "REJECTED"}
    broken = _rows(
        pipeline.warehouse,
        """
        select invoice_identifier from marts.fct_vendor_invoices
        where invoice_amount <> paid_amount + queued_amount + quick_pay_discount + quantity_variance_amount
              + price_variance_amount + other_deduction_amount + open_amount
           or open_amount < 0 or not lines_sum_to_amount or not reconciles
           or (invoice_status in ('PAID', 'DEDUCTED') and open_amount <> 0)
           or (invoice_status = 'DEDUCTED') <> (invoice_status in ('PAID', 'DEDUCTED') and deduction_amount > 0)
        """,
    )
    assert broken == []
    types = {
        t
        for (t,) in _rows(
            pipeline.warehouse, "select distinct typeof(invoice_amount) from marts.fct_vendor_invoices"
        )
    }
    assert types == {"DECIMAL(18,2)"}
    # Every deduction is listed once, and they add up to each invoice's deductions.
    differing = _rows(
        pipeline.warehouse,
        """
        select i.invoice_identifier from marts.fct_vendor_invoices i
        left join (select invoice_identifier, sum(amount) as total from marts.fct_vendor_deductions group by 1) d
            using (invoice_identifier)
        where i.deduction_amount <> coalesce(d.total, 0)
        """,
    )
    assert differing == []
    categories = {
        c for (c,) in _rows(pipeline.warehouse, "select distinct category from marts.fct_vendor_deductions")
    }
    assert categories == {"shortage", "price", "allowance"}


def test_vendor_shortage_claims_are_the_planted_shortages_and_nothing_else(pipeline) -> None:  # type: ignore[no-untyped-def]
    ledger = pipeline.landing.simulator.ledger
    planted = {
        (invoice.number, line.short_units * line.unit_cost)
        for invoice in ledger.vendor_invoice_plan()
        if invoice.role == "shortage_planted"
        for line in invoice.lines
        if line.short_units
    }
    assert planted
    claims = set(
        _rows(
            pipeline.warehouse, "select invoice_number, amount_at_stake from marts.rpt_vendor_shortage_claims"
        )
    )
    assert claims == planted
    # Both Amazon's receipts and the vendor's shipment (ASN) contradict each planted shortage.
    evidence = _rows(
        pipeline.warehouse,
        "select receipts_contradict, shipment_contradicts from marts.rpt_vendor_shortage_claims",
    )
    assert set(evidence) == {(True, True)}
    # The shortages that are right (Amazon received fewer units) show on the closed PO as invoiced beyond
    # receipts (an open PO may still await a delivery its invoice already covers).
    right = {invoice.po.number for invoice in ledger.vendor_invoice_plan() if invoice.role == "shortage_true"}
    short_pos = {
        po
        for (po,) in _rows(
            pipeline.warehouse,
            "select purchase_order_number from marts.rpt_vendor_po_to_cash "
            "where received_not_invoiced_quantity < 0 and purchase_order_status = 'CLOSED'",
        )
    }
    assert right and short_pos == right
    [(longest,)] = _rows(
        pipeline.warehouse, "select max(days_left_to_dispute) from marts.rpt_vendor_shortage_claims"
    )
    assert 0 < longest <= 30 + 60  # the window starts at payment, at the latest on the due date (NET60)


def test_vendor_po_to_cash_carries_every_invoiced_dollar(pipeline) -> None:  # type: ignore[no-untyped-def]
    [(po_invoiced, po_paid, po_deducted)] = _rows(
        pipeline.warehouse,
        "select sum(invoiced_amount), sum(paid_amount), sum(deducted_amount) from marts.rpt_vendor_po_to_cash",
    )
    [(invoiced, paid, deducted)] = _rows(
        pipeline.warehouse,
        "select sum(invoice_amount), sum(paid_amount), sum(deduction_amount) from marts.fct_vendor_invoices "
        "where invoice_status <> 'REJECTED'",
    )
    assert (po_invoiced, po_paid, po_deducted) == (invoiced, paid, deducted) and invoiced > 0
    unsettled = _rows(
        pipeline.warehouse,
        "select purchase_order_number from marts.rpt_vendor_po_to_cash where invoiced_not_settled < 0",
    )
    assert unsettled == []


def test_vendor_checks_on_the_built_marts(pipeline) -> None:  # type: ignore[no-untyped-def]
    from orchestration.vendor_orders import checks as vendor_checks

    data = DataDirResource(data_dir=str(pipeline.landing.root))
    lines = evaluate(vendor_checks.vendor_invoice_lines_sum, data=data)
    assert lines.passed and lines.metadata["invoices_not_adding_up"].value == 0
    past_due = evaluate(vendor_checks.vendor_invoices_past_due, data=data)
    [(expected,)] = _rows(
        pipeline.warehouse, "select count(*) from marts.fct_vendor_invoices where days_past_due > 0"
    )
    assert past_due.passed is (expected == 0)
    assert past_due.metadata["invoices_past_due"].value == expected
    rate = evaluate(vendor_checks.vendor_deduction_rate, data=data)
    assert rate.metadata["months"].value > 0


def test_the_demo_summary_prints_the_vendors_money(pipeline) -> None:  # type: ignore[no-untyped-def]
    from acorn_cli.summary import vendor_lines

    [line] = vendor_lines(pipeline.warehouse)
    [(invoiced, paid, deducted)] = _rows(
        pipeline.warehouse,
        "select sum(invoice_amount), sum(paid_amount), sum(deduction_amount) from marts.fct_vendor_invoices "
        "where invoice_status <> 'REJECTED'",
    )
    [(at_stake,)] = _rows(
        pipeline.warehouse, "select sum(amount_at_stake) from marts.rpt_vendor_shortage_claims"
    )
    assert line.startswith("  demo-vendor  USD")
    for words in (f"invoiced {invoiced} ", f"paid {paid},", f"deducted {deducted},", f"disputes {at_stake} "):
        assert words in line, (words, line)
