"""What `acorn demo` prints at the end: payouts and their reconciliation, deferred money, rows per mart, the
checks that failed."""

from __future__ import annotations

from pathlib import Path

from acorn_cli.runs import CheckReport
from orchestration.published_warehouse import read_only
from orchestration.warehouse_catalog import configured_warehouse


def mart_row_counts(warehouse: Path) -> dict[str, int]:
    with read_only(warehouse) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        return {t: connection.execute(f'select count(*) from marts."{t}"').fetchone()[0] for t in tables}  # type: ignore[index]


PAYOUT_COLUMNS = ("account", "marketplace", "settlement", "deposit", "amount", "cur", "reconciled")


def payout_lines(warehouse: Path) -> list[str]:
    """The payouts as a table with a header: one row per settlement, its marketplace beside it (two
    marketplaces of one account pay out separately, often on the same day)."""
    with read_only(warehouse) as connection:
        rows = connection.execute(
            """
            select account_id, marketplace_name, settlement_id, cast(deposit_at as date), total_amount, currency,
                   is_reconciled, difference
            from marts.fct_payouts
            order by account_id, marketplace_name, currency, deposit_at, settlement_id
            """
        ).fetchall()
    if not rows:
        return []
    cells = [
        [
            account or "-",
            marketplace or "-",
            str(settlement),
            str(deposit),
            str(total),
            currency,
            "yes" if reconciled else f"NO (off by {difference})",
        ]
        for account, marketplace, settlement, deposit, total, currency, reconciled, difference in rows
    ]
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(PAYOUT_COLUMNS)]

    def render(values: list[str] | tuple[str, ...]) -> str:
        parts = [
            v.rjust(w) if i == 4 else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        return "  " + "  ".join(parts).rstrip()

    return [render(PAYOUT_COLUMNS), render(tuple("-" * w for w in widths)), *(render(row) for row in cells)]


def expected_demo_failures() -> set[str]:
    """The checks the demo data is built to fail: one per deliberate anomaly the simulator's ledger injects
    for the simulated day (an anomaly with no check of its own name is shown in a mart, not by a check)."""
    from orchestration.resources import simulated_start
    from simulator.ledger import Ledger

    ledger = Ledger(seed=7, today=simulated_start().date())
    expected = {a.anomaly_id for a in ledger.injected_anomalies()} & DEMO_CHECKED_ANOMALIES
    # The vendor's held invoice line (simulator/ledger/vendor_invoices.py) is past due and unpaid by design.
    if any(invoice.role == "held_line" for invoice in ledger.vendor_invoice_plan()):
        expected.add(VENDOR_PAST_DUE_CHECK)
    return expected


VENDOR_PAST_DUE_CHECK = "vendor_invoices_past_due"

# The anomalies that a check of the same name catches (v0_group_mismatch shows in a mart instead).
DEMO_CHECKED_ANOMALIES = frozenset(
    {"settlement_schema_drift", "payout_amount_anomaly", "fee_rate_anomaly", "refund_rate_anomaly"}
)


def deferred_lines(warehouse: Path, *, max_dates: int = 6) -> list[str]:
    """Money Amazon still holds (DD+7, B2B) per account and currency, and when it matures (from
    marts.rpt_deferred_schedule)."""
    with read_only(warehouse) as connection:
        present = connection.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'marts' and table_name = 'rpt_deferred_schedule'"
        ).fetchone()
        if not present or not present[0]:
            return []
        rows = connection.execute(
            """
            select account_id, currency, maturity_date, sum(deferred_amount)
            from marts.rpt_deferred_schedule
            group by account_id, currency, maturity_date
            order by account_id, currency, maturity_date
            """
        ).fetchall()
    by_account: dict[tuple[str, str], list[tuple[object, object]]] = {}
    for account, currency, maturity, amount in rows:
        by_account.setdefault((account, currency), []).append((maturity, amount))
    lines = []
    for (account, currency), dates in by_account.items():
        total = sum(amount for _, amount in dates)  # type: ignore[misc]
        span = f"{dates[0][0]} .. {dates[-1][0]}"
        lines.append(f"  {account:<12} {total:>12} {currency:<3}  outstanding, maturing {span}")
        shown = dates[:max_dates]
        lines += [f"  {'':<12} {amount:>12} {currency:<3}  on {maturity}" for maturity, amount in shown]
        if len(dates) > max_dates:
            lines.append(f"  {'':<12} {'...':>12}      ({len(dates) - max_dates} later dates)")
    return lines


