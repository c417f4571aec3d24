"""Row counts and column schemas for every dbt materialization, read from the warehouse dbt just built.

dagster-dbt's `fetch_row_counts()` / `fetch_column_metadata()` query the warehouse while dbt still runs; with
DuckDB the dbt process holds the file open read-write until it exits, so nothing else may open it meanwhile.
Once dbt has finished, two queries answer for every model and seed at once: `information_schema.columns` for
the schemas, and one `count(*)` per table (a stored count). A build does not count its views: a view runs its
query, which on ACORN's staging and intermediate views is a scan of the lake's whole history or a join over it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from lake.memory import bounded_connection
from orchestration.warehouse.project import dbt_project
from orchestration.warehouse_catalog import DuckLakeWarehouse, ducklake_connection


@functools.cache
def _relations_by_unique_id(manifest_path: Path, modified: float) -> dict[str, tuple[str, str]]:
    """(schema, table) of every model and seed in the manifest, by dbt unique_id (cached per manifest file)."""
    document = json.loads(manifest_path.read_text(encoding="utf-8"))
    return {
        unique_id: (node["schema"], node.get("alias") or node["name"])
        for unique_id, node in document["nodes"].items()
        if node["resource_type"] in ("model", "seed")
    }


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def table_metadata(
    connection: duckdb.DuckDBPyConnection,
    relations: Iterable[tuple[str, str]],
    *,
    count_views: bool = True,
) -> dict[tuple[str, str], dict[str, Any]]:
    """`dagster/row_count` and `dagster/column_schema` of each (schema, table) that exists in `connection`.

    `count_views=False`: views get their column schema only. Counting a view runs its query, which for ACORN's
    staging and intermediate views is a scan of the lake's whole history (and a join for the classified lines):
    a build would pay it every time, for a number nobody reads from a view.
    """
    wanted = set(relations)
    views = {
        (schema, table)
        for schema, table in connection.execute(
            "select table_schema, table_name from information_schema.tables where table_type = 'VIEW' "
            "and table_catalog = current_database()"
        ).fetchall()
    }
    columns: dict[tuple[str, str], list[dg.TableColumn]] = {}
    for schema, table, column, data_type in connection.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        "where table_catalog = current_database() order by table_schema, table_name, ordinal_position"
    ).fetchall():
        if (schema, table) in wanted:
            columns.setdefault((schema, table), []).append(dg.TableColumn(column, data_type.lower()))
    metadata: dict[tuple[str, str], dict[str, Any]] = {}
    for (schema, table), found in columns.items():
        metadata[(schema, table)] = {
            "dagster/column_schema": dg.MetadataValue.table_schema(dg.TableSchema(columns=found))
        }
        if count_views or (schema, table) not in views:
            [(rows,)] = connection.execute(
                f"select count(*) from {_quote(schema)}.{_quote(table)}"
            ).fetchall()
            metadata[(schema, table)]["dagster/row_count"] = dg.MetadataValue.int(int(rows))
    return metadata


def with_table_metadata(events: list[Any], warehouse: Path | DuckLakeWarehouse) -> Iterator[Any]:
    """The dbt events, each model or seed `Output` carrying its row count and column schema in `warehouse` (a
    build's copy, or the DuckLake catalog at its head)."""
    manifest = dbt_project.manifest_path
    relations = _relations_by_unique_id(manifest, manifest.stat().st_mtime)
    outputs = {
        id(event): relations.get(str(event.metadata["unique_id"].value))
        for event in events
        if isinstance(event, dg.Output) and "unique_id" in event.metadata
    }
    connect = (
        ducklake_connection(warehouse, read_only=True)
        if isinstance(warehouse, DuckLakeWarehouse)
        else bounded_connection(str(warehouse), read_only=True)
    )
    with connect as connection:
        metadata = table_metadata(
            connection, [relation for relation in outputs.values() if relation], count_views=False
        )
    for event in events:
        relation = outputs.get(id(event))
        if relation is not None and relation in metadata:
            yield event.with_metadata({**event.metadata, **metadata[relation]})
        else:
            yield event
