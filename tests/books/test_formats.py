"""The formats' rules beyond the goldens: exact headers, Xero's file limits (300 journal lines, 500 invoices,
never a journal split), the currency rules of Xero manual journals, bills for negative parts, money exact."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from journal_kit import journal, sample_lines, stl

from books.chart import ChartGap, load_chart
from books.formats import ExportOptions, ExportRefused, xero_invoice, xero_journal
from books.journal import Journal, JournalError, journals_from_lines
from books.rates import load_rates

RATES = Path(__file__).parent / "fixtures" / "rates.csv"
XERO_JOURNAL_HEADER = (
    "*Narration,*Date,Description,*AccountCode,*TaxRate,*Amount,TrackingName1,TrackingOption1,TrackingName2,"
    "TrackingOption2"
)
XERO_INVOICE_HEADER = (
    "*ContactName,EmailAddress,POAddressLine1,POAddressLine2,POAddressLine3,POAddressLine4,POCity,PORegion,"
    "POPostalCode,POCountry,*InvoiceNumber,Reference,*InvoiceDate,*DueDate,Total,InventoryItemCode,*Description,"
    "*Quantity,*UnitAmount,Discount,*AccountCode,*TaxType,TaxAmount,TrackingName1,TrackingOption1,TrackingName2,"
    "TrackingOption2,Currency,BrandingTheme"
)


def rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def many_journals(count: int, lines_each: int, account: str = "acme-us") -> list[Journal]:
    """`count` USD settlements of `lines_each` lines (sales lines, then the bank line), a day apart."""
    out = []
    for number in range(count):
        day = date(2025, 1, 1) + timedelta(days=number % 28)
        sales = [("sales", "amazon_sales", "no_tax", f"Order {i}", "-1.00") for i in range(lines_each - 1)]
        bank = ("bank", "bank_amazon_us", "no_tax", "Deposit", f"{lines_each - 1}.00")
        out += journal(
            stl(account, str(5000 + number), day.strftime("%Y-%m")),
            day=day,
            account_id=account,
            marketplace="Amazon.com",
            settlement_id=str(5000 + number),
            total=f"{lines_each - 1}.00",
            deposit=day,
            lines=[*sales, bank],
        )
    return journals_from_lines(out)


def test_headers_are_exactly_the_importers() -> None:
    assert ",".join(xero_journal.HEADER) == XERO_JOURNAL_HEADER
    assert ",".join(xero_invoice.INVOICE_HEADER) == XERO_INVOICE_HEADER


def test_xero_journal_files_hold_at_most_300_lines_and_never_split_a_journal() -> None:
    journals = many_journals(100, 7)  # 700 lines: 42 journals (294 lines) a file
    rendered = xero_journal.render(journals, load_chart(), ExportOptions())
    assert sorted(rendered.files) == [f"acme-us-xero-journal-00{n}.csv" for n in (1, 2, 3)]
    where: dict[str, set[str]] = {}
    for name, data in rendered.files.items():
        assert data.decode().splitlines()[0] == XERO_JOURNAL_HEADER
        body = rows(data)
        assert len(body) <= 300
        for row in body:
            where.setdefault(row["*Narration"], set()).add(name)
    assert len(where) == 100
    assert all(len(files) == 1 for files in where.values())
    total_rows = sum(len(rows(data)) for data in rendered.files.values())
    assert total_rows == 700


def test_a_journal_longer_than_xeros_file_limit_is_refused() -> None:
    with pytest.raises(ExportRefused, match="at most 300"):
        xero_journal.render(many_journals(1, 301), load_chart(), ExportOptions())
    assert (
        len(
            rows(
                xero_journal.render(many_journals(1, 300), load_chart(), ExportOptions()).files[
                    "acme-us-xero-journal-001.csv"
                ]
            )
        )
        == 300
    )


def test_xero_invoice_files_hold_at_most_500_invoices() -> None:
    rendered = xero_invoice.render(many_journals(1001, 3), load_chart(), ExportOptions())
    counts = {
        name: len({row["*InvoiceNumber"] for row in rows(data)}) for name, data in rendered.files.items()
    }
    assert counts == {
        "acme-us-xero-invoices-001.csv": 500,
        "acme-us-xero-invoices-002.csv": 500,
        "acme-us-xero-invoices-003.csv": 1,
    }
    for data in rendered.files.values():
        assert data.decode().splitlines()[0] == XERO_INVOICE_HEADER


def test_xero_manual_journals_refuse_a_foreign_currency_without_rates_naming_the_fixes() -> None:
    journals = journals_from_lines(line for line in sample_lines() if line.currency == "CAD")
    with pytest.raises(ExportRefused) as refused:
        xero_journal.render(journals, load_chart(), ExportOptions())
    assert (
        "CAD" in str(refused.value)
        and "--rates" in str(refused.value)
        and "xero-invoice" in str(refused.value)
    )
    # Told the organisation's currency is CAD, nothing needs converting.
    rendered = xero_journal.render(journals, load_chart(), ExportOptions(base_currency="CAD"))
    amounts = [row["*Amount"] for row in rows(rendered.files["acme-us-xero-journal-001.csv"])]
    assert amounts == ["-100.01", "33.33", "66.68"]


def test_converted_xero_journals_balance_with_an_fx_rounding_line() -> None:
    journals = journals_from_lines(line for line in sample_lines() if line.currency == "CAD")
    rendered = xero_journal.render(journals, load_chart(), ExportOptions(rates=load_rates(RATES)))
    body = rows(rendered.files["acme-us-xero-journal-001.csv"])
    amounts = [Decimal(row["*Amount"]) for row in body]
    # 100.01, 33.33 and 66.68 CAD at 0.695, each rounded half up to the cent: -69.51 + 23.16 + 46.34 = -0.01.
    assert amounts == [Decimal("-69.51"), Decimal("23.16"), Decimal("46.34"), Decimal("0.01")]
    assert sum(amounts) == 0
    assert body[-1]["*AccountCode"] == "498" and "FX rounding" in body[-1]["Description"]


def test_a_rate_dated_after_the_journal_is_not_used() -> None:
    early = [line for line in sample_lines() if line.currency == "CAD"]
    early = [type(line)(**{**line.__dict__, "journal_date": date(2024, 12, 31)}) for line in early]
    with pytest.raises(ExportRefused, match=r"CAD->USD rate dated on or before 2024-12-31"):
        xero_journal.render(journals_from_lines(early), load_chart(), ExportOptions(rates=load_rates(RATES)))


def test_negative_parts_become_bills_and_invoices_add_up_to_the_deposit() -> None:
    rendered = xero_invoice.render(journals_from_lines(sample_lines()), load_chart(), ExportOptions())
    bills = rows(rendered.files["acme-us-xero-bills-001.csv"])
    assert {row["*InvoiceNumber"] for row in bills} == {"stl:acme-us:1003:2025-03"}
    assert sum(Decimal(row["*UnitAmount"]) for row in bills) == Decimal("75.00")
    assert "BrandingTheme" not in bills[0]
    invoices = rows(rendered.files["acme-us-xero-invoices-001.csv"])
    # The split settlement's two part invoices add up to its deposit.
    split = [row for row in invoices if row["Reference"] == "1001"]
    assert sum(Decimal(row["*UnitAmount"]) for row in split) == Decimal("1040.00")
    assert {row["Currency"] for row in invoices if row["Reference"] == "2001"} == {"CAD"}
    assert all(Decimal(row["Total"]) >= 0 for row in invoices if row["Total"])
    assert set(rendered.skipped) == {
        "def:acme-us:ATVPDKIKX0DER:2025-01:delivery_date_policy",
        "rel:acme-us:ATVPDKIKX0DER:2025-02:delivery_date_policy",
    }


def test_a_key_the_chart_does_not_map_is_named() -> None:
    lines = journal(
        stl("acme-us", "9", "2025-01"),
        day=date(2025, 1, 5),
        account_id="acme-us",
        marketplace="Amazon.com",
        settlement_id="9",
        total="1.00",
        lines=[
            ("sales", "amazon_sales", "no_tax", "Principal", "-1.00"),
            ("bank", "bank_amazon_us", "no_tax", "Deposit", "1.00"),
        ],
    )
    lines = [
        type(line)(**{**line.__dict__, "account_key": "amazon_new_thing"}) if line.line_number == 1 else line
        for line in lines
    ]
    with pytest.raises(ChartGap, match=r"'amazon_new_thing'.*profile 'us'"):
        xero_journal.render(journals_from_lines(lines), load_chart(), ExportOptions())


def test_an_unbalanced_journal_is_refused_before_any_file() -> None:
    lines = sample_lines()
    broken = [
        type(line)(**{**line.__dict__, "debit": Decimal("1040.01")})
        if line.category == "bank" and line.source_settlement_id == "1001"
        else line
        for line in lines
    ]
    with pytest.raises(JournalError, match="does not balance"):
        journals_from_lines(broken)


def test_a_final_part_that_only_moves_the_rollover_is_no_invoice() -> None:
    lines = journal(
        stl("acme-us", "7", "2025-02"),
        day=date(2025, 2, 2),
        account_id="acme-us",
        marketplace="Amazon.com",
        settlement_id="7",
        total="20.00",
        part=2,
        lines=[
            (
                "split_month_rollover",
                "amazon_split_month_rollover",
                "no_tax",
                "From January's part",
                "-20.00",
            ),
            ("bank", "bank_amazon_us", "no_tax", "Deposit", "20.00"),
        ],
    )
    rendered = xero_invoice.render(journals_from_lines(lines), load_chart(), ExportOptions())
    assert rendered.files == {}
    assert "rollover" in rendered.skipped["stl:acme-us:7:2025-02"]


def test_qbo_lines_on_receivables_or_payables_name_the_marketplace(tmp_path: Path) -> None:
    from books.formats import qbo_journal

    chart = tmp_path / "chart.toml"
    default = load_chart().source.read_text()
    chart.write_text(
        default.replace(
            '"bank_amazon_*" = "Amazon Clearing:Amazon {SUFFIX}"',
            '"bank_amazon_*" = "Accounts Receivable (A/R)"',
        )
    )
    journals = journals_from_lines(line for line in sample_lines() if line.source_settlement_id == "1002")
    rendered = qbo_journal.render(journals, load_chart(chart), ExportOptions())
    body = rows(rendered.files["acme-us-qbo-journal-USD.csv"])
    assert [(row["Account Name"], row["Name"]) for row in body if row["Name"]] == [
        ("Accounts Receivable (A/R)", "Amazon.com")
    ]
    assert all(len(row["Journal No."]) <= 21 and row["Journal Date"] == "02/17/2025" for row in body)


def test_money_that_is_not_an_exact_decimal_is_refused() -> None:
    lines = [replace(line, debit=float(line.debit)) if line.debit else line for line in sample_lines()]
    with pytest.raises(JournalError, match="exact decimals"):
        journals_from_lines(lines)
