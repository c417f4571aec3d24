"""Reading the journals and the unmapped lines from the published warehouse, read-only.

The export never builds: it reads what the last `acorn build` published (orchestration/published_warehouse.py),
and says so when there is nothing to read yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from books.journal import COLUMNS, JournalLine
from orchestration.outcomes import CouldNotRun
from orchestration.published_warehouse import read_only

JOURNAL_LINES = "fct_journal_lines"
UNMAPPED = "rpt_books_unmapped"


UNMAPPED_COLUMNS = (
    "account_id",
    "source_settlement_id",
    "marketplace_name",
    "currency",
    "source_kind",
    "transaction_type",
    "amount_type",
    "amount_description",
    "line_count",
    "amount",
)


class NoJournals(CouldNotRun):
    """No warehouse yet, or one built before the books models existed."""


@dataclass(frozen=True)
class UnmappedLine:
    """A row of `rpt_books_unmapped`: settlement lines or transactions no posting rule maps."""

    account_id: str
    source_settlement_id: str | None
    marketplace_name: str | None
    currency: str | None
    source_kind: str
    transaction_type: str | None
    amount_type: str | None
    amount_description: str | None
    line_count: int
    amount: Decimal

    def describe(self) -> str:
        keys = " / ".join(
            str(part) for part in (self.transaction_type, self.amount_type, self.amount_description)
        )
        where = f"settlement {self.source_settlement_id}" if self.source_settlement_id else self.source_kind
        return (
            f"{self.account_id} {self.marketplace_name or ''} {where}: {keys}: "
            f"{self.line_count} line(s), {self.amount} {self.currency or ''}"
        )


@dataclass(frozen=True)
class Selection:
    """Which journals an export takes: one account or all, one period month or all."""

    account_id: str | None = None
    month: str | None = None

    def account_filter(self) -> tuple[str, list[str]]:
        """The SQL condition (and its parameters) that keeps the selected account's rows."""
        if self.account_id is None:
            return "true", []
        return "account_id = ?", [self.account_id]


def _columns_missing(connection: duckdb.DuckDBPyConnection, table: str, wanted: tuple[str, ...]) -> list[str]:
    schema, name = (part.strip('"') for part in table.split("."))
    present = {
        row[0]
        for row in connection.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchall()
    }
    return [column for column in wanted if column not in present]


def _table(connection: duckdb.DuckDBPyConnection, name: str, warehouse: Path) -> str:
    row = connection.execute(
        "select table_schema from information_schema.tables where table_name = ? order by table_schema",
        [name],
    ).fetchone()
    if row is None:
        raise NoJournals(
            f"The warehouse {warehouse} has no {name}: it was built before ACORN posted journals. "
            "Run `acorn build` first."
        )
    return f'"{row[0]}"."{name}"'


def read_books(warehouse: Path, selection: Selection) -> tuple[list[JournalLine], list[UnmappedLine]]:
    """The selected journal lines and unmapped lines. The month selects journals by period month; unmapped lines
    have no month of their own: with a month, those of the settlements that have a journal in it count, and those
    of no settlement (transactions) always."""
    if not warehouse.is_file():
        raise NoJournals(f"No warehouse at {warehouse} yet: run `acorn build` first (or `make demo`).")
    with read_only(warehouse) as connection:
        lines_table = _table(connection, JOURNAL_LINES, warehouse)
        unmapped_table = _table(connection, UNMAPPED, warehouse)
        for table, wanted in ((lines_table, COLUMNS), (unmapped_table, UNMAPPED_COLUMNS)):
            missing = _columns_missing(connection, table, wanted)
            if missing:
                raise NoJournals(
                    f"{table} in {warehouse} lacks the columns {', '.join(missing)} the export reads "
                    "(books-contract): it was built by another version of ACORN. Run `acorn build`."
                )
        where, params = selection.account_filter()
        if selection.month is not None:
            where, params = f"{where} and period_month = ?", [*params, selection.month]
        rows = connection.execute(
            f"select {', '.join(COLUMNS)} from {lines_table} where {where} "
            "order by journal_date, journal_id, line_number",
            params,
        ).fetchall()
        lines = [JournalLine(*row) for row in rows]
        unmapped_where, unmapped_params = selection.account_filter()
        unmapped_rows = connection.execute(
            f"select {', '.join(UNMAPPED_COLUMNS)} from {unmapped_table} where {unmapped_where} "
            "order by account_id, source_settlement_id, amount_type, amount_description",
            unmapped_params,
        ).fetchall()
    unmapped = [UnmappedLine(*row) for row in unmapped_rows]
    if selection.month is not None:
        settlements = {line.source_settlement_id for line in lines}
        unmapped = [
            row for row in unmapped if row.source_settlement_id in settlements or not row.source_settlement_id
        ]
    return lines, unmapped


def journal_accounts(warehouse: Path) -> list[str]:
    """The accounts that have journals in the warehouse."""
    with read_only(warehouse) as connection:
        table = _table(connection, JOURNAL_LINES, warehouse)
        return [
            row[0]
            for row in connection.execute(f"select distinct account_id from {table} order by 1").fetchall()
        ]
