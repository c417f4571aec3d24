"""Fixtures of the books tests: a warehouse holding the hand-written journals, and the export into a folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from journal_kit import sample_lines, write_warehouse

from books.chart import load_chart
from books.export import ExportResult, export_books
from books.formats import ExportOptions
from books.rates import load_rates
from books.warehouse import Selection

FIXTURES = Path(__file__).parent / "fixtures"
RATES = FIXTURES / "rates.csv"

Exporter = Callable[..., ExportResult]


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return write_warehouse(tmp_path / "warehouse.duckdb", sample_lines())


@pytest.fixture
def export(warehouse: Path) -> Exporter:
    """export(format, out_dir, account=None, month=None, rates=True): the export of the sample warehouse."""

    def run(
        export_format: str,
        out_dir: Path,
        account: str | None = None,
        month: str | None = None,
        rates: bool = True,
        base_currency: str | None = None,
    ) -> ExportResult:
        options = ExportOptions(rates=load_rates(RATES) if rates else None, base_currency=base_currency)
        return export_books(
            warehouse, out_dir, export_format, Selection(account, month), load_chart(), options
        )

    return run
