"""Writing settlements into the lake: one partition per settlement, replaced atomically, newer document wins.

`settlement_lines/settlement_id=<id>/part-0.parquet` is written first and `settlements/settlement_id=<id>/...`
last: a settlements row is the commit marker (orchestration treats a document as landed once its sha256 is
there). Each Parquet file is written beside its target and moved into place with one rename, so readers see
the old version or the new one, never half of either. `settlement_versions.jsonl` records every version that
was imported, superseded or set aside as older, so nothing is lost (the bytes stay in the raw archive).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from transforms.jsonl import append_line, read_records
from transforms.settlement.schema import SETTLEMENT_LINES_SCHEMA, settlement_lines_scan_sql

LINES = "settlement_lines"
SETTLEMENTS = "settlements"
VERSIONS_LOG = "settlement_versions.jsonl"
PART = "part-0.parquet"
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def usable_settlement_id(settlement_id: str) -> bool:
    return bool(_SAFE_ID.fullmatch(settlement_id))


def partition_dir(lake: Path, dataset: str, settlement_id: str) -> Path:
    return lake / dataset / f"settlement_id={settlement_id}"


def staging_dir(lake: Path, dataset: str) -> Path:
    """A scratch directory on the lake's file system (so the final rename is atomic), hidden from globs."""
    path = lake / dataset / f".tmp-{uuid.uuid4().hex}"
    path.mkdir(parents=True)
    return path


@dataclass(frozen=True)
class CurrentVersion:
    raw_sha256: str
    document_created_at: datetime | None
    source_name: str | None
    account_id: str | None = None
    line_count: int = 0


