"""The Dagster checks read a dbt-built warehouse (read-only) and the lake, and report the numbers behind them.

The small lake (tests/dbt/small_lake.py) holds one refund spike and one unknown fee description; here one
report is given a drifted header and one settlement's total is made one cent off, so each check's verdict is
known in advance. The lake ends in 2026-07, so by the wall clock every account is stale.
"""

from __future__ import annotations

from decimal import Decimal

import dagster as dg
import pytest
from small_lake import build_warehouse, demo_settlements

from orchestration.quality import checks
from orchestration.resources import DataDirResource
from orchestration.verdict import evaluate

# One worker builds the warehouse once for every test here (see tests/dbt/test_books_journals.py).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("checks_on_warehouse")]


@pytest.fixture(scope="session")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dg.AssetCheckResult]:
    workdir = tmp_path_factory.mktemp("quality")
    settlements = demo_settlements()
    drifted = next(s for s in settlements if s.settlement_id == "DE2")
    drifted.header = [c for c in drifted.header if c != "fulfillment-id"] + ["fulfillment-id", "tax-model"]
    off = next(s for s in settlements if s.settlement_id == "US3")
    off.total_override = sum((line["amount"] for line in off.lines), Decimal(0)) + Decimal("0.01")
    # Only what the checks read (models and seeds; dbt's own tests run in tests/dbt).
    marts = ["+fct_settlement_lines", "+fct_payouts", "+fct_fees", "+fct_refunds", "+int_settlement_amounts"]
    build_warehouse(
        workdir, settlements, "--select", *marts, "--resource-type", "model", "--resource-type", "seed"
    )
    data = DataDirResource(data_dir=str(workdir))
    return {next(iter(check.check_specs)).name: evaluate(check, data=data) for check in checks.ALL_CHECKS}


def _number(result: dg.AssetCheckResult, key: str) -> object:
    value = result.metadata[key]
    return getattr(value, "value", getattr(value, "text", getattr(value, "data", value)))


def test_every_contract_check_is_evaluated(results: dict[str, dg.AssetCheckResult]) -> None:
    assert set(results) == {
        "settlement_lines_schema",
        "settlement_schema_drift",
        "settlement_reconciles",
        "settlement_freshness",
        "payout_amount_anomaly",
        "fee_rate_anomaly",
        "refund_rate_anomaly",
        "unknown_fee_descriptions",
    }


def test_drift_names_the_columns(results: dict[str, dg.AssetCheckResult]) -> None:
    drift = results["settlement_schema_drift"]
    assert not drift.passed and drift.severity == dg.AssetCheckSeverity.ERROR
    assert _number(drift, "first_drifted_settlement") == "DE2"
    (detail,) = _number(drift, "drift")
    assert detail["added"] == ["tax-model"] and detail["moved"] == ["fulfillment-id"]


def test_a_cent_off_fails_reconciliation(results: dict[str, dg.AssetCheckResult]) -> None:
    reconciles = results["settlement_reconciles"]
    assert not reconciles.passed and reconciles.severity == dg.AssetCheckSeverity.ERROR
    assert _number(reconciles, "settlement_id") == "US3"
    assert _number(reconciles, "difference") == "0.01"


def test_anomalies_and_unknown_fees_warn_with_their_numbers(results: dict[str, dg.AssetCheckResult]) -> None:
    spike = results["refund_rate_anomaly"]
    assert not spike.passed and spike.severity == dg.AssetCheckSeverity.WARN
    assert _number(spike, "settlement_id") == "US1"
    assert _number(spike, "refunded_principal") == "-50.00"
    unknown = results["unknown_fee_descriptions"]
    assert not unknown.passed and _number(unknown, "first_unknown") == "ItemFees / BrandNewMysteryFee"
    assert results["fee_rate_anomaly"].passed
    assert results["payout_amount_anomaly"].passed
    assert results["settlement_lines_schema"].passed


def test_freshness_measures_days_since_the_latest_period(results: dict[str, dg.AssetCheckResult]) -> None:
    # The lake ends in July 2026: by the wall clock every account is stale, and the check says by how much.
    freshness = results["settlement_freshness"]
    assert not freshness.passed and freshness.severity == dg.AssetCheckSeverity.ERROR
    assert _number(freshness, "stale_accounts") == 2
    assert _number(freshness, "days_since_latest") > 21
