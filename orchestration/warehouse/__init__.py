"""Warehouse domain: the dbt project (staging → intermediate → marts) in data/warehouse.duckdb."""

import dagster as dg

from orchestration.warehouse.assets import acorn_dbt_models

defs = dg.Definitions(assets=[acorn_dbt_models])
