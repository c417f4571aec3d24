"""beancount: one transaction per journal (its id, settlement id, kind and rule version as metadata, each
posting's tax rate and line number as posting metadata), an `open` for every account used, and a `balance`
assertion for the bank/card and deferred-balances accounts after every day they move, so `bean-check` proves
the file adds up as the journals say. One file per ACORN account."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from books.chart import Chart
from books.formats import ExportOptions, Rendered, asserted_accounts, by_account, file_stem
from books.journal import Journal
from books.money import plain

HEADER = (
    "; ACORN books export (beancount) of account {account}: written by `acorn books export`, from the warehouse's\n"
    "; fct_journal_lines. Export again rather than edit: the next export overwrites this file.\n"
    'option "title" "ACORN books: {account}"\n'
)


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(journals: list[Journal], chart: Chart, options: ExportOptions) -> Rendered:
    rendered = Rendered()
    for account_id, account_journals in by_account(journals).items():
        name = f"{file_stem(account_id)}.beancount"
        opened: dict[str, object] = {}
        blocks: list[str] = []
        asserted: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        assertions: list[str] = []
        watched = asserted_accounts(account_journals, chart, "beancount")
        for day, day_journals in _by_day(account_journals):
            moved: set[tuple[str, str]] = set()
            for journal in day_journals:
                ledger = chart.ledger("beancount", journal.account_id, journal.currency)
                text = [
                    f"{journal.date.isoformat()} * {quoted(journal.marketplace_name)} {quoted(journal.narration)}",
                    f"  journal_id: {quoted(journal.journal_id)}",
                    f"  journal_kind: {quoted(journal.kind)}",
                ]
                if journal.settlement_id:
                    text.append(f"  settlement_id: {quoted(journal.settlement_id)}")
                text.append(f"  rule_version: {quoted(journal.lines[0].rule_version)}")
                for line in journal.lines:
                    account = ledger.account(line.account_key)
                    opened.setdefault(account, None)
                    text.append(f"  {account}  {plain(line.amount, line.currency)} {line.currency}")
                    text.append(f"    description: {quoted(line.description)}")
                    text.append(f"    tax: {quoted(ledger.tax_rate(line.tax_key))}")
                    text.append(f"    line: {line.line_number}")
                    if account in watched:
                        asserted[(account, line.currency)] += line.amount
                        moved.add((account, line.currency))
                block = "\n".join(text) + "\n"
                blocks.append(block)
                rendered.journals[journal.journal_id] = (name, block)
            for account, currency in sorted(moved):
                balance = plain(asserted[(account, currency)], currency)
                # `~ 0`: exact. Without it beancount tolerates a difference of one in the last digit (a cent).
                exact = plain(Decimal(0), currency)
                next_day = (day + timedelta(days=1)).isoformat()
                assertions.append(f"{next_day} balance {account}  {balance} ~ {exact} {currency}\n")
                blocks.append(assertions[-1])
        first_day = account_journals[0].date.isoformat()
        opens = "".join(f"{first_day} open {account}\n" for account in sorted(opened))
        rendered.files[name] = (
            HEADER.format(account=account_id) + "\n" + opens + "\n" + "\n".join(blocks)
        ).encode()
    return rendered


def _by_day(journals: list[Journal]) -> list[tuple[date, list[Journal]]]:
    days: dict[date, list[Journal]] = {}
    for journal in journals:
        days.setdefault(journal.date, []).append(journal)
    return list(days.items())
