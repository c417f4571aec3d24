"""The import job alone, as `acorn import` loads it: the settlement assets, their checks and the job, with the
code location's resources and executor, and nothing else (no dbt models from the manifest, no finances, vendor,
books or warehouse checks, none of which an import runs).

The job is the one `orchestration.definitions` has: the same asset and check functions, resources and executor,
so its snapshot and execution plan are the same (tests/orchestration/test_import_definitions.py compares them),
and `acorn import` records its run under the workspace's code location, where the UI shows it as before."""

from __future__ import annotations

import dagster as dg

from orchestration import settlements
from orchestration.code_resources import RESOURCES
from orchestration.executor import executor_definition
from orchestration.jobs import import_job
from orchestration.quality.checks import LAKE_SETTLEMENT_CHECKS

# The one Definitions object of this module (Dagster loads a module with exactly one).
defs = dg.Definitions.merge(
    settlements.defs,
    dg.Definitions(
        asset_checks=LAKE_SETTLEMENT_CHECKS,
        jobs=[import_job],
        resources=RESOURCES,
        executor=executor_definition(),
    ),
)
