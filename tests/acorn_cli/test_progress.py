"""The progress printer: a line per step and per account's landing with its counts, failed checks as they happen;
plain text off a terminal, a live status line on one."""

from __future__ import annotations

import io
from types import SimpleNamespace

import dagster as dg

from acorn_cli.progress import RunProgress


def _event(kind: str, step: str, data: object = None) -> SimpleNamespace:
    return SimpleNamespace(
        dagster_event=SimpleNamespace(event_type_value=kind, event_specific_data=data), step_key=step
    )


def _log(step: str, message: str, level: int = 20) -> SimpleNamespace:
    return SimpleNamespace(dagster_event=None, step_key=step, level=level, user_message=message)


def _evaluation(name: str, passed: bool, severity: dg.AssetCheckSeverity) -> SimpleNamespace:
    return SimpleNamespace(
        check_name=name, passed=passed, severity=severity, asset_key=dg.AssetKey(["warehouse", "fct_payouts"])
    )


RUN = [
    _event("STEP_START", "settlement_reports"),
    _log("settlement_reports", "demo-na/123: imported (156 rows)"),
    _log("settlement_reports", "debug detail", level=10),
    _event("STEP_SUCCESS", "settlement_reports"),
    _event("STEP_START", "acorn_dbt_models"),
    _event("ASSET_MATERIALIZATION", "acorn_dbt_models"),
    _event("ASSET_MATERIALIZATION", "acorn_dbt_models"),
    _event("STEP_SUCCESS", "acorn_dbt_models"),
    _event("STEP_START", "warehouse__fct_payouts_settlement_reconciles"),
    _event(
        "ASSET_CHECK_EVALUATION",
        "warehouse__fct_payouts_settlement_reconciles",
        _evaluation("settlement_reconciles", False, dg.AssetCheckSeverity.ERROR),
    ),
    _event(
        "ASSET_CHECK_EVALUATION",
        "warehouse__fct_payouts_payout_amount_anomaly",
        _evaluation("payout_amount_anomaly", True, dg.AssetCheckSeverity.WARN),
    ),
    _event("STEP_FAILURE", "warehouse__fct_payouts_settlement_reconciles"),
]


def test_plain_lines_off_a_terminal() -> None:
    stream = io.StringIO()
    with RunProgress(stream) as progress:
        for entry in RUN:
            progress(entry)
    lines = stream.getvalue().splitlines()
    assert "\x1b[" not in stream.getvalue()
    assert lines[0] == "  ▸ settlement reports"
    assert "    demo-na/123: imported (156 rows)" in lines
    assert not any("debug detail" in line for line in lines)
    assert any(line.startswith("  ✓ dbt build") and "2 models and seeds built" in line for line in lines)
    assert "    ✗ [ERROR] settlement_reconciles on warehouse/fct_payouts" in lines
    assert not any("payout_amount_anomaly" in line for line in lines)  # a passed check is counted, not listed
    assert not any("fct_payouts_settlement_reconciles" in line for line in lines)  # check steps are not steps
    assert progress.summary_line() == "  checks: 2 evaluated, 1 failed"


def test_a_terminal_gets_a_live_status_line() -> None:
    stream = io.StringIO()
    with RunProgress(stream, force_terminal=True) as progress:
        for entry in RUN:
            progress(entry)
    assert "\x1b[" in stream.getvalue()  # the spinner redraws in place
    assert "settlement reports" in stream.getvalue()


def test_a_broken_event_never_breaks_the_run() -> None:
    stream = io.StringIO()
    with RunProgress(stream) as progress:
        progress(SimpleNamespace())  # no attributes at all
    assert stream.getvalue() == ""


def test_a_build_that_found_nothing_new_says_so() -> None:
    unchanged = SimpleNamespace(
        materialization=SimpleNamespace(metadata={"acorn/warehouse_unchanged_since_run": "run-1"})
    )
    stream = io.StringIO()
    with RunProgress(stream, force_terminal=False) as progress:
        for entry in [
            _event("STEP_START", "acorn_dbt_models"),
            _event("ASSET_MATERIALIZATION", "acorn_dbt_models", unchanged),
            _event("ASSET_MATERIALIZATION", "acorn_dbt_models", unchanged),
            _event("STEP_SUCCESS", "acorn_dbt_models"),
        ]:
            progress(entry)
    [done] = [line for line in stream.getvalue().splitlines() if line.startswith("  ✓ dbt build")]
    assert "nothing new, warehouse unchanged, dbt not run" in done
    assert "models and seeds built" not in done
