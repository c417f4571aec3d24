"""Warehouse domain: the dbt project (staging → intermediate → marts) in data/warehouse.duckdb.

`defs` (the dbt assets) is made on first use, not when the package is imported: a module of this package that
does not need dbt (the build's inputs, inputs.py; its record, last_build.py) is read without importing
dagster-dbt (see acorn_cli/dbt_core.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import dagster as dg


def __getattr__(name: str) -> dg.Definitions:
    if name != "defs":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import dagster as dg

    from orchestration.warehouse.assets import acorn_dbt_models

    defs = dg.Definitions(assets=[acorn_dbt_models])
    globals()["defs"] = defs
    return defs
