"""What the head of a settlement file says about all of it (FileShape, SettlementSummary) and what converting
its lines returns (ConvertedLines)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from transforms.settlement.schema import (
    LAYOUT_V2,
    V1_AMOUNT_COLUMNS,
)
from transforms.settlement.values import DecimalStyle

EXPECTED = (
    "a tab-separated Amazon settlement report (GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2 or "
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE) whose header starts with settlement-id"
)


@dataclass(frozen=True)
class SettlementSummary:
    settlement_id: str
    period_start_at: datetime | None
    period_end_at: datetime | None
    deposit_at: datetime | None
    total_amount: Decimal
    currency: str | None
    total_text: str = ""  # as written: its reading depends on the decimal style


@dataclass(frozen=True)
class FileShape:
    """What the head of a file says about all of it."""

    encoding: str
    layout: str
    header: tuple[str, ...]  # as written
    columns: dict[str, int]  # normalised header name -> position
    decimal_style: DecimalStyle
    summary: SettlementSummary
    usual_formats: dict[str, str | None]  # date column -> the strptime format its first value has
    # False when the head had no amount with a decimal separator: convert_lines then looks through the whole
    # file (as UTF-8, after any transcoding) before it converts.
    decimal_style_settled: bool = True
    # The distinct marketplace-name values of the head's lines (blank ones included as ""); empty when the
    # header has no marketplace-name column. The account an import infers starts from them.
    marketplace_names: tuple[str, ...] = ()

    def has(self, name: str) -> bool:
        return name in self.columns

    @property
    def amount_columns(self) -> list[str]:
        return amount_columns_of(self.layout, self.columns)


def amount_columns_of(layout: str, columns: dict[str, int]) -> list[str]:
    return ["amount"] if layout == LAYOUT_V2 else [c for c, _, _ in V1_AMOUNT_COLUMNS if c in columns]


@dataclass(frozen=True)
class ConvertedLines:
    shape: FileShape
    line_count: int
    lines_total: Decimal
    marketplace_name: str | None  # the most frequent one
    marketplace_names: tuple[str, ...] = ()  # every distinct non-blank one in the file


def normalise(name: str) -> str:
    return name.strip().strip('"').strip().lower()