def forecast_lines(warehouse: Path) -> list[str]:
    """The open period's payout per account and marketplace (the unit Amazon pays): ACORN's estimate beside
    Amazon's expected payout for the same marketplace and period, where stated."""
    with read_only(warehouse) as connection:
        rows = connection.execute(
            """
            select account_id, marketplace_name, currency, cast(expected_deposit_at as date), expected_amount,
                   expected_amount_low, expected_amount_high, known_amount_by_period_end, amazon_expected_amount,
                   cast(amazon_expected_at as date)
            from marts.rpt_payout_forecast
            order by account_id, marketplace_name, currency
            """
        ).fetchall()
    lines = []
    for account, marketplace, currency, deposit, estimate, low, high, known, amazon, amazon_at in rows:
        stated = (
            f"; Amazon's expected payout for this period: {amazon} {currency} so far, scheduled {amazon_at}"
            if amazon is not None
            else ""
        )
        lines.append(
            f"  {account:<12} {marketplace:<11} {currency}  ~{estimate} ({low} .. {high}) around {deposit}; "
            f"open balance + deferred maturing by then {known}{stated}"
        )
    return lines


def books_lines(warehouse: Path) -> list[str]:
    """Per account: the journals posted (settlement month parts, deferred and released money) and whether each
    settlement's journal equals its deposit (its bank or card line is its total-amount)."""
    with read_only(warehouse) as connection:
        rows = connection.execute(
            """
            with settlements as (
                select account_id, source_settlement_id,
                       sum(debit - credit) filter (where category in ('bank', 'card')) = any_value(settlement_total)
                           as equals_deposit
                from marts.fct_journal_lines
                where journal_kind = 'settlement'
                group by account_id, source_settlement_id
            ),
            journals as (
                select account_id,
                       count(distinct journal_id) filter (where journal_kind = 'settlement') as settlement_journals,
                       count(distinct journal_id) filter (where journal_kind <> 'settlement') as deferred_journals
                from marts.fct_journal_lines
                group by account_id
            ),
            unmapped as (
                select account_id, sum(line_count) as lines from marts.rpt_books_unmapped group by account_id
            )
            select journals.account_id, journals.settlement_journals, journals.deferred_journals,
                   count(settlements.source_settlement_id),
                   count(settlements.source_settlement_id) filter (where settlements.equals_deposit),
                   coalesce(any_value(unmapped.lines), 0)
            from journals
            left join settlements on journals.account_id = settlements.account_id
            left join unmapped on journals.account_id = unmapped.account_id
            group by all
            order by journals.account_id
            """
        ).fetchall()
    lines = []
    for account, settlement_journals, deferred_journals, settlements, equal, unmapped in rows:
        verdict = "every one equals its deposit"
        if equal != settlements:
            verdict = f"{settlements - equal} NOT equal to the deposit"
        lines.append(
            f"  {account:<12} {settlement_journals} settlement journals for {settlements} settlements, {verdict}; "
            f"{deferred_journals} deferred/released journals"
            + (f"; {unmapped} lines not mapped (marts.rpt_books_unmapped)" if unmapped else "")
        )
    return lines


