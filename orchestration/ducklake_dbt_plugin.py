"""dbt-duckdb plugin for the DuckLake warehouse (profiles.yml, target `ducklake`; README "Scale-out").

It runs inside dbt's process, so the catalog URL and the object store's keys come from that process's
environment (inherited from the `acorn` command), never from dbt's command line or profile text:

- `update_connection_config`: DuckDB's start-up settings (dbt's `config_options`), extensions from the install
  with automatic installs off. Set any later (dbt's `settings`) and the ATTACH would try to download them;
- `configure_connection`: the temporary DuckDB secrets the profile's `attach: ducklake:acorn_warehouse` names.

It sits outside the `orchestration.warehouse` package on purpose: importing that package imports dagster-dbt,
which resets dbt's global flags inside the running dbt (`'Namespace' object has no attribute 'STORE_FAILURES'`).
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from orchestration.warehouse_catalog import (
    WarehouseCatalogUnavailable,
    configured_warehouse,
    connection_config,
)


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
