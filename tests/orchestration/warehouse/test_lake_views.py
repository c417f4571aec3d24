"""The `lake.<dataset>` views (lake_views.py): a dataset with published files reads them, one with none reads an
empty file with the dataset's schema, which is written once and written again only when the schema changed."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.warehouse.lake_views import register_lake_views

SCHEMA = pa.schema([pa.field("settlement_id", pa.string()), pa.field("amount", pa.decimal128(18, 2))])


def _columns(warehouse: Path, view: str) -> list[tuple[str, str]]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return [(row[0], row[1]) for row in connection.execute(f"describe lake.{view}").fetchall()]


def test_an_empty_dataset_reads_a_file_of_its_schema_kept_until_the_schema_changes(tmp_path: Path) -> None:
    warehouse, lake = tmp_path / "warehouse.duckdb", tmp_path / "lake"
    assert register_lake_views(warehouse, lake, {"payments": SCHEMA}) == ["payments"]
    assert _columns(warehouse, "payments") == [("settlement_id", "VARCHAR"), ("amount", "DECIMAL(18,2)")]
    empty = lake / "_empty" / "payments.parquet"
    written = empty.stat()

    register_lake_views(warehouse, lake, {"payments": SCHEMA})
    kept = empty.stat()
    # The same file, not rewritten.
    assert (kept.st_ino, kept.st_mtime_ns) == (written.st_ino, written.st_mtime_ns)

    wider = SCHEMA.append(pa.field("currency", pa.string()))
    register_lake_views(warehouse, lake, {"payments": wider})
    assert pq.read_schema(empty).equals(wider)
    assert _columns(warehouse, "payments")[-1] == ("currency", "VARCHAR")
    # Nothing half-written left beside it.
    assert sorted(path.name for path in empty.parent.iterdir()) == ["payments.parquet"]

    empty.write_bytes(b"not parquet")  # damaged: written again
    register_lake_views(warehouse, lake, {"payments": wider})
    assert pq.read_schema(empty).equals(wider)
