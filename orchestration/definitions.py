"""ACORN's Dagster code location: a thin root that merges the per-domain definitions and the shared resources."""

from __future__ import annotations

import dagster as dg

from orchestration import books, finances, jobs, quality, settlements, vendor_orders, warehouse
from orchestration.executor import CELERY, executor_definition, executor_kind
from orchestration.resources import DataDirResource, SpApiResource
from orchestration.warehouse.project import BUILD_DBT_EXECUTABLE, dbt_project
from orchestration.warehouse.resource import AcornDbtCliResource

# One Definitions object at module scope (Dagster refuses to load a module with two): resources are a dict.
RESOURCES = {
    "data": DataDirResource(),
    "spapi": SpApiResource(),
    # DbtCliResource's own __init__ takes a DbtProject (and reads its state path from it); mypy sees only the
    # field types a subclass's synthesised signature declares (str).
    "dbt": AcornDbtCliResource(project_dir=dbt_project, dbt_executable=BUILD_DBT_EXECUTABLE),  # type: ignore[arg-type]
}

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
