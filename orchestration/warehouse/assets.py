"""dbt models as Dagster assets; dbt tests surface as asset checks on them."""

import contextlib
import graphlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.storage.tags import PRIORITY_TAG
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from lake.layout import reading
from orchestration.outcomes import MODEL_UNCHANGED_KEY, WAREHOUSE_UNCHANGED_KEY
from orchestration.resources import DataDirResource
from orchestration.warehouse.dbt_prestart import started_ahead
from orchestration.warehouse.dbt_threads import dbt_threads
from orchestration.warehouse.ducklake_publish import (
    DuckLakeBuild,
    build_and_publish_ducklake,
    last_published_record,
    register_lake_views_in_catalog,
)
from orchestration.warehouse.inputs import (
    BUILD_ARGS,
    NO_ARTIFACT_ARGS,
    BuildInputs,
    build_env,
    build_inputs,
    build_settings,
    build_vars,
    dbt_process_environment,
    file_log_args,
)
from orchestration.warehouse.lake_views import register_lake_views
from orchestration.warehouse.last_build import (
    LastBuild,
    RecordedCheck,
)
from orchestration.warehouse.metadata import with_table_metadata
from orchestration.warehouse.model_definitions import changed_definitions, incremental_definitions
from orchestration.warehouse.project import (
    dbt_project,
    keep_partial_parse,
    parse_key,
    run_target_folder,
    seed_partial_parse,
)
from orchestration.warehouse.publish import WarehouseBuild, build_and_publish
from orchestration.warehouse.run_folders import remove_old_run_folders, run_folder_in_use
from orchestration.warehouse.scope import BuildScope, everything
from orchestration.warehouse.scoped_run import (
    SCOPED_BUILD_TAG,
    check_unique_ids,
    planned_scope,
    redefined_since_last_build,
    scoped_selection,
)
from orchestration.warehouse_catalog import DuckLakeWarehouse, configured_warehouse
from transforms import crash_points

# Among the steps ready to run, the dbt build goes first (the blocking lake check still runs before it: the dbt
# step depends on it). This step no longer imports GX on a thread while dbt works: the checks prove a clean frame
# without GX and import it only to judge a frame a rule does not clear (expectations/runner.py, `validated`), so
# a clean build never pays GX's import (about 1.5 CPU s on this 2-core machine, where a preload was not free).
DBT_STEP_PRIORITY = {PRIORITY_TAG: "1"}
# profiles.yml's targets: the warehouse file (a build's copy of it), and the DuckLake catalog (scale-out,
# orchestration/warehouse_catalog.py).
LOCAL_TARGET = "local"
DUCKLAKE_TARGET = "ducklake"


