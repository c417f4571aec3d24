"""`acorn build` after a new settlement runs only the dbt nodes that read what changed (scope.py), as a person
runs it: the Finances and vendor models and their tests are not run, and not in the run at all (its run selects
only what runs: scoped_run.py), but the command reports them as the previous build left them; the published
warehouse holds exactly what a build of everything from the same lake makes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
from test_unchanged_build import SAMPLES, _acorn, _checks, _run_events

from acorn_cli.dbt_core import LOAD_DBT_CORE_ENV
from orchestration.outcomes import MODEL_UNCHANGED_KEY
from orchestration.warehouse.last_build import file_identity
from orchestration.warehouse.scoped_run import SCOPED_BUILD_TAG

pytestmark = [pytest.mark.slow]

# Which dbt invocation summed or posted a row: bookkeeping, different in every build by design.
BOOKKEEPING_COLUMNS = {"built_in_invocation", "posted_in_run"}


def _tables(warehouse: Path) -> dict[str, list[tuple]]:
    """Every table of the warehouse (not views: they are SQL over the tables and the lake), rows sorted."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        names = connection.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_name <> 'acorn_build_changes' order by all"
        ).fetchall()
        tables = {}
        for schema, table in names:
            columns = [
                f'"{column}"'
                for (column,) in connection.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
                    "order by ordinal_position",
                    [schema, table],
                ).fetchall()
                if column not in BOOKKEEPING_COLUMNS
            ]
            rows = connection.execute(f'select {", ".join(columns)} from "{schema}"."{table}"').fetchall()
            tables[f"{schema}.{table}"] = sorted(rows, key=repr)
    return tables


def _materialized(dagster_home: Path, run_id: str, first_run_id: str) -> tuple[set[str], set[str]]:
    """The models a run materialized: (marked unchanged since `first_run_id`, rebuilt)."""
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    kept, rebuilt = set(), set()
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home))) as instance:
        for entry in instance.all_logs(run_id):
            event = entry.dagster_event
            if event is None or event.event_type_value != "ASSET_MATERIALIZATION":
                continue
            materialization = event.event_specific_data.materialization  # type: ignore[union-attr]
            name = materialization.asset_key.path[-1]
            if MODEL_UNCHANGED_KEY in materialization.metadata:
                assert materialization.metadata[MODEL_UNCHANGED_KEY].value == first_run_id
                kept.add(name)
            else:
                rebuilt.add(name)
    return kept, rebuilt


def _run(dagster_home: Path, run_id: str) -> tuple[dict[str, str], dict[str, str]]:
    """The run's tags, and {dbt model: id of the run of its latest materialization} as the asset catalog shows."""
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    from orchestration.warehouse.assets import acorn_dbt_models

    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home))) as instance:
        run = instance.get_run_by_id(run_id)
        assert run is not None
        latest = {}
        for key in acorn_dbt_models.keys:
            event = instance.get_latest_materialization_event(key)
            assert event is not None, key
            latest[key.path[-1]] = event.run_id
        return dict(run.tags), latest


def _dbt_check_targets(
    dagster_home: Path, run_id: str
) -> tuple[dict[str, tuple[str, int | None]], dict[str, Any]]:
    """{dbt test's check name: (its model, storage id of the materialization its evaluation is linked to)} of the
    run's check evaluations on dbt models, and {model: the metadata of its materialization in the run}, both
    from the run's event log; each evaluation of a test on a model the run materialized must name that
    materialization (one yielded before its model's output would name the previous build's)."""
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    models = _dbt_models()
    targets: dict[str, tuple[str, int | None]] = {}
    metadata: dict[str, Any] = {}
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home))) as instance:
        for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
            materialization = entry.asset_materialization
            assert materialization is not None
            metadata[materialization.asset_key.path[-1]] = materialization.metadata
        # The asset index's storage ids (with SQLite storage a run's own log numbers its events apart).
        materialized = {}
        for model in metadata:
            [latest] = instance.fetch_materializations(dg.AssetKey(["warehouse", model]), limit=1).records
            assert latest.run_id == run_id
            materialized[model] = latest.storage_id
        for entry in instance.all_logs(run_id):
            event = entry.dagster_event
            if event is None or event.event_type_value != "ASSET_CHECK_EVALUATION":
                continue
            evaluation = event.asset_check_evaluation_data
            model = evaluation.asset_key.path[-1]
            if model not in models:
                continue
            target = evaluation.target_materialization_data
            targets[evaluation.check_name] = (model, target.storage_id if target else None)
            if model in materialized:
                assert target is not None and target.run_id == run_id, evaluation.check_name
                assert target.storage_id == materialized[model], evaluation.check_name
    return targets, metadata


def dg_instance(dagster_home: Path) -> Any:
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home)))


