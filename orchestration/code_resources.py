"""The resources every job of ACORN's code location is given: one dict for the full definitions (the UI, the
daemon, the workers) and the import job's own (orchestration/import_definitions.py), so both describe each job
with the same resources."""

from __future__ import annotations

from orchestration.resources import DataDirResource, SpApiResource
from orchestration.warehouse.project import BUILD_DBT_EXECUTABLE, dbt_project
from orchestration.warehouse.resource import AcornDbtCliResource

# A dict, not a Definitions: a module Dagster loads holds exactly one Definitions object.
RESOURCES = {
    "data": DataDirResource(),
    "spapi": SpApiResource(),
    # DbtCliResource's own __init__ takes a DbtProject (and reads its state path from it); mypy sees only the
    # field types a subclass's synthesised signature declares (str).
    "dbt": AcornDbtCliResource(project_dir=dbt_project, dbt_executable=BUILD_DBT_EXECUTABLE),  # type: ignore[arg-type]
}