class AcornDbtTranslator(DagsterDbtTranslator):
    """Groups dbt assets by layer (staging, intermediate, marts) and keys them warehouse/<model>."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return dg.AssetKey(["warehouse", dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        # fqn is [project, folder, ..., name]: models sit in staging/intermediate/marts, seeds at the top.
        return f"warehouse_{fqn[1]}" if len(fqn) > 2 else "warehouse"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=AcornDbtTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
    ),
    op_tags=DBT_STEP_PRIORITY,
)
def acorn_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, data: DataDirResource
) -> Iterator[Any]:
    """dbt build into a private copy of the warehouse, published atomically once it succeeds
    (orchestration/warehouse/publish.py): readers never block the build, nor see a half-built warehouse."""
    paths = data.paths()
    settings = build_settings()
    inputs = build_inputs(paths.lake, settings)
    catalog = configured_warehouse(paths.warehouse)
    if catalog is not None:
        yield from _build_in_catalog(context, dbt, catalog, paths.lake, paths.root, settings, inputs)
        return
    with build_and_publish(
        paths.warehouse, run_id=context.run_id, inputs_fingerprint=inputs.fingerprint
    ) as build:
        if build.unchanged_since is not None:
            yield from _unchanged(context, build.unchanged_since)
            return
        context.log.info(
            f"building in {build.path.name} ({build.timings.describe_copy(paths.warehouse.name)})"
        )
        definitions = incremental_definitions(dbt_project.manifest_path)
        redefined = redefined_since_last_build(paths.warehouse, definitions)
        if redefined:
            context.log.warning(
                f"the definitions of {len(redefined)} incremental models changed since the warehouse was built "
                f"({', '.join(redefined)}): rebuilding them from the whole lake (dbt build --full-refresh), so "
                "no row keeps the old definition beside rows of the new one"
            )
        manifest = json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))
        scope, last = _scope(context, paths.warehouse, inputs, manifest, redefined=bool(redefined))
        if scope.everything:
            context.log.info(f"dbt builds every node: {scope.reason}")
        else:
            context.log.info(
                f"dbt builds {len(scope.run)} of {len(scope.run) + len(scope.left_out)} nodes, those reading "
                f"what {scope.reason}; the rest stand as run {last.run_id if last else '?'} built them"
            )
        views = register_lake_views(build.path, paths.lake)
        context.log.info(f"lake views registered: {', '.join(views)}")
        # dbt's run folder is held in use until its results are read (run_folders.py).
        with contextlib.ExitStack() as run_folder:
            # The lake holds still while dbt reads it: a publish meanwhile waits (lake/layout.py).
            with reading(paths.root):
                refresh = ["--full-refresh"] if redefined else []
                # Cautious: a data test is left out only when every model it reads is (a relationship test
                # between a rebuilt fact and an unchanged dimension runs); with dbt's default a test of any
                # left-out model would be. In a scoped run (scoped_run.py) dagster-dbt selects the run's models
                # and tests itself.
                selection = (
                    [] if scope.everything or context.is_subset else ["--indirect-selection", "cautious"]
                )
                dbt_vars = build_vars(settings)
                threads = dbt_threads(scoped=not scope.everything, warehouse=paths.warehouse, lake=paths.lake)
                context.log.info(f"dbt runs {threads.threads} model(s) at a time: {threads.why}")
                saved_parse = parse_key(LOCAL_TARGET, build.path.name, dbt_vars)
                target_path = run_target_folder(context.op_execution_context.op.name, context.run_id)
                seed_partial_parse(target_path, saved_parse)
                with dbt_process_environment(build_env(settings, working_copy=build.path)):
                    invocation = dbt.cli(
                        [*BUILD_ARGS, *NO_ARTIFACT_ARGS, *threads.args(), *refresh, *selection, *file_log_args(),
                         "--vars", dbt_vars, *([] if context.is_subset else scope.exclude_args(manifest))],
                        context=context,
                        target_path=target_path,
                    )  # fmt: skip
                run_folder.enter_context(run_folder_in_use(invocation.target_path))
                # dbt holds the copy open read-write until it exits; the row counts and column schemas are read
                # after. The stream raises when dbt fails: the copy is then dropped, nothing published.
                events = []
                for event in invocation.stream():
                    events.append(event)
                    crash_points.pause_at("dbt-build", copy=str(build.path))
                invocation.process.wait()
                if (ahead := started_ahead()) is not None and ahead.taken():
                    context.log.info(
                        f"dbt ran in the process this `acorn` command started ahead (pid {ahead.pid}: its import "
                        "beside Dagster's start-up)"
                    )
            if invocation.process.wait() != 0:
                raise RuntimeError(
                    f"dbt build exited {invocation.process.returncode}; {paths.warehouse} left as it was"
                )
            keep_partial_parse(invocation.target_path, saved_parse)
            remove_old_run_folders(invocation.target_path)
            carried = _check_ran_in_scope(events, scope, last)
        _record(context, build, inputs, events, definitions, carried)
        if last is not None and carried is not None:
            yield from _left_out(context, scope, last, manifest, carried)
        yield from with_table_metadata(events, build.path)
    context.log.info(f"published {paths.warehouse} (publish took {build.timings.publish_seconds:.2f} s)")


def _scope(
    context: dg.AssetExecutionContext,
    warehouse: Path,
    inputs: BuildInputs,
    manifest: dict[str, Any],
    *,
    redefined: bool,
) -> tuple[BuildScope, LastBuild | None]:
    """The dbt nodes this build runs (scope.py, scoped_run.py), and the record of the build whose results the
    others keep. Every node Dagster selects runs in a subset run a person made; a scoped run (`acorn build`)
    must select exactly the nodes its scope runs, else it fails before dbt runs."""
    scoped = SCOPED_BUILD_TAG in context.run.tags
    if context.is_subset and not scoped:
        return everything("a run of some of the warehouse's assets"), None
    assets = context.assets_def
    scope, last = planned_scope(
        warehouse, inputs, manifest, redefined=redefined, check_unique_ids=check_unique_ids(assets)
    )
    if scoped:
        wanted = None if scope.everything else scoped_selection(assets, scope)
        if (
            wanted is None
            or set(context.selected_asset_keys) != wanted.assets
            or set(context.selected_asset_check_keys) != wanted.checks
        ):
            raise RuntimeError(
                "this build's run selects only the dbt nodes that read what changed when it was created, but the "
                f"lake or the dbt project changed since ({scope.reason}); the warehouse is left as it was: run "
                "`acorn build` again"
            )
    return scope, last


def ran_unique_ids(events: list[Any]) -> set[str]:
    """The dbt nodes a build's events report a result of: dagster-dbt gives every model, seed and data test it
    reports (an `Output`, a check result, or an observation for a test outside Dagster's check selection) the
    node's `unique_id` in its metadata; a skipped node gets none."""
    ran = set()
    for event in events:
        unique_id = (getattr(event, "metadata", None) or {}).get("unique_id")
        value = getattr(unique_id, "value", unique_id)
        if isinstance(value, str):
            ran.add(value)
    return ran


def _check_ran_in_scope(
    events: list[Any], scope: BuildScope, last: LastBuild | None
) -> list[RecordedCheck] | None:
    """Raise unless dbt ran every node the scope says must run (a selection that left one out would publish a
    stale table); the recorded data test results the left-out tests keep (None when every node ran)."""
    if scope.everything or last is None:
        return None
    missing = scope.run - ran_unique_ids(events)
    if missing:
        raise RuntimeError(
            f"dbt did not run {len(missing)} nodes that read what changed ({', '.join(sorted(missing)[:5])}); "
            "the warehouse is left as it was"
        )
    carried = []
    for check in last.checks:
        if check.metadata.get("unique_id") in scope.left_out:
            provenance = {"evaluated_in_run": last.run_id, "evaluated_at": last.built_at}
            carried.append(replace(check, metadata={**provenance, **check.metadata}))
    return carried


def _left_out(
    context: dg.AssetExecutionContext,
    scope: BuildScope,
    last: LastBuild,
    manifest: dict[str, Any],
    carried: list[RecordedCheck],
) -> Iterator[Any]:
    """The models and seeds dbt did not run, reported unchanged, and their data tests with the results recorded
    by the build that ran them; yielded before dbt's own events (a left-out node is never downstream of a
    rebuilt one)."""
    nodes = manifest["nodes"]
    keys = {
        dg.AssetKey(["warehouse", nodes[unique_id]["name"]])
        for unique_id in scope.left_out
        if nodes[unique_id]["resource_type"] != "test"
    } & set(context.selected_asset_keys)
    note = {
        MODEL_UNCHANGED_KEY: last.run_id,
        "built_at": last.built_at,
        "note": "nothing it reads changed since that build: not rebuilt",
    }
    assets = context.assets_def
    upstream = {key: assets.asset_deps.get(key, set()) & keys for key in keys}
    for key in graphlib.TopologicalSorter(upstream).static_order():
        yield dg.Output(None, output_name=assets.get_output_name_for_asset_key(key), metadata=note)
    selected = context.selected_asset_check_keys
    for check in carried:
        if dg.AssetCheckKey(dg.AssetKey(check.asset_key), check.check_name) in selected:
            yield check.replayed({"run_id": last.run_id, "built_at": last.built_at})


def _build_in_catalog(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    catalog: DuckLakeWarehouse,
    lake: Path,
    data_root: Path,
    settings: dict[str, Any],
    inputs: BuildInputs,
) -> Iterator[Any]:
    """Scale-out: dbt build straight into the DuckLake catalog, published by one commit once it succeeds
    (orchestration/warehouse/ducklake_publish.py). Readers stay on the previous published snapshot meanwhile.
    The embedded build's "nothing new" shortcut is not taken: a catalog build always runs dbt."""
    with build_and_publish_ducklake(
        catalog, run_id=context.run_id, schemas=["lake", *_dbt_schemas()], log=context.log.warning
    ) as build:
        context.log.info(f"building in the warehouse's {catalog.shown}")
        definitions = incremental_definitions(dbt_project.manifest_path)
        last = last_published_record(catalog)
        redefined = changed_definitions(last.incremental_definitions if last else None, definitions)
        if last is None:
            redefined = []  # a first build (or one before records) builds every model whole anyway
        if redefined:
            context.log.warning(
                f"the definitions of {len(redefined)} incremental models changed since the warehouse was built "
                f"({', '.join(redefined)}): rebuilding them from the whole lake (dbt build --full-refresh)"
            )
        views = register_lake_views_in_catalog(catalog, lake, context.log.warning)
        context.log.info(f"lake views registered: {', '.join(views)}")
        with reading(data_root):
            refresh = ["--full-refresh"] if redefined else []
            dbt_vars = build_vars(settings)
            saved_parse = parse_key(DUCKLAKE_TARGET, dbt_vars)
            target_path = run_target_folder(context.op_execution_context.op.name, context.run_id)
            seed_partial_parse(target_path, saved_parse)
            with dbt_process_environment(build_env(settings)):
                invocation = dbt.cli(
                    [
                        *BUILD_ARGS,
                        *NO_ARTIFACT_ARGS,
                        *refresh,
                        *file_log_args(),
                        "--target",
                        DUCKLAKE_TARGET,
                        "--vars",
                        dbt_vars,
                    ],
                    context=context,
                    target_path=target_path,
                )
            with run_folder_in_use(invocation.target_path):
                events = []
                for event in invocation.stream():
                    events.append(event)
                    crash_points.pause_at("dbt-build", catalog=catalog.shown)
        if invocation.process.wait() != 0:
            raise RuntimeError(
                f"dbt build exited {invocation.process.returncode}; the warehouse's last published build stands"
            )
        keep_partial_parse(invocation.target_path, saved_parse)
        remove_old_run_folders(invocation.target_path)
        _record(context, build, inputs, events, definitions)
        yield from with_table_metadata(events, catalog)
    context.log.info(f"published the build in the warehouse's {catalog.shown}")


def _dbt_schemas() -> set[str]:
    """Every schema a model or seed of the dbt project is built in (from its manifest)."""
    manifest = json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))
    return {
        node["schema"]
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed", "snapshot")
    }


