"""Every mart of a warehouse connection, rows sorted: what the embedded/DuckLake equality tests compare."""

from __future__ import annotations

from typing import Any

import duckdb


def all_marts(connection: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    """Every table and view in schema `marts` of the connection's database, its rows sorted (the marts promise no
    order; values compared as they are, so DECIMAL to the cent)."""
    tables = [
        name
        for (name,) in connection.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_catalog = current_database() order by 1"
        ).fetchall()
    ]
    return {
        name: sorted(
            connection.execute(f'select * from marts."{name}"').fetchall(),
            key=lambda row: tuple((value is None, str(value)) for value in row),
        )
        for name in tables
    }
