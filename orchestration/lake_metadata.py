"""Dagster's standard table metadata for the lake assets every domain writes: `dagster/row_count` (the rows
published in the dataset, all partitions) and `dagster/column_schema` (its columns and Arrow types), beside each
asset's own counts of what the run added. The warehouse's dbt assets carry the same two keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from lake.read import dataset_stats


def lake_materialization(
    lake: Path, asset_key: dg.AssetKey, metadata: dict[str, Any]
) -> dg.MaterializeResult:
    """The materialization of the lake asset `asset_key` (`lake/<dataset>`), its `metadata` plus the dataset's
    row count, file count and column schema."""
    stats = dataset_stats(lake, asset_key.path[-1])
    table: dict[str, Any] = {
        "dagster/row_count": dg.MetadataValue.int(stats.rows),
        "published_files": dg.MetadataValue.int(stats.files),
    }
    if stats.schema is not None:
        columns = [dg.TableColumn(name=field.name, type=str(field.type)) for field in stats.schema]
        table["dagster/column_schema"] = dg.MetadataValue.table_schema(dg.TableSchema(columns=columns))
    return dg.MaterializeResult(asset_key=asset_key, metadata={**metadata, **table})
