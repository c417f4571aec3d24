"""Daily operation left unattended: exit codes, run status and origin in Dagster, progress, clear errors.

One demo (`acorn demo`, as a person runs it: the session's clean demo, copied) is shared by the tests below;
each other command runs as its own process on the copy's data dir and Dagster home, and the Dagster instance is
then read as the UI reads it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from acorn_process import REPO_ROOT, acorn, dagster_runs
from dagster._core.storage.tags import REPOSITORY_LABEL_TAG
from dagster._core.workspace.load import location_origins_from_yaml_paths
from demo_runs import copy_demo

# In the group of the session's clean demo (tests/e2e/conftest.py), which the tests here run on a copy of.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]


@pytest.fixture(scope="session")
def demo(
    tmp_path_factory: pytest.TempPathFactory, clean_demo: dict[str, object]
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The session's clean demo (`acorn demo`, as a person runs it), copied: the commands below add runs."""
    workdir = copy_demo(clean_demo, tmp_path_factory.mktemp("operations"))
    completed = clean_demo["completed"]
    assert isinstance(completed, subprocess.CompletedProcess)
    return workdir, completed


def _instance(workdir: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(workdir / "dagster_home"))


def _step_failures(workdir: Path, run_id: str) -> dict[str, str]:
    with _instance(workdir) as instance:
        failures = {}
        for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
            error = entry.dagster_event.step_failure_data.error  # type: ignore[union-attr]
            texts = []
            while error is not None:
                texts.append(error.message)
                error = error.cause
            failures[entry.step_key] = "\n".join(texts)
        return failures


def test_demo_exits_0_when_the_checks_catch_exactly_its_deliberate_anomalies(demo) -> None:  # type: ignore[no-untyped-def]
    _, completed = demo
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "deliberate anomalies were caught" in completed.stderr
    assert "(deliberate demo anomaly)" in completed.stdout


def test_cli_runs_are_runs_of_the_workspace_code_location(demo) -> None:  # type: ignore[no-untyped-def]
    """What the job page and the Overview timeline ask the instance for: runs of the job in that repository."""
    workdir, _ = demo
    [origin] = location_origins_from_yaml_paths([str(REPO_ROOT / "workspace.yaml")])
    [run] = dagster_runs(workdir, "acorn_daily")
    assert run.remote_job_origin is not None
    assert run.remote_job_origin.location_name == origin.location_name
    label = run.remote_job_origin.repository_origin.get_label()
    assert label == f"__repository__@{origin.location_name}"
    with _instance(workdir) as instance:
        on_job_page = instance.get_runs(
            dg.RunsFilter(job_name="acorn_daily", tags={REPOSITORY_LABEL_TAG: label})
        )
    assert [r.run_id for r in on_job_page] == [run.run_id]
    assert run.tags["acorn/command"] == "demo"


JOB_PAGE_QUERY = """
query JobPage($selector: PipelineSelector!) {
  pipelineOrError(params: $selector) {
    __typename
    ... on Pipeline { runs { runId status tags { key value } } }
  }
}
"""


