"""The books over real dbt: settlement files written here (split month, negative, reserve, marketplace facilitator
tax, refund, re-issue, EU decimal comma in cp1252, JPY in cp932, an unknown fee) and the real Amazon.ca and US
files of the fixtures, imported by the real importer, built by real dbt into a temporary DuckDB. One build for
the whole module (plus one after a re-issue): every journal balances and each settlement's bank (or card) line
equals its deposit."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dbt_runner import run_dbt

from orchestration.warehouse.lake_views import register_lake_views
from transforms.settlement import import_settlement_file

# One worker builds the books once for every test here (a module fixture would be built again on each worker
# that gets one of them, and again whenever another module's test runs between two of them).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("books_journals")]

D = Decimal
V2_COLUMNS = (
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount", "currency",
    "transaction-type", "order-id", "merchant-order-id", "adjustment-id", "shipment-id", "marketplace-name",
    "amount-type", "amount-description", "amount", "fulfillment-id", "posted-date", "posted-date-time",
    "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id", "sku", "quantity-purchased",
    "promotion-id",
)  # fmt: skip
# The books' models, the checks' models after them and everything each reads (dbt's `@`), with their data tests;
# only the tests whose every model is built (cautious), not e.g. a relationships test to a mart left out.
BUILD = (
    "build", "--select", "@fct_journal_lines", "@rpt_books_unmapped", "@fct_journal_line_sources",
    "--indirect-selection", "cautious", "--exclude-resource-type", "unit_test",
)  # fmt: skip
REAL = {  # fixture file -> (account, settlement id, total)
    "adwweaver_CA_v1_50011020300.txt": ("acct-ca", "23874396421", "-321.69"),
    "adwweaver_CA_v1_50034020328.txt": ("acct-ca", "24288684721", "1016.08"),
    "adwweaver_CA_v1_50044020356.txt": ("acct-ca", "24495221541", "4630.23"),
    "xieyi138_US_v2_synthetic_settlement-sample.txt": ("acct-us", "28471003921", "582.89"),
}


@dataclass
class File:
    """A V2 settlement file: NA style (ISO dates, decimal point) or EU style (dd.MM.yyyy, decimal comma)."""

    settlement_id: str
    marketplace: str
    currency: str
    start: str  # ISO "yyyy-mm-dd HH:MM:SS" UTC
    end: str
    deposit: str
    eu: bool = False
    encoding: str = "utf-8"

    def __post_init__(self) -> None:
        self.rows: list[dict[str, str]] = []

    def _time(self, iso: str) -> str:
        if not self.eu:
            return f"{iso} UTC"
        day, time = iso.split(" ")
        y, m, d = day.split("-")
        return f"{d}.{m}.{y} {time} UTC"

    def _amount(self, amount: str) -> str:
        return amount.replace(".", ",") if self.eu else amount

    def line(self, kind: str, amount_type: str, description: str, amount: str, at: str, **extra: str) -> None:
        self.rows.append(
            {
                "transaction-type": kind,
                "amount-type": amount_type,
                "amount-description": description,
                "amount": self._amount(amount),
                "posted-date-time": self._time(at),
                "marketplace-name": self.marketplace,
                "fulfillment-id": "AFN",
                "_amount": amount,
                **extra,
            }
        )

    @property
    def total(self) -> Decimal:
        return sum((D(row["_amount"]) for row in self.rows), D(0))

    def write(self, folder: Path, name: str) -> Path:
        summary = {
            "settlement-id": self.settlement_id,
            "settlement-start-date": self._time(self.start),
            "settlement-end-date": self._time(self.end),
            "deposit-date": self._time(self.deposit),
            "total-amount": self._amount(f"{self.total}"),
            "currency": self.currency,
        }
        lines = [list(V2_COLUMNS), [summary.get(c, "") for c in V2_COLUMNS]]
        for row in self.rows:
            lines.append([row.get(c, "") if c != "settlement-id" else self.settlement_id for c in V2_COLUMNS])
        path = folder / name
        path.write_bytes("".join("\t".join(r) + "\r\n" for r in lines).encode(self.encoding))
        return path


def _split_month() -> File:
    """US, 20 Oct - 3 Nov: an order, its refund with the tax Amazon collected and remitted, reserves, and an
    order posted 1 Nov 03:00 UTC, which is 31 October in Los Angeles (Amazon.com's reporting time zone)."""
    f = File(
        "9100000001", "Amazon.com", "USD", "2026-10-20 07:00:00", "2026-11-03 07:00:00", "2026-11-05 07:00:00"
    )
    f.line("Transfer", "other-transaction", "Previous Reserve Amount Balance", "20.00", "2026-10-20 08:00:00")
    order = {"order-id": "111-1", "sku": "SKU-A", "quantity-purchased": "1"}
    for args in (
        ("ItemPrice", "Principal", "100.00"),
        ("ItemPrice", "Tax", "8.00"),
        ("ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", "-8.00"),
        ("ItemFees", "Commission", "-15.00"),
        ("ItemFees", "FBAPerUnitFulfillmentFee", "-5.00"),
    ):
        f.line("Order", *args, "2026-10-25 10:00:00", **order)
    f.line("Order", "ItemPrice", "Principal", "50.00", "2026-11-01 03:00:00", **{"order-id": "111-2"})
    f.line("Order", "ItemFees", "Commission", "-7.50", "2026-11-01 03:00:00", **{"order-id": "111-2"})
    for args in (
        ("ItemPrice", "Principal", "-100.00"),
        ("ItemPrice", "Tax", "-8.00"),
        ("ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", "8.00"),
        ("ItemFees", "Commission", "15.00"),
        ("ItemFees", "RefundCommission", "-3.00"),
    ):
        f.line("Refund", *args, "2026-11-02 18:00:00", **order)
    f.line("Transfer", "other-transaction", "Current Reserve Amount", "-30.00", "2026-11-03 06:59:00")
    return f


def _negative() -> File:
    f = File(
        "9100000002", "Amazon.com", "USD", "2026-11-03 07:00:00", "2026-11-17 07:00:00", "2026-11-19 07:00:00"
    )
    f.line("ServiceFee", "other-transaction", "Subscription Fee", "-39.99", "2026-11-05 12:00:00")
    f.line("ServiceFee", "other-transaction", "Storage Fee", "-12.34", "2026-11-10 12:00:00")
    return f


def _unknown_fee() -> File:
    f = File(
        "9100000004", "Amazon.com", "USD", "2026-11-03 07:00:00", "2026-11-17 07:00:00", "2026-11-19 07:00:00"
    )
    f.line("Order", "ItemPrice", "Principal", "20.00", "2026-11-05 12:00:00", **{"order-id": "111-9"})
    f.line("Order", "ItemFees", "BrandNewMysteryFee", "-0.99", "2026-11-05 12:00:00", **{"order-id": "111-9"})
    return f


def _reissue(version: int) -> File:
    f = File(
        "9100000003", "Amazon.com", "USD", "2026-11-03 07:00:00", "2026-11-17 07:00:00", "2026-11-19 07:00:00"
    )
    f.line("Order", "ItemPrice", "Principal", "10.00", "2026-11-06 12:00:00", **{"order-id": "111-5"})
    f.line("Order", "ItemFees", "Commission", "-1.50", "2026-11-06 12:00:00", **{"order-id": "111-5"})
    if version == 2:
        f.line("ServiceFee", "other-transaction", "Subscription Fee", "-1.00", "2026-11-07 12:00:00")
    return f


def _germany() -> File:
    """Amazon.de in Amazon EU's layout (dd.MM.yyyy, decimal comma, cp1252): an order posted 30 Nov 23:30 UTC is
    1 December in Berlin, so the settlement has a November and a December part."""
    f = File(
        "9200000001", "Amazon.de", "EUR", "2026-11-20 08:00:00", "2026-12-04 08:00:00", "2026-12-06 08:00:00",
        eu=True, encoding="cp1252",
    )  # fmt: skip
    f.line("Order", "ItemPrice", "Principal", "19.99", "2026-11-25 10:00:00", sku="Bürste-1")
    f.line("Order", "ItemFees", "Commission", "-3.00", "2026-11-25 10:00:00", sku="Bürste-1")
    f.line("Order", "ItemPrice", "Principal", "1049.90", "2026-11-30 23:30:00", sku="Bürste-2")
    f.line("Order", "ItemFees", "Commission", "-157.49", "2026-11-30 23:30:00", sku="Bürste-2")
    f.line("Order", "ItemFees", "FBAPerUnitFulfillmentFee", "-4.35", "2026-11-30 23:30:00", sku="Bürste-2")
    return f


def _japan() -> File:
    f = File(
        "9300000001", "Amazon.co.jp", "JPY", "2026-11-01 00:00:00", "2026-11-15 00:00:00", "2026-11-17 00:00:00",
        encoding="cp932",
    )  # fmt: skip
    f.line("Order", "ItemPrice", "Principal", "1980", "2026-11-10 03:00:00", sku="商品-A")
    f.line("Order", "ItemFees", "Commission", "-198", "2026-11-10 03:00:00", sku="商品-A")
    f.line("Order", "ItemFees", "FBAPerUnitFulfillmentFee", "-318", "2026-11-10 03:00:00", sku="商品-A")
    return f


@dataclass
class Books:
    before_reissue: Path
    after_reissue: Path
    sales_tax_not_posted: Path

    def rows(self, sql: str, *, before: bool = False, warehouse: Path | None = None) -> list[tuple]:
        path = warehouse or (self.before_reissue if before else self.after_reissue)
        with duckdb.connect(str(path), read_only=True) as connection:
            return connection.execute(sql).fetchall()


def _build(workdir: Path, data_dir: Path, keep_as: str, *args: str) -> Path:
    """Build (incrementally after the first), then keep a copy of the warehouse as it is now (in a folder of its
    own: the views name the file's catalog, `warehouse`)."""
    register_lake_views(workdir / "warehouse.duckdb", data_dir / "lake")
    run_dbt(workdir, *BUILD, *args)
    (workdir / keep_as).mkdir()
    return Path(shutil.copyfile(workdir / "warehouse.duckdb", workdir / keep_as / "warehouse.duckdb"))


@pytest.fixture(scope="session")
def books(tmp_path_factory: pytest.TempPathFactory, shared_fixtures: Path) -> Iterator[Books]:
    root = tmp_path_factory.mktemp("books")
    data_dir, files = root / "data", root / "files"
    files.mkdir()

    def land(path: Path, account: str) -> None:
        outcome = import_settlement_file(path, data_dir=data_dir, account_id=account)
        assert outcome.status == "imported", outcome.message

    for name, (account, _, _) in REAL.items():
        land(shared_fixtures / "settlement-samples" / name, account)
    for file, account in (
        (_split_month(), "acct-na"),
        (_negative(), "acct-na"),
        (_unknown_fee(), "acct-na"),
        (_reissue(1), "acct-na"),
        (_germany(), "acct-eu"),
        (_japan(), "acct-fe"),
    ):
        land(file.write(files, f"{file.settlement_id}-v1.txt"), account)
    before = _build(root, data_dir, "before-reissue")
    land(_reissue(2).write(files, "9100000003-v2.txt"), "acct-na")
    after = _build(root, data_dir, "after-reissue")
    # The config's `[books] post_us_sales_tax = false`: every settlement is posted again.
    untaxed = _build(root, data_dir, "untaxed", "--vars", '{"books_post_sales_tax": false}')
    yield Books(before, after, untaxed)


def _journal(books: Books, journal_id: str, *, before: bool = False) -> list[tuple]:
    return books.rows(
        "select category, account_key, debit, credit from marts.fct_journal_lines "
        f"where journal_id = '{journal_id}' order by line_number",
        before=before,
    )


def test_every_journal_balances_and_equals_its_deposit(books: Books) -> None:
    unbalanced = books.rows(
        "select journal_id from marts.fct_journal_lines group by 1 having sum(debit) <> sum(credit)"
    )
    assert unbalanced == []
    both = books.rows("select count(*) from marts.fct_journal_lines where debit <> 0 and credit <> 0")
    assert both == [(0,)]
    checks = books.rows(
        "select settlement_id, total_amount, bank_amount, bank_line_equals_total, parts_sum_to_total "
        "from intermediate.int_books_settlement_checks order by 1"
    )
    assert len(checks) == 10
    for settlement_id, total, bank, equal, parts in checks:
        assert equal and parts and bank == total, settlement_id


def test_the_real_amazon_files_give_balanced_journals_equal_to_their_deposits(books: Books) -> None:
    for account, settlement_id, total in REAL.values():
        rows = books.rows(
            "select account_id, category, sum(debit) - sum(credit), count(distinct journal_id) "
            f"from marts.fct_journal_lines where source_settlement_id = '{settlement_id}' "
            "and category in ('bank', 'card') group by all"
        )
        category = "card" if D(total) < 0 else "bank"
        assert rows == [(account, category, D(total), 1)], settlement_id
    # Every amount type and description in the real files maps to a rule.
    assert books.rows(
        "select count(*) from marts.rpt_books_unmapped where account_id in ('acct-ca', 'acct-us')"
    ) == [(0,)]


def test_a_settlement_spanning_two_months_gives_two_parts_balanced_by_the_rollover(books: Books) -> None:
    journals = books.rows(
        "select journal_id, part_number, is_final_part, journal_date, period_month "
        "from marts.fct_journal_lines where source_settlement_id = '9100000001' group by all order by 2"
    )
    assert [(j[0], j[1], j[2], str(j[3])) for j in journals] == [
        ("stl:acct-na:9100000001:2026-10", 1, False, "2026-10-31"),
        ("stl:acct-na:9100000001:2026-11", 2, True, "2026-11-02"),
    ]
    october = _journal(books, "stl:acct-na:9100000001:2026-10")
    # 100 + 50 sales (the 1 Nov 03:00 UTC order is October in Los Angeles), tax in and out, fees, the previous
    # reserve credited back; the part's net 142.50 goes to the rollover.
    assert ("sales", "amazon_sales", D("0.00"), D("150.00")) in october
    assert ("sales_tax", "sales_tax_payable", D("0.00"), D("8.00")) in october
    assert ("marketplace_facilitator_tax", "sales_tax_payable", D("8.00"), D("0.00")) in october
    assert ("seller_fees", "amazon_seller_fees", D("22.50"), D("0.00")) in october
    assert ("reserved_balances", "amazon_reserved_balances", D("0.00"), D("20.00")) in october
    assert october[-1] == ("split_month_rollover", "amazon_split_month_rollover", D("142.50"), D("0.00"))
    november = _journal(books, "stl:acct-na:9100000001:2026-11")
    assert ("refunds", "amazon_refunds", D("100.00"), D("0.00")) in november
    # The refunded commission is credited back to the fees; the refund administration fee is a fee.
    assert ("seller_fees", "amazon_seller_fees", D("0.00"), D("15.00")) in november
    assert ("seller_fees", "amazon_seller_fees", D("3.00"), D("0.00")) in november
    assert ("reserved_balances", "amazon_reserved_balances", D("30.00"), D("0.00")) in november
    assert november[-2:] == [
        ("split_month_rollover", "amazon_split_month_rollover", D("0.00"), D("142.50")),
        ("bank", "bank_amazon_us", D("24.50"), D("0.00")),
    ]
    # US sales tax nets to zero on the liability over the settlement.
    assert books.rows(
        "select sum(credit) - sum(debit) from marts.fct_journal_lines "
        "where source_settlement_id = '9100000001' and account_key = 'sales_tax_payable'"
    ) == [(D("0.00"),)]


def test_a_negative_settlement_credits_the_card_account(books: Books) -> None:
    lines = books.rows(
        "select category, account_key, account_type, debit, credit, is_negative_settlement, settlement_total "
        "from marts.fct_journal_lines where source_settlement_id = '9100000002' order by line_number"
    )
    assert lines[-1] == ("card", "card_amazon_us", "liability", D("0.00"), D("52.33"), True, D("-52.33"))
    assert {line[0] for line in lines} == {"seller_fees", "storage_fees", "card"}


def test_a_reissued_settlement_replaces_its_journal(books: Books) -> None:
    journal = "stl:acct-na:9100000003:2026-11"
    assert _journal(books, journal, before=True)[-1] == ("bank", "bank_amazon_us", D("8.50"), D("0.00"))
    after = _journal(books, journal)
    assert after[-1] == ("bank", "bank_amazon_us", D("7.50"), D("0.00"))
    assert books.rows(
        "select count(distinct journal_id), count(*) filter (where category = 'bank') "
        "from marts.fct_journal_lines where source_settlement_id = '9100000003'"
    ) == [(1, 1)]


def test_eu_decimal_comma_and_berlin_months(books: Books) -> None:
    rows = books.rows(
        "select period_month, marketplace_name, currency, category, account_key, debit, credit "
        "from marts.fct_journal_lines where source_settlement_id = '9200000001' order by journal_id, line_number"
    )
    assert {row[:3] for row in rows} == {("2026-11", "Amazon.de", "EUR"), ("2026-12", "Amazon.de", "EUR")}
    assert ("2026-12", "Amazon.de", "EUR", "sales", "amazon_sales", D("0.00"), D("1049.90")) in rows
    assert rows[-1] == ("2026-12", "Amazon.de", "EUR", "bank", "bank_amazon_de", D("905.05"), D("0.00"))


def test_jpy_settlement_from_cp932(books: Books) -> None:
    rows = books.rows(
        "select marketplace_name, currency, category, account_key, debit, credit from marts.fct_journal_lines "
        "where source_settlement_id = '9300000001' order by line_number"
    )
    assert rows[-1] == ("Amazon.co.jp", "JPY", "bank", "bank_amazon_jp", D("1464.00"), D("0.00"))
    assert ("Amazon.co.jp", "JPY", "sales", "amazon_sales", D("0.00"), D("1980.00")) in rows


def test_an_unknown_fee_is_listed_unmapped_and_held_on_suspense(books: Books) -> None:
    assert books.rows(
        "select account_id, source_settlement_id, source_kind, amount_type, amount_description, line_count, "
        "amount, period_month from marts.rpt_books_unmapped"
    ) == [
        (
            "acct-na",
            "9100000004",
            "settlement_line",
            "ItemFees",
            "BrandNewMysteryFee",
            1,
            D("-0.99"),
            "2026-11",
        )
    ]
    assert ("unmapped", "amazon_suspense", D("0.99"), D("0.00")) in _journal(
        books, "stl:acct-na:9100000004:2026-11"
    )


def test_every_mapped_line_traces_back_to_its_settlement_lines(books: Books) -> None:
    untraced = books.rows(
        """select lines.journal_id, lines.line_number, lines.source_row_count, count(sources.source_key)
           from marts.fct_journal_lines as lines
           left join marts.fct_journal_line_sources as sources
             on lines.journal_id = sources.journal_id and lines.line_number = sources.line_number
           where lines.category not in ('bank', 'card', 'split_month_rollover', 'unreconciled')
           group by all having count(sources.source_key) <> lines.source_row_count"""
    )
    assert untraced == []
    lines_in_lake = books.rows("select count(*) from staging.stg_lake_settlements__settlement_lines")
    assert books.rows("select count(*) from marts.fct_journal_line_sources") == lines_in_lake


def test_the_books_checks_report_what_the_models_found(books: Books) -> None:
    from orchestration.books import checks
    from orchestration.resources import DataDirResource
    from orchestration.verdict import evaluate

    data = DataDirResource(data_dir=str(books.after_reissue.parent))
    results = {next(iter(check.check_keys)).name: evaluate(check, data=data) for check in checks.books_checks}
    assert {name for name, result in results.items() if not result.passed} == {checks.BOOKS_NO_UNMAPPED_LINE}
    unmapped = results[checks.BOOKS_NO_UNMAPPED_LINE]
    assert unmapped.severity.value == "WARN" and unmapped.metadata["unmapped_lines"].value == 1
    banks = results[checks.BOOKS_BANK_LINE_EQUALS_TOTAL].metadata
    assert banks["settlements_equal_to_deposit"].value == 10 and banks["negative_settlements"].value == 2
    assert results[checks.BOOKS_PARTS_SUM_TO_TOTAL].metadata["split_settlements"].value >= 2


def test_the_demo_summary_says_each_account_equals_its_deposits(books: Books) -> None:
    from acorn_cli.summary import books_lines

    lines = books_lines(books.after_reissue)
    assert (
        "  acct-na      5 settlement journals for 4 settlements, every one equals its deposit; "
        "0 deferred/released journals; 1 lines not mapped (marts.rpt_books_unmapped)"
    ) in lines
    assert len(lines) == 5  # acct-ca, acct-eu, acct-fe, acct-na, acct-us


def test_sales_tax_not_posted_nets_collected_and_remitted_away_after_a_rebuild(books: Books) -> None:
    taxed = "select count(*) from marts.fct_journal_lines where account_key = 'sales_tax_payable'"
    assert books.rows(taxed)[0][0] >= 4
    assert books.rows(taxed, warehouse=books.sales_tax_not_posted) == [(0,)]
    banks = (
        "select journal_id, debit - credit from marts.fct_journal_lines where category in ('bank', 'card') "
        "order by journal_id"
    )
    assert books.rows(banks, warehouse=books.sales_tax_not_posted) == books.rows(banks)
    unbalanced = "select journal_id from marts.fct_journal_lines group by 1 having sum(debit) <> sum(credit)"
    assert books.rows(unbalanced, warehouse=books.sales_tax_not_posted) == []


def test_the_kept_posting_versions_are_exactly_the_postings(books: Books) -> None:
    """The books find the settlements to post again from the versions kept beside the posted lines
    (macros/changed_settlements.sql): after the first build, a re-issue and a change of what posting reads
    (every settlement posted again), they are exactly the posted lines' own."""
    columns = "settlement_id, raw_sha256, account_id, posting_fingerprint"
    kept = (
        f"select {columns} from main.acorn_settlement_versions "
        "where model = 'int_books_settlement_lines_posted' order by all"
    )
    held = f"select distinct {columns} from intermediate.int_books_settlement_lines_posted order by all"
    for warehouse in (books.before_reissue, books.after_reissue, books.sales_tax_not_posted):
        assert books.rows(kept, warehouse=warehouse) == books.rows(held, warehouse=warehouse) != []
    fingerprints = "select distinct posting_fingerprint from main.acorn_settlement_versions where model = ?"
    untaxed = books.rows(
        fingerprints.replace("?", "'int_books_settlement_lines_posted'"), warehouse=books.sales_tax_not_posted
    )
    assert len(untaxed) == 1 and untaxed != books.rows(
        fingerprints.replace("?", "'int_books_settlement_lines_posted'")
    )
