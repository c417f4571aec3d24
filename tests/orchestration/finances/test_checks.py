"""The finance checks pass on agreeing figures and fail, with the numbers behind it, when one cent is off.

The checks read what they read in production: the lake's Parquet (written with the transforms' schemas by the
lake writer) and a DuckDB warehouse where real dbt built the models the checks read, over tables holding the
columns of their upstream models.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from dbt_runner import run_dbt

from lake.partitions import write_partition
from orchestration.dbt_vars import dbt_var
from orchestration.finances import checks
from orchestration.resources import DataDirResource
from orchestration.verdict import evaluate
from transforms.finances.transactions import TRANSACTION_TOTALS_SCHEMA
from transforms.finances.v0_events import financial_events_tables

D = Decimal
AS_OF = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _data(root: Path) -> DataDirResource:
    return DataDirResource(data_dir=str(root))


# The models the deferred checks read, built by real dbt over the tables below (named as their upstream models).
# A dbt run takes seconds, so the tests that build them are marked slow.
SLOW_REAL_DBT = pytest.mark.slow
CHECKED_MODELS = ["int_deferred_balances_compared", "int_deferred_maturities_overdue"]


def _run_dbt_models(warehouse: Path) -> None:
    """Real dbt builds the checks' models in `warehouse`, over the upstream tables the test wrote there (target/
    and logs/ beside it, with the saved parse of the previous test's run: dbt_runner)."""
    assert warehouse.name == "warehouse.duckdb"
    run_dbt(warehouse.parent, "run", "--select", *CHECKED_MODELS)


def _warehouse(
    root: Path,
    *,
    schedule: list[tuple],
    balances: list[tuple],
    sources: list[tuple],
    transactions: list[tuple] | None = None,
) -> None:
    with duckdb.connect(str(root / "warehouse.duckdb")) as connection:
        connection.execute("create schema marts; create schema staging; create schema intermediate")
        connection.execute(
            "create table intermediate.int_transactions_totaled (account_id varchar, transaction_id varchar, "
            "currency varchar, posted_at timestamptz, maturity_at timestamptz, transaction_status varchar, "
            "total_amount decimal(18,2))"
        )
        connection.executemany(
            "insert into intermediate.int_transactions_totaled values (?, ?, ?, ?, ?, ?, ?)",
            TRANSACTIONS if transactions is None else transactions,
        )
        connection.execute(
            "create table marts.rpt_deferred_schedule (account_id varchar, marketplace_id varchar, "
            "currency varchar, maturity_date date, deferred_amount decimal(18,2))"
        )
        connection.executemany("insert into marts.rpt_deferred_schedule values (?, ?, ?, ?, ?)", schedule)
        connection.execute(
            "create table staging.stg_lake_finance__balances (account_id varchar, marketplace_id varchar, "
            "as_of timestamptz, balance_type varchar, amount decimal(18,2), currency varchar)"
        )
        connection.executemany(
            "insert into staging.stg_lake_finance__balances values (?, ?, ?, ?, ?, ?)", balances
        )
        connection.execute(
            "create table marts.fct_settlement_sources (settlement_id varchar, account_id varchar, "
            "currency varchar, report_total decimal(18,2), summary_net_proceeds decimal(18,2), "
            "released_transactions_total decimal(18,2), event_group_total decimal(18,2), "
            "sources_compared integer, sources_agree boolean)"
        )
        connection.executemany(
            "insert into marts.fct_settlement_sources values (?, ?, ?, ?, ?, ?, ?, ?, ?)", sources
        )
    _run_dbt_models(root / "warehouse.duckdb")


EARLIER = datetime(2026, 11, 20, tzinfo=UTC)
BALANCES = [
    # An earlier snapshot (verified against the transactions as of its time), then the latest one.
    ("acct", "US", EARLIER, "DEFERRED", D("999.99"), "USD"),
    ("acct", "US", AS_OF, "DEFERRED", D("100.10"), "USD"),
    ("acct", "US", AS_OF, "TOTAL", D("500.00"), "USD"),
    ("acct", "CA", AS_OF, "DEFERRED", D("20.00"), "CAD"),
]
SCHEDULE = [
    ("acct", "US", "USD", date(2026, 11, 25), D("60.05")),
    ("acct", "US", "USD", date(2026, 11, 30), D("40.05")),
    ("acct", "CA", "CAD", date(2026, 11, 26), D("20.00")),
]


def _transaction(tid: str, total: str, posted: datetime, status: str, maturity: datetime | None) -> tuple:
    return ("acct", tid, "USD", posted, maturity, status, D(total))


