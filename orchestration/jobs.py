"""Cross-cutting jobs and the daily schedule. Job names are used by the `acorn` CLI."""

from __future__ import annotations

import dagster as dg

from orchestration.settlements.assets import SETTLEMENT_LINES, SETTLEMENTS

LAKE_SETTLEMENT_ASSETS = dg.AssetSelection.assets(SETTLEMENT_LINES, SETTLEMENTS)
WAREHOUSE_ASSETS = dg.AssetSelection.key_prefixes(["warehouse"])
_LAKE = dg.AssetSelection.key_prefixes(["lake"])
# The lake's checks without re-materialising the lake (that would call Amazon).
LAKE_CHECKS_ONLY = _LAKE - _LAKE.without_checks()

# Everything: extraction, lake, dbt, checks. The demo and the daily schedule run this.
daily_job = dg.define_asset_job(
    "acorn_daily",
    selection=dg.AssetSelection.all(),
    description="Extract from the SP-API, land in the lake, build the warehouse, run every check.",
)
# `acorn import` and the inbox sensor: files a person downloaded, into the lake (and its checks).
import_job = dg.define_asset_job(
    "settlement_import",
    selection=LAKE_SETTLEMENT_ASSETS,
    description="Import settlement files given in the run config (acorn import, the inbox sensor).",
)
# `acorn build`: dbt build plus every check over what is in the lake, without calling Amazon.
build_job = dg.define_asset_job(
    "warehouse_build",
    selection=WAREHOUSE_ASSETS | LAKE_CHECKS_ONLY,
    description="Refresh the marts from the lake and run every check.",
)

daily_schedule = dg.ScheduleDefinition(
    name="acorn_daily_schedule",
    job=daily_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Daily refresh at 06:00 UTC (off by default: turn it on in the UI once real accounts are set).",
)

defs = dg.Definitions(jobs=[daily_job, import_job, build_job], schedules=[daily_schedule])
