"""The beancount export passes the real `bean-check`, the hledger export `hledger check --strict`; and both
checkers catch a file that does not add up (so passing means something)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from beancount import loader
from beancount.core import data
from checkers import bean_check, hledger_check, hledger_or_skip, ledger_check
from journal_kit import sample_lines

from books.journal import journals_from_lines


def test_beancount_export_passes_bean_check_and_a_wrong_balance_fails_it(export, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = export("beancount", out)
    assert len(result.files) == 3
    for name in result.files:
        checked = bean_check(out / name)
        assert checked.returncode == 0, f"{name}: {checked.stdout}{checked.stderr}"
    ledger = out / "acme-us.beancount"
    text = ledger.read_text()
    right = "balance Assets:Bank:Amazon-US  1700.00 ~ 0.00 USD"
    assert right in text
    ledger.write_text(text.replace(right, right.replace("1700.00", "1700.01")))
    failed = bean_check(ledger)
    assert failed.returncode != 0 and "Balance failed" in failed.stdout + failed.stderr


def test_hledger_export_passes_hledger_check_and_a_wrong_assertion_fails_it(export, tmp_path: Path) -> None:
    hledger_or_skip()
    out = tmp_path / "out"
    result = export("hledger", out)
    for name in result.files:
        checked = hledger_check(out / name)
        assert checked.returncode == 0, f"{name}: {checked.stdout}{checked.stderr}"
    ledger = out / "acme-us.journal"
    text = ledger.read_text()
    assert "1040.00 USD = 1040.00 USD" in text
    ledger.write_text(text.replace("1040.00 USD = 1040.00 USD", "1040.00 USD = 1040.01 USD"))
    assert hledger_check(ledger).returncode != 0


def test_ledger_reads_the_hledger_export_and_checks_its_assertions(export, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = export("hledger", out)
    for name in result.files:
        checked = ledger_check(out / name)
        assert checked.returncode == 0 and not checked.stderr, f"{name}: {checked.stdout}{checked.stderr}"
    ledger = out / "acme-us.journal"
    ledger.write_text(ledger.read_text().replace("1040.00 USD = 1040.00 USD", "1040.00 USD = 1040.01 USD"))
    failed = ledger_check(ledger)
    assert failed.returncode != 0 and "Balance assertion" in failed.stderr


def test_beancount_transactions_carry_the_journal_as_metadata(export, tmp_path: Path) -> None:
    """Read back with beancount's own loader: one transaction per journal, the settlement id (settlement journals)
    and journal id as metadata, the postings the journal's lines with their tax rate, amounts exact."""
    out = tmp_path / "out"
    export("beancount", out)
    entries, errors, _ = loader.load_file(str(out / "acme-us.beancount"))
    assert errors == []
    transactions = {
        entry.meta["journal_id"]: entry for entry in entries if isinstance(entry, data.Transaction)
    }
    journals = [journal for journal in journals_from_lines(sample_lines()) if journal.account_id == "acme-us"]
    assert set(transactions) == {journal.journal_id for journal in journals}
    for journal in journals:
        transaction = transactions[journal.journal_id]
        assert transaction.date == journal.date
        assert transaction.meta.get("settlement_id") == journal.settlement_id
        assert [(posting.units.number, posting.units.currency) for posting in transaction.postings] == [
            (line.debit - line.credit, line.currency) for line in journal.lines
        ]
        assert all(isinstance(posting.units.number, Decimal) for posting in transaction.postings)
        assert all(posting.meta["tax"] for posting in transaction.postings)
