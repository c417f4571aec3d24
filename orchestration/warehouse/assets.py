"""dbt models as Dagster assets; dbt tests surface as asset checks on them."""

import graphlib
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.storage.tags import PRIORITY_TAG
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from expectations.runner import preload_in_background
from lake.layout import reading
from orchestration.outcomes import WAREHOUSE_UNCHANGED_KEY
from orchestration.resources import DataDirResource
from orchestration.warehouse.ducklake_publish import (
    DuckLakeBuild,
    build_and_publish_ducklake,
    last_published_record,
    register_lake_views_in_catalog,
)
from orchestration.warehouse.inputs import BUILD_ARGS, build_fingerprint, build_settings, build_vars
from orchestration.warehouse.lake_views import register_lake_views
from orchestration.warehouse.last_build import (
    LastBuild,
    RecordedCheck,
    file_identity,
    read_last_build,
)
from orchestration.warehouse.metadata import with_table_metadata
from orchestration.warehouse.model_definitions import changed_definitions, incremental_definitions
from orchestration.warehouse.project import dbt_project, keep_partial_parse
from orchestration.warehouse.publish import WarehouseBuild, build_and_publish
from orchestration.warehouse_catalog import DuckLakeWarehouse, configured_warehouse
from transforms import crash_points

# Among the steps ready to run, the dbt build goes first: the Python checks that would otherwise run before it
# (the lake's non-blocking checks) need GX, which this step imports on a thread while dbt works in its own
# process (`preload_in_background`), so importing GX (seconds of CPU) no longer adds to a build's time. The
# blocking lake check still runs before dbt: the dbt step depends on it.
DBT_STEP_PRIORITY = {PRIORITY_TAG: "1"}
# profiles.yml's target for the DuckLake catalog (scale-out, orchestration/warehouse_catalog.py).
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
    fingerprint = build_fingerprint(paths.lake, settings)
    catalog = configured_warehouse(paths.warehouse)
    if catalog is not None:
        yield from _build_in_catalog(context, dbt, catalog, paths.lake, paths.root, settings, fingerprint)
        return
    with build_and_publish(paths.warehouse, run_id=context.run_id, inputs_fingerprint=fingerprint) as build:
        if build.unchanged_since is not None:
            yield from _unchanged(context, build.unchanged_since)
            return
        context.log.info(
            f"building in {build.path.name} ({build.timings.copied_bytes} bytes copied from "
            f"{paths.warehouse.name} in {build.timings.copy_seconds:.2f} s)"
        )
        preload_in_background()
        definitions = incremental_definitions(dbt_project.manifest_path)
        redefined = _redefined_since_last_build(paths.warehouse, definitions)
        if redefined:
            context.log.warning(
                f"the definitions of {len(redefined)} incremental models changed since the warehouse was built "
                f"({', '.join(redefined)}): rebuilding them from the whole lake (dbt build --full-refresh), so "
                "no row keeps the old definition beside rows of the new one"
            )
        views = register_lake_views(build.path, paths.lake)
        context.log.info(f"lake views registered: {', '.join(views)}")
        # The lake holds still while dbt reads it: a publish meanwhile waits (lake/layout.py).
        with reading(paths.root):
            refresh = ["--full-refresh"] if redefined else []
            invocation = dbt.cli(
                [*BUILD_ARGS, *refresh, "--vars", build_vars(str(build.path), settings)], context=context
            )
            # dbt holds the copy open read-write until it exits; the row counts and column schemas are read
            # after. The stream raises when dbt fails: the copy is then dropped, nothing published.
            events = []
            for event in invocation.stream():
                events.append(event)
                crash_points.pause_at("dbt-build", copy=str(build.path))
            invocation.process.wait()
        if invocation.process.wait() != 0:
            raise RuntimeError(
                f"dbt build exited {invocation.process.returncode}; {paths.warehouse} left as it was"
            )
        keep_partial_parse(invocation.target_path)
        _record(context, build, fingerprint, events, definitions)
        yield from with_table_metadata(events, build.path)
    context.log.info(f"published {paths.warehouse} (publish took {build.timings.publish_seconds:.2f} s)")


def _build_in_catalog(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    catalog: DuckLakeWarehouse,
    lake: Path,
    data_root: Path,
    settings: dict[str, Any],
    fingerprint: str,
) -> Iterator[Any]:
    """Scale-out: dbt build straight into the DuckLake catalog, published by one commit once it succeeds
    (orchestration/warehouse/ducklake_publish.py). Readers stay on the previous published snapshot meanwhile.
    The embedded build's "nothing new" shortcut is not taken: a catalog build always runs dbt."""
    with build_and_publish_ducklake(
        catalog, run_id=context.run_id, schemas=["lake", *_dbt_schemas()], log=context.log.warning
    ) as build:
        context.log.info(f"building in the warehouse's {catalog.shown}")
        preload_in_background()
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
            invocation = dbt.cli(
                [*BUILD_ARGS, *refresh, "--target", DUCKLAKE_TARGET, "--vars", build_vars("", settings)],
                context=context,
            )
            events = []
            for event in invocation.stream():
                events.append(event)
                crash_points.pause_at("dbt-build", catalog=catalog.shown)
        if invocation.process.wait() != 0:
            raise RuntimeError(
                f"dbt build exited {invocation.process.returncode}; the warehouse's last published build stands"
            )
        _record(context, build, fingerprint, events, definitions)
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


def _redefined_since_last_build(warehouse: Path, definitions: dict[str, str]) -> list[str]:
    """The incremental models to rebuild whole: those whose definition differs from the one the published
    warehouse was built with (all of them when its record is missing or describes another file); none when
    there is no warehouse yet (the first build builds every model whole anyway)."""
    if not warehouse.exists():
        return []
    last = read_last_build(warehouse)
    recorded = (
        last.incremental_definitions if last and last.warehouse_identity == file_identity(warehouse) else None
    )
    return changed_definitions(recorded, definitions)


def _record(
    context: dg.AssetExecutionContext,
    build: WarehouseBuild | DuckLakeBuild,
    fingerprint: str,
    events: list[Any],
    definitions: dict[str, str],
) -> None:
    """What this build read and what its dbt tests found, written beside the warehouse once it is published.

    Only a build of every model and test is recorded: a subset (a run of some assets in the UI) did not build
    the whole warehouse from these inputs."""
    if context.is_subset:
        return
    build.record = LastBuild(
        fingerprint=fingerprint,
        run_id=context.run_id,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        warehouse_identity=[],
        checks=[
            RecordedCheck.from_result(event) for event in events if isinstance(event, dg.AssetCheckResult)
        ],
        incremental_definitions=definitions,
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
