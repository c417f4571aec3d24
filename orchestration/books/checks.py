"""Books checks over the journals (`fct_journal_lines`). Names are a contract: `acorn build --json` reports them.

- books_journals_balance (ERROR): every journal's debits equal its credits, no line has both or a negative side;
- books_bank_line_equals_total (ERROR): each settlement's final month part has exactly one bank (or card) line,
  equal to its total-amount, the deposit;
- books_parts_sum_to_total (ERROR): what a settlement's month parts post adds up to its total, and the split-month
  rollover clears;
- books_no_unmapped_line (WARN): no settlement line or deferred transaction is left to the suspense account for
  want of a posting rule (the journals still balance; `acorn books export` refuses the month until a rule maps it);
- books_deferred_control (ERROR on a verified snapshot, WARN on the latest one): opening + deferred - released
  equals the DEFERRED balance Amazon reports, to the cent.

The rules live in the dbt models `int_books_journal_checks`, `int_books_settlement_checks`, `rpt_books_unmapped`
and `int_books_deferred_control`; these checks count what fails and show examples.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import dagster as dg

from orchestration.published_warehouse import read_only
from orchestration.resources import DataDirResource
from orchestration.verdict import acorn_check

BOOKS_JOURNALS_BALANCE = "books_journals_balance"
BOOKS_BANK_LINE_EQUALS_TOTAL = "books_bank_line_equals_total"
BOOKS_PARTS_SUM_TO_TOTAL = "books_parts_sum_to_total"
BOOKS_NO_UNMAPPED_LINE = "books_no_unmapped_line"
BOOKS_DEFERRED_CONTROL = "books_deferred_control"

FCT_JOURNAL_LINES = dg.AssetKey(["warehouse", "fct_journal_lines"])
RPT_BOOKS_UNMAPPED = dg.AssetKey(["warehouse", "rpt_books_unmapped"])
SAMPLE_SIZE = 10


def _rows(data: DataDirResource, sql: str) -> list[dict[str, Any]]:
    with read_only(data.paths().warehouse) as connection:
        cursor = connection.execute(sql)
        names = [column[0] for column in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready: exact money as strings, dates and times as ISO text."""
    return {
        key: str(value) if isinstance(value, Decimal) or hasattr(value, "isoformat") else value
        for key, value in row.items()
    }


def _examples(rows: list[dict[str, Any]]) -> dg.MetadataValue:
    return dg.MetadataValue.json([_plain(row) for row in rows[:SAMPLE_SIZE]])


@acorn_check(
    asset=FCT_JOURNAL_LINES,
    name=BOOKS_JOURNALS_BALANCE,
    description="Every journal balances: its debits equal its credits to the cent, and no line carries both a "
    "debit and a credit (or a negative one).",
)
def books_journals_balance(data: DataDirResource) -> dg.AssetCheckResult:
    rows = _rows(
        data,
        "select journal_id, journal_kind, account_id, currency, debits, credits, malformed_lines, is_balanced "
        "from intermediate.int_books_journal_checks order by journal_id",
    )
    failing = [row for row in rows if not row["is_balanced"] or row["malformed_lines"]]
    metadata: dict[str, Any] = {
        "journals": len(rows),
        "settlement_journals": sum(1 for row in rows if row["journal_kind"] == "settlement"),
        "deferred_journals": sum(1 for row in rows if row["journal_kind"] != "settlement"),
        "journals_not_balancing": len(failing),
    }
    if failing:
        metadata["examples"] = _examples(failing)
    return dg.AssetCheckResult(passed=not failing, severity=dg.AssetCheckSeverity.ERROR, metadata=metadata)


_SETTLEMENT_CHECKS = (
    "select settlement_id, account_id, currency, total_amount, journal_count, bank_line_count, bank_amount, "
    "parts_total, rollover_left, bank_line_equals_total, parts_sum_to_total "
    "from intermediate.int_books_settlement_checks order by account_id, settlement_id"
)


