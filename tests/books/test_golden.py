"""Every format's files for the hand-written journals (journal_kit: split month, reserve and MFT, refund,
negative settlement, CAD, Amazon.de with VAT, JPY, deferred and released money) equal the golden files byte for
byte. The goldens were read line by line when written; regenerate them with ACORN_REGENERATE_GOLDEN=1 after a
deliberate change, and read the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from checkers import bean_check, hledger_check, hledger_or_skip
from validators import VALIDATORS

from books.formats import FORMAT_NAMES

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("export_format", FORMAT_NAMES)
def test_export_equals_golden_files(export_format: str, export, tmp_path: Path) -> None:
    out = tmp_path / "out"
    export(export_format, out)
    golden = GOLDEN / export_format
    written = sorted(path.name for path in out.iterdir())
    if os.environ.get("ACORN_REGENERATE_GOLDEN"):
        golden.mkdir(parents=True, exist_ok=True)
        for stale in golden.iterdir():
            stale.unlink()
        for name in written:
            (golden / name).write_bytes((out / name).read_bytes())
    assert written == sorted(path.name for path in golden.iterdir())
    for name in written:
        assert (out / name).read_bytes() == (golden / name).read_bytes(), f"{export_format}: {name} differs"


@pytest.mark.parametrize("export_format", FORMAT_NAMES)
def test_golden_files_are_what_the_importers_accept(export_format: str) -> None:
    """The goldens themselves pass the checks (the real checkers for the text formats)."""
    files = [path for path in sorted((GOLDEN / export_format).iterdir()) if not path.name.endswith(".json")]
    assert files
    for path in files:
        if export_format == "beancount":
            checked = bean_check(path)
            assert checked.returncode == 0, checked.stdout + checked.stderr
        elif export_format == "hledger":
            hledger_or_skip()
            checked = hledger_check(path)
            assert checked.returncode == 0, checked.stdout + checked.stderr
        else:
            VALIDATORS[export_format](path)


def test_the_readme_shows_a_journal_as_the_export_writes_it() -> None:
    """README's "## Books" shows the split settlement's February part: it is the golden hledger text, verbatim."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme[readme.index("## Books\n") :]
    shown = section[section.index("```text\n") + len("```text\n") :]
    shown = shown[: shown.index("```")]
    assert "settlement 1001 2025-02" in shown
    assert shown in (GOLDEN / "hledger" / "acme-us.journal").read_text()
