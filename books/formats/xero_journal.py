"""Xero manual journals: Xero's import CSV (Accounting -> Manual journals -> Import), at most 300 lines a file,
never a journal split across two files. Positive amounts are debits.

Xero groups consecutive rows with the same narration and date into one journal, so each narration carries the
journal id. A manual journal has no currency: it is in the organisation's base currency. A journal in another
currency is converted with the user's rate table (each line rounded to the base currency, and an FX rounding line
so it still balances), or refused naming the fixes (a rate table, or the xero-invoice format, which carries the
currency).
"""

from __future__ import annotations

from decimal import Decimal

from books.chart import Chart, LedgerMap
from books.formats import ExportOptions, ExportRefused, Rendered, by_account, file_stem
from books.formats.csvtext import chunked, csv_text
from books.journal import Journal
from books.money import plain, round_to_currency
from books.rates import RateError

HEADER = [
    "*Narration",
    "*Date",
    "Description",
    "*AccountCode",
    "*TaxRate",
    "*Amount",
    "TrackingName1",
    "TrackingOption1",
    "TrackingName2",
    "TrackingOption2",
]
MAX_LINES = 300
FX_ROUNDING_KEY = "fx_rounding"


def base_currency(journal: Journal, chart: Chart, options: ExportOptions, ledger: LedgerMap) -> str:
    chosen = (
        options.base_currency
        or chart.account_setting(journal.account_id, "xero_base_currency")
        or ledger.setting("base_currency")
        or journal.currency
    )
    return str(chosen).upper()


def journal_rows(journal: Journal, chart: Chart, options: ExportOptions) -> list[list[str]]:
    ledger = chart.ledger("xero", journal.account_id, journal.currency)
    base = base_currency(journal, chart, options, ledger)
    narration = f"{journal.narration} [{journal.journal_id}]"
    amounts = [line.amount for line in journal.lines]
    descriptions = [line.description for line in journal.lines]
    keys = [(line.account_key, line.tax_key) for line in journal.lines]
    if journal.currency != base:
        if options.rates is None:
            raise ExportRefused(
                f"Xero manual journals carry no currency, and journal {journal.journal_id} is in "
                f"{journal.currency}, not your Xero base currency {base}: give --rates FILE "
                "(columns rate_date,currency,reporting_currency,rate) to convert it, set --base-currency if your "
                "Xero organisation's currency is another, or export --format xero-invoice, whose invoices carry "
                "their currency."
            )
        try:
            rate = options.rates.rate(journal.currency, base, journal.date)
        except RateError as error:
            raise ExportRefused(str(error)) from None
        amounts = [round_to_currency(amount * rate.value, base) for amount in amounts]
        rounding = -sum(amounts, Decimal(0))
        if rounding:
            amounts.append(rounding)
            descriptions.append(f"FX rounding ({journal.currency}->{base})")
            keys.append((FX_ROUNDING_KEY, "no_tax"))
        narration += f" {journal.currency} at {rate.value} {base} ({rate.rate_date.isoformat()})"
    tracking = str(ledger.setting("tracking_marketplace", "") or "")
    date_text = journal.date.strftime(str(ledger.setting("date_format", "%Y-%m-%d")))
    return [
        [
            narration,
            date_text,
            description,
            ledger.account(account_key),
            ledger.tax_rate(tax_key),
            plain(amount, base),
            tracking,
            journal.marketplace_name if tracking else "",
            "",
            "",
        ]
        for amount, description, (account_key, tax_key) in zip(amounts, descriptions, keys, strict=True)
    ]


def refuse_foreign_currencies(journals: list[Journal], chart: Chart, options: ExportOptions) -> None:
    """Without a rate table, every journal not in its Xero organisation's currency, counted in one refusal."""
    if options.rates is not None:
        return
    foreign: dict[tuple[str, str, str], int] = {}
    for journal in journals:
        base = base_currency(
            journal, chart, options, chart.ledger("xero", journal.account_id, journal.currency)
        )
        if journal.currency != base:
            key = (journal.account_id, journal.currency, base)
            foreign[key] = foreign.get(key, 0) + 1
    if foreign:
        counted = "; ".join(
            f"{count} journal(s) of {account} in {currency}, not its Xero base currency {base}"
            for (account, currency, base), count in sorted(foreign.items())
        )
        raise ExportRefused(
            f"Xero manual journals carry no currency: {counted}. Give --rates FILE (columns "
            "rate_date,currency,reporting_currency,rate) to convert them, set --base-currency if your Xero "
            "organisation's currency is another, or export --format xero-invoice, whose invoices carry their "
            "currency."
        )


def render(journals: list[Journal], chart: Chart, options: ExportOptions) -> Rendered:
    refuse_foreign_currencies(journals, chart, options)
    rendered = Rendered()
    for account_id, account_journals in by_account(journals).items():
        blocks = [(journal.journal_id, journal_rows(journal, chart, options)) for journal in account_journals]
        try:
            files = chunked(blocks, MAX_LINES, "lines")
        except ValueError as error:
            raise ExportRefused(
                f"Xero imports at most {MAX_LINES} manual journal lines a file: {error}"
            ) from None
        for number, contents in enumerate(files, start=1):
            name = f"{file_stem(account_id)}-xero-journal-{number:03d}.csv"
            rows = [row for _, block in contents for row in block]
            rendered.files[name] = csv_text([HEADER, *rows]).encode()
            for journal_id, block in contents:
                rendered.journals[journal_id] = (name, csv_text(block))
    return rendered