@acorn_check(
    asset=FCT_JOURNAL_LINES,
    name=BOOKS_BANK_LINE_EQUALS_TOTAL,
    description="Each settlement's final month part has one bank line (a card line for a negative settlement) "
    "equal to the settlement's total-amount: the journal equals the deposit.",
)
def books_bank_line_equals_total(data: DataDirResource) -> dg.AssetCheckResult:
    rows = _rows(data, _SETTLEMENT_CHECKS)
    failing = [row for row in rows if not row["bank_line_equals_total"]]
    metadata: dict[str, Any] = {
        "settlements": len(rows),
        "settlements_equal_to_deposit": len(rows) - len(failing),
        "settlements_not_equal": len(failing),
        "negative_settlements": sum(1 for row in rows if row["total_amount"] < 0),
    }
    if failing:
        metadata["examples"] = _examples(failing)
    return dg.AssetCheckResult(passed=not failing, severity=dg.AssetCheckSeverity.ERROR, metadata=metadata)


@acorn_check(
    asset=FCT_JOURNAL_LINES,
    name=BOOKS_PARTS_SUM_TO_TOTAL,
    description="What a settlement's month parts post (every line but the rollover and the bank line) adds up "
    "to its total-amount, and the split-month rollover account clears.",
)
def books_parts_sum_to_total(data: DataDirResource) -> dg.AssetCheckResult:
    rows = _rows(data, _SETTLEMENT_CHECKS)
    failing = [row for row in rows if not row["parts_sum_to_total"]]
    metadata: dict[str, Any] = {
        "settlements": len(rows),
        "split_settlements": sum(1 for row in rows if row["journal_count"] > 1),
        "settlements_not_adding_up": len(failing),
    }
    if failing:
        metadata["examples"] = _examples(failing)
    return dg.AssetCheckResult(passed=not failing, severity=dg.AssetCheckSeverity.ERROR, metadata=metadata)


@acorn_check(
    asset=RPT_BOOKS_UNMAPPED,
    name=BOOKS_NO_UNMAPPED_LINE,
    description="Every settlement line and deferred transaction is mapped by a posting rule "
    "(dbt_project/seeds/posting_rules.csv). An unmapped one is posted to the suspense account meanwhile and "
    "listed in marts.rpt_books_unmapped; add a rule for it.",
)
def books_no_unmapped_line(data: DataDirResource) -> dg.AssetCheckResult:
    rows = _rows(
        data,
        "select account_id, period_month, source_kind, transaction_type, amount_type, amount_description, "
        "currency, sum(line_count) as line_count, sum(amount) as amount from marts.rpt_books_unmapped "
        "group by all order by account_id, period_month, amount_type, amount_description",
    )
    metadata: dict[str, Any] = {
        "unmapped_keys": len(rows),
        "unmapped_lines": int(sum(row["line_count"] for row in rows)),
    }
    if rows:
        metadata["unmapped"] = _examples(rows)
    return dg.AssetCheckResult(passed=not rows, severity=dg.AssetCheckSeverity.WARN, metadata=metadata)


@acorn_check(
    asset=FCT_JOURNAL_LINES,
    name=BOOKS_DEFERRED_CONTROL,
    description="Deferred money: opening + deferred - released, as the deferred journals post it, equals the "
    "DEFERRED balance listBalances reports, to the cent. A verified snapshot must match (error); the latest may "
    "differ by money posted in the minutes Amazon does not list yet (warning, verified next run).",
)
def books_deferred_control(data: DataDirResource) -> dg.AssetCheckResult:
    rows = _rows(
        data,
        "select account_id, currency, as_of, comparison, opening, deferred, released, closing, reported, "
        "difference, holds from intermediate.int_books_deferred_control order by account_id, currency, as_of",
    )
    failing = [row for row in rows if not row["holds"]]
    verified_failing = [row for row in failing if row["comparison"] == "verified"]
    latest = [row for row in rows if row["comparison"] == "provisional"]
    metadata: dict[str, Any] = {
        "snapshots": len(rows),
        "verified_snapshots": len(rows) - len(latest),
        "mismatches": len(failing),
        "verified_mismatches": len(verified_failing),
        "latest": _examples(latest),
    }
    if failing:
        metadata["examples"] = _examples(failing)
    severity = dg.AssetCheckSeverity.ERROR if verified_failing else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(passed=not failing, severity=severity, metadata=metadata)


books_checks = [
    books_journals_balance,
    books_bank_line_equals_total,
    books_parts_sum_to_total,
    books_no_unmapped_line,
    books_deferred_control,
]
