"""End to end, as a user runs it: `acorn demo` (clean and hostile) in a subprocess, on fresh data dirs.

One clean run and one hostile run (with known fake secrets in the environment) are shared by the tests below
(tests/e2e/conftest.py), because each demo takes a while; the assertions are independent.
"""

from __future__ import annotations

import json
import os
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from data_state import marts_rows
from demo_runs import FAKE_SECRETS

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]


def test_demo_lands_at_least_six_reconciled_payouts(clean_demo: dict[str, object]) -> None:
    warehouse = Path(str(clean_demo["data_dir"])) / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        payouts = connection.execute("select settlement_id, is_reconciled from marts.fct_payouts").fetchall()
        accounts = connection.execute("select count(distinct account_id) from marts.fct_payouts").fetchone()
        marketplaces = connection.execute(
            "select count(distinct marketplace_name) from marts.fct_settlement_lines"
        ).fetchone()
    assert len(payouts) >= 6
    assert all(reconciled for _, reconciled in payouts), payouts
    assert accounts is not None and accounts[0] >= 1
    assert marketplaces is not None and marketplaces[0] >= 2
    output = str(clean_demo["output"])
    header = next(line for line in output.splitlines() if "settlement" in line and "reconciled" in line)
    assert header.split() == [
        "account",
        "marketplace",
        "settlement",
        "deposit",
        "amount",
        "cur",
        "reconciled",
    ]
    assert "marts.fct_payouts:" in output


def test_hostile_demo_leaves_the_same_warehouse(
    clean_demo: dict[str, object], hostile_demo: dict[str, object]
) -> None:
    clean = marts_rows(Path(str(clean_demo["data_dir"])) / "warehouse.duckdb")
    hostile = marts_rows(Path(str(hostile_demo["data_dir"])) / "warehouse.duckdb")
    assert clean.keys() == hostile.keys()
    for table in clean:
        assert clean[table] == hostile[table], f"marts.{table} differs between clean and hostile runs"


def test_hostile_request_log_shows_throttling_and_tokenless_downloads(
    hostile_demo: dict[str, object],
) -> None:
    entries = [json.loads(line) for line in Path(str(hostile_demo["request_log"])).read_text().splitlines()]
    spapi = [e for e in entries if e["origin"] == "spapi"]
    documents = [e for e in entries if e["origin"] == "documents"]
    assert any(e["status"] == 429 for e in spapi), "no throttled call in the hostile run"
    assert documents, "no document download logged"
    for entry in documents:
        names = {name.lower() for name in entry["headers"]}
        assert "x-amz-access-token" not in names and "authorization" not in names, entry
    for entry in entries:
        assert all(isinstance(name, str) and ":" not in name for name in entry["headers"])


def _all_text_under(root: Path) -> list[tuple[Path, bytes]]:
    return [(path, path.read_bytes()) for path in root.rglob("*") if path.is_file()]


def test_no_secret_or_access_token_leaks(hostile_demo: dict[str, object]) -> None:
    needles = [value.encode() for value in FAKE_SECRETS.values()] + [b"Atza|"]
    places = [Path(str(hostile_demo["data_dir"])), Path(str(hostile_demo["home"]))]
    leaks = []
    for place in places:
        for path, content in _all_text_under(place):
            leaks += [f"{path}: {needle!r}" for needle in needles if needle in content]
    output = str(hostile_demo["output"]).encode()
    leaks += [f"output: {needle!r}" for needle in needles if needle in output]
    log = Path(str(hostile_demo["request_log"])).read_bytes()
    leaks += [f"request log: {needle!r}" for needle in needles if needle in log]
    assert not leaks, leaks


# ----- the dashboard (`acorn dashboard`) in a real browser, on the clean demo's warehouse -----


