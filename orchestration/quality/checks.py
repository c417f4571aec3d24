"""Expectation suites run as Dagster asset checks. Check names are a contract (`acorn build --json`).

Lake checks read the Parquet lake; warehouse checks target the dbt assets (`warehouse/<model>`) and read the
DuckDB warehouse read-only once dbt has built it. Only the lake's schema suite is blocking (a malformed lake must
not reach the marts): a drifted or odd settlement is still kept and shown (the marts flag it). The severity tells
whether a person must act (ERROR: the check's step fails, so the run is not green) or look (WARN).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import yaml

from expectations import (
    fee_rate_anomaly,
    payout_amount_anomaly,
    refund_rate_anomaly,
    settlement_freshness,
    settlement_lines_schema,
    settlement_reconciles,
    settlement_schema_drift,
    unknown_fee_descriptions,
)
from expectations.runner import GREAT_EXPECTATIONS, validate_dataframe
from expectations.settlement_lines_scan import ValidatedFiles, sample_lake, validated_files_path
from lake.read import arrow_table, source_files
from orchestration.paths import DBT_PROJECT_DIR
from orchestration.quality import warehouse_frames
from orchestration.quality.adapter import SEVERITIES, check_result, outcome_result
from orchestration.resources import DataDirResource, business_now
from orchestration.verdict import acorn_check

SETTLEMENT_LINES_SCHEMA_CHECK = settlement_lines_schema.SUITE_NAME
SETTLEMENT_SCHEMA_DRIFT_CHECK = settlement_schema_drift.CHECK_NAME
PAYOUT_AMOUNT_ANOMALY_CHECK = payout_amount_anomaly.CHECK_NAME
FEE_RATE_ANOMALY_CHECK = fee_rate_anomaly.CHECK_NAME
REFUND_RATE_ANOMALY_CHECK = refund_rate_anomaly.CHECK_NAME
SETTLEMENT_RECONCILES_CHECK = settlement_reconciles.CHECK_NAME
SETTLEMENT_FRESHNESS_CHECK = settlement_freshness.CHECK_NAME
UNKNOWN_FEE_DESCRIPTIONS_CHECK = unknown_fee_descriptions.CHECK_NAME

# The lake tables' keys (the same as orchestration/settlements' assets; spelled here so that the checks load
# without importing the SP-API side).
SETTLEMENT_LINES = dg.AssetKey(["lake", "settlement_lines"])
SETTLEMENTS = dg.AssetKey(["lake", "settlements"])
FCT_PAYOUTS = dg.AssetKey(["warehouse", "fct_payouts"])
FCT_FEES = dg.AssetKey(["warehouse", "fct_fees"])
FCT_REFUNDS = dg.AssetKey(["warehouse", "fct_refunds"])


@acorn_check(
    asset=SETTLEMENT_LINES,
    name=SETTLEMENT_LINES_SCHEMA_CHECK,
    description="GX suite: the lake's settlement lines carry the contract's columns, exact decimal amounts, "
    "known layouts, ISO currencies and unique (settlement_id, line_number) keys.",
    blocking=True,
)
def settlement_lines_schema_check(data: DataDirResource) -> dg.AssetCheckResult:
    # DuckDB reads the files not yet validated and GX judges a bounded frame of them (expectations/
    # settlement_lines_scan.py): the check's memory and time follow the new settlement, not the history.
    # The local lake, or in scale-out the object store's current files, read in place (DataDirResource).
    source = data.lake_files()
    validated = ValidatedFiles(validated_files_path(data.paths().lake))
    scanned = sample_lake(source, validated)
    if scanned is None:
        return dg.AssetCheckResult(
            passed=True, severity=dg.AssetCheckSeverity.ERROR, metadata={"rows": 0, "note": "lake is empty"}
        )
    sample, entries = scanned
    extra: dict[str, int | str] = {
        "files_checked": len(sample.files_checked),
        "files_already_validated": sample.files_already_valid,
        "frame_rows": sample.frame_rows,  # the bounded frame judged (by GX, or proved clean without it)
        "rows_validated_by_gx": 0,
        "lines_in_lake": sample.lines_in_lake,
    }
    if not sample.files_checked:
        return dg.AssetCheckResult(
            passed=True,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"rows": 0, **extra, "note": "every file was validated before, unchanged since"},
        )
    # A clean table is proved on Arrow (no pandas); any other is made a frame and judged by GX.
    outcome = settlement_lines_schema.passed_without_gx_table(sample.table) or validate_dataframe(
        settlement_lines_schema.build_suite(), sample.frame
    )
    extra["validated_by"] = outcome.validated_by
    if outcome.validated_by == GREAT_EXPECTATIONS:
        extra["rows_validated_by_gx"] = sample.frame_rows
    if outcome.success:
        validated.remember(entries, source_files(source, "settlement_lines"))
    return check_result(outcome, severity=dg.AssetCheckSeverity.ERROR, rows=sample.rows_checked, extra=extra)


@acorn_check(
    asset=SETTLEMENTS,
    name=SETTLEMENT_SCHEMA_DRIFT_CHECK,
    description="Each settlement file's header is one Amazon writes for its layout; a drifted file "
    "names the columns added, removed or moved (its data is still kept).",
)
def settlement_schema_drift_check(data: DataDirResource) -> dg.AssetCheckResult:
    table = arrow_table(data.lake_files(), "settlements")
    if table is None:
        return _nothing_yet(settlement_schema_drift.SEVERITY, "lake has no settlements")
    return outcome_result(settlement_schema_drift.evaluate_table(table))


@acorn_check(
    asset=FCT_PAYOUTS,
    name=SETTLEMENT_RECONCILES_CHECK,
    description="Every settlement's lines add up to its total-amount, exactly.",
)
def settlement_reconciles_check(data: DataDirResource) -> dg.AssetCheckResult:
    return outcome_result(settlement_reconciles.evaluate(warehouse_frames.payouts(data.paths().warehouse)))


@acorn_check(
    asset=FCT_PAYOUTS,
    name=SETTLEMENT_FRESHNESS_CHECK,
    description="Every account has had a settlement period end within the last N days (dbt var "
    "settlement_freshness_days: the 14-day cycle plus lag).",
)
def settlement_freshness_check(data: DataDirResource) -> dg.AssetCheckResult:
    frame = warehouse_frames.payouts(data.paths().warehouse)
    outcome = settlement_freshness.evaluate(frame, now=business_now(), max_age_days=freshness_days())
    return outcome_result(outcome)


@acorn_check(
    asset=FCT_PAYOUTS,
    name=PAYOUT_AMOUNT_ANOMALY_CHECK,
    description="A payout far from the trailing median of its account and currency (robust z on the MAD).",
)
def payout_amount_anomaly_check(data: DataDirResource) -> dg.AssetCheckResult:
    return outcome_result(payout_amount_anomaly.evaluate(warehouse_frames.payouts(data.paths().warehouse)))


@acorn_check(
    asset=FCT_FEES,
    name=FEE_RATE_ANOMALY_CHECK,
    description="A settlement whose order fees ÷ order principal falls outside the band of its account's "
    "other settlements.",
)
def fee_rate_anomaly_check(data: DataDirResource) -> dg.AssetCheckResult:
    amounts = warehouse_frames.settlement_amounts(data.paths().warehouse)
    return outcome_result(fee_rate_anomaly.evaluate(amounts))


@acorn_check(
    asset=FCT_REFUNDS,
    name=REFUND_RATE_ANOMALY_CHECK,
    description="A spike in a settlement's refund rate (refunded ÷ ordered principal) against its account's "
    "other settlements.",
)
def refund_rate_anomaly_check(data: DataDirResource) -> dg.AssetCheckResult:
    amounts = warehouse_frames.settlement_amounts(data.paths().warehouse)
    return outcome_result(refund_rate_anomaly.evaluate(amounts))


@acorn_check(
    asset=FCT_FEES,
    name=UNKNOWN_FEE_DESCRIPTIONS_CHECK,
    description="Fee lines whose amount-type/description the fee_taxonomy seed does not know (now other).",
)
def unknown_fee_descriptions_check(data: DataDirResource) -> dg.AssetCheckResult:
    fees = warehouse_frames.fee_descriptions(data.paths().warehouse)
    return outcome_result(unknown_fee_descriptions.evaluate(fees))


# The checks of the lake's settlement tables: what the import job runs after its step (and all it loads of
# these, orchestration/import_definitions.py).
LAKE_SETTLEMENT_CHECKS = [settlement_lines_schema_check, settlement_schema_drift_check]
ALL_CHECKS = [
    *LAKE_SETTLEMENT_CHECKS,
    settlement_reconciles_check,
    settlement_freshness_check,
    payout_amount_anomaly_check,
    fee_rate_anomaly_check,
    refund_rate_anomaly_check,
    unknown_fee_descriptions_check,
]


def freshness_days(project_dir: Path = DBT_PROJECT_DIR) -> float:
    """The dbt var `settlement_freshness_days`: one setting for dbt and the check."""
    with (project_dir / "dbt_project.yml").open(encoding="utf-8") as handle:
        project = yaml.safe_load(handle)
    return float(
        project.get("vars", {}).get("settlement_freshness_days", settlement_freshness.DEFAULT_MAX_AGE_DAYS)
    )


def _nothing_yet(severity: str, note: str) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True, severity=SEVERITIES[severity], metadata={"rows": 0, "note": note})
