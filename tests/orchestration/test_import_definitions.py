"""`acorn import` loads the import job alone (orchestration/import_definitions.py), not the whole code location:
the job must be the one the UI and the daemon load (same snapshot, same plan), and the run it records must be a
run of the workspace's code location, listed on that job's page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from acorn_process import DAGSTER_HOME, acorn
from dagster._core.execution.api import create_execution_plan
from dagster._core.snap import snapshot_from_execution_plan
from dagster._core.storage.tags import REPOSITORY_LABEL_TAG
from dagster._core.workspace.load import location_origins_from_yaml_paths
from dagster._serdes import serialize_value

from orchestration.jobs import import_job

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REPO_ROOT / "tests/fixtures/shared/settlement-samples/xieyi138_US_v2_synthetic_settlement-sample.txt"
RUN_CONFIG = {
    "ops": {
        "settlement_reports": {
            "config": {"import_files": ["/tmp/settlement.txt"], "account_id": None, "reattribute": False}
        }
    }
}


def _import_job(defs: dg.Definitions) -> Any:
    return defs.get_repository_def().get_job(import_job.name)


def _plan_snapshot(job: Any) -> str:
    plan = create_execution_plan(job, run_config=RUN_CONFIG)
    return serialize_value(snapshot_from_execution_plan(plan, job.get_job_snapshot().snapshot_id))


def test_the_import_job_alone_is_the_code_locations_import_job() -> None:
    from orchestration.definitions import defs as full
    from orchestration.import_definitions import defs as alone

    job, its_twin = _import_job(full), _import_job(alone)
    # The snapshot covers the job's ops, asset checks, config schema (every resource's), executor and tags.
    assert its_twin.get_job_snapshot().snapshot_id == job.get_job_snapshot().snapshot_id
    assert _plan_snapshot(its_twin) == _plan_snapshot(job)
    # And nothing an import does not run: no dbt model, no other domain's asset.
    keys = {key.to_user_string() for key in alone.resolve_asset_graph().get_all_asset_keys()}
    assert keys == {"lake/settlement_lines", "lake/settlements", "spapi/settlement_reports"}


@pytest.mark.slow
@pytest.mark.xdist_group("import_cli")
def test_an_import_run_is_a_run_of_the_workspace_code_location(tmp_path: Path) -> None:
    from orchestration.definitions import defs as full

    result = acorn(tmp_path, "import", "--json", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert [entry["status"] for entry in printed["files"]] == ["imported"]
    assert {check["name"] for check in printed["checks"]} == {
        "settlement_files_accepted",
        "settlement_lines_schema",
        "settlement_schema_drift",
    }
    [origin] = location_origins_from_yaml_paths([str(REPO_ROOT / "workspace.yaml")])
    label = f"__repository__@{origin.location_name}"
    with dg.DagsterInstance.from_config(str(tmp_path / DAGSTER_HOME)) as instance:
        run = instance.get_run_by_id(printed["run_id"])
        assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
        assert run.remote_job_origin is not None
        assert run.remote_job_origin.location_name == origin.location_name
        assert run.remote_job_origin.repository_origin.get_label() == label
        # What the job's page asks the instance for lists it, under the snapshot the UI's job has.
        on_job_page = instance.get_runs(
            dg.RunsFilter(job_name=import_job.name, tags={REPOSITORY_LABEL_TAG: label})
        )
        assert [r.run_id for r in on_job_page] == [run.run_id]
        assert run.job_snapshot_id == _import_job(full).get_job_snapshot().snapshot_id
        # Loaded from the import job's own module (its steps ran from it in this process).
        assert run.job_code_origin is not None
        assert run.job_code_origin.repository_origin.code_pointer.module == "orchestration.import_definitions"
        assert run.tags["acorn/outcome"] == "ok"
        lines = instance.get_latest_materialization_event(dg.AssetKey(["lake", "settlement_lines"]))
        assert lines is not None and lines.run_id == run.run_id