def _dbt_results(run_id: str) -> set[str]:
    """The unique ids of the nodes dbt reports a result of in the run's dbt.log (its run folder)."""
    from orchestration.paths import DBT_PROJECT_DIR

    [folder] = (DBT_PROJECT_DIR / "target").glob(f"acorn_dbt_models-{run_id[:7]}-*")
    results = set()
    for line in (folder / "dbt.log").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event["info"]["name"] in ("LogModelResult", "LogTestResult", "LogSeedResult"):
            results.add(event["data"]["node_info"]["unique_id"])
    return results


def _dbt_threads(run_id: str) -> int:
    """How many models the run's dbt ran at once, from its dbt.log."""
    from orchestration.paths import DBT_PROJECT_DIR

    [folder] = (DBT_PROJECT_DIR / "target").glob(f"acorn_dbt_models-{run_id[:7]}-*")
    for line in (folder / "dbt.log").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event["info"]["name"] == "ConcurrencyLine":
            return int(event["data"]["num_threads"])
    raise AssertionError(f"no concurrency line in {folder / 'dbt.log'}")


def _dbt_models() -> set[str]:
    from orchestration.warehouse.assets import acorn_dbt_models

    return {key.path[-1] for key in acorn_dbt_models.keys}


# `acorn build`'s scoped run created, then (before it runs) the record altered as if the Finances transactions had
# changed since: its dbt step finds more nodes to run than the run selects.
_SCOPE_CHANGED_SCRIPT = """
import json
from acorn_cli.environment import prepare_environment
prepare_environment()
from acorn_cli.main import _scoped_build
from acorn_cli.runs import run_job
from orchestration.paths import data_paths
from orchestration.warehouse.last_build import record_path

paths = data_paths()
planned = _scoped_build(paths)
assert planned is not None
record = record_path(paths.warehouse)
document = json.loads(record.read_text())
document["datasets"]["transactions"] = "another digest"
record.write_text(json.dumps(document))
report = run_job("warehouse_build", command="build", subset=lambda: planned.subset)
print(json.dumps(report.to_json()))
"""


