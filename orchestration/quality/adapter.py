"""The small GX → Dagster adapter (dagster-ge only supports GX < 1.0): outcomes become AssetCheckResults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from expectations.outcome import CheckOutcome
from expectations.runner import SuiteOutcome

SEVERITIES = {"WARN": dg.AssetCheckSeverity.WARN, "ERROR": dg.AssetCheckSeverity.ERROR}


def check_result(
    outcome: SuiteOutcome,
    *,
    severity: dg.AssetCheckSeverity,
    rows: int,
    extra: Mapping[str, object] | None = None,
) -> dg.AssetCheckResult:
    failures = outcome.failures
    metadata: dict[str, Any] = {
        "suite": outcome.suite,
        "rows": rows,
        "expectations_evaluated": outcome.evaluated,
        "expectations_failed": len(failures),
        **(extra or {}),
    }
    if failures:
        metadata["failures"] = dg.MetadataValue.json(
            [{"expectation": f.expectation, "column": f.column, "observed": f.observed} for f in failures]
        )
    return dg.AssetCheckResult(passed=outcome.success, severity=severity, metadata=metadata)


def outcome_result(outcome: CheckOutcome) -> dg.AssetCheckResult:
    """A check's outcome as Dagster reports it: scalars stay plain (the CLI prints them), details are JSON."""
    metadata: dict[str, Any] = {}
    for key, value in outcome.metadata.items():
        if value is None:
            continue
        metadata[key] = dg.MetadataValue.json(value) if isinstance(value, list | dict) else value
    if outcome.suite is not None:
        metadata["suite"] = outcome.suite.suite
        metadata["expectations_evaluated"] = outcome.suite.evaluated
        metadata["expectations_failed"] = len(outcome.suite.failures)
        metadata["validated_by"] = outcome.suite.validated_by
    return dg.AssetCheckResult(
        passed=outcome.passed, severity=SEVERITIES[outcome.severity], metadata=metadata
    )
