"""QuickBooks Online journal entries: QBO's journal import CSV (Settings -> Import data -> Journal entries):
`Journal No., Journal Date, Account Name, Description, Debits, Credits, Name`, US dates (MM/DD/YYYY), one file per
account and currency (import each into the company, or the multicurrency accounts, of that currency).

QBO journal numbers hold at most 21 characters, so a journal's number is its kind, month and a hash of its id;
the full id is in every line's description. Lines on an account the chart names Accounts Receivable or Payable
get the marketplace as Name, as QBO requires there.
"""

from __future__ import annotations

import hashlib

from books.chart import Chart
from books.formats import ExportOptions, Rendered, by_account, file_stem
from books.formats.csvtext import csv_text
from books.journal import Journal
from books.money import plain

HEADER = ["Journal No.", "Journal Date", "Account Name", "Description", "Debits", "Credits", "Name"]
KIND_LETTER = {"settlement": "S", "deferred": "D", "released": "R"}


def journal_number(journal: Journal) -> str:
    """`S2501-1a2b3c4d`: kind, YYMM, 8 hex of the id's sha256 (unique, stable, 14 characters)."""
    digest = hashlib.sha256(journal.journal_id.encode()).hexdigest()[:8]
    month = journal.period_month.replace("-", "")[2:]
    return f"{KIND_LETTER.get(journal.kind, 'J')}{month}-{digest}"


def journal_rows(journal: Journal, chart: Chart) -> list[list[str]]:
    ledger = chart.ledger("qbo", journal.account_id, journal.currency)
    named = set(ledger.setting("receivable_accounts", [])) | set(ledger.setting("payable_accounts", []))
    rows = []
    for line in journal.lines:
        account = ledger.account(line.account_key)
        rows.append(
            [
                journal_number(journal),
                journal.date.strftime("%m/%d/%Y"),
                account,
                f"{line.description} | {journal.journal_id}",
                plain(line.debit, journal.currency) if line.debit else "",
                plain(line.credit, journal.currency) if line.credit else "",
                journal.marketplace_name if account in named else "",
            ]
        )
    return rows


def render(journals: list[Journal], chart: Chart, options: ExportOptions) -> Rendered:
    rendered = Rendered()
    for account_id, account_journals in by_account(journals).items():
        by_currency: dict[str, list[Journal]] = {}
        for journal in account_journals:
            by_currency.setdefault(journal.currency, []).append(journal)
        for currency, currency_journals in sorted(by_currency.items()):
            name = f"{file_stem(account_id)}-qbo-journal-{currency}.csv"
            rows: list[list[str]] = []
            for journal in currency_journals:
                block = journal_rows(journal, chart)
                rows += block
                rendered.journals[journal.journal_id] = (name, csv_text(block))
            rendered.files[name] = csv_text([HEADER, *rows]).encode()
    return rendered
