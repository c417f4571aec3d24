"""A settlement file with nothing to import is `empty`, not truncated: a header alone, or a header and a summary
row of total 0 with no transaction lines. The bytes are archived; nothing is quarantined, nothing lands. A file
cut off before its lines are written is still quarantined."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from transforms.archive import RawArchive
from transforms.settlement import EmptySettlementFile, import_settlement_file, parse_settlement
from transforms.settlement.accounts import AccountDirectory, SellerAccount

TWO_ACCOUNTS = AccountDirectory(
    [
        SellerAccount("store-na", "na", ("ATVPDKIKX0DER",)),
        SellerAccount("store-eu", "eu", ("A1PA6795UKMFR9",)),
    ]
)


def assert_empty(path: Path, data_dir: Path) -> str:
    outcome = import_settlement_file(path, data_dir=data_dir, accounts=TWO_ACCOUNTS)
    assert outcome.status == "empty", outcome
    assert outcome.rows == 0
    assert not list((data_dir / "quarantine").glob("*"))
    assert not list((data_dir / "lake").rglob("*.parquet"))
    assert RawArchive(data_dir / "raw").path_for(str(outcome.sha256)).read_bytes() == path.read_bytes()
    again = import_settlement_file(path, data_dir=data_dir, accounts=TWO_ACCOUNTS)
    assert again.status == "empty"
    return outcome.message


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("trailing", ["", "\n", "\n\n  \n"])
def test_header_only_is_empty(v2, write_file, tmp_path: Path, newline: str, trailing: str) -> None:
    path = write_file("\t".join(v2.header) + newline + trailing)
    assert "a header and no rows" in assert_empty(path, tmp_path / "data")
    with pytest.raises(EmptySettlementFile):
        parse_settlement(path)


def test_older_layout_header_only_is_empty(shared_fixtures: Path, write_file, tmp_path: Path) -> None:
    sample = shared_fixtures / "settlement-samples" / "adwweaver_CA_v1_50034020328.txt"
    header = sample.read_bytes().split(b"\n", 1)[0] + b"\n"
    assert_empty(write_file(header), tmp_path / "data")


def test_summary_row_of_zero_and_no_lines_is_empty(v2, write_file, tmp_path: Path) -> None:
    path = write_file(v2.render([], total="0.00", trailing="\n"))
    message = assert_empty(path, tmp_path / "data")
    assert v2.settlement_id in message and "no transaction lines" in message
    outcome = import_settlement_file(path, data_dir=tmp_path / "other")
    assert outcome.settlement_id == v2.settlement_id


def quarantined(data_dir: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((data_dir / "quarantine").glob("*.json"))]


def test_summary_row_with_money_and_no_lines_is_truncated(v2, write_file, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    outcome = import_settlement_file(write_file(v2.render([], total="582.89")), data_dir=data_dir)
    assert outcome.status == "quarantined", outcome
    [sidecar] = quarantined(data_dir)
    assert sidecar["line"] == 3 and "truncated" in sidecar["reason"] and "582.89" in sidecar["reason"]
    assert not list((data_dir / "lake").rglob("*.parquet"))


def test_a_download_cut_inside_the_header_or_summary_is_still_quarantined(
    v2, write_file, tmp_path: Path
) -> None:
    text = v2.render([v2.line("1.00")], total="1.00")
    header_cut = write_file(text[: text.index("\t", 40)])  # inside the header, no newline yet
    summary_cut = write_file(text[: text.index("\n") + 20])  # inside the summary row
    for n, path in enumerate((header_cut, summary_cut)):
        outcome = import_settlement_file(path, data_dir=tmp_path / f"data{n}")
        assert outcome.status == "quarantined", outcome
