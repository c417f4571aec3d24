"""DuckDB connections that stay within a step's memory budget, for every reader of the lake or the warehouse.

DuckDB's default memory limit is 80% of the machine's RAM; a check that scans years of settlement lines inside
the `acorn` process (beside Dagster, Great Expectations and pandas) would grow with the history. A bounded
connection caps what DuckDB holds and spills the rest to a private folder, removed when the connection closes
(a read-only or in-memory database has no spill folder of its own).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Mapping

import duckdb

# What one query may hold in memory before DuckDB spills: the `acorn` process holds about 400 MB of its own
# (Dagster, dbt's manifest, Great Expectations) and must stay under 1 GiB.
QUERY_MEMORY_LIMIT = "256MB"


@contextlib.contextmanager
def bounded_connection(
    database: str = ":memory:",
    *,
    read_only: bool = False,
    memory_limit: str = QUERY_MEMORY_LIMIT,
    config: Mapping[str, str | bool] | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection (in memory, or to `database`) limited to `memory_limit`, spilling to a private
    folder, in UTC, without a progress bar; `config`: more settings from its start (the extension folder of a
    reader of the object store, lake/read.py `StoreFiles`)."""
    with tempfile.TemporaryDirectory(prefix="acorn-duckdb-spill-") as spill:
        connection = duckdb.connect(
            database,
            read_only=read_only,
            config={
                **(config or {}),
                "memory_limit": memory_limit,
                "temp_directory": spill,
            },
        )
        try:
            connection.execute("set TimeZone = 'UTC'")
            connection.execute("set enable_progress_bar = false")
            yield connection
        finally:
            connection.close()
