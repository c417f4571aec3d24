"""The code location loads with every asset, check, job and schedule users and the CLI rely on.

Fails when one of them disappears or is renamed (the CLI and `acorn build --json` depend on these names).
"""

from __future__ import annotations

import dagster as dg

EXPECTED_ASSETS = {
    "spapi/settlement_reports",
    "lake/settlement_lines",
    "lake/settlements",
    "warehouse/stg_lake_settlements__settlement_lines",
    "warehouse/stg_lake_settlements__settlements",
    "warehouse/int_settlement_lines_classified",
    "warehouse/int_payouts_reconciled",
    "warehouse/fct_settlement_lines",
    "warehouse/fct_payouts",
    "warehouse/fct_fees",
    "warehouse/fct_refunds",
    "warehouse/fee_taxonomy",
}
EXPECTED_JOBS = {"acorn_daily", "settlement_import", "warehouse_build"}


def _defs() -> dg.Definitions:
    from orchestration.definitions import defs

    return defs


def test_definitions_validate() -> None:
    dg.Definitions.validate_loadable(_defs())


def test_expected_assets_are_defined() -> None:
    keys = {key.to_user_string() for key in _defs().resolve_asset_graph().get_all_asset_keys()}
    missing = EXPECTED_ASSETS - keys
    assert not missing, f"assets missing from the code location: {sorted(missing)}"


def test_every_mart_has_a_dbt_test_check_and_the_gx_suite_is_a_check() -> None:
    graph = _defs().resolve_asset_graph()
    checks = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
    for mart in ("fct_settlement_lines", "fct_payouts", "fct_fees", "fct_refunds"):
        assert any(asset == f"warehouse/{mart}" for asset, _ in checks), f"no dbt test check on {mart}"
    assert ("lake/settlement_lines", "settlement_lines_schema") in checks


def test_jobs_and_daily_schedule() -> None:
    defs = _defs()
    for name in EXPECTED_JOBS:
        assert defs.resolve_job_def(name).name == name
    schedule = defs.resolve_schedule_def("acorn_daily_schedule")
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.job_name == "acorn_daily"


FINANCE_ASSETS = {
    "spapi/finances_v0",
    "spapi/finances_2024_06_19",
    "spapi/transfers_2024_06_01",
    "spapi/vendor_orders_v1",
    "lake/financial_event_groups",
    "lake/financial_event_group_history",
    "lake/financial_events",
    "lake/financial_events_unknown",
    "lake/transactions",
    "lake/transaction_totals",
    "lake/transaction_breakdown_subtotals",
    "lake/transaction_status_history",
    "lake/balances",
    "lake/settlement_summaries",
    "lake/settlement_summary_breakdowns",
    "lake/expected_payouts",
    "lake/vendor_po_headers",
    "lake/vendor_po_items",
    "lake/vendor_po_item_status",
    "warehouse/fct_financial_events",
    "warehouse/fct_event_group_reconciliation",
    "warehouse/fct_transactions",
    "warehouse/rpt_deferred_schedule",
    "warehouse/fct_settlement_sources",
    "warehouse/fct_vendor_po_lines",
    "warehouse/int_payouts_matched_to_groups",
}
# Check names are a contract: `acorn build --json` reports them and users alert on them.
FINANCE_CHECKS = {
    ("lake/transaction_totals", "transaction_breakdowns_sum"),
    ("lake/financial_events_unknown", "financial_events_unknown_types"),
    ("warehouse/fct_settlement_sources", "settlement_sources_agree"),
    ("warehouse/rpt_deferred_schedule", "deferred_balance_matches"),
    ("warehouse/rpt_deferred_schedule", "deferred_release_overdue"),
}


def test_finance_and_vendor_assets_are_defined() -> None:
    keys = {key.to_user_string() for key in _defs().resolve_asset_graph().get_all_asset_keys()}
    missing = FINANCE_ASSETS - keys
    assert not missing, f"finance assets missing from the code location: {sorted(missing)}"


def test_finance_checks_run_in_the_daily_and_build_jobs() -> None:
    defs = _defs()
    for job_name in ("acorn_daily", "warehouse_build"):
        graph = defs.resolve_job_def(job_name).asset_layer.asset_graph
        checks = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
        missing = FINANCE_CHECKS - checks
        assert not missing, f"{job_name} lacks {sorted(missing)}"
    build = defs.resolve_job_def("warehouse_build").asset_layer.asset_graph
    executable = {key.to_user_string() for key in build.get_all_asset_keys() if build.get(key).is_executable}
    assert not {key for key in executable if key.startswith(("lake/", "spapi/"))} & FINANCE_ASSETS


ANALYTICS_ASSETS = {
    "warehouse/dim_account",
    "warehouse/dim_marketplace",
    "warehouse/dim_date",
    "warehouse/fct_sku_daily",
    "warehouse/rpt_payout_forecast",
    "warehouse/int_fx_rates_to_reporting",
    "warehouse/marketplaces",
    "warehouse/fx_rates",
}
# The issue-7 checks (a contract: `acorn build --json` reports them by name).
QUALITY_CHECKS = {
    ("lake/settlements", "settlement_schema_drift"),
    ("warehouse/fct_payouts", "payout_amount_anomaly"),
    ("warehouse/fct_payouts", "settlement_reconciles"),
    ("warehouse/fct_payouts", "settlement_freshness"),
    ("warehouse/fct_fees", "fee_rate_anomaly"),
    ("warehouse/fct_fees", "unknown_fee_descriptions"),
    ("warehouse/fct_refunds", "refund_rate_anomaly"),
}


def test_analytics_marts_are_defined() -> None:
    keys = {key.to_user_string() for key in _defs().resolve_asset_graph().get_all_asset_keys()}
    missing = ANALYTICS_ASSETS - keys
    assert not missing, f"marts missing from the code location: {sorted(missing)}"


def test_quality_checks_run_in_the_daily_and_build_jobs() -> None:
    defs = _defs()
    for job_name in ("acorn_daily", "warehouse_build"):
        graph = defs.resolve_job_def(job_name).asset_layer.asset_graph
        checks = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
        missing = QUALITY_CHECKS - checks
        assert not missing, f"{job_name} lacks {sorted(missing)}"


def test_alert_sensors_are_defined() -> None:
    defs = _defs()
    for name in ("check_alerts_succeeded_runs", "check_alerts_failed_runs"):
        assert defs.resolve_sensor_def(name).name == name


def test_the_workspace_loads_as_make_ui_loads_it(tmp_path) -> None:
    """`make ui` loads workspace.yaml through Dagster's own loader, which is stricter than importing `defs`
    (for example, it refuses a module with two Definitions objects)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    completed = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", str(repo / "workspace.yaml")],
        cwd=repo,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    assert "All code locations passed validation" in completed.stdout + completed.stderr
