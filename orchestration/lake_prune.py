"""What the warehouse's lake views name on the object store, which a prune of the lake's copy must keep
(lake/store_upkeep.py; `acorn lake prune`).

With the warehouse as a DuckLake catalog and the lake on an s3:// store, each build creates the `lake.<dataset>`
views over the store's files current at its start (orchestration/warehouse/lake_views.py), and dbt's staging
views read them: readers of the last published build read those files for as long as it is the last one, which
may be longer than any retention. So the prune keeps every s3:// file named by the catalog's lake views at its
last published build and at its newest commit (a build in progress). The embedded warehouse file's views name
the local lake only: nothing to keep there.
"""

from __future__ import annotations

import re
from pathlib import Path

from orchestration.warehouse_catalog import (
    ALIAS,
    NoPublishedBuild,
    WarehouseCatalogUnavailable,
    configured_warehouse,
    ducklake_connection,
)

_URL = re.compile(r"s3://[^'\s,\]]+")
# What DuckLake 1.5 says when a read-only attach finds no catalog in the database (no build has run yet).
_NO_CATALOG_YET = "creating a new DuckLake is explicitly disabled"


def files_the_warehouse_names(warehouse_file: Path) -> set[str]:
    """The s3:// URLs the DuckLake catalog's lake views name at its last published build and newest commit;
    empty for the embedded warehouse. Raises `WarehouseCatalogUnavailable` (a `CouldNotRun`) when the catalog
    cannot be read: a prune must not guess."""
    warehouse = configured_warehouse(warehouse_file)
    if warehouse is None:
        return set()
    urls: set[str] = set()
    for published in (True, False):
        try:
            with ducklake_connection(warehouse, read_only=True, published=published) as connection:
                rows = connection.execute(
                    "select sql from duckdb_views() where database_name = ? and schema_name = 'lake'", [ALIAS]
                ).fetchall()
        except NoPublishedBuild:
            continue
        except WarehouseCatalogUnavailable as error:
            if _NO_CATALOG_YET in str(error):
                return set()  # no build has created the catalog: no view names anything
            raise
        for (sql,) in rows:
            urls.update(_URL.findall(sql or ""))
    return urls
