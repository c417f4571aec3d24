"""Journal lines as the mart `fct_journal_lines` gives them, grouped into journals.

Money is `Decimal` from the warehouse's DECIMAL(18,2) to the file: nothing here converts to float. A journal is the
lines sharing a `journal_id`, in `line_number` order; it balances (sum of debits = sum of credits) or it is not a
journal, and `Journal` refuses to exist otherwise rather than let an exporter write half a posting.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal

# Categories whose line is where the money lands (the marketplace's bank account, or the card/clearing account a
# negative settlement is charged to): the receivable side of an invoice, and the accounts a balance asserts.
MONEY_LANDS = frozenset({"bank", "card"})
DEFERRED_BALANCES = "deferred_balances"
SPLIT_MONTH_ROLLOVER = "split_month_rollover"
# Lines whose account the plain-text ledgers assert the balance of (the bank/card and deferred-balances accounts).
ASSERTED = MONEY_LANDS | {DEFERRED_BALANCES}


@dataclass(frozen=True)
class JournalLine:
    """One row of `fct_journal_lines` (books-contract.md): the columns the exports use."""

    journal_id: str
    journal_kind: str
    journal_date: date
    period_month: str
    part_number: int
    is_final_part: bool
    account_id: str
    marketplace_id: str
    marketplace_name: str
    currency: str
    line_number: int
    category: str
    account_key: str
    account_code: str
    account_type: str
    tax_key: str
    description: str
    debit: Decimal
    credit: Decimal
    source_settlement_id: str | None
    settlement_total: Decimal | None
    deposit_date: date | None
    is_negative_settlement: bool
    rule_version: str
    source_row_count: int

    @property
    def amount(self) -> Decimal:
        """Debit positive, credit negative: the sign Xero's manual journals and beancount postings use."""
        return self.debit - self.credit


COLUMNS = tuple(field.name for field in fields(JournalLine))


class JournalError(ValueError):
    """Lines that do not make a journal (unbalanced, mixed currencies or headers): the warehouse is wrong."""


@dataclass(frozen=True)
class Journal:
    """The lines of one journal, in line order, with the header every line repeats."""

    lines: tuple[JournalLine, ...]

    def __post_init__(self) -> None:
        if not self.lines:
            raise JournalError("a journal needs at least one line")
        first = self.lines[0]
        for line in self.lines:
            header = (line.journal_id, line.journal_date, line.account_id, line.currency, line.journal_kind)
            if header != (
                first.journal_id,
                first.journal_date,
                first.account_id,
                first.currency,
                first.journal_kind,
            ):
                raise JournalError(
                    f"journal {first.journal_id}: its lines disagree on date, account or currency"
                )
            if not (isinstance(line.debit, Decimal) and isinstance(line.credit, Decimal)):
                raise JournalError(
                    f"journal {line.journal_id} line {line.line_number}: debit and credit must be exact decimals, "
                    f"got {type(line.debit).__name__} (the mart's DECIMAL(18,2) contract is broken)"
                )
            if line.debit < 0 or line.credit < 0 or (line.debit and line.credit):
                raise JournalError(
                    f"journal {line.journal_id} line {line.line_number}: debit {line.debit} and credit "
                    f"{line.credit} (each >= 0, never both)"
                )
        if self.total_debit != self.total_credit:
            raise JournalError(
                f"journal {first.journal_id} does not balance: debits {self.total_debit} "
                f"!= credits {self.total_credit} {first.currency}"
            )

    @property
    def journal_id(self) -> str:
        return self.lines[0].journal_id

    @property
    def kind(self) -> str:
        return self.lines[0].journal_kind

    @property
    def date(self) -> date:
        return self.lines[0].journal_date

    @property
    def period_month(self) -> str:
        return self.lines[0].period_month

    @property
    def account_id(self) -> str:
        return self.lines[0].account_id

    @property
    def currency(self) -> str:
        return self.lines[0].currency

    @property
    def marketplace_name(self) -> str:
        return self.lines[0].marketplace_name

    @property
    def settlement_id(self) -> str | None:
        return self.lines[0].source_settlement_id

    @property
    def total_debit(self) -> Decimal:
        return sum((line.debit for line in self.lines), Decimal(0))

    @property
    def total_credit(self) -> Decimal:
        return sum((line.credit for line in self.lines), Decimal(0))

    @property
    def narration(self) -> str:
        """What the journal is, in an accountant's words (its id stays beside it for tracing)."""
        first = self.lines[0]
        if first.journal_kind == "settlement":
            part = f"part {first.part_number}" + (" (final)" if first.is_final_part else "")
            return f"{first.marketplace_name} settlement {first.source_settlement_id} {first.period_month} {part}"
        what = "deferred" if first.journal_kind == "deferred" else "released from deferral"
        return f"{first.marketplace_name} {first.period_month} money {what}"

    def content_hash(self) -> str:
        """sha256 of the journal's lines (every column): it changes when a re-issued settlement or a changed
        rule changes any posting, and not otherwise."""
        rows = [[_canonical(getattr(line, name)) for name in COLUMNS] for line in self.lines]
        return hashlib.sha256(json.dumps(rows, separators=(",", ":")).encode()).hexdigest()


def _canonical(value: object) -> object:
    if isinstance(value, Decimal | date):
        return str(value)
    return value


def journals_from_lines(lines: Iterable[JournalLine]) -> list[Journal]:
    """The journals the lines make, ordered by date then id (the order every export writes them in)."""
    grouped: dict[str, list[JournalLine]] = {}
    for line in lines:
        grouped.setdefault(line.journal_id, []).append(line)
    journals = [
        Journal(tuple(sorted(group, key=lambda line: line.line_number))) for group in grouped.values()
    ]
    return sorted(journals, key=lambda journal: (journal.date, journal.journal_id))
