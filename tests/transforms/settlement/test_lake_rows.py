"""The settlements row is written by DuckDB from SQL literals: it must read back exactly, with the schema's
types, whatever its text holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from transforms.settlement.lake import write_settlement_row
from transforms.settlement.schema import SETTLEMENTS_SCHEMA


def record(**overrides: object) -> dict:
    row = {name: None for name in SETTLEMENTS_SCHEMA.names}
    row.update(
        settlement_id="12345678901",
        source_layout="flat_file_v2",
        currency="JPY",
        period_start_at=datetime(2026, 6, 1, tzinfo=UTC),
        total_amount=Decimal("-1234567890123456.78"),
        lines_total=Decimal("0.00"),
        line_count=5_000_000_000,
        encoding="cp932",
        header_columns=["settlement-id", 'it\'s "quoted"', "tab\there", "日本語", "nul\x00byte", ""],
    )
    row.update(overrides)
    return row


def test_every_value_reads_back_exactly_with_the_schema_types(tmp_path: Path) -> None:
    tokyo = timezone(timedelta(hours=9))
    row = record(
        source_name="O'Brien's report; drop table x; --.txt",
        deposit_at=datetime(2026, 6, 3, 9, 30, 15, 123456, tzinfo=tokyo),
    )
    path = tmp_path / "row.parquet"
    write_settlement_row(row, SETTLEMENTS_SCHEMA, path)

    table = pq.read_table(path)
    assert table.schema.names == SETTLEMENTS_SCHEMA.names
    for field in SETTLEMENTS_SCHEMA:
        written = table.schema.field(field.name).type
        if pa.types.is_list(field.type):  # DuckDB names a list's item "element", pyarrow "item"
            assert written.value_type == field.type.value_type
        else:
            assert written == field.type, field.name
    [back] = table.to_pylist()
    expected = {**row, "deposit_at": datetime(2026, 6, 3, 0, 30, 15, 123456, tzinfo=UTC)}
    assert back == expected
