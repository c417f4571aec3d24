"""`acorn run` on Celery workers is one run per group of neighbouring accounts (as many groups as workers answer),
then the build (README "Scale-out"): how the accounts are grouped, how the daily job is split, and how the runs'
reports become the command's one report. The runs themselves on workers are proved by
tests/cluster/test_account_runs.py (`make test-cluster`)."""

from __future__ import annotations

from acorn_cli.runs import (
    LAKE_SETTLEMENT_LINES,
    CheckReport,
    RunReport,
    StepFailure,
    account_groups,
    combined_report,
    daily_parts,
)
from orchestration.definitions import defs
from orchestration.jobs import daily_job
from orchestration.outcomes import ExitCode


def test_accounts_are_cut_into_as_many_groups_of_neighbours_as_workers() -> None:
    accounts = [f"acc-{n}" for n in range(1, 9)]
    # 8 accounts on 3 workers: 3 runs of neighbours (each a partition range), sizes 3, 3, 2, in the config's order.
    assert account_groups(accounts, 3) == [accounts[0:3], accounts[3:6], accounts[6:8]]
    assert account_groups(accounts, 1) == [accounts]
    # Never more groups than accounts, never an empty one; no worker answering counts as one group.
    assert account_groups(accounts[:2], 3) == [["acc-1"], ["acc-2"]]
    assert account_groups(accounts, 0) == [accounts]
    for workers in range(1, 12):
        groups = account_groups(accounts, workers)
        assert [account for group in groups for account in group] == accounts
        assert max(map(len, groups)) - min(map(len, groups)) <= 1
        assert len(groups) == min(workers, len(accounts))


def test_the_daily_job_splits_into_the_account_partitioned_assets_and_the_rest_with_every_check() -> None:
    graph = defs.resolve_asset_graph()
    extraction, rest = daily_parts(daily_job)
    assert extraction.assets and rest.assets
    # The account runs: every account-partitioned asset, nothing else, no check (they run after, over every account).
    assert all(graph.get(key).partitions_def is not None for key in extraction.assets)
    assert extraction.checks == frozenset()
    # The rest: the warehouse build, no partitioned asset, and every check of the job, the lake's included.
    assert all(graph.get(key).partitions_def is None for key in rest.assets)
    assert any(key.path[0] == "warehouse" for key in rest.assets)
    assert rest.checks == frozenset(daily_job.selection.resolve_checks(graph))
    assert any(check.asset_key.path[0] == "lake" for check in rest.checks)
    # Together, the whole job.
    assert extraction.assets | rest.assets == daily_job.selection.resolve(graph)
    assert not extraction.assets & rest.assets


def _report(run_id: str, **kwargs: object) -> RunReport:
    fields: dict[str, object] = {
        "dagster_success": True,
        "checks": [],
        "materializations": {},
        "failures": [],
        **kwargs,
    }
    return RunReport(run_id, "acorn_daily", **fields)  # type: ignore[arg-type]


def _outcomes(*statuses: str) -> dict[str, dict[str, object]]:
    return {
        LAKE_SETTLEMENT_LINES: {
            "outcomes": [{"status": status, "file": f"{status}.tsv", "message": ""} for status in statuses]
        }
    }


def test_the_command_reports_every_runs_checks_failures_and_files_and_is_named_after_the_build() -> None:
    check = CheckReport("balanced", "warehouse/fct_payouts", passed=False, severity="ERROR", metadata={})
    accounts = [
        _report("run-na", materializations=_outcomes("loaded", "quarantined")),
        _report("run-eu", materializations=_outcomes("loaded")),
    ]
    build = _report("run-build", checks=[check])
    report = combined_report([*accounts, build])
    assert report.run_id == "run-build"
    assert [part.run_id for part in report.parts] == ["run-na", "run-eu", "run-build"]
    assert report.to_json()["runs"] == ["run-na", "run-eu", "run-build"]
    assert report.to_json()["build_run"] == "run-build"
    # A refused file of one account's run and a failed check of the build both count: exit 1.
    assert [f["file"] for f in report.refused_files] == ["quarantined.tsv"]
    assert report.failed_error_checks == [check]
    assert report.exit_code == ExitCode.DATA_PROBLEM


def test_a_failed_account_run_sets_the_exit_code_by_its_cause_and_names_the_account() -> None:
    refused = StepFailure(
        "finances_transactions",
        "1 account(s) failed: sim-eu-002; landed: none\ninvalid_grant",
        ("AccountsFailed", "LwaError"),
    )
    report = combined_report(
        [
            _report("run-na", materializations=_outcomes("quarantined")),
            _report("run-eu", dagster_success=False, failures=[refused]),
        ],
        built=False,
    )
    assert (
        report.exit_code == ExitCode.COULD_NOT_RUN
    )  # the worst: the refused credentials over the refused file
    assert not report.dagster_success
    [problem, *rest] = report.problems()
    assert "sim-eu-002" in problem and "LwaError" in problem
    assert rest == ["quarantined: quarantined.tsv:"]


def test_a_command_stopped_before_its_build_is_no_success_even_when_every_account_landed() -> None:
    report = combined_report([_report("run-na"), _report("run-eu")], built=False)
    assert report.exit_code == ExitCode.COULD_NOT_RUN
    assert report.problems() == ["could not run: the run failed before any step started (see the log)"]
    assert report.to_json()["build_run"] is None
