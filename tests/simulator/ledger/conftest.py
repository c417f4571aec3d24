"""A ledger built once per session for a fixed ``today``, and a small reader of its settlement files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from simulator.clock import start_override
from simulator.ledger import Ledger

# A fixed afternoon, or the date sweep's day (ACORN_SIMULATOR_START), so the properties are checked on both.
NOW = start_override() or datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
TODAY: date = NOW.date()
SELLERS = ("demo-na", "demo-eu", "demo-jp")


@pytest.fixture(scope="session")
def ledger() -> Ledger:
    return Ledger(seed=7, today=TODAY)


@dataclass
class ParsedSettlementFile:
    header: list[str]
    summary: dict[str, str]
    lines: list[dict[str, str]]

    def amount(self, text: str) -> Decimal:
        return Decimal(text.strip().replace(",", "."))

    @property
    def lines_total(self) -> Decimal:
        return sum((self.amount(row["amount"]) for row in self.lines), Decimal("0"))


def parse_settlement_file(content: bytes, charset: str) -> ParsedSettlementFile:
    """Headers matched by name; amounts read with either decimal mark (EU files use a comma)."""
    rows = [row.split("\t") for row in re.split(r"\r?\n", content.decode(charset)) if row]
    header = rows[0]
    records = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    return ParsedSettlementFile(header=header, summary=records[0], lines=records[1:])
