"""dbt-duckdb plugin for the DuckLake warehouse (profiles.yml, target `ducklake`; README "Scale-out").

It runs inside dbt's process, so the catalog URL and the object store's keys come from that process's
environment (inherited from the `acorn` command), never from dbt's command line or profile text:

- `update_connection_config`: DuckDB's start-up settings (dbt's `config_options`), extensions from the install
  with automatic installs off. Set any later (dbt's `settings`) and the ATTACH would try to download them;
- `configure_connection`: the temporary DuckDB secrets the profile's `attach: ducklake:acorn_warehouse` names.
  With `ACORN_WAREHOUSE_SNAPSHOT` set (`acorn docs`: the last published build's snapshot) it attaches the catalog
  itself, read-only at that snapshot, so the profile's `ATTACH IF NOT EXISTS` finds it attached and dbt reads
  exactly what readers read, never a build in progress.

It sits outside the `orchestration.warehouse` package on purpose: importing that package imports dagster-dbt,
which resets dbt's global flags inside the running dbt (`'Namespace' object has no attribute 'STORE_FAILURES'`).
"""

from __future__ import annotations

import os
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from orchestration.warehouse_catalog import (
    WarehouseCatalogUnavailable,
    attach_sql,
    configured_warehouse,
    connection_config,
)

# The snapshot dbt reads the catalog at (`acorn docs`); unset, the catalog's head (a build writes there).
SNAPSHOT_VAR = "ACORN_WAREHOUSE_SNAPSHOT"


class Plugin(BasePlugin):
    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        config.update(connection_config())

    def configure_connection(self, conn: Any) -> None:
        warehouse = configured_warehouse()
        if warehouse is None:
            raise WarehouseCatalogUnavailable(
                "dbt's target `ducklake` needs ACORN_WAREHOUSE_CATALOG_URL in its environment (README "
                '"Scale-out"); set it, or use the default target for the embedded warehouse file.'
            )
        for statement in warehouse.secret_sql():
            conn.execute(statement)
        snapshot = os.environ.get(SNAPSHOT_VAR, "").strip()
        if snapshot:
            conn.execute(attach_sql(read_only=True, snapshot=int(snapshot)))
