"""The dbt resource skips dagster-dbt's `dbt --version` subprocess and in-process adapter, and stays correct."""

from __future__ import annotations

from dagster_dbt import DbtCliResource

from orchestration.warehouse.project import DBT_EXECUTABLE, dbt_project
from orchestration.warehouse.resource import AcornDbtCliResource


def test_the_overridden_dagster_dbt_methods_still_exist() -> None:
    # Overrides of private methods: a dagster-dbt upgrade that renames them must fail here, not go unnoticed.
    assert "_cli_version" in vars(DbtCliResource)
    assert callable(vars(DbtCliResource)["_initialize_dbt_core_adapter"])


def test_the_version_is_the_one_the_venvs_dbt_runs() -> None:
    # `dbt --version` would say the same, after asking PyPI for the latest release: never from a test.
    from dbt.version import __version__ as running

    resource = AcornDbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)
    assert str(resource._cli_version) == running
    assert resource._initialize_dbt_core_adapter([]) is None
