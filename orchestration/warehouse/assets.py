"""dbt models as Dagster assets; dbt tests surface as asset checks on them."""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from lake.layout import reading
from orchestration.resources import DataDirResource
from orchestration.warehouse.lake_views import register_lake_views
from orchestration.warehouse.project import dbt_project, ensure_manifest
from orchestration.warehouse.publish import build_and_publish
from transforms import crash_points

ensure_manifest()


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
            with _environment(ACORN_WAREHOUSE_PATH=str(build.path), ACORN_LAKE_DIR=str(paths.lake)):
                invocation = dbt.cli(["build"], context=context)  # starts dbt with this environment
            # The stream raises when dbt fails: the copy is then dropped, nothing published.
            for event in invocation.stream():
                yield event
                crash_points.pause_at("dbt-build", copy=str(build.path))
            invocation.process.wait()
        if invocation.process.wait() != 0:
            raise RuntimeError(
                f"dbt build exited {invocation.process.returncode}; {paths.warehouse} left as it was"
            )
    context.log.info(f"published {paths.warehouse} (publish took {build.timings.publish_seconds:.2f} s)")


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Set environment variables for the block (dbt reads them), then restore what was there."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