def _sum(connection: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> Decimal:
    row = connection.execute(sql, params).fetchone()
    return Decimal(row[0]) if row and row[0] is not None else Decimal("0.00")


def _marts_figures(
    warehouse: Path, account: str | None, currency: str, marketplace: str | None
) -> dict[str, Decimal]:
    """The dashboard's headline figures, computed here with SQL straight from the marts."""
    where = "currency = ?" + (" and account_id = ?" if account else "")
    params: list[object] = [currency, *([account] if account else [])]
    place, place_params = (" and marketplace_name = ?", [marketplace]) if marketplace else ("", [])
    sale = "transaction_type = 'Order' and amount_type = 'ItemPrice' and amount_description <> 'Tax'"
    refund = "transaction_type = 'Refund' and amount_type = 'ItemPrice' and amount_description <> 'Tax'"
    lines = f"from marts.fct_settlement_lines where {where}{place}"
    p = params + place_params
    with duckdb.connect(str(warehouse), read_only=True) as c:
        figures = {
            "sales": _sum(c, f"select sum(amount) {lines} and {sale}", p),
            "net": _sum(c, f"select sum(amount) {lines}", p),
            "refunds": _sum(c, f"select sum(amount) {lines} and {refund}", p),
            "fees": _sum(c, f"select sum(amount) from marts.fct_fees where {where}{place}", p),
            "paid": _sum(c, f"select sum(total_amount) from marts.fct_payouts where {where}{place}", p),
            "payouts": _sum(c, f"select count(*) from marts.fct_payouts where {where}{place}", p),
            "deferred": _sum(
                c, f"select sum(deferred_amount) from marts.rpt_deferred_schedule where {where}{place}", p
            ),
            "reserve": -_sum(
                c,
                f"""select sum(amount) from marts.fct_settlement_lines
                    where amount_description = 'Current Reserve Amount' and settlement_id in (
                        select max_by(settlement_id, period_end_at) from marts.fct_payouts
                        where {where}{place} group by account_id, marketplace_name)""",
                p,
            ),
        }
        figures["open_period"] = _sum(
            c, f"select sum(balance_so_far) from marts.rpt_payout_forecast where {where}{place}", p
        )
        amazon = c.execute(
            f"select sum(amazon_expected_amount) from marts.rpt_payout_forecast where {where}{place}", p
        ).fetchone()
        figures["amazon"] = Decimal(amazon[0]) if amazon and amazon[0] is not None else Decimal("-1")
        figures["scheduled"] = _sum(
            c, f"select sum(amount) from marts.fct_scheduled_payouts where {where}{place}", p
        )
    return figures


def _share(part: Decimal, whole: Decimal) -> Decimal:
    return (part / whole * 100).quantize(Decimal("0.01")) if whole else Decimal("0")


def test_the_dashboard_shows_the_marts_figures_on_every_page(
    clean_demo: dict[str, object], tmp_path: Path
) -> None:
    from dashboard_browser import Browser, amount, browser_or_skip, percent, running_dashboard

    chromium, chromedriver = browser_or_skip()
    data_dir = Path(str(clean_demo["data_dir"]))
    warehouse = data_dir / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as c:
        # Chosen by property: the account and currency paid out in the most marketplaces, one of them, a
        # currency across every account, and the vendor account with the most purchase-order lines.
        account, currency = c.execute(
            "select account_id, currency from marts.fct_payouts group by all "
            "order by count(distinct marketplace_name) desc, account_id, currency limit 1"
        ).fetchone()  # type: ignore[misc]
        marketplace = c.execute(
            "select min(marketplace_name) from marts.fct_payouts where account_id = ? and currency = ?",
            [account, currency],
        ).fetchone()[0]  # type: ignore[index]
        any_account_currency = c.execute(
            "select currency from marts.fct_payouts group by 1 order by count(distinct account_id) desc, 1 limit 1"
        ).fetchone()[0]  # type: ignore[index]
        vendor, vendor_currency = c.execute(
            "select account_id, currency from marts.fct_vendor_po_lines group by all order by count(*) desc limit 1"
        ).fetchone()  # type: ignore[misc]
        vendor_expected = c.execute(
            "select count(*) filter (where open_quantity > 0), sum(open_value), sum(received_value), "
            "sum(ordered_value) from marts.fct_vendor_po_lines where account_id = ? and currency = ?",
            [vendor, vendor_currency],
        ).fetchone()
    # The demo's summary says "  N of M checks failed:" or "  all M checks passed".
    count = r"^\s+(?:(\d+) of (\d+) checks failed|all (\d+) checks passed)"
    summary = re.search(count, str(clean_demo["output"]), re.M)
    assert summary is not None, "the demo printed no check count"
    failed_checks = int(summary.group(1) or 0)
    all_checks = int(summary.group(2) or summary.group(3))

    # ACORN_DASHBOARD_SCREENSHOTS=docs/dashboard refreshes the README's screenshots.
    shots = os.environ.get("ACORN_DASHBOARD_SCREENSHOTS")
    screenshots = Path(shots) if shots else None
    browser = Browser(chromium, chromedriver)
    try:
        with running_dashboard(data_dir.parent) as url:
            seller = {"account": account, "currency": currency}
            pages = {}
            for path, title in [
                ("income", "Income and net proceeds"),
                ("money-held", "Money held by Amazon"),
                ("payouts", "Payouts"),
                ("fees", "Fees"),
                ("refunds", "Refunds"),
                ("checks", "Checks and anomalies of the last build"),
            ]:
                shot = screenshots / f"{path}.png" if screenshots else None
                pages[path] = browser.load(url, path, seller, screenshot=shot)
                assert pages[path].title == title
            pages["vendor"] = browser.load(
                url,
                "vendor",
                {"account": vendor, "currency": vendor_currency},
                screenshot=screenshots / "vendor.png" if screenshots else None,
            )
            pages["marketplace"] = browser.load(url, "payouts", {**seller, "marketplace": marketplace})
            pages["all-accounts"] = browser.load(url, "income", {"currency": any_account_currency})
            pages["all-checks"] = browser.load(url, "checks", {"currency": any_account_currency})
    finally:
        browser.close()

    for name, page in pages.items():
        assert not page.errors, f"{name} shows an error: {page.errors}"
        assert "Data last built" in page.text, name

    expected = _marts_figures(warehouse, account, currency, None)
    income, held, payouts = pages["income"].metrics, pages["money-held"].metrics, pages["payouts"].metrics
    fees, refunds = pages["fees"].metrics, pages["refunds"].metrics
    assert amount(income["Sales"], currency) == expected["sales"] != 0
    assert amount(income["Net proceeds"], currency) == expected["net"] != 0
    assert amount(held["Deferred, not yet matured"], currency) == expected["deferred"] != 0
    assert amount(held["Open period so far"], currency) == expected["open_period"]
    assert amount(held["Reserve held"], currency) == expected["reserve"]
    assert amount(payouts["Paid out"], currency) == expected["paid"] != 0
    assert Decimal(payouts["Payouts"]) == expected["payouts"]
    assert amount(payouts["Scheduled, no report yet"], currency) == expected["scheduled"]
    shown = payouts["Amazon expects, open periods"]
    assert (amount(shown, currency) if shown != "-" else Decimal("-1")) == expected["amazon"]
    assert amount(fees["Fees"], currency) == expected["fees"] != 0
    assert percent(fees["Fees as a share of sales"]) == _share(-expected["fees"], expected["sales"])
    assert amount(refunds["Refunds"], currency) == expected["refunds"] != 0
    assert percent(refunds["Refund rate"]) == _share(-expected["refunds"], expected["sales"])

    one_marketplace = _marts_figures(warehouse, account, currency, marketplace)
    assert amount(pages["marketplace"].metrics["Paid out"], currency) == one_marketplace["paid"]
    assert 0 < one_marketplace["paid"] < expected["paid"]

    every_account = _marts_figures(warehouse, None, any_account_currency, None)
    assert amount(pages["all-accounts"].metrics["Net proceeds"], any_account_currency) == every_account["net"]

    assert int(pages["all-checks"].metrics["Checks failed"]) == failed_checks
    assert int(pages["all-checks"].metrics["Checks evaluated"]) == all_checks

    vendor_page = pages["vendor"].metrics
    assert vendor_expected is not None
    assert int(vendor_page["Open PO lines"]) == vendor_expected[0]
    assert amount(vendor_page["Open value"], vendor_currency) == Decimal(vendor_expected[1]).quantize(
        Decimal("0.01")
    )
    assert amount(vendor_page["Received value"], vendor_currency) == Decimal(vendor_expected[2]).quantize(
        Decimal("0.01")
    )
    assert amount(vendor_page["Ordered value"], vendor_currency) == Decimal(vendor_expected[3]).quantize(
        Decimal("0.01")
    )


# Every column of every mart varies across the demo, unless listed here with its reason. The demo varies
# (several accounts, marketplaces, currencies, SKUs, fee types, refunds), so a constant column is a column nothing
# fills (the way the storage and subscription fee columns, units_refunded, fct_refunds.quantity and
# dim_account.time_zone once were). Two lists: columns with one value by design of the demo's data (they must
# still be filled: at least one value), and columns Amazon fills in real data (parsed by transforms/ from the
# field named) in a case the demo never has (they may be empty).
ONE_VALUE_BY_DESIGN: dict[tuple[str, str], str] = {
    ("dim_account", "is_configured"): "every demo account is in config/demo.toml (no imported-only account)",
    ("dim_account", "unreconciled_settlement_count"): "every demo settlement reconciles (clean profile)",
    ("dim_marketplace", "is_known"): "every marketplace the demo pays in is in the marketplaces seed",
    ("fct_fees", "is_fee_type_known"): "the demo's fee types are all in the fee_taxonomy seed",
    ("fct_financial_events", "account_id"): "only the demo's NA seller has v0 financial events",
    ("fct_journal_lines", "is_negative_settlement"): "no demo settlement has a negative total",
    ("fct_journal_lines", "rule_version"): "one posting-rules version (the seed's) is in force",
    ("fct_payouts", "difference"): "every demo settlement reconciles (difference 0)",
    ("fct_payouts", "is_reconciled"): "every demo settlement reconciles",
    ("fct_payouts", "source_layout"): "the simulator writes one settlement report layout (flat file v2)",
    (
        "fct_refunds",
        "quantity",
    ): "every demo refund returns one unit (the rest of a refund's lines carry none)",
    (
        "fct_settlement_lines",
        "source_layout",
    ): "the simulator writes one settlement report layout (flat file v2)",
    ("fct_settlement_sources", "event_group_difference"): "the demo's sources agree (difference 0)",
    ("fct_settlement_sources", "event_group_link"): "every demo event group links through its transactions",
    ("fct_settlement_sources", "sources_agree"): "the demo's sources agree",
    ("fct_settlement_sources", "summary_difference"): "the demo's sources agree (difference 0)",
    ("fct_settlement_sources", "transactions_difference"): "the demo's sources agree (difference 0)",
    ("fct_sku_daily", "reporting_currency"): "a label: the dbt var reporting_currency",
    ("fct_transactions", "amount_source"): "every demo transaction has breakdowns",
    ("fct_transactions", "breakdowns_agree"): "the demo's breakdowns sum to their totals",
    ("fct_transactions", "transaction_id_is_derived"): "every demo transaction carries Amazon's id",
    ("fct_vendor_invoice_lines", "line_item_type"): "the demo vendor invoices goods only",
    ("fct_vendor_invoice_lines", "ppv_reasons"): "one price variance reason (deal buy) in the demo",
    (
        "fct_vendor_invoice_lines",
        "pqv_reasons",
    ): "one quantity variance reason (shortage in transit) in the demo",
    ("fct_vendor_invoices", "as_of_date"): "one build's date",
    ("fct_vendor_invoices", "invoice_type"): "the demo vendor's invoices are all AP inventory",
    ("fct_vendor_invoices", "lines_sum_to_amount"): "every demo invoice's lines sum to its amount",
    ("fct_vendor_invoices", "marketplace_id"): "one vendor account on one marketplace",
    ("fct_vendor_invoices", "payee_code"): "one vendor account",
    ("fct_vendor_invoices", "payment_terms"): "one vendor agreement (NET60)",
    ("fct_vendor_invoices", "reconciles"): "every demo vendor invoice reconciles with its PO and payments",
    ("fct_vendor_invoices", "statuses_seen"): "each demo invoice is seen in one status",
    ("fct_vendor_po_lines", "selling_party_id"): "one vendor account",
    ("rpt_payout_forecast", "payout_history_count"): "every demo marketplace has the same settlement history",
    ("rpt_payout_forecast", "reporting_currency"): "a label: the dbt var reporting_currency",
    ("rpt_payout_forecast", "typical_period_days"): "every demo marketplace settles every 14 days",
    ("rpt_vendor_shortage_claims", "reason"): "the demo's shortages are all in transit",
    (
        "rpt_vendor_shortage_claims",
        "receipts_contradict",
    ): "the demo's shortage claims all contradict receipts",
    (
        "rpt_vendor_shortage_claims",
        "shipment_contradicts",
    ): "the demo's shortage claims all contradict shipments",
}
NOT_IN_THE_DEMO: dict[tuple[str, str], str] = {
    ("fct_financial_events", "marketplace_id"): (
        "MarketplaceId: only AffordabilityExpense, NetworkCommingling and SolutionProviderCredit events carry it "
        "(financesV0 model); the demo has none of them (marketplace_name is filled)"
    ),
    (
        "fct_transactions",
        "refund_id",
    ): "relatedIdentifier REFUND_ID (finances 2024-06-19): the simulator's refunds name only their order",
    ("fct_transactions", "deferred_transaction_id"): (
        "relatedIdentifier DEFERRED_TRANSACTION_ID (finances 2024-06-19): the simulator defers a transaction in place "
        "(DEFERRED, then DEFERRED_RELEASED), never as a separate release transaction"
    ),
    ("fct_transactions", "release_transaction_id"): (
        "relatedIdentifier RELEASE_TRANSACTION_ID (finances 2024-06-19): the simulator defers a transaction in place "
        "(DEFERRED, then DEFERRED_RELEASED), never as a separate release transaction"
    ),
    ("fct_vendor_invoice_lines", "other_variance_reasons"): (
        "varianceReasons of type OTHER (financesInvoices model): the demo's variances are PQV and PPV"
    ),
    ("fct_vendor_invoice_lines", "tax_rate_codes"): (
        "taxRateCodes of a taxed line (financesInvoices model): the demo's invoice lines carry no tax"
    ),
    ("fct_vendor_invoices", "return_ids"): (
        "relatedIdentifier RETURN_IDS (financesInvoices model): the demo vendor has no returns"
    ),
    ("fct_vendor_po_lines", "net_cost_unit_of_measure"): (
        "Money.unitOfMeasure (vendorOrders model), absent when sold by eaches: the demo sells nothing by weight"
    ),
}
# The vendor marts hold one vendor account, in one currency.
for _table in (
    "fct_vendor_deductions",
    "fct_vendor_invoice_lines",
    "fct_vendor_invoices",
    "fct_vendor_po_lines",
    "rpt_vendor_po_to_cash",
    "rpt_vendor_shortage_claims",
):
    ONE_VALUE_BY_DESIGN[(_table, "account_id")] = "one vendor account in the demo"
    ONE_VALUE_BY_DESIGN[(_table, "currency")] = "one vendor account, paid in one currency"
# Columns whose number of values depends on the simulated day, from none to several: checked on no date.
DEPENDS_ON_THE_DAY: dict[tuple[str, str], str] = {
    ("rpt_payout_forecast", "balance_observed_at"): (
        "when Amazon last stated each open balance: one time per build, none on a day no open period has one"
    ),
    ("dim_date", "year"): "the demo's months of history fall in one calendar year on some days",
    ("dim_date", "iso_year"): "the demo's months of history fall in one ISO year on some days",
    ("fct_event_group_reconciliation", "fund_transfer_status"): (
        "whether a transfer is still in progress on the day: on some days every group's has succeeded"
    ),
    ("rpt_payout_forecast", "balance_source"): (
        "where each open period's balance comes from (event groups or Amazon's expected payout): on some days "
        "every marketplace's comes from the same place"
    ),
}
# A table of fewer rows than this (one per marketplace, a few planted claims) may hold one value in a column on
# some days: there, a column only has to hold a value.
FEW_ROWS = 10
# Tables whose rows depend on the run date (empty on some dates, one row on others): not checked, whatever date.
DATE_DEPENDENT_TABLES = {
    "fct_scheduled_payouts": "a payout Amazon has scheduled but not yet settled exists only part of each cycle",
    "rpt_books_unmapped": "empty whenever every demo line has a posting rule (the goal); rows only on a gap",
}


def test_every_column_of_every_mart_varies_across_the_demo(clean_demo: dict[str, object]) -> None:
    warehouse = Path(str(clean_demo["data_dir"])) / "warehouse.duckdb"
    constant: list[str] = []
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        columns = connection.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'marts' order by table_name, ordinal_position"
        ).fetchall()
        tables = sorted({table for table, _ in columns})
        assert "fct_sku_daily" in tables and "dim_account" in tables, tables
        for table in tables:
            if table in DATE_DEPENDENT_TABLES:
                continue
            rows = connection.execute(f'select count(*) from marts."{table}"').fetchone()[0]  # type: ignore[index]
            if rows == 0:
                constant.append(f"{table} (empty)")
                continue
            for column in (c for t, c in columns if t == table):
                if (table, column) in NOT_IN_THE_DEMO or (table, column) in DEPENDS_ON_THE_DAY:
                    continue
                distinct = connection.execute(
                    f'select count(distinct "{column}") from marts."{table}"'
                ).fetchone()
                wanted = 1 if (table, column) in ONE_VALUE_BY_DESIGN or rows < FEW_ROWS else 2
                if distinct[0] < wanted:  # type: ignore[index]
                    constant.append(f"{table}.{column} ({distinct[0]} values)")  # type: ignore[index]
    assert not constant, f"mart columns that do not vary (or are empty) across the demo: {constant}"


def test_dim_account_holds_every_configured_account_and_every_fact_joins_it(
    clean_demo: dict[str, object],
) -> None:
    from orchestration.paths import REPO_ROOT
    from spapi.config import load_config

    configured = load_config(REPO_ROOT / "config" / "demo.toml").accounts
    warehouse = Path(str(clean_demo["data_dir"])) / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            "select account_id, account_type, region, marketplace_ids, is_configured from marts.dim_account"
        ).fetchall()
        facts = [
            row[0]
            for row in connection.execute(
                "select table_name from information_schema.columns where table_schema = 'marts' "
                "and column_name = 'account_id' and table_name <> 'dim_account'"
            ).fetchall()
        ]
        orphans = {
            fact: connection.execute(
                f"select count(*) from marts.{fact} where account_id is not null "
                "and account_id not in (select account_id from marts.dim_account)"
            ).fetchone()[0]  # type: ignore[index]
            for fact in facts
        }
    assert {row[0]: row[1:] for row in rows} == {
        a.id: (a.kind, a.region, ",".join(a.marketplaces), True) for a in configured
    }
    assert "vendor" in {a.kind for a in configured}
    assert len(facts) >= 10 and not any(orphans.values()), orphans
