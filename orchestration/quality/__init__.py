"""Quality domain: expectation suites as Dagster asset checks, and alerts on failed ERROR checks."""

import dagster as dg

from orchestration.quality.alerts import ALERT_SENSORS
from orchestration.quality.checks import ALL_CHECKS

defs = dg.Definitions(asset_checks=ALL_CHECKS, sensors=ALERT_SENSORS)
