"""Journal lines written by hand per books-contract.md, and a warehouse file holding them as the published one
does (the contract's columns and types), for the export tests.

The settlements: a split month (rollover), a reserve with marketplace facilitator tax, a refund, a negative
settlement, a failed disbursement, a Canadian settlement (another currency), an Amazon.de one (VAT; its source
amounts had decimal commas), a JPY one (no decimals), and deferred/released money.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb

from books.journal import COLUMNS, JournalLine

D = Decimal
TYPES = {
    "journal_id": "varchar",
    "journal_kind": "varchar",
    "journal_date": "date",
    "period_month": "varchar",
    "part_number": "integer",
    "is_final_part": "boolean",
    "account_id": "varchar",
    "marketplace_id": "varchar",
    "marketplace_name": "varchar",
    "currency": "varchar",
    "line_number": "integer",
    "category": "varchar",
    "account_key": "varchar",
    "account_code": "varchar",
    "account_type": "varchar",
    "tax_key": "varchar",
    "description": "varchar",
    "debit": "decimal(18,2)",
    "credit": "decimal(18,2)",
    "source_settlement_id": "varchar",
    "settlement_total": "decimal(18,2)",
    "deposit_date": "date",
    "is_negative_settlement": "boolean",
    "rule_version": "varchar",
    "source_row_count": "integer",
}
UNMAPPED_TYPES = {
    "account_id": "varchar",
    "source_settlement_id": "varchar",
    "marketplace_name": "varchar",
    "currency": "varchar",
    "source_kind": "varchar",
    "transaction_type": "varchar",
    "amount_type": "varchar",
    "amount_description": "varchar",
    "line_count": "integer",
    "amount": "decimal(18,2)",
}
MARKETPLACES = {
    "Amazon.com": ("ATVPDKIKX0DER", "USD", "us"),
    "Amazon.ca": ("A2EUQ1WTGCTBG2", "CAD", "ca"),
    "Amazon.de": ("A1PA6795UKMFR9", "EUR", "de"),
    "Amazon.co.jp": ("A1VC38T7YXB528", "JPY", "jp"),
}
ACCOUNT_TYPES = {
    "amazon_sales": "income",
    "amazon_refunds": "income",
    "amazon_seller_fees": "expense",
    "amazon_fba_fees": "expense",
    "amazon_storage_fees": "expense",
    "amazon_advertising": "expense",
    "sales_tax_payable": "liability",
    "amazon_reserved_balances": "asset",
    "amazon_split_month_rollover": "asset",
    "amazon_deferred_balances": "asset",
}


def _type(key: str) -> str:
    if key.startswith("bank_"):
        return "asset"
    if key.startswith("card_"):
        return "liability"
    return ACCOUNT_TYPES[key]


def journal(
    journal_id: str,
    *,
    kind: str = "settlement",
    day: date,
    account_id: str,
    marketplace: str,
    lines: list[tuple[str, str, str, str, str]],
    part: int = 1,
    final: bool = True,
    settlement_id: str | None = None,
    total: str | None = None,
    deposit: date | None = None,
    rule_version: str = "2026.1",
) -> list[JournalLine]:
    """Lines (category, account_key, tax_key, description, signed amount: + debit, - credit) as contract rows."""
    marketplace_id, currency, _ = MARKETPLACES[marketplace]
    rows = []
    for number, (category, key, tax, text, amount) in enumerate(lines, start=1):
        value = D(amount)
        rows.append(
            JournalLine(
                journal_id=journal_id,
                journal_kind=kind,
                journal_date=day,
                period_month=day.strftime("%Y-%m"),
                part_number=part,
                is_final_part=final,
                account_id=account_id,
                marketplace_id=marketplace_id,
                marketplace_name=marketplace,
                currency=currency,
                line_number=number,
                category=category,
                account_key=key,
                account_code=key.upper()[:10],
                account_type=_type(key),
                tax_key=tax,
                description=text,
                debit=value if value > 0 else D("0.00"),
                credit=-value if value < 0 else D("0.00"),
                source_settlement_id=settlement_id,
                settlement_total=D(total) if total is not None else None,
                deposit_date=deposit,
                is_negative_settlement=total is not None and D(total) < 0,
                rule_version=rule_version,
                source_row_count=number + 1,
            )
        )
    return rows


def stl(account: str, settlement: str, month: str) -> str:
    return f"stl:{account}:{settlement}:{month}"


def sample_lines() -> list[JournalLine]:
    us, eu, jp = "acme-us", "acme-eu", "acme-jp"
    lines: list[JournalLine] = []
    # A settlement over two months: January's part carries its net to the rollover, February's part takes it back
    # and pays the whole total (1040.00) to the bank.
    common = {"account_id": us, "marketplace": "Amazon.com", "settlement_id": "1001", "total": "1040.00"}
    lines += journal(
        stl(us, "1001", "2025-01"),
        day=date(2025, 1, 31),
        part=1,
        final=False,
        deposit=date(2025, 2, 3),
        lines=[
            ("sales", "amazon_sales", "no_tax", "Principal", "-1000.00"),
            ("seller_fees", "amazon_seller_fees", "no_tax", "Commission", "150.00"),
            ("fba_fees", "amazon_fba_fees", "no_tax", "FBA fulfilment fees", "200.00"),
            ("split_month_rollover", "amazon_split_month_rollover", "no_tax", "To February's part", "650.00"),
        ],
        **common,
    )
    lines += journal(
        stl(us, "1001", "2025-02"),
        day=date(2025, 2, 3),
        part=2,
        deposit=date(2025, 2, 3),
        lines=[
            ("sales", "amazon_sales", "no_tax", "Principal", "-500.00"),
            ("seller_fees", "amazon_seller_fees", "no_tax", "Commission", "75.00"),
            ("refunds", "amazon_refunds", "no_tax", "Refunded principal", "40.00"),
            ("seller_fees", "amazon_seller_fees", "no_tax", "Refunded commission", "-5.00"),
            (
                "split_month_rollover",
                "amazon_split_month_rollover",
                "no_tax",
                "From January's part",
                "-650.00",
            ),
            ("bank", "bank_amazon_us", "no_tax", "Deposit", "1040.00"),
        ],
        **common,
    )
    # Sales tax collected and remitted by Amazon (MFT) net to zero; a reserve held back, last one released.
    lines += journal(
        stl(us, "1002", "2025-02"),
        day=date(2025, 2, 17),
        account_id=us,
        marketplace="Amazon.com",
        settlement_id="1002",
        total="660.00",
        deposit=date(2025, 2, 17),
        lines=[
            ("sales", "amazon_sales", "no_tax", "Principal", "-800.00"),
            ("sales_tax", "sales_tax_payable", "sales_tax_collected", "Tax collected", "-64.00"),
            (
                "marketplace_facilitator_tax",
                "sales_tax_payable",
                "sales_tax_collected",
                "MFT remitted",
                "64.00",
            ),
            ("seller_fees", "amazon_seller_fees", "no_tax", "Commission", "120.00"),
            ("reserved_balances", "amazon_reserved_balances", "no_tax", "Current reserve amount", "100.00"),
            (
                "reserved_balances",
                "amazon_reserved_balances",
                "no_tax",
                "Previous reserve amount balance",
                "-80.00",
            ),
            ("bank", "bank_amazon_us", "no_tax", "Deposit", "660.00"),
        ],
    )
    # A negative settlement: fees exceed sales, Amazon charges the card.
    lines += journal(
        stl(us, "1003", "2025-03"),
        day=date(2025, 3, 3),
        account_id=us,
        marketplace="Amazon.com",
        settlement_id="1003",
        total="-75.00",
        deposit=date(2025, 3, 3),
        lines=[
            ("storage_fees", "amazon_storage_fees", "no_tax", "FBA storage fee", "45.00"),
            ("advertising", "amazon_advertising", "no_tax", "Sponsored Products", "30.00"),
            ("card", "card_amazon_us", "no_tax", "Charged to card", "-75.00"),
        ],
    )
    # A failed disbursement returned to the Amazon balance: it posts to the bank account too (so the bank's
    # running balance counts it), and the deposit is that much larger.
    lines += journal(
        stl(us, "1004", "2025-03"),
        day=date(2025, 3, 17),
        account_id=us,
        marketplace="Amazon.com",
        settlement_id="1004",
        total="250.00",
        deposit=date(2025, 3, 17),
        lines=[
            ("sales", "amazon_sales", "no_tax", "Principal", "-200.00"),
            ("bank_transfers", "bank_amazon_us", "no_tax", "Failed disbursement returned", "-50.00"),
            ("bank", "bank_amazon_us", "no_tax", "Deposit", "250.00"),
        ],
    )
    # Canada, in CAD.
    lines += journal(
        stl(us, "2001", "2025-02"),
        day=date(2025, 2, 20),
        account_id=us,
        marketplace="Amazon.ca",
        settlement_id="2001",
        total="66.68",
        deposit=date(2025, 2, 20),
        lines=[
            ("sales", "amazon_sales", "no_tax", "Principal", "-100.01"),
            ("seller_fees", "amazon_seller_fees", "no_tax", "Commission", "33.33"),
            ("bank", "bank_amazon_ca", "no_tax", "Deposit", "66.68"),
        ],
    )
    # Deferred in January, released in February.
    lines += journal(
        "def:acme-us:ATVPDKIKX0DER:2025-01:delivery_date_policy",
        kind="deferred",
        day=date(2025, 1, 31),
        account_id=us,
        marketplace="Amazon.com",
        lines=[
            (
                "deferred_balances",
                "amazon_deferred_balances",
                "no_tax",
                "Deferred: delivery date policy",
                "300.00",
            ),
            ("sales", "amazon_sales", "no_tax", "Principal deferred", "-300.00"),
        ],
    )
    lines += journal(
        "rel:acme-us:ATVPDKIKX0DER:2025-02:delivery_date_policy",
        kind="released",
        day=date(2025, 2, 28),
        account_id=us,
        marketplace="Amazon.com",
        lines=[
            ("sales", "amazon_sales", "no_tax", "Principal released", "300.00"),
            (
                "deferred_balances",
                "amazon_deferred_balances",
                "no_tax",
                "Released: delivery date policy",
                "-300.00",
            ),
        ],
    )
    # Amazon.de: VAT on sales and on Amazon's fees (the source file wrote 1.234,56 and 210,99).
    lines += journal(
        stl(eu, "3001", "2025-01"),
        day=date(2025, 1, 16),
        account_id=eu,
        marketplace="Amazon.de",
        settlement_id="3001",
        total="1023.57",
        deposit=date(2025, 1, 16),
        lines=[
            ("sales", "amazon_sales", "output_tax", "Principal", "-1234.56"),
            ("seller_fees", "amazon_seller_fees", "input_tax", 'Verkaufsgebühr "Commission"', "210.99"),
            ("bank", "bank_amazon_de", "no_tax", "Deposit", "1023.57"),
        ],
    )
    # Japan: yen have no decimals.
    lines += journal(
        stl(jp, "4001", "2025-01"),
        day=date(2025, 1, 20),
        account_id=jp,
        marketplace="Amazon.co.jp",
        settlement_id="4001",
        total="12700.00",
        deposit=date(2025, 1, 20),
        lines=[
            ("sales", "amazon_sales", "no_tax", "Principal", "-15000.00"),
            ("seller_fees", "amazon_seller_fees", "no_tax", "Commission", "2300.00"),
            ("bank", "bank_amazon_jp", "no_tax", "Deposit", "12700.00"),
        ],
    )
    return lines


def reissued(lines: list[JournalLine]) -> list[JournalLine]:
    """Settlement 1002 re-issued by Amazon: the commission was 10.00 less, so 10.00 more was paid."""
    out = []
    for line in lines:
        if line.source_settlement_id == "1002":
            line = replace(line, settlement_total=D("670.00"))
            if line.description == "Commission":
                line = replace(line, debit=D("110.00"))
            if line.category == "bank":
                line = replace(line, debit=D("670.00"))
        out.append(line)
    return out


def write_warehouse(path: Path, lines: list[JournalLine], unmapped: list[tuple[object, ...]] = ()) -> Path:
    """A warehouse file with the two books models in main_marts, as `acorn build` publishes them."""
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema main_marts")
        columns = ", ".join(f"{name} {TYPES[name]}" for name in COLUMNS)
        connection.execute(f"create table main_marts.fct_journal_lines ({columns})")
        connection.executemany(
            f"insert into main_marts.fct_journal_lines values ({', '.join('?' * len(COLUMNS))})",
            [[getattr(line, name) for name in COLUMNS] for line in lines],
        )
        columns = ", ".join(f"{name} {kind}" for name, kind in UNMAPPED_TYPES.items())
        connection.execute(f"create table main_marts.rpt_books_unmapped ({columns})")
        if unmapped:
            connection.executemany(
                f"insert into main_marts.rpt_books_unmapped values ({', '.join('?' * len(UNMAPPED_TYPES))})",
                [list(row) for row in unmapped],
            )
    return path
