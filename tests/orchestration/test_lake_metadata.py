"""A lake asset's materialization carries Dagster's `dagster/row_count` and `dagster/column_schema`, read from the
published files' footers: every partition counted, unpublished files not."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import dagster as dg
import pyarrow as pa

from lake.partitions import write_partition
from orchestration.lake_metadata import lake_materialization

SCHEMA = pa.schema([("account_id", pa.string()), ("amount", pa.decimal128(18, 2))])


def _table(rows: int) -> pa.Table:
    return pa.table(
        {"account_id": ["a"] * rows, "amount": pa.array([Decimal("1.00")] * rows, pa.decimal128(18, 2))},
        schema=SCHEMA,
    )


def test_row_count_sums_every_published_partition_and_the_schema_is_the_files(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    write_partition(lake, "balances", "account_id=a", _table(3))
    write_partition(lake, "balances", "account_id=b", _table(4))
    # A file in a hidden folder (as older versions staged inside the dataset) is not published: not counted.
    staged = lake / "balances" / ".tmp-1234" / "part-0.parquet"
    staged.parent.mkdir(parents=True, exist_ok=True)
    staged.write_bytes((lake / "balances" / "account_id=a" / "part-0.parquet").read_bytes())

    result = lake_materialization(lake, dg.AssetKey(["lake", "balances"]), {"rows_added": 7})

    assert result.asset_key == dg.AssetKey(["lake", "balances"])
    metadata = result.metadata or {}
    assert metadata["rows_added"] == 7
    assert metadata["dagster/row_count"] == dg.MetadataValue.int(7)
    assert metadata["published_files"] == dg.MetadataValue.int(2)
    schema = metadata["dagster/column_schema"].value  # type: ignore[union-attr]
    assert [(c.name, c.type) for c in schema.columns] == [
        ("account_id", "string"),
        ("amount", "decimal128(18, 2)"),
    ]


def test_an_empty_dataset_counts_zero_rows_and_has_no_schema(tmp_path: Path) -> None:
    result = lake_materialization(tmp_path / "lake", dg.AssetKey(["lake", "balances"]), {})
    metadata = result.metadata or {}
    assert metadata["dagster/row_count"] == dg.MetadataValue.int(0)
    assert "dagster/column_schema" not in metadata
