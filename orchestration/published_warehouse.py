"""Reading the published warehouse (`data/warehouse.duckdb`) from any domain: the warehouse domain builds and
publishes it (warehouse/publish.py), the quality checks and the CLI read it. Shared here so that no domain
imports another to read it the same way a build does.

DuckDB lets one process hold a database file read-write, or any number read-only, never both: a reader here
opens it read-only, and a program holding it read-write is reported with DuckDB's own message (which names the
holding pid) and the fix.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

from lake.memory import QUERY_MEMORY_LIMIT, bounded_connection
from orchestration.outcomes import WarehouseLocked
from orchestration.warehouse_catalog import configured_warehouse, ducklake_connection


def is_lock_conflict(error: duckdb.Error) -> bool:
    """Whether DuckDB refused to open the file because another process holds it (read-write, or read-only when
    this one asked for read-write)."""
    return "Could not set lock on file" in str(error)


@contextlib.contextmanager
def read_only(
    warehouse: Path, *, memory_limit: str = QUERY_MEMORY_LIMIT
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the published warehouse, bounded to `memory_limit` (lake/memory.py);
    `WarehouseLocked` (with DuckDB's message, which names the holding pid) when a program has it open
    read-write. In scale-out (ACORN_WAREHOUSE_CATALOG_URL set) the DuckLake catalog at its last published build
    instead, attached as `warehouse` and in use (orchestration/warehouse_catalog.py)."""
    catalog = configured_warehouse(warehouse)
    if catalog is not None:
        with ducklake_connection(catalog, published=True, memory_limit=memory_limit) as connection:
            yield connection
        return
    with contextlib.ExitStack() as stack:
        try:
            connection = stack.enter_context(
                bounded_connection(str(warehouse), read_only=True, memory_limit=memory_limit)
            )
        except duckdb.IOException as error:
            if not is_lock_conflict(error):
                raise
            raise WarehouseLocked(
                f"A program has the warehouse {warehouse} open read-write, so it cannot be read or rebuilt: "
                f"{error}. Close that program (open the warehouse read-only instead: "
                f"`duckdb -readonly {warehouse}`, or `duckdb.connect(path, read_only=True)`), then build again."
            ) from error
        yield connection