TRANSACTIONS = [
    # Deferred on EARLIER and released since: counts in the earlier snapshot, not in today's schedule.
    _transaction("T1", "999.99", datetime(2026, 11, 18, tzinfo=UTC), "DEFERRED_RELEASED",
                 datetime(2026, 11, 22, tzinfo=UTC)),
    # Posted after EARLIER: not part of it.
    _transaction("T2", "100.10", datetime(2026, 11, 21, tzinfo=UTC), "DEFERRED", datetime(2026, 11, 28, tzinfo=UTC)),
    # Released before EARLIER: not deferred then.
    _transaction("T3", "5.00", datetime(2026, 11, 10, tzinfo=UTC), "DEFERRED_RELEASED",
                 datetime(2026, 11, 17, tzinfo=UTC)),
    _transaction("T4", "7.00", datetime(2026, 11, 10, tzinfo=UTC), "RELEASED", None),
]  # fmt: skip
AGREEING = [("S1", "acct", "USD", D("10.00"), D("10.00"), D("10.00"), D("10.00"), 4, True)]


@SLOW_REAL_DBT
def test_deferred_balance_matches_passes_and_fails_by_a_cent(tmp_path: Path) -> None:
    _warehouse(tmp_path, schedule=SCHEDULE, balances=BALANCES, sources=AGREEING)
    result = evaluate(checks.deferred_balance_matches, data=_data(tmp_path))
    assert result.passed, result.metadata["comparison"].value
    assert result.metadata["currencies_compared"].value == 2
    assert result.metadata["verified_currencies"].value == 1

    off = tmp_path / "off"
    off.mkdir()
    one_cent_short = [SCHEDULE[0], ("acct", "US", "USD", date(2026, 11, 30), D("40.04")), SCHEDULE[2]]
    _warehouse(off, schedule=one_cent_short, balances=BALANCES, sources=AGREEING)
    result = evaluate(checks.deferred_balance_matches, data=_data(off))
    assert not result.passed
    assert result.metadata["mismatches"].value == 1
    usd = next(
        row
        for row in result.metadata["comparison"].value
        if row["currency"] == "USD" and row["comparison"] == "provisional"
    )
    assert (usd["schedule_outstanding"], usd["deferred_balance"], usd["difference"]) == (
        "100.09",
        "100.10",
        "0.01",
    )
    # Only the run's own snapshot differs: money posted minutes before it may not be listed yet, so it warns.
    assert result.severity == checks.dg.AssetCheckSeverity.WARN
    assert "next run verifies" in result.metadata["note"].value


@SLOW_REAL_DBT
def test_a_covered_snapshot_that_differs_by_a_cent_is_an_error(tmp_path: Path) -> None:
    short = [_transaction("T1", "999.98", datetime(2026, 11, 18, tzinfo=UTC), "DEFERRED_RELEASED",
                          datetime(2026, 11, 22, tzinfo=UTC)), *TRANSACTIONS[1:]]  # fmt: skip
    _warehouse(tmp_path, schedule=SCHEDULE, balances=BALANCES, sources=AGREEING, transactions=short)
    result = evaluate(checks.deferred_balance_matches, data=_data(tmp_path))
    assert not result.passed and result.severity == checks.dg.AssetCheckSeverity.ERROR
    verified = [row for row in result.metadata["comparison"].value if row["comparison"] == "verified"]
    assert len(verified) == 1
    assert datetime.fromisoformat(verified[0].pop("balance_as_of")) == EARLIER
    assert verified[0] == {
        "account_id": "acct",
        "currency": "USD",
        "comparison": "verified",
        "schedule_outstanding": "999.98",
        "deferred_balance": "999.99",
        "difference": "0.01",
        "matches": False,
    }


@SLOW_REAL_DBT
def test_a_snapshot_within_the_listing_lag_of_the_latest_is_not_verified_yet(tmp_path: Path) -> None:
    moments_before = AS_OF - checks.FINANCES_SAFE_LAG + timedelta(seconds=1)
    balances = [("acct", "US", moments_before, "DEFERRED", D("1.00"), "USD"), *BALANCES[1:]]
    _warehouse(tmp_path, schedule=SCHEDULE, balances=balances, sources=AGREEING)
    result = evaluate(checks.deferred_balance_matches, data=_data(tmp_path))
    assert result.passed and result.metadata["verified_currencies"].value == 0


@SLOW_REAL_DBT
def test_deferred_money_without_a_balance_is_a_mismatch(tmp_path: Path) -> None:
    _warehouse(tmp_path, schedule=[*SCHEDULE, ("acct", "US", "EUR", date(2026, 11, 25), D("5.00"))],
               balances=BALANCES, sources=AGREEING)  # fmt: skip
    result = evaluate(checks.deferred_balance_matches, data=_data(tmp_path))
    assert not result.passed and result.metadata["mismatches"].value == 1