def _a_scoped_run_whose_scope_changed_fails_and_publishes_nothing(workdir: Path) -> None:
    warehouse = workdir / "data" / "warehouse.duckdb"
    record = warehouse.with_name(warehouse.name + ".last-build.json")
    published, recorded, written = file_identity(warehouse), record.read_bytes(), record.stat()
    env = {
        **os.environ,
        "ACORN_DATA_DIR": str(workdir / "data"),
        "DAGSTER_HOME": str(workdir / "dagster_home"),
    }
    ran = subprocess.run(
        [sys.executable, "-c", _SCOPE_CHANGED_SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    report = json.loads(ran.stdout.strip().splitlines()[-1])
    assert report["exit_code"] == 3
    assert "changed since" in report["failure"] and "run `acorn build` again" in report["failure"]
    assert file_identity(warehouse) == published  # nothing published
    # The record as the first build wrote it, for the build that follows: its bytes and its time (older than the
    # new settlement, which `acorn build` reads as a sign that dbt will run: dbt_prestart.likely_to_run_dbt).
    record.write_bytes(recorded)
    os.utime(record, ns=(written.st_atime_ns, written.st_mtime_ns))


def test_a_daily_build_runs_what_changed_and_equals_a_build_of_everything(tmp_path: Path) -> None:
    samples = sorted(SAMPLES.glob("*"))
    first_files, later_file = samples[:-1], samples[-1]
    daily = tmp_path / "daily"
    assert _acorn(daily, "import", "--account", "demo-na", *map(str, first_files)).returncode in (0, 1)
    first = json.loads(_acorn(daily, "build", "--json").stdout)
    # A first build runs every node, in a run of the whole job: every model and seed materialized.
    assert "dbt_nodes_left_out_unchanged" not in first
    kept, rebuilt = _materialized(daily / "dagster_home", first["run_id"], first["run_id"])
    assert not kept and rebuilt == _dbt_models()
    assert SCOPED_BUILD_TAG not in _run(daily / "dagster_home", first["run_id"])[0]
    assert _acorn(daily, "import", "--account", "demo-na", str(later_file)).returncode in (0, 1)
    _a_scoped_run_whose_scope_changed_fails_and_publishes_nothing(daily)
    building = _acorn(daily, "build", "--json")
    second = json.loads(building.stdout)
    assert second["warehouse_unchanged_since_run"] is None

    # The settlements' tests ran again; the Finances and vendor tests kept the first build's results.
    carried = {
        c["name"] for c in second["checks"] if c["metadata"].get("evaluated_in_run") == first["run_id"]
    }
    ran = {c["name"] for c in second["checks"] if "evaluated_in_run" not in c["metadata"]}
    assert any(name.startswith("unique_combination_fct_settlement_lines") for name in ran)
    assert any(name == "columns_not_null_stg_lake_finance__transactions" for name in carried)
    assert not carried & ran
    assert all(
        c["metadata"]["note"] == "nothing it reads changed since that build: not run again, its result stands"
        for c in second["checks"]
        if c["name"] in carried
    )
    # The build took the copy of the warehouse `acorn build` made while it started (precopy.py): what it
    # published is compared below with a build of everything.
    with dg_instance(daily / "dagster_home") as instance:
        [copied] = [
            entry.user_message
            for entry in instance.all_logs(second["run_id"])
            if entry.user_message.startswith("building in ")
        ]
    assert "ahead, while the command started" in copied and "not used" not in copied, copied
    # dbt ran no left-out node: its selection (dagster-dbt's, no `--exclude`) holds the scope's nodes only.
    dbt_ran = _dbt_results(second["run_id"])
    assert not dbt_ran & {c["metadata"]["unique_id"] for c in second["checks"] if c["name"] in carried}
    assert not any(unique_id.startswith("model.acorn.stg_lake_finance__") for unique_id in dbt_ran)
    # A scoped build of one new settlement runs two models at once where it has two cores (dbt_threads.py); the
    # warehouse it published is the same as a build of everything (compared below).
    if len(os.sched_getaffinity(0)) >= 2:
        assert _dbt_threads(second["run_id"]) == 2
    # The command says how many nodes were left out and which build's results stand for them.
    left_out = second["dbt_nodes_left_out_unchanged"]
    assert left_out["since_run"] == first["run_id"] and 0 < left_out["nodes"] < left_out["of"]
    # In Dagster the run holds only what ran: the rebuilt models, the tests dbt ran (nothing planned, evaluated
    # or materialized for the others), and the Python checks. Every model's latest materialization (the asset
    # catalog) is the build that made what the warehouse holds of it: this one or the first.
    tags, latest = _run(daily / "dagster_home", second["run_id"])
    assert tags[SCOPED_BUILD_TAG] == first["run_id"]
    kept, rebuilt = _materialized(daily / "dagster_home", second["run_id"], first["run_id"])
    assert not kept and "fct_settlement_lines" in rebuilt and "stg_lake_finance__transactions" not in rebuilt
    assert {name for name, run_id in latest.items() if run_id == second["run_id"]} == rebuilt
    assert {name for name, run_id in latest.items() if run_id == first["run_id"]} == _dbt_models() - rebuilt
    events = _run_events(daily / "dagster_home", second["run_id"])
    assert sorted(events["ASSET_CHECK_EVALUATION"]) == sorted(ran)
    assert len(events["ASSET_CHECK_EVALUATION_PLANNED"]) == len(events["ASSET_CHECK_EVALUATION"])
    # Each dbt test's evaluation is linked to its model's materialization by this run, and each rebuilt model's
    # materialization carries its column schema (tables their row count).
    targets, metadata = _dbt_check_targets(daily / "dagster_home", second["run_id"])
    assert any(model == "fct_settlement_lines" for model, _ in targets.values())
    assert all(storage_id is not None for _, storage_id in targets.values())
    assert set(metadata) == rebuilt
    assert {unique_id.split(".")[-1] for unique_id in dbt_ran if unique_id.startswith("model.")} == rebuilt
    assert all("dagster/column_schema" in values for values in metadata.values())
    assert metadata["fct_settlement_lines"]["dagster/row_count"].value > 0

    # A build of everything from the same lake, in a data dir of its own.
    full = tmp_path / "full"
    shutil.copytree(
        daily / "data", full / "data", ignore=shutil.ignore_patterns("warehouse.duckdb*", "*.lock")
    )
    # That build's `acorn` process loads dbt-core, as the UI's code location does; the daily build's did not
    # (acorn_cli/dbt_core.py): the same checks, the same models' metadata, the same warehouse.
    everything = json.loads(_acorn(full, "build", "--json", **{LOAD_DBT_CORE_ENV: "1"}).stdout)
    assert not [c for c in everything["checks"] if "evaluated_in_run" in c["metadata"]]
    assert _checks(second) == _checks(everything)
    _, everything_metadata = _dbt_check_targets(full / "dagster_home", everything["run_id"])
    for model, values in metadata.items():
        assert values.keys() == everything_metadata[model].keys(), model
        for key in ("dagster/row_count", "dagster/column_schema", "unique_id"):
            if key in values:
                assert values[key] == everything_metadata[model][key], (model, key)
    daily_tables = _tables(daily / "data" / "warehouse.duckdb")
    full_tables = _tables(full / "data" / "warehouse.duckdb")
    assert daily_tables.keys() == full_tables.keys()
    assert daily_tables.get("marts.fct_settlement_lines")
    for table, rows in full_tables.items():
        assert daily_tables[table] == rows, table
