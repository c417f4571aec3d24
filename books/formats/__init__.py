"""One exporter per file format. Each takes the selected journals, the chart map and the export's options, and
returns the files' bytes and, for every journal, the file it went to and the text it became there (whose hash the
manifest keeps, so a changed rule, chart or rate shows as a changed journal)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from books.chart import Chart
from books.journal import ASSERTED, Journal
from books.rates import RateTable


class ExportRefused(ValueError):
    """The journals cannot be written in this format as asked; the message names the fix."""


@dataclass(frozen=True)
class ExportOptions:
    rates: RateTable | None = None
    # The currency of the Xero organisation, overriding the chart's (per account, then per profile).
    base_currency: str | None = None


@dataclass
class Rendered:
    files: dict[str, bytes] = field(default_factory=dict)
    # journal id -> (file name, the journal's text in that file)
    journals: dict[str, tuple[str, str]] = field(default_factory=dict)
    # journal id -> why this format leaves it out (and which format to use for it)
    skipped: dict[str, str] = field(default_factory=dict)


Exporter = Callable[[list[Journal], Chart, ExportOptions], Rendered]


def by_account(journals: list[Journal]) -> dict[str, list[Journal]]:
    grouped: dict[str, list[Journal]] = {}
    for journal in journals:
        grouped.setdefault(journal.account_id, []).append(journal)
    return dict(sorted(grouped.items()))


def exporters() -> dict[str, Exporter]:
    """The formats by their `--format` name."""
    from books.formats import beancount, hledger, qbo_journal, xero_invoice, xero_journal

    return {
        "beancount": beancount.render,
        "hledger": hledger.render,
        "qbo-journal": qbo_journal.render,
        "xero-invoice": xero_invoice.render,
        "xero-journal": xero_journal.render,
    }


FORMAT_NAMES = ("beancount", "hledger", "qbo-journal", "xero-invoice", "xero-journal")


def file_stem(account_id: str) -> str:
    """An account id made safe as a file name."""
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in account_id)


def asserted_accounts(journals: list[Journal], chart: Chart, ledger: str) -> set[str]:
    """The ledger accounts whose running balance a plain-text export asserts: those the deposit (bank or card)
    and deferred-balances lines post to. Every posting to them counts towards the balance, whatever its category
    (a failed disbursement or a card payment also moves the bank or card account)."""
    return {
        chart.ledger(ledger, journal.account_id, journal.currency).account(line.account_key)
        for journal in journals
        for line in journal.lines
        if line.category in ASSERTED
    }