@SLOW_REAL_DBT
def test_deferred_release_overdue_warns_after_the_grace_days(tmp_path: Path) -> None:
    _warehouse(tmp_path, schedule=SCHEDULE, balances=BALANCES, sources=AGREEING)
    assert evaluate(checks.deferred_release_overdue, data=_data(tmp_path)).passed
    late = tmp_path / "late"
    late.mkdir()
    overdue = ("acct", "US", "USD", date(2026, 11, 19), D("7.00"))  # four days before the balances' as-of
    grace = ("acct", "US", "USD", date(2026, 11, 20), D("3.00"))  # three days: still within the grace
    _warehouse(late, schedule=[*SCHEDULE, overdue, grace], balances=BALANCES, sources=AGREEING)
    result = evaluate(checks.deferred_release_overdue, data=_data(late))
    assert not result.passed and result.severity == checks.dg.AssetCheckSeverity.WARN
    assert result.metadata["overdue_maturities"].value == 1
    assert result.metadata["overdue_amount_by_currency"].value == {"USD": "7.00"}


@SLOW_REAL_DBT
def test_settlement_sources_agree_names_the_disagreeing_settlement(tmp_path: Path) -> None:
    disagreeing = ("S2", "acct", "USD", D("10.00"), D("10.00"), D("9.99"), None, 3, False)
    _warehouse(tmp_path, schedule=SCHEDULE, balances=BALANCES, sources=[*AGREEING, disagreeing])
    result = evaluate(checks.settlement_sources_agree, data=_data(tmp_path))
    assert not result.passed and result.metadata["settlements_disagreeing"].value == 1
    example = result.metadata["examples"].value[0]
    assert example["settlement_id"] == "S2" and example["released_transactions_total"] == "9.99"


def _totals(rows: list[tuple[str, str, str, bool]]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {"account_id": "acct", "transaction_id": t, "total_amount": D(total), "breakdowns_sum": D(leaves),
             "breakdowns_agree": agree, "breakdown_source": "transaction", "counted_rows": 1,
             "subtotals_agree": True, "source_sha256": "x"}
            for t, total, leaves, agree in rows
        ],
        schema=TRANSACTION_TOTALS_SCHEMA,
    )  # fmt: skip


def test_transaction_breakdowns_sum_flags_a_transaction_that_does_not_add_up(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    write_partition(lake, "transaction_totals", "account_id=acct", _totals([("T1", "5.00", "5.00", True)]))
    assert evaluate(checks.transaction_breakdowns_sum, data=_data(tmp_path)).passed
    write_partition(
        lake,
        "transaction_totals",
        "account_id=acct",
        _totals([("T1", "5.00", "5.00", True), ("T2", "5.00", "4.99", False)]),
    )
    result = evaluate(checks.transaction_breakdowns_sum, data=_data(tmp_path))
    assert not result.passed and result.metadata["transactions_not_adding_up"].value == 1
    assert result.metadata["examples"].value[0]["transaction_id"] == "T2"


@pytest.fixture
def sandbox_events(shared_fixtures: Path) -> dict:
    from spapi.endpoints import parse_json

    return parse_json((shared_fixtures / "spapi-examples" / "listFinancialEventsByGroupId.json").read_bytes())


def test_an_unknown_event_list_lands_in_the_catch_all_and_warns(tmp_path: Path, sandbox_events: dict) -> None:
    lake = tmp_path / "lake"
    known, unknown = financial_events_tables(sandbox_events, account_id="acct", source_sha256="a" * 64)
    assert known.num_rows > 0 and unknown.num_rows == 0
    write_partition(lake, "financial_events_unknown", "account_id=acct,group=G1", unknown)
    assert evaluate(checks.financial_events_unknown_types, data=_data(tmp_path)).passed

    body = {"payload": {"FinancialEvents": {
        **sandbox_events["payload"]["FinancialEvents"],
        "QuantumRebateEventList": [{"PostedDate": "2026-11-01T00:00:00Z", "RebateAmount": {
            "CurrencyCode": "USD", "CurrencyAmount": D("1.23")}}],
    }}}  # fmt: skip
    known_again, unknown = financial_events_tables(body, account_id="acct", source_sha256="b" * 64)
    assert known_again.num_rows == known.num_rows  # the known events are unaffected
    write_partition(lake, "financial_events_unknown", "account_id=acct,group=G1", unknown)
    result = evaluate(checks.financial_events_unknown_types, data=_data(tmp_path))
    assert not result.passed and result.severity == checks.dg.AssetCheckSeverity.WARN
    assert result.metadata["rows_by_event_list"].value == {"QuantumRebateEventList": 1}


def test_the_dbt_rules_use_the_lag_and_grace_the_checks_state() -> None:
    assert dbt_var("finances_listing_lag_seconds") == checks.FINANCES_SAFE_LAG.total_seconds()
    assert dbt_var("deferred_overdue_grace_days") == checks.DEFERRED_OVERDUE_GRACE_DAYS
