"""After the demo (the clean run every e2e test of the "demo" group shares), `acorn books export` in every format
for every demo seller account writes files the real checkers (bean-check, hledger check, ledger) and the
importers' rules (tests/books/validators.py) accept; each settlement's Xero invoices less its bills add up to its
deposit; and a second export reports nothing changed."""

from __future__ import annotations

import tomllib
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from acorn_process import REPO_ROOT, acorn
from checkers import bean_check, hledger_check, hledger_or_skip, ledger_check
from validators import VALIDATORS

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]

FORMATS = ("beancount", "hledger", "qbo-journal", "xero-invoice", "xero-journal")
SELLERS = [
    account["id"]
    for account in tomllib.loads((REPO_ROOT / "config" / "demo.toml").read_text())["accounts"]
    if account["kind"] == "seller"
]


def _workdir(clean_demo: dict[str, object]) -> Path:
    return Path(str(clean_demo["data_dir"])).parent


@pytest.fixture(scope="session")
def rates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A rate for every demo currency into USD, dated before any simulator date."""
    path = tmp_path_factory.mktemp("rates") / "rates.csv"
    path.write_text(
        "rate_date,currency,reporting_currency,rate\n1970-01-01,CAD,USD,0.7321\n1970-01-01,EUR,USD,1.0875\n"
    )
    return path


# Session-scoped like the demo it reads: once per worker, whatever the order of the group's tests.
@pytest.fixture(scope="session")
def exports(clean_demo: dict[str, object], rates: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One export per format of every account at once (as `acorn books export` without --account writes it),
    each account's files named after it."""
    out = tmp_path_factory.mktemp("books")
    for export_format in FORMATS:
        extra = ["--rates", str(rates), "--base-currency", "USD"] if export_format == "xero-journal" else []
        done = acorn(
            _workdir(clean_demo), "books", "export", "--format", export_format, "--out", str(out / export_format),
            *extra,
        )  # fmt: skip
        assert done.returncode == 0, f"{export_format}: {done.stdout}{done.stderr}"
        assert "journal(s)" in done.stdout
    return out


def _files(exports: Path, export_format: str, account: str) -> list[Path]:
    files = [
        p
        for p in sorted((exports / export_format).iterdir())
        if not p.name.endswith(".json") and (p.stem == account or p.name.startswith(f"{account}-"))
    ]
    assert files, f"{export_format} {account}: no files"
    return files


@pytest.mark.parametrize("account", SELLERS)
def test_beancount_exports_pass_bean_check(exports: Path, account: str) -> None:
    for path in _files(exports, "beancount", account):
        checked = bean_check(path)
        assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("account", SELLERS)
def test_hledger_exports_pass_hledger_check(exports: Path, account: str) -> None:
    hledger_or_skip()
    for path in _files(exports, "hledger", account):
        checked = hledger_check(path)
        assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("account", SELLERS)
def test_hledger_exports_are_read_by_ledger(exports: Path, account: str) -> None:
    for path in _files(exports, "hledger", account):
        checked = ledger_check(path)
        assert checked.returncode == 0 and not checked.stderr, checked.stdout + checked.stderr


@pytest.mark.parametrize("account", SELLERS)
@pytest.mark.parametrize("export_format", sorted(VALIDATORS))
def test_csv_exports_pass_the_importers_rules(exports: Path, export_format: str, account: str) -> None:
    for path in _files(exports, export_format, account):
        VALIDATORS[export_format](path)


@pytest.mark.parametrize("account", SELLERS)
def test_each_settlements_invoices_less_bills_equal_its_deposit(
    exports: Path, clean_demo: dict[str, object], account: str
) -> None:
    net: dict[str, Decimal] = defaultdict(Decimal)
    for path in _files(exports, "xero-invoice", account):
        sign = -1 if "-xero-bills-" in path.name else 1
        for row in VALIDATORS["xero-invoice"](path):
            net[row["Reference"]] += sign * Decimal(row["*UnitAmount"])
    warehouse = Path(str(clean_demo["data_dir"])) / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        totals = dict(
            connection.execute(
                "select distinct source_settlement_id, settlement_total from marts.fct_journal_lines "
                "where account_id = ? and journal_kind = 'settlement'",
                [account],
            ).fetchall()
        )
    assert totals, f"{account} has no settlement journals"
    assert {settlement: net.get(settlement, Decimal(0)) for settlement in totals} == totals


def test_exporting_again_reports_nothing_changed_and_xero_journal_refuses_a_currency_it_cannot_carry(
    exports: Path, clean_demo: dict[str, object]
) -> None:
    workdir = _workdir(clean_demo)
    again = acorn(workdir, "books", "export", "--format", "beancount", "--out", str(exports / "beancount"))
    assert again.returncode == 0 and " 0 new, 0 changed," in again.stdout, again.stdout + again.stderr
    refused = acorn(workdir, "books", "export", "--format", "xero-journal", "--out", str(exports / "refused"))
    assert refused.returncode == 1 and "xero-invoice" in refused.stderr, refused.stdout + refused.stderr
