"""Settlements domain: settlement reports → raw archive → lake (see README.md)."""

import dagster as dg

from orchestration.settlements.assets import settlement_reports, spapi_settlement_reports
from orchestration.settlements.checks import settlement_files_accepted
from orchestration.settlements.sensors import settlement_inbox_sensor

defs = dg.Definitions(
    assets=[spapi_settlement_reports, settlement_reports],
    asset_checks=[settlement_files_accepted],
    sensors=[settlement_inbox_sensor],
)
