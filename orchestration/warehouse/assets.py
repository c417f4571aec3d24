"""dbt models as Dagster assets; dbt tests surface as asset checks on them."""

import json
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from lake.layout import reading
from orchestration.resources import DataDirResource
from orchestration.warehouse.lake_views import register_lake_views
from orchestration.warehouse.metadata import with_table_metadata
from orchestration.warehouse.project import dbt_project, keep_partial_parse
from orchestration.warehouse.publish import build_and_publish
from transforms import crash_points

# Unit tests check the SQL, not the data: they run with the test suite (tests/dbt), not in every build.
BUILD_ARGS = ["build", "--exclude-resource-type", "unit_test"]


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


def build_vars(warehouse_path: str) -> str:
    """The `--vars` of a build: the warehouse file dbt writes (profiles.yml reads var warehouse_path).

    Passed on the command line rather than through the environment, so a run never writes os.environ. The path
    is the same on every build of a data dir (publish.py), so dbt's partial parse stays valid between builds.
    """
    return json.dumps({"warehouse_path": warehouse_path})


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=AcornDbtTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
    ),
)
def acorn_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, data: DataDirResource
) -> Iterator[Any]:
    """dbt build into a private copy of the warehouse, published atomically once it succeeds
    (orchestration/warehouse/publish.py): readers never block the build, nor see a half-built warehouse."""
    paths = data.paths()
    with build_and_publish(paths.warehouse, run_id=context.run_id) as build:
        context.log.info(
            f"building in {build.path.name} ({build.timings.copied_bytes} bytes copied from "
            f"{paths.warehouse.name} in {build.timings.copy_seconds:.2f} s)"
        )
        views = register_lake_views(build.path, paths.lake)
        context.log.info(f"lake views registered: {', '.join(views)}")
        # The lake holds still while dbt reads it: a publish meanwhile waits (lake/layout.py).
        with reading(paths.root):
            invocation = dbt.cli([*BUILD_ARGS, "--vars", build_vars(str(build.path))], context=context)
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
        yield from with_table_metadata(events, build.path)
    context.log.info(f"published {paths.warehouse} (publish took {build.timings.publish_seconds:.2f} s)")
