"""ACORN's Dagster code location: a thin root that merges the per-domain definitions and the shared resources.

`acorn import` loads the import job alone (orchestration/import_definitions.py), described exactly as here."""

from __future__ import annotations

import dagster as dg

from orchestration import books, finances, jobs, quality, settlements, vendor_orders, warehouse
from orchestration.code_resources import RESOURCES
from orchestration.executor import CELERY, executor_definition, executor_kind

defs = dg.Definitions.merge(
    settlements.defs,
    finances.defs,
    vendor_orders.defs,
    warehouse.defs,
    quality.defs,
    books.defs,
    jobs.defs,
    # Embedded: Dagster's default (acorn runs steps in process); ACORN_EXECUTOR=celery: steps on Celery workers,
    # and the sensor that builds after the schedule's group runs (orchestration/scheduled_groups.py).
    dg.Definitions(
        resources=RESOURCES,
        executor=executor_definition(),
        sensors=jobs.SCALE_OUT_SENSORS if executor_kind() == CELERY else [],
    ),
)