def _record(
    context: dg.AssetExecutionContext,
    build: WarehouseBuild | DuckLakeBuild,
    inputs: BuildInputs,
    events: list[Any],
    definitions: dict[str, str],
    carried: list[RecordedCheck] | None = None,
) -> None:
    """What this build read and what its dbt tests found, written beside the warehouse once it is published.

    Only a build of every model and test is recorded, or a scoped run's (scoped_run.py: its selection is checked
    to be every node that reads what changed): a subset a person selected in the UI did not build the whole
    warehouse from these inputs."""
    if context.is_subset and SCOPED_BUILD_TAG not in context.run.tags:
        return
    build.record = LastBuild(
        fingerprint=inputs.fingerprint,
        run_id=context.run_id,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        warehouse_identity=[],
        checks=[
            *(carried or []),
            *(RecordedCheck.from_result(event) for event in events if isinstance(event, dg.AssetCheckResult)),
        ],
        incremental_definitions=definitions,
        project=inputs.project,
        datasets=inputs.datasets,
        settings=inputs.settings,
    )


def _unchanged(context: dg.AssetExecutionContext, last: LastBuild) -> Iterator[Any]:
    """Nothing new since the published warehouse was built: no dbt run, the models reported as unchanged, and
    every dbt test reported with the result it had in that build (a failed WARN test still fails)."""
    context.log.info(
        f"nothing new, warehouse unchanged: the lake's published files and the dbt project are those the "
        f"warehouse was built from in run {last.run_id} at {last.built_at}; dbt not run"
    )
    note = {
        WAREHOUSE_UNCHANGED_KEY: last.run_id,
        "built_at": last.built_at,
        "note": "nothing new, warehouse unchanged: not rebuilt",
    }
    # Dagster wants a multi-asset's outputs in dependency order.
    assets = context.assets_def
    selected_keys = context.selected_asset_keys
    upstream = {key: assets.asset_deps.get(key, set()) & selected_keys for key in selected_keys}
    for key in graphlib.TopologicalSorter(upstream).static_order():
        yield dg.Output(None, output_name=assets.get_output_name_for_asset_key(key), metadata=note)
    selected = context.selected_asset_check_keys
    for check in last.checks:
        if dg.AssetCheckKey(dg.AssetKey(check.asset_key), check.check_name) in selected:
            yield check.replayed({"run_id": last.run_id, "built_at": last.built_at})