def vendor_lines(warehouse: Path) -> list[str]:
    """Per vendor account and currency: money invoiced, paid, deducted, and at stake in shortage disputes
    (REJECTED invoices aside; the dispute candidates of rpt_vendor_shortage_claims)."""
    with read_only(warehouse) as connection:
        rows = connection.execute(
            """
            with invoices as (
                select account_id, currency, count(*) as invoices, sum(invoice_amount) as invoiced,
                       sum(paid_amount) as paid, sum(deduction_amount) as deducted, sum(open_amount) as open
                from marts.fct_vendor_invoices
                where invoice_status <> 'REJECTED'
                group by all
            ),
            claims as (
                select account_id, currency, count(*) as claims, sum(amount_at_stake) as at_stake
                from marts.rpt_vendor_shortage_claims
                group by all
            )
            select invoices.*, coalesce(claims.claims, 0), coalesce(claims.at_stake, 0)
            from invoices left join claims using (account_id, currency)
            order by account_id, currency
            """
        ).fetchall()
    return [
        f"  {account:<12} {currency}  invoiced {invoiced} ({count} invoices), paid {paid}, deducted {deducted}, "
        f"still open {open_}; at stake in disputes {at_stake} ({claims} shortage claims)"
        for account, currency, count, invoiced, paid, deducted, open_, claims, at_stake in rows
    ]


def scheduled_lines(warehouse: Path) -> list[str]:
    """Payouts Amazon announced that no settlement report covers yet (marts.fct_scheduled_payouts)."""
    with read_only(warehouse) as connection:
        present = connection.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'marts' and table_name = 'fct_scheduled_payouts'"
        ).fetchone()
        if not present or not present[0]:
            return []
        rows = connection.execute(
            """
            select account_id, coalesce(marketplace_name, '-'), currency, amount, cast(scheduled_at as date),
                   payout_status, cast(period_start_at as date), cast(period_end_at as date), source
            from marts.fct_scheduled_payouts
            order by account_id, scheduled_at, marketplace_name
            """
        ).fetchall()
    return [
        f"  {account:<12} {marketplace:<11} {amount:>10} {currency}  {status} for {deposit} "
        f"(period {start} .. {end}; stated by {source})"
        for account, marketplace, currency, amount, deposit, status, start, end, source in rows
    ]


def format_checks(checks: list[CheckReport], *, expected: set[str] | None = None) -> list[str]:
    """The failed checks with their numbers; `expected` marks the demo's deliberate anomalies as such."""
    failed = [check for check in checks if not check.passed]
    if not failed:
        return [f"  all {len(checks)} checks passed"]
    lines = [f"  {len(failed)} of {len(checks)} checks failed:"]
    for check in sorted(failed, key=lambda c: (c.severity, c.name)):
        numbers = {k: v for k, v in check.metadata.items() if not isinstance(v, dict | list)}
        detail = ", ".join(f"{k}={v}" for k, v in list(numbers.items())[:6])
        note = " (deliberate demo anomaly)" if expected and check.name in expected else ""
        lines.append(f"  - [{check.severity}] {check.name} on {check.asset}{note}: {detail}")
    return lines


def render_summary(warehouse: Path, checks: list[CheckReport], *, expected: set[str] | None = None) -> str:
    out = ["", "Payouts (settlements):"]
    out += payout_lines(warehouse) or ["  (none)"]
    out += ["", "Payouts Amazon announced, not yet in a settlement report:"]
    out += scheduled_lines(warehouse) or ["  (none)"]
    out += ["", "Deferred money (held by Amazon until it matures):"]
    out += deferred_lines(warehouse) or ["  (none)"]
    out += [
        "",
        "Next payouts per marketplace (ACORN estimate from history, range; money known so far; Amazon's "
        "expected payout for the same period where stated):",
    ]
    out += forecast_lines(warehouse) or ["  (no history yet)"]
    out += ["", "Books (journals posted, marts.fct_journal_lines):"]
    out += books_lines(warehouse) or ["  (none)"]
    out += ["", "Vendor invoices (money invoiced, paid, deducted; at stake in shortage disputes):"]
    out += vendor_lines(warehouse) or ["  (none)"]
    out += ["", "Rows per mart:"]
    out += [f"  marts.{name}: {count}" for name, count in mart_row_counts(warehouse).items()]
    out += ["", "Checks:"]
    out += format_checks(checks, expected=expected)
    catalog = configured_warehouse(warehouse)
    out += ["", f"Warehouse: {catalog.shown if catalog else warehouse}"]
    return "\n".join(out)
