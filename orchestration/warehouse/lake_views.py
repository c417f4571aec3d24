"""Expose each lake dataset to the warehouse as a view `lake.<dataset>`, the relation dbt's sources name.

Views (not copies) keep one truth: the published Parquet files (lake/layout.py, never a staged one), read as
every lake reader reads them (lake/read.py). A dataset with no partition yet reads an empty file with the
dataset's schema, so dbt and analysts see an empty table rather than an error on a fresh data dir.

In scale-out with the lake on the object store (lake/store.py), the DuckLake catalog's views read the store
instead (`create_store_lake_views`): each names its dataset's current files as s3:// URLs, listed from the
partitions' pointers when the build starts, so the build reads one consistent version of every partition and no
file on the build host's disk; DuckDB reads them through the catalog connection's S3 secret.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from lake.read import published_files, published_pattern, scan_sql, url_list
from lake.store import LakeStore


def lake_datasets() -> dict[str, pa.Schema]:
    """Every lake dataset dbt reads, with its Arrow schema (owned by the transform that writes it)."""
    from orchestration.lake_datasets import finance_lake_datasets
    from transforms.settlement import SETTLEMENT_LINES_SCHEMA, SETTLEMENTS_SCHEMA

    return {
        "settlement_lines": SETTLEMENT_LINES_SCHEMA,
        "settlements": SETTLEMENTS_SCHEMA,
        **finance_lake_datasets(),
    }


def register_lake_views(
    warehouse: Path, lake: Path, datasets: Mapping[str, pa.Schema] | None = None
) -> list[str]:
    """Create or replace `lake.<dataset>` views in `warehouse`, opened read-write.

    During a build `warehouse` is the build's private copy (orchestration/warehouse/publish.py), never the
    published file, which readers may hold open read-only.
    """
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse)) as connection:
        return create_lake_views(connection, lake, datasets)


def create_lake_views(
    connection: duckdb.DuckDBPyConnection, lake: Path, datasets: Mapping[str, pa.Schema] | None = None
) -> list[str]:
    """Create or replace the `lake.<dataset>` views in the database `connection` uses (a build's copy, or the
    DuckLake catalog in scale-out, orchestration/warehouse_catalog.py)."""
    datasets = lake_datasets() if datasets is None else datasets
    empty_dir = lake / "_empty"
    empty_dir.mkdir(parents=True, exist_ok=True)
    created = []
    connection.execute("create schema if not exists lake")
    for name, schema in datasets.items():
        if published_files(lake, name):
            # A pattern, not a list: the view also sees partitions published after it was created.
            pattern = published_pattern(lake, name)
            select = scan_sql(name, f"'{_quote(pattern)}'")
        else:
            empty = _empty_file(empty_dir, name, schema)
            select = f"select * from read_parquet('{_quote(str(empty))}')"
        connection.execute(f"create or replace view lake.{name} as {select}")
        created.append(name)
    return created


def _empty_file(folder: Path, name: str, schema: pa.Schema) -> Path:
    """`folder/<name>.parquet`, an empty file with `schema`: kept when it has that schema already (writing each
    of about twenty costs a build a quarter of a second), else written beside it and moved into place, so that
    a view another build's dbt is reading never sees half a file."""
    empty = folder / f"{name}.parquet"
    try:
        if pq.read_schema(empty).equals(schema, check_metadata=True):
            return empty
    except (OSError, pa.ArrowInvalid):
        pass  # missing, or not a Parquet file: written below
    partial = folder / f".{name}.{os.getpid()}.parquet"
    pq.write_table(schema.empty_table(), partial)
    os.replace(partial, empty)
    return empty


def create_store_lake_views(
    connection: duckdb.DuckDBPyConnection, store: LakeStore, datasets: Mapping[str, pa.Schema] | None = None
) -> list[str]:
    """Create or replace the `lake.<dataset>` views over the lake's current files on the object store (the
    connection needs an S3 secret for it: the DuckLake catalog's connections have one)."""
    datasets = lake_datasets() if datasets is None else datasets
    current = store.current_files()
    created = []
    connection.execute("create schema if not exists lake")
    for name, schema in datasets.items():
        urls = current.get(name)
        if urls:
            select = scan_sql(name, url_list(urls))
        else:
            select = f"select * from read_parquet('{_quote(store.empty_url(name, schema))}')"
        connection.execute(f"create or replace view lake.{name} as {select}")
        created.append(name)
    return created


def _quote(text: str) -> str:
    return text.replace("'", "''")
