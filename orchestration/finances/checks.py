"""Finance checks. Names are a contract: `acorn build --json` reports them, and users alert on them.

- transaction_breakdowns_sum (ERROR): every transaction's counted breakdown leaves add up to its total;
- financial_events_unknown_types (WARN): v0 event lists the model does not know landed in the catch-all;
- settlement_sources_agree (ERROR): each settlement's report total, listSummary net proceeds, released
  transactions and v0 event group agree (fct_settlement_sources);
- deferred_balance_matches (ERROR, or WARN when only the run's own snapshot differs): ACORN's deferred money per
  account and currency equals listBalances' DEFERRED balance (see _SNAPSHOT_COVERAGE_LAG for the two ways);
- deferred_release_overdue (WARN): money still deferred more than DEFERRED_OVERDUE_GRACE_DAYS after its
  maturity.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from lake import read as lake_read
from orchestration.dbt_vars import dbt_var
from orchestration.finances.assets import FINANCIAL_EVENTS_UNKNOWN, TRANSACTION_TOTALS
from orchestration.finances.v0_landing import unknown_event_lists
from orchestration.published_warehouse import read_only
from orchestration.resources import DataDirResource
from orchestration.verdict import acorn_check
from spapi.windows import FINANCES_SAFE_LAG

TRANSACTION_BREAKDOWNS_SUM = "transaction_breakdowns_sum"
FINANCIAL_EVENTS_UNKNOWN_TYPES = "financial_events_unknown_types"
SETTLEMENT_SOURCES_AGREE = "settlement_sources_agree"
DEFERRED_BALANCE_MATCHES = "deferred_balance_matches"
DEFERRED_RELEASE_OVERDUE = "deferred_release_overdue"

FCT_SETTLEMENT_SOURCES = dg.AssetKey(["warehouse", "fct_settlement_sources"])
RPT_DEFERRED_SCHEDULE = dg.AssetKey(["warehouse", "rpt_deferred_schedule"])

# Amazon releases deferred money on its maturity date; a few days of slack absorb posting lag before warning.
# The dbt model int_deferred_maturities_overdue applies it (dbt var deferred_overdue_grace_days).
DEFERRED_OVERDUE_GRACE_DAYS = dbt_var("deferred_overdue_grace_days")
SAMPLE_SIZE = 10


def _lake_query(
    lake: lake_read.LakeSource, dataset: str, sql: str, params: list[Any] | None = None
) -> list[tuple[Any, ...]] | None:
    """Run `sql` over a lake dataset exposed as the relation `dataset` (the local lake, or the object store's
    current files in scale-out); None when the dataset has no file."""
    with lake_read.connect(lake) as connection:
        if not lake_read.register(connection, lake, dataset, dataset):
            return None
        return connection.execute(sql, params or []).fetchall()


def _warehouse(data: DataDirResource) -> Path:
    return data.paths().warehouse


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@acorn_check(
    asset=TRANSACTION_TOTALS,
    name=TRANSACTION_BREAKDOWNS_SUM,
    description="Every transaction's counted breakdown leaves add up to its totalAmount, to the cent. A "
    "transaction that does not is kept in the lake, flagged (breakdowns_agree = false), and fails this "
    "check.",
)
def transaction_breakdowns_sum(data: DataDirResource) -> dg.AssetCheckResult:
    rows = _lake_query(
        data.lake_files(),
        "transaction_totals",
        "select account_id, transaction_id, total_amount, breakdowns_sum, breakdowns_agree "
        "from transaction_totals order by account_id, transaction_id",
    )
    rows = rows or []
    failing = [row for row in rows if not row[4]]
    metadata: dict[str, Any] = {"transactions": len(rows), "transactions_not_adding_up": len(failing)}
    if failing:
        metadata["examples"] = dg.MetadataValue.json(
            [
                {
                    "account_id": a,
                    "transaction_id": t,
                    "total_amount": _money(total),
                    "breakdowns_sum": _money(s),
                }
                for a, t, total, s, _ in failing[:SAMPLE_SIZE]
            ]
        )
    return dg.AssetCheckResult(passed=not failing, severity=dg.AssetCheckSeverity.ERROR, metadata=metadata)


@acorn_check(
    asset=FINANCIAL_EVENTS_UNKNOWN,
    name=FINANCIAL_EVENTS_UNKNOWN_TYPES,
    description="Warns when v0 events of a list the model does not know landed in financial_events_unknown "
    "(kept verbatim, not lost): teach transforms/finances the new event type.",
)
def financial_events_unknown_types(data: DataDirResource) -> dg.AssetCheckResult:
    counts = unknown_event_lists(data.lake_files())
    metadata: dict[str, Any] = {"unknown_rows": sum(counts.values()), "unknown_event_lists": len(counts)}
    if counts:
        metadata["rows_by_event_list"] = dg.MetadataValue.json(counts)
    return dg.AssetCheckResult(passed=not counts, severity=dg.AssetCheckSeverity.WARN, metadata=metadata)


@acorn_check(
    asset=FCT_SETTLEMENT_SOURCES,
    name=SETTLEMENT_SOURCES_AGREE,
    description="Every settlement's sources agree: the settlement report's total, listSummary's net "
    "proceeds, the released transactions carrying its settlement id and the linked v0 event group total "
    "(each once it is final: transactions once a later one has landed, the group once it is closed).",
)
def settlement_sources_agree(data: DataDirResource) -> dg.AssetCheckResult:
    with read_only(_warehouse(data)) as connection:
        rows = connection.execute(
            "select settlement_id, account_id, currency, report_total, summary_net_proceeds, "
            "released_transactions_total, event_group_total, sources_compared, sources_agree "
            "from marts.fct_settlement_sources order by account_id, settlement_id"
        ).fetchall()
    failing = [row for row in rows if not row[8]]
    metadata: dict[str, Any] = {
        "settlements": len(rows),
        "settlements_disagreeing": len(failing),
        "settlements_with_two_or_more_sources": sum(1 for row in rows if row[7] >= 2),
    }
    if failing:
        metadata["examples"] = dg.MetadataValue.json(
            [
                {
                    "settlement_id": s,
                    "account_id": a,
                    "currency": c,
                    "report_total": _money(report),
                    "summary_net_proceeds": _money(summary),
                    "released_transactions_total": _money(released),
                    "event_group_total": _money(group),
                }
                for s, a, c, report, summary, released, group, _, _ in failing[:SAMPLE_SIZE]
            ]
        )
    return dg.AssetCheckResult(passed=not failing, severity=dg.AssetCheckSeverity.ERROR, metadata=metadata)


# Amazon lists transactions only up to two minutes before the request (spapi.windows.FINANCES_SAFE_LAG),
# while listBalances answers as of the request itself: money posted in that gap is in the run's DEFERRED
# balance but not yet in the lake. The run's own snapshot is therefore provisional (a difference is a warning);
# the newest snapshot taken at least that gap before the latest one is fully covered by the transactions
# landed since, and is verified against them to the cent (a difference is an error). The dbt model
# int_deferred_balances_compared applies this rule with the same lag (dbt var finances_listing_lag_seconds).
_SNAPSHOT_COVERAGE_LAG = FINANCES_SAFE_LAG


def deferred_comparison(connection: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Per account and currency, the DEFERRED balance next to ACORN's deferred money, two ways, as the dbt model
    int_deferred_balances_compared states them: ``verified`` rows first, then ``provisional`` ones."""
    rows = connection.execute(
        "select account_id, currency, comparison, schedule_outstanding, deferred_balance, balance_as_of, "
        "difference, matches from intermediate.int_deferred_balances_compared "
        "order by comparison = 'provisional', account_id, currency"
    ).fetchall()
    return [
        {
            "account_id": account,
            "currency": currency,
            "comparison": kind,
            "schedule_outstanding": schedule,
            "deferred_balance": balance,
            "balance_as_of": as_of,
            "difference": difference,
            "matches": matches,
        }
        for account, currency, kind, schedule, balance, as_of, difference, matches in rows
    ]


