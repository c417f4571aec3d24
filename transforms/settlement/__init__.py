"""Amazon settlement flat files (both layouts) -> the lake's `settlement_lines` and `settlements` tables.

- `import_settlement_file`: archive, parse, land (or quarantine/reject); called by `acorn import` and
  the assets.
- `parse_settlement`: parse without writing anything, returning Arrow tables (tests, notebooks).

See README.md in this folder for the formats accepted and the older layout's unpivot mapping.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from transforms.settlement.convert import convert_lines
from transforms.settlement.errors import EmptySettlementFile, SettlementFileError
from transforms.settlement.head import inspect_head
from transforms.settlement.importer import (
    ImportOutcome,
    ImportStatus,
    import_settlement_file,
    settlement_record,
)
from transforms.settlement.lake import read_settlement_lines
from transforms.settlement.line_scan import LineScan
from transforms.settlement.schema import LAYOUT_V1, LAYOUT_V2, SETTLEMENT_LINES_SCHEMA, SETTLEMENTS_SCHEMA


@dataclass(frozen=True)
class ParsedSettlement:
    settlement_id: str
    layout: str
    encoding: str
    decimal_style: str
    total_amount: Decimal
    lines_total: Decimal
    line_count: int
    header_columns: tuple[str, ...]
    lines: pa.Table  # SETTLEMENT_LINES_SCHEMA
    settlement: pa.Table  # SETTLEMENTS_SCHEMA, one row

    @property
    def is_reconciled(self) -> bool:
        return self.lines_total == self.total_amount


def parse_settlement(
    path: Path, *, charset_hint: str | None = None, display_name: str | None = None
) -> ParsedSettlement:
    """Parse a settlement file into Arrow tables without touching any data dir.

    Raises SettlementFileError (reason, file, line, column, kind) for a bad or foreign file, and
    EmptySettlementFile for one with nothing to import (no content, a header alone, a summary row of total 0)."""
    path = Path(path)
    shown = display_name or path.name
    scan = LineScan.of_file(path)
    shape = inspect_head(path, charset_hint=charset_hint, file=shown, scan=scan)
    with tempfile.TemporaryDirectory(prefix="acorn-settlement-") as scratch:
        out = Path(scratch) / "lines.parquet"
        converted = convert_lines(
            path, shape, out, file=shown, account_id=None, raw_sha256=None, line_scan=scan
        )
        lines = read_settlement_lines([out])
    record = settlement_record(
        converted, account_id=None, raw_sha256=None, source_name=shown, document_created_at=None
    )
    return ParsedSettlement(
        settlement_id=shape.summary.settlement_id,
        layout=shape.layout,
        encoding=shape.encoding,
        decimal_style=converted.shape.decimal_style,
        total_amount=converted.shape.summary.total_amount,  # read again once the style is decided
        lines_total=converted.lines_total,
        line_count=converted.line_count,
        header_columns=shape.header,
        lines=lines.combine_chunks(),
        settlement=pa.Table.from_pylist([record], schema=SETTLEMENTS_SCHEMA),
    )


__all__ = [
    "LAYOUT_V1",
    "LAYOUT_V2",
    "SETTLEMENTS_SCHEMA",
    "SETTLEMENT_LINES_SCHEMA",
    "EmptySettlementFile",
    "ImportOutcome",
    "ImportStatus",
    "ParsedSettlement",
    "SettlementFileError",
    "import_settlement_file",
    "parse_settlement",
]
