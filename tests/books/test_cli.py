"""`acorn books export`: exit codes and messages that tell the truth (no warehouse yet, unmapped lines, a currency
Xero journals cannot carry, an unknown account), and a report of what changed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result
from journal_kit import sample_lines, write_warehouse

from acorn_cli.main import cli

RATES = Path(__file__).parent / "fixtures" / "rates.csv"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ACORN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.delenv("ACORN_BOOKS_CHART", raising=False)
    (tmp_path / "data").mkdir()
    return tmp_path / "data"


def books_export(*args: str) -> Result:
    return CliRunner().invoke(cli, ["books", "export", *args], catch_exceptions=False)


def test_without_a_warehouse_it_says_to_build_first(data_dir: Path, tmp_path: Path) -> None:
    result = books_export("--format", "beancount", "--out", str(tmp_path / "out"))
    assert result.exit_code == 3
    assert "run `acorn build` first" in result.output
    duckdb.connect(str(data_dir / "warehouse.duckdb")).close()  # a warehouse from before the books models
    result = books_export("--format", "beancount", "--out", str(tmp_path / "out"))
    assert result.exit_code == 3
    assert "no fct_journal_lines" in result.output and "acorn build" in result.output
    assert not (tmp_path / "out").exists()
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as connection:  # an older contract
        connection.execute("create schema marts")
        connection.execute("create table marts.fct_journal_lines (journal_id varchar, debit decimal(18,2))")
        connection.execute("create table marts.rpt_books_unmapped (account_id varchar)")
    result = books_export("--format", "beancount", "--out", str(tmp_path / "out"))
    assert result.exit_code == 3
    assert "lacks the columns journal_kind, journal_date" in result.output and "acorn build" in result.output


def test_unmapped_lines_refuse_the_export_listing_keys_and_amounts(data_dir: Path, tmp_path: Path) -> None:
    unmapped = [
        (
            "acme-us",
            "1002",
            "Amazon.com",
            "USD",
            "settlement_line",
            "Order",
            "ItemFees",
            "NewSurcharge",
            3,
            Decimal("-4.50"),
        ),
    ]
    write_warehouse(data_dir / "warehouse.duckdb", sample_lines(), unmapped)
    result = books_export("--format", "xero-invoice", "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "Order / ItemFees / NewSurcharge: 3 line(s), -4.50 USD" in result.output
    assert "settlement 1002" in result.output
    assert not (tmp_path / "out").exists()
    # Another account's export is not held up by it; nor is a month the settlement has no journal in.
    assert (
        books_export(
            "--format", "xero-invoice", "--out", str(tmp_path / "eu"), "--account", "acme-eu"
        ).exit_code
        == 0
    )
    assert (
        books_export("--format", "beancount", "--out", str(tmp_path / "jan"), "--month", "2025-01").exit_code
        == 0
    )


def test_usage_errors(data_dir: Path, tmp_path: Path) -> None:
    write_warehouse(data_dir / "warehouse.duckdb", sample_lines())
    result = books_export("--format", "beancount", "--out", str(tmp_path / "o"), "--account", "nobody")
    assert result.exit_code == 2 and "acme-eu, acme-jp, acme-us" in result.output
    result = books_export("--format", "beancount", "--out", str(tmp_path / "o"), "--month", "2025-13")
    assert result.exit_code == 2 and "YYYY-MM" in result.output
    assert books_export("--format", "gnucash", "--out", str(tmp_path / "o")).exit_code == 2


def test_xero_journal_names_the_fix_for_another_currency_and_converts_with_rates(
    data_dir: Path, tmp_path: Path
) -> None:
    write_warehouse(data_dir / "warehouse.duckdb", sample_lines())
    out = tmp_path / "out"
    refused = books_export("--format", "xero-journal", "--out", str(out), "--account", "acme-eu")
    assert refused.exit_code == 1
    assert "1 journal(s) of acme-eu in EUR, not its Xero base currency GBP" in refused.output
    assert "xero-invoice" in refused.output
    assert (
        books_export(
            "--format", "xero-journal", "--out", str(out), "--account", "acme-eu", "--base-currency", "eur"
        ).exit_code
        == 0
    )
    converted = books_export(
        "--format", "xero-journal", "--out", str(tmp_path / "gbp"), "--rates", str(RATES)
    )
    assert converted.exit_code == 0, converted.output
    missing = books_export(
        "--format", "xero-journal", "--out", str(out), "--rates", str(tmp_path / "none.csv")
    )
    assert missing.exit_code == 3 and "cannot read the rate file" in missing.output


def test_the_output_lists_files_and_what_changed(data_dir: Path, tmp_path: Path) -> None:
    lines = sample_lines()
    write_warehouse(data_dir / "warehouse.duckdb", lines)
    out = tmp_path / "out"
    first = books_export("--format", "hledger", "--out", str(out))
    assert first.exit_code == 0
    assert "hledger: 10 journal(s) in 3 file(s)" in first.output and "acme-us.journal" in first.output
    assert "every journal is new" in first.output
    # Amazon re-issues settlement 4001 with a day later deposit.
    write_warehouse(
        data_dir / "warehouse.duckdb",
        [
            line
            if line.source_settlement_id != "4001"
            else type(line)(**{**line.__dict__, "journal_date": date(2025, 1, 21)})
            for line in lines
        ],
    )
    second = books_export("--format", "hledger", "--out", str(out))
    assert second.exit_code == 0
    assert "0 new, 1 changed, 9 unchanged, 0 no longer exported" in second.output
    assert "stl:acme-jp:4001:2025-01  acme-jp.journal" in second.output


def test_a_warehouse_held_read_write_by_another_program_is_named(data_dir: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    warehouse = write_warehouse(data_dir / "warehouse.duckdb", sample_lines())
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(warehouse)!r}); print('held', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = books_export("--format", "beancount", "--out", str(tmp_path / "out"))
    finally:
        holder.communicate("", timeout=30)
    assert result.exit_code == 3
    assert "open read-write" in result.output and "duckdb -readonly" in result.output