@acorn_check(
    asset=RPT_DEFERRED_SCHEDULE,
    name=DEFERRED_BALANCE_MATCHES,
    description="ACORN's deferred money per account and currency equals listBalances' DEFERRED balance, to the "
    "cent. The newest snapshot the landed transactions fully cover must match (error); the run's own snapshot "
    "may differ by money posted in the minutes Amazon does not list yet (warning, verified next run).",
)
def deferred_balance_matches(data: DataDirResource) -> dg.AssetCheckResult:
    with read_only(_warehouse(data)) as connection:
        compared = deferred_comparison(connection)
    failing = [row for row in compared if not row["matches"]]
    verified_failing = [row for row in failing if row["comparison"] == "verified"]
    latest = [row for row in compared if row["comparison"] == "provisional"]
    metadata: dict[str, Any] = {
        "accounts_compared": len({row["account_id"] for row in latest}),
        "currencies_compared": len(latest),
        "verified_currencies": sum(1 for row in compared if row["comparison"] == "verified"),
        "mismatches": len(failing),
        "verified_mismatches": len(verified_failing),
        "comparison": dg.MetadataValue.json(
            [
                {
                    **row,
                    "schedule_outstanding": _money(row["schedule_outstanding"]),
                    "deferred_balance": _money(row["deferred_balance"]),
                    "difference": _money(row["difference"]),
                    "balance_as_of": None if row["balance_as_of"] is None else str(row["balance_as_of"]),
                }
                for row in compared
            ]
        ),
    }
    if failing and not verified_failing:
        metadata["note"] = (
            "Only the latest snapshot differs: money posted in the last "
            f"{int(_SNAPSHOT_COVERAGE_LAG.total_seconds())} s before it is not listed by Amazon yet. The next "
            "run verifies this snapshot against the transactions it lands."
        )
    severity = dg.AssetCheckSeverity.ERROR if verified_failing else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(passed=not failing, severity=severity, metadata=metadata)


