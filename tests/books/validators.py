"""What the importers require of the CSV formats, checked the way they would refuse a file: exact header, file
limits, required fields, dates in the format, amounts that parse as decimals, each journal balanced and each
invoice's total equal to its lines. Each returns the file's rows for further assertions."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from books.formats import qbo_journal, xero_invoice, xero_journal


def _rows(path: Path, header: list[str]) -> list[dict[str, str]]:
    text = path.read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text))
    assert next(reader) == header, f"{path.name}: header"
    return [dict(zip(header, row, strict=True)) for row in reader]


def _date(text: str, formats: tuple[str, ...]) -> None:
    for candidate in formats:
        try:
            datetime.strptime(text, candidate)
            return
        except ValueError:
            continue
    raise AssertionError(f"{text!r} is not a date in {formats}")


def validate_xero_journal(path: Path) -> list[dict[str, str]]:
    rows = _rows(path, xero_journal.HEADER)
    assert 0 < len(rows) <= xero_journal.MAX_LINES, f"{path.name}: {len(rows)} lines"
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        for required in ("*Narration", "*Date", "*AccountCode", "*TaxRate", "*Amount"):
            assert row[required], f"{path.name}: {required} empty in {row}"
        assert len(row["*AccountCode"]) <= 10
        _date(row["*Date"], ("%m/%d/%Y", "%d/%m/%Y"))
        sums[(row["*Narration"], row["*Date"])] += Decimal(row["*Amount"])
    assert all(total == 0 for total in sums.values()), f"{path.name}: unbalanced {sums}"
    return rows


def validate_xero_invoices(path: Path) -> list[dict[str, str]]:
    header = xero_invoice.BILL_HEADER if "-xero-bills-" in path.name else xero_invoice.INVOICE_HEADER
    rows = _rows(path, header)
    invoices: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        for required in (
            "*ContactName",
            "*InvoiceNumber",
            "*InvoiceDate",
            "*DueDate",
            "*Description",
            "*Quantity",
            "*UnitAmount",
            "*AccountCode",
            "*TaxType",
            "Currency",
        ):
            assert row[required], f"{path.name}: {required} empty in {row}"
        _date(row["*InvoiceDate"], ("%m/%d/%Y", "%d/%m/%Y"))
        assert len(row["Currency"]) == 3
        invoices[row["*InvoiceNumber"]].append(row)
    assert 0 < len(invoices) <= xero_invoice.MAX_INVOICES
    for number, lines in invoices.items():
        total = sum(Decimal(line["*Quantity"]) * Decimal(line["*UnitAmount"]) for line in lines)
        assert Decimal(lines[0]["Total"]) == total >= 0, f"{path.name}: {number} total"
        assert len({line["Currency"] for line in lines}) == 1
    return rows


def validate_qbo_journal(path: Path) -> list[dict[str, str]]:
    rows = _rows(path, qbo_journal.HEADER)
    balance: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        assert row["Journal No."] and len(row["Journal No."]) <= 21
        datetime.strptime(row["Journal Date"], "%m/%d/%Y")
        assert row["Account Name"]
        assert bool(row["Debits"]) != bool(row["Credits"]), f"{path.name}: one of debit/credit in {row}"
        balance[row["Journal No."]] += Decimal(row["Debits"] or 0) - Decimal(row["Credits"] or 0)
    assert all(total == 0 for total in balance.values()), f"{path.name}: unbalanced"
    return rows


VALIDATORS = {
    "xero-journal": validate_xero_journal,
    "xero-invoice": validate_xero_invoices,
    "qbo-journal": validate_qbo_journal,
}
