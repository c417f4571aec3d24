"""Xero sales invoices (and bills): each settlement month part as one invoice to the marketplace, in the
marketplace's currency (the `Currency` column), its lines every posting but the money's landing side (the bank
or card line, and the split-month rollover that carries a part to the next): sales positive, fees and refunds
negative. The invoice total is what the part pays; the user matches the deposit against the part invoices.

A part that pays less than nothing becomes a bill (Xero refuses negative invoices), in its own file with the
lines' signs turned. At most 500 invoices a file. Deferred and released journals are not invoices: they are left
out and named (export them with xero-journal).
"""

from __future__ import annotations

from decimal import Decimal

from books.chart import Chart
from books.formats import ExportOptions, Rendered, by_account, file_stem
from books.formats.csvtext import chunked, csv_text
from books.journal import MONEY_LANDS, SPLIT_MONTH_ROLLOVER, Journal
from books.money import plain

INVOICE_HEADER = [
    "*ContactName",
    "EmailAddress",
    "POAddressLine1",
    "POAddressLine2",
    "POAddressLine3",
    "POAddressLine4",
    "POCity",
    "PORegion",
    "POPostalCode",
    "POCountry",
    "*InvoiceNumber",
    "Reference",
    "*InvoiceDate",
    "*DueDate",
    "Total",
    "InventoryItemCode",
    "*Description",
    "*Quantity",
    "*UnitAmount",
    "Discount",
    "*AccountCode",
    "*TaxType",
    "TaxAmount",
    "TrackingName1",
    "TrackingOption1",
    "TrackingName2",
    "TrackingOption2",
    "Currency",
    "BrandingTheme",
]
# Xero's bill template is the invoice template without branding themes (bills have none).
BILL_HEADER = INVOICE_HEADER[:-1]
MAX_INVOICES = 500
RECEIVABLE_SIDE = MONEY_LANDS | {SPLIT_MONTH_ROLLOVER}


def invoice_rows(journal: Journal, chart: Chart) -> tuple[bool, list[list[str]]]:
    """(is a bill, its rows)."""
    ledger = chart.ledger("xero", journal.account_id, journal.currency)
    lines = [line for line in journal.lines if line.category not in RECEIVABLE_SIDE]
    # Income side positive: what the marketplace owes the seller for the part.
    total = sum((-line.amount for line in lines), Decimal(0))
    is_bill = total < 0
    sign = Decimal(1) if is_bill else Decimal(-1)
    date_format = str(ledger.setting("date_format", "%Y-%m-%d"))
    invoice_date = journal.date.strftime(date_format)
    due = max(journal.date, journal.lines[0].deposit_date or journal.date).strftime(date_format)
    tracking = str(ledger.setting("tracking_marketplace", "") or "")
    rows = []
    for index, line in enumerate(lines):
        row = [
            journal.marketplace_name,
            *[""] * 9,
            journal.journal_id,
            journal.settlement_id or "",
            invoice_date,
            due,
            plain(abs(total), journal.currency) if index == 0 else "",
            "",
            line.description,
            "1",
            plain(sign * line.amount, journal.currency),
            "",
            ledger.account(line.account_key),
            ledger.tax_rate(line.tax_key),
            "",
            tracking,
            journal.marketplace_name if tracking else "",
            "",
            "",
            journal.currency,
        ]
        rows.append(row if is_bill else [*row, ""])
    return is_bill, rows


def render(journals: list[Journal], chart: Chart, options: ExportOptions) -> Rendered:
    rendered = Rendered()
    for account_id, account_journals in by_account(journals).items():
        invoices: list[tuple[str, list[list[str]]]] = []
        bills: list[tuple[str, list[list[str]]]] = []
        for journal in account_journals:
            if journal.kind != "settlement":
                rendered.skipped[journal.journal_id] = (
                    f"a {journal.kind} journal is no invoice: export it with --format xero-journal"
                )
                continue
            is_bill, rows = invoice_rows(journal, chart)
            if not rows:
                rendered.skipped[journal.journal_id] = (
                    "nothing to invoice: the part only moves the split-month rollover to the bank"
                )
                continue
            (bills if is_bill else invoices).append((journal.journal_id, rows))
        for kind, header, blocks in (("invoices", INVOICE_HEADER, invoices), ("bills", BILL_HEADER, bills)):
            # One invoice a block: a file holds at most MAX_INVOICES blocks.
            files = chunked(
                [(journal_id, [rows[0]]) for journal_id, rows in blocks], MAX_INVOICES, "invoices"
            )
            by_id = dict(blocks)
            for number, contents in enumerate(files, start=1):
                name = f"{file_stem(account_id)}-xero-{kind}-{number:03d}.csv"
                rows = [row for journal_id, _ in contents for row in by_id[journal_id]]
                rendered.files[name] = csv_text([header, *rows]).encode()
                for journal_id, _ in contents:
                    rendered.journals[journal_id] = (name, csv_text(by_id[journal_id]))
    return rendered
