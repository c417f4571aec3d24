"""The code location loads with every asset, check, job, schedule and sensor users and the CLI rely on.

`definitions_snapshot.json` beside this file lists them all; the test fails when one disappears, is renamed or
is added (the CLI, `acorn build --json`, analysts' queries and alert rules depend on these names). After an
intended change, rewrite the snapshot and review its diff before committing:

    .venv/bin/python tests/orchestration/test_definitions.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg

SNAPSHOT = Path(__file__).with_name("definitions_snapshot.json")


def _defs() -> dg.Definitions:
    from orchestration.definitions import defs

    return defs


def test_definitions_validate() -> None:
    dg.Definitions.validate_loadable(_defs())


def definitions_snapshot(defs: dg.Definitions) -> dict[str, Any]:
    """The names the code location exposes, sorted: asset keys, asset checks, jobs, schedules, sensors, and
    which assets are partitioned."""
    graph = defs.resolve_asset_graph()
    repository = defs.get_repository_def()
    return {
        "assets": sorted(key.to_user_string() for key in graph.get_all_asset_keys()),
        "asset_checks": sorted(
            f"{key.asset_key.to_user_string()}:{key.name}" for key in graph.asset_check_keys
        ),
        "jobs": sorted(job.name for job in repository.get_all_jobs() if not job.name.startswith("__")),
        "schedules": {
            schedule.name: {"job": schedule.job_name, "cron": schedule.cron_schedule}
            for schedule in sorted(repository.schedule_defs, key=lambda schedule: schedule.name)
        },
        "sensors": sorted(sensor.name for sensor in repository.sensor_defs),
        # The assets partitioned by account (orchestration/account_partitions.py): one account's run, re-run or
        # backfill touches no other's data.
        "partitioned_by_account": sorted(
            key.to_user_string() for key in graph.get_all_asset_keys() if graph.get(key).is_partitioned
        ),
    }


def test_definitions_match_the_committed_snapshot() -> None:
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    actual = definitions_snapshot(_defs())
    for section in expected.keys() | actual.keys():
        want, have = expected.get(section), actual.get(section)
        if isinstance(want, list) and isinstance(have, list):
            missing, added = sorted(set(want) - set(have)), sorted(set(have) - set(want))
            assert not (missing or added), (
                f"{section}: missing {missing}, new {added}. If intended, run "
                "`.venv/bin/python tests/orchestration/test_definitions.py` and review the snapshot's diff."
            )
        assert want == have, f"{section} differs from {SNAPSHOT.name}: {want} != {have}"


def test_every_mart_has_a_dbt_test_check_and_the_gx_suite_is_a_check() -> None:
    graph = _defs().resolve_asset_graph()
    checks = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
    for mart in ("fct_settlement_lines", "fct_payouts", "fct_fees", "fct_refunds"):
        assert any(asset == f"warehouse/{mart}" for asset, _ in checks), f"no dbt test check on {mart}"
    assert ("lake/settlement_lines", "settlement_lines_schema") in checks


def test_daily_schedule() -> None:
    defs = _defs()
    schedule = defs.resolve_schedule_def("acorn_daily_schedule")
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.job_name == "acorn_daily"


# Check names are a contract: `acorn build --json` reports them and users alert on them.
FINANCE_CHECKS = {
    ("lake/transaction_totals", "transaction_breakdowns_sum"),
    ("lake/financial_events_unknown", "financial_events_unknown_types"),
    ("warehouse/fct_settlement_sources", "settlement_sources_agree"),
    ("warehouse/rpt_deferred_schedule", "deferred_balance_matches"),
    ("warehouse/rpt_deferred_schedule", "deferred_release_overdue"),
}


BOOKS_CHECKS = {
    ("warehouse/fct_journal_lines", "books_journals_balance"),
    ("warehouse/fct_journal_lines", "books_bank_line_equals_total"),
    ("warehouse/fct_journal_lines", "books_parts_sum_to_total"),
    ("warehouse/fct_journal_lines", "books_deferred_control"),
    ("warehouse/rpt_books_unmapped", "books_no_unmapped_line"),
}


def test_books_checks_run_in_the_daily_and_build_jobs() -> None:
    defs = _defs()
    for job_name in ("acorn_daily", "warehouse_build"):
        graph = defs.resolve_job_def(job_name).asset_layer.asset_graph
        checks = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
        assert not BOOKS_CHECKS - checks, f"{job_name} lacks {sorted(BOOKS_CHECKS - checks)}"


def test_finance_checks_run_in_the_daily_and_build_jobs() -> None:
    defs = _defs()
    for job_name in ("acorn_daily", "warehouse_build"):
        graph = defs.resolve_job_def(job_name).asset_layer.asset_graph
        checks = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
        missing = FINANCE_CHECKS - checks
        assert not missing, f"{job_name} lacks {sorted(missing)}"
    build = defs.resolve_job_def("warehouse_build").asset_layer.asset_graph
    executable = {key.to_user_string() for key in build.get_all_asset_keys() if build.get(key).is_executable}
    # `acorn build` never calls Amazon nor rewrites the lake: no lake or SP-API asset executes in it.
    assert not {key for key in executable if key.startswith(("lake/", "spapi/"))}


# The data quality checks (a contract: `acorn build --json` reports them by name).
QUALITY_CHECKS = {
    ("lake/settlements", "settlement_schema_drift"),
    ("warehouse/fct_payouts", "payout_amount_anomaly"),
    ("warehouse/fct_payouts", "settlement_reconciles"),
    ("warehouse/fct_payouts", "settlement_freshness"),
    ("warehouse/fct_fees", "fee_rate_anomaly"),
    ("warehouse/fct_fees", "unknown_fee_descriptions"),
    ("warehouse/fct_refunds", "refund_rate_anomaly"),
}


def test_quality_checks_run_in_the_daily_and_build_jobs() -> None:
    defs = _defs()
    for job_name in ("acorn_daily", "warehouse_build"):
        graph = defs.resolve_job_def(job_name).asset_layer.asset_graph
        checks = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
        missing = QUALITY_CHECKS - checks
        assert not missing, f"{job_name} lacks {sorted(missing)}"


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


if __name__ == "__main__":
    from orchestration.definitions import defs

    SNAPSHOT.write_text(json.dumps(definitions_snapshot(defs), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {SNAPSHOT}")