@contextlib.contextmanager
def lake_lock(lake: Path) -> Iterator[None]:
    lake.mkdir(parents=True, exist_ok=True)
    with open(lake / ".settlements.lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def current_version(lake: Path, settlement_id: str) -> CurrentVersion | None:
    part = partition_dir(lake, SETTLEMENTS, settlement_id) / PART
    if not part.exists():
        return None
    columns = ["raw_sha256", "document_created_at", "source_name", "account_id", "line_count"]
    row = pq.read_table(part, columns=columns).to_pylist()[0]
    return CurrentVersion(
        row["raw_sha256"],
        row["document_created_at"],
        row["source_name"],
        row["account_id"],
        int(row["line_count"] or 0),
    )


def known_versions(lake: Path) -> dict[str, dict]:
    """Every sha256 the versions log has seen, with its last record (a torn last line is skipped)."""
    seen: dict[str, dict] = {}
    for record in read_records(lake / VERSIONS_LOG):
        if isinstance(record.get("raw_sha256"), str):
            seen[record["raw_sha256"]] = record
    return seen


def log_version(lake: Path, record: dict) -> None:
    """Append a record to the versions log (callers hold `lake_lock`); a torn last line is ended first."""
    line = json.dumps({**record, "logged_at": datetime.now(UTC).isoformat(timespec="seconds")}, default=str)
    with open(lake / VERSIONS_LOG, "ab+") as log:
        append_line(log, line)


def is_newer(candidate: datetime | None, current: CurrentVersion) -> bool:
    """Newer wins: by document creation time when both are known, else the later import (the candidate)."""
    if candidate is not None and current.document_created_at is not None:
        return candidate >= current.document_created_at
    return True


def rewrite_account(lake: Path, settlement_id: str, account_id: str, settlements_schema: pa.Schema) -> None:
    """Set `account_id` on every row of a landed settlement (its lines, then its settlements row, the commit
    marker), each file replaced by one rename; call it under `lake_lock`. Everything else is kept as it was:
    row order (V2 line numbers are implied by it), the Parquet key-value metadata, every other value."""
    lines_part = partition_dir(lake, LINES, settlement_id) / PART
    if lines_part.exists():
        staged = staging_dir(lake, LINES) / PART
        try:
            source = pq.ParquetFile(lines_part)
            schema = source.schema_arrow
            position = schema.get_field_index("account_id")
            with pq.ParquetWriter(staged, schema, compression="zstd") as writer:
                for batch in source.iter_batches():
                    column = pa.array([account_id] * batch.num_rows, pa.string())
                    writer.write_batch(batch.set_column(position, schema.field(position), column))
        except BaseException:
            shutil.rmtree(staged.parent, ignore_errors=True)
            raise
        install(staged, lake, LINES, settlement_id)
    row = pq.read_table(partition_dir(lake, SETTLEMENTS, settlement_id) / PART).to_pylist()[0]
    staged_row = staging_dir(lake, SETTLEMENTS) / PART
    try:
        write_settlement_row({**row, "account_id": account_id}, settlements_schema, staged_row)
    except BaseException:
        shutil.rmtree(staged_row.parent, ignore_errors=True)
        raise
    install(staged_row, lake, SETTLEMENTS, settlement_id)


def install(staged_file: Path, lake: Path, dataset: str, settlement_id: str) -> None:
    """Move a staged Parquet file into its partition with a single atomic rename."""
    target_dir = partition_dir(lake, dataset, settlement_id)
    if target_dir.exists():
        os.replace(staged_file, target_dir / PART)
        shutil.rmtree(staged_file.parent, ignore_errors=True)
        return
    # A new partition: its staging directory (holding only the part file) becomes the partition.
    os.rename(staged_file.parent, target_dir)


def write_settlement_row(row: dict, schema: pa.Schema, staged_file: Path) -> None:
    """One settlements row as Parquet with `schema`'s column types.

    DuckDB writes it from SQL literals: handing Python objects to pyarrow (or to DuckDB as parameters) imports
    pandas, which costs a quarter of a second on every import."""
    select = ", ".join(f"{_sql_value(row[field.name], field.type)} as {field.name}" for field in schema)
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        connection.execute(f"copy (select {select}) to {_sql_text(str(staged_file))} (format parquet)")


def _sql_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_string(arrow_type):
        return "varchar"
    if pa.types.is_int64(arrow_type):
        return "bigint"
    if pa.types.is_decimal(arrow_type):
        return f"decimal({arrow_type.precision}, {arrow_type.scale})"
    if pa.types.is_timestamp(arrow_type) and arrow_type.unit == "us":
        return "timestamptz" if arrow_type.tz else "timestamp"
    if pa.types.is_list(arrow_type):
        return f"{_sql_type(arrow_type.value_type)}[]"
    raise TypeError(f"no DuckDB type for {arrow_type}")


def _sql_value(value: object, arrow_type: pa.DataType) -> str:
    sql_type = _sql_type(arrow_type)
    if value is None:
        return f"cast(NULL as {sql_type})"
    if pa.types.is_list(arrow_type):
        assert isinstance(value, list | tuple)
        items = ", ".join(_sql_value(item, arrow_type.value_type) for item in value)
        return f"cast([{items}] as {sql_type})"
    if isinstance(value, datetime) and sql_type == "timestamptz":
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value} for a column of UTC instants")
        value = value.astimezone(UTC).isoformat()
    elif isinstance(value, datetime):
        value = value.isoformat()
    return f"cast({_sql_text(str(value))} as {sql_type})"


def _sql_text(text: str) -> str:
    # A NUL cannot appear inside a DuckDB string literal; it is spliced in with chr(0).
    return " || chr(0) || ".join("'" + part.replace("'", "''") + "'" for part in text.split("\x00"))


def read_settlement_lines(files: list[Path]) -> pa.Table:
    """settlement_lines Parquet files as one Arrow table (SETTLEMENT_LINES_SCHEMA), line numbers filled in."""
    if not files:
        return SETTLEMENT_LINES_SCHEMA.empty_table()
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        table = connection.execute(
            settlement_lines_scan_sql("?"), [[str(f) for f in files]]
        ).fetch_arrow_table()
    return table.select(SETTLEMENT_LINES_SCHEMA.names).cast(SETTLEMENT_LINES_SCHEMA)
