"""Quality domain: expectation suites as Dagster asset checks, alerts on failed ERROR checks, and silence alerts
(a daily run that keeps failing or stopped, Amazon sending nothing for longer than its cycle)."""

import dagster as dg

from orchestration.quality.alerts import ALERT_SENSORS
from orchestration.quality.checks import ALL_CHECKS

defs = dg.Definitions(asset_checks=ALL_CHECKS, sensors=ALERT_SENSORS)
