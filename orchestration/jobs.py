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


@dg.schedule(
    name="acorn_daily_schedule",
    job=daily_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Daily refresh at 06:00 UTC (off by default: turn it on in the UI once real accounts are set). "
    "On Celery workers, one run per group of accounts, then the build once they all succeeded "
    "(acorn_daily_build_after_groups).",
)
def daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | list[dg.RunRequest]:
    """Embedded: one run of the whole job. On Celery workers over several accounts: one run per group of
    neighbouring accounts, as many as workers answer a ping (orchestration/scheduled_groups.py)."""
    from orchestration.scheduled_groups import daily_run_requests

    return daily_run_requests(context, daily_job)


@dg.sensor(
    name="acorn_daily_build_after_groups",
    job=daily_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="On Celery workers: the build run (warehouse and every check) of a daily schedule tick once every "
    "group run of that tick has succeeded; none when one failed (the skip reason says which and why).",
)
def build_after_group_runs(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    from orchestration.scheduled_groups import build_requests

    return build_requests(context, daily_job)


# The build sensor is in the code location only on Celery workers (orchestration/definitions.py): embedded, the
# schedule's one run builds the warehouse itself.
SCALE_OUT_SENSORS = [build_after_group_runs]

defs = dg.Definitions(jobs=[daily_job, import_job, build_job], schedules=[daily_schedule])