def overdue_deferrals(connection: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The schedule rows the dbt model int_deferred_maturities_overdue lists: still deferred more than the
    grace days after their maturity date, counted from the account's latest listBalances as-of."""
    rows = connection.execute(
        "select account_id, marketplace_id, currency, maturity_date, deferred_amount, days_overdue "
        "from intermediate.int_deferred_maturities_overdue order by 1, 2, 3, 4"
    ).fetchall()
    return [
        {
            "account_id": account,
            "marketplace_id": marketplace,
            "currency": currency,
            "maturity_date": maturity.isoformat(),
            "deferred_amount": _money(amount),
            "days_overdue": days,
        }
        for account, marketplace, currency, maturity, amount, days in rows
    ]


@acorn_check(
    asset=RPT_DEFERRED_SCHEDULE,
    name=DEFERRED_RELEASE_OVERDUE,
    description=f"Warns when money is still deferred more than {DEFERRED_OVERDUE_GRACE_DAYS} days after its "
    "maturity date (Amazon should have released it).",
)
def deferred_release_overdue(data: DataDirResource) -> dg.AssetCheckResult:
    with read_only(_warehouse(data)) as connection:
        overdue = overdue_deferrals(connection)
    metadata: dict[str, Any] = {
        "grace_days": DEFERRED_OVERDUE_GRACE_DAYS,
        "overdue_maturities": len(overdue),
        "overdue_amount_by_currency": dg.MetadataValue.json(_by_currency(overdue)),
    }
    if overdue:
        metadata["overdue"] = dg.MetadataValue.json(overdue[:SAMPLE_SIZE])
    return dg.AssetCheckResult(passed=not overdue, severity=dg.AssetCheckSeverity.WARN, metadata=metadata)


def _by_currency(rows: list[dict[str, Any]]) -> dict[str, str]:
    totals: dict[str, Decimal] = {}
    for row in rows:
        totals[row["currency"]] = totals.get(row["currency"], Decimal(0)) + Decimal(row["deferred_amount"])
    return {currency: str(amount) for currency, amount in sorted(totals.items())}


finance_checks = [
    transaction_breakdowns_sum,
    financial_events_unknown_types,
    settlement_sources_agree,
    deferred_balance_matches,
    deferred_release_overdue,
]
