"""dbt models as Dagster assets; dbt tests surface as asset checks on them."""

import os
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.resources import DataDirResource
from orchestration.warehouse.lake_views import register_lake_views
from orchestration.warehouse.project import dbt_project, ensure_manifest

ensure_manifest()


class AcornDbtTranslator(DagsterDbtTranslator):
    """Groups dbt assets by layer (staging, intermediate, marts) and keys them warehouse/<model>."""

    def get_asset_key(self, dbt_resource_props: dict[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return dg.AssetKey(["warehouse", dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: dict[str, Any]) -> str | None:
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
    paths = data.paths()
    os.environ["ACORN_WAREHOUSE_PATH"] = str(paths.warehouse)
    os.environ["ACORN_LAKE_DIR"] = str(paths.lake)
    views = register_lake_views(paths.warehouse, paths.lake)
    context.log.info(f"lake views registered: {', '.join(views)}")
    yield from dbt.cli(["build"], context=context).stream()