def test_the_ui_job_page_lists_the_cli_run(demo, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The same GraphQL query the webserver's job page makes, against the workspace the webserver loads."""
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget
    from dagster_graphql.test.utils import execute_dagster_graphql

    workdir, _ = demo
    monkeypatch.setenv("ACORN_DATA_DIR", str(workdir / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(workdir / "dagster_home"))
    [origin] = location_origins_from_yaml_paths([str(REPO_ROOT / "workspace.yaml")])
    selector = {
        "repositoryLocationName": origin.location_name,
        "repositoryName": "__repository__",
        "pipelineName": "acorn_daily",
    }
    with (
        _instance(workdir) as instance,
        WorkspaceProcessContext(
            instance, WorkspaceFileTarget(paths=[str(REPO_ROOT / "workspace.yaml")])
        ) as ctx,
    ):
        result = execute_dagster_graphql(ctx.create_request_context(), JOB_PAGE_QUERY, {"selector": selector})
    assert not result.errors, result.errors
    page = result.data["pipelineOrError"]
    assert page["__typename"] == "Pipeline", page
    [run] = dagster_runs(workdir, "acorn_daily")
    assert [r["runId"] for r in page["runs"]] == [run.run_id]
    assert page["runs"][0]["status"] == "FAILURE"


def test_a_failed_error_check_makes_the_run_fail_with_its_reason(demo) -> None:  # type: ignore[no-untyped-def]
    workdir, _ = demo
    [run] = dagster_runs(workdir, "acorn_daily")
    assert run.status == dg.DagsterRunStatus.FAILURE
    failures = _step_failures(workdir, run.run_id)
    assert set(failures) == {"lake__settlements_settlement_schema_drift"}, failures
    assert (
        "settlement_schema_drift failed with ERROR severity"
        in failures["lake__settlements_settlement_schema_drift"]
    )
    # The data still reached the marts: a non-blocking ERROR check fails its own step, not the run's others.
    with _instance(workdir) as instance:
        assert (
            instance.get_latest_materialization_event(dg.AssetKey(["warehouse", "fct_payouts"])) is not None
        )
        assert instance.get_run_by_id(run.run_id).tags["acorn/outcome"] == "data_problem"  # type: ignore[union-attr]


def test_progress_is_plain_lines_per_step_and_account_off_a_terminal(demo) -> None:  # type: ignore[no-untyped-def]
    _, completed = demo
    progress = completed.stderr
    assert "\x1b[" not in progress  # no control codes in a pipe or a log file
    assert "  ▸ settlement reports" in progress
    assert any(
        line.strip().startswith("demo-na:") and "transactions read" in line for line in progress.splitlines()
    )
    assert "models and seeds built" in progress
    # The payout table has a header and says which marketplace each payout is for.
    header = next(
        line for line in completed.stdout.splitlines() if "reconciled" in line and "account" in line
    )
    assert header.split() == [
        "account",
        "marketplace",
        "settlement",
        "deposit",
        "amount",
        "cur",
        "reconciled",
    ]


def test_build_exits_1_and_names_the_failed_error_check(demo) -> None:  # type: ignore[no-untyped-def]
    workdir, _ = demo
    completed = acorn(workdir, "build", "--json")
    assert completed.returncode == 1, completed.stderr[-3000:]
    report = json.loads(completed.stdout)
    assert report["success"] is False and report["exit_code"] == 1 and report["outcome"] == "data_problem"
    assert "ERROR check failed: settlement_schema_drift on lake/settlements" in report["problems"]
    build = dagster_runs(workdir, "warehouse_build")[0]
    assert build.status == dg.DagsterRunStatus.FAILURE and build.tags["acorn/command"] == "build"
    assert build.tags["acorn/outcome"] == "data_problem"  # tagged with the whole report's outcome


def test_import_of_a_refused_file_exits_1_and_fails_its_run(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    workdir, _ = demo
    foreign = tmp_path / "orders.csv"
    foreign.write_text("order-id,sku,quantity\n111-1,ABC,1\n")
    completed = acorn(workdir, "import", "--account", "demo-na", str(foreign))
    assert completed.returncode == 1, completed.stderr[-3000:]
    assert "rejected" in completed.stdout and foreign.name in completed.stderr
    run = dagster_runs(workdir, "settlement_import")[0]
    assert run.status == dg.DagsterRunStatus.FAILURE
    failures = _step_failures(workdir, run.run_id)
    assert "settlement_files_accepted failed with ERROR severity" in "".join(failures.values()), failures


def test_credentials_refused_is_exit_3_with_the_cause(demo) -> None:  # type: ignore[no-untyped-def]
    workdir, _ = demo
    refused = {
        "SPAPI_LWA_CLIENT_ID": "amzn1.application-oa2-client.e2e-operations",
        "SPAPI_LWA_CLIENT_SECRET": "e2e-operations-secret-1f2e",
        "SPAPI_REFRESH_TOKEN": "invalid-e2e-refresh-token-77aa",  # the simulator's LWA refuses this prefix
    }
    completed = acorn(workdir, "run", "--account", "demo-na", "--json", env=refused)
    assert completed.returncode == 3, completed.stdout[-2000:] + completed.stderr[-3000:]
    report = json.loads(completed.stdout)
    assert report["success"] is False and report["outcome"] == "could_not_run"
    assert any("LwaError" in problem and "invalid_grant" in problem for problem in report["problems"])
    assert "Full step logs:" in completed.stderr
    for secret in refused.values():
        assert secret not in completed.stdout + completed.stderr


def test_a_config_that_does_not_load_is_exit_3_and_an_unknown_account_exit_2(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    workdir, _ = demo
    missing = acorn(workdir, "run", env={"ACORN_CONFIG": str(tmp_path / "nowhere.toml")})
    assert missing.returncode == 3, missing.stderr[-2000:]
    assert "nowhere.toml" in missing.stderr and "Traceback" not in missing.stderr
    unknown = acorn(workdir, "run", "--account", "no-such-account")
    assert unknown.returncode == 2
    assert "no-such-account" in unknown.stderr and "demo-na" in unknown.stderr


def test_version() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "acorn_cli.main", "--version"], capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip().startswith("acorn ") and completed.stdout.strip() != "acorn "
