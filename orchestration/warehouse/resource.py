"""The dbt CLI resource, without the two start-up costs dagster-dbt pays on every `dbt.cli()` for features ACORN
does not use.

dagster-dbt (0.29) runs `dbt --version` in a subprocess to learn the dbt version (a second Python start that
imports dbt: 2-4 s on this 2-core machine) and builds an in-process dbt adapter, loading every macro of the
project, which only `fetch_row_counts()` / `fetch_column_metadata()` use. ACORN reads row counts and schemas
itself once dbt has exited (metadata.py: DuckDB lets one process write the file at a time), and runs the
dbt-core installed in this venv, whose version the package metadata states. Both overrides are of private
dagster-dbt methods: tests/orchestration/warehouse/test_resource.py fails if a dagster-dbt upgrade renames them.
"""

from importlib.metadata import version as installed_version
from typing import Any

from dagster_dbt import DbtCliResource
from packaging import version


class AcornDbtCliResource(DbtCliResource):
    """`DbtCliResource` for the venv's own dbt-core, without the in-process adapter."""

    @property
    def _cli_version(self) -> version.Version:
        return version.parse(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Any) -> None:  # type: ignore[override]
        return None
