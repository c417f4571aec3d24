"""Each failure a settlement import meets: the whole file goes to the quarantine (or is rejected) naming line
and column, and nothing reaches the lake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from transforms.settlement import SettlementFileError, import_settlement_file, parse_settlement


def quarantined(data_dir: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((data_dir / "quarantine").glob("*.json"))]


def lake_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "lake").rglob("*.parquet"))


def assert_quarantined(
    path: Path, data_dir: Path, *, line: int | None, column: str | None, reason: str
) -> dict:
    outcome = import_settlement_file(path, data_dir=data_dir)
    assert outcome.status == "quarantined", outcome
    assert outcome.rows == 0 and outcome.settlement_id is None
    if line is not None:
        assert f"line {line}" in outcome.message
    [sidecar] = quarantined(data_dir)
    assert sidecar["line"] == line
    assert sidecar["column"] == column
    assert reason in sidecar["reason"]
    assert sidecar["sha256"] == outcome.sha256
    assert sidecar["file"] == path.name
    copy = data_dir / "quarantine" / sidecar["quarantined_file"]
    assert copy.read_bytes() == path.read_bytes()
    assert lake_files(data_dir) == []
    return sidecar


def test_wrong_number_of_fields(v2, write_file, tmp_path: Path) -> None:
    text = v2.render([v2.line("1.00"), v2.line("2.00"), v2.line("3.00")], total="6.00")
    rows = text.split("\n")
    rows[3] = rows[3] + "\textra"  # the second line (physical line 4) gets one field too many
    path = write_file("\n".join(rows))
    assert_quarantined(path, tmp_path / "data", line=4, column=None, reason="25 fields, the header has 24")


def test_unparseable_amount(v2, write_file, tmp_path: Path) -> None:
    path = write_file(v2.render([v2.line("1.00"), v2.line("12.5O")], total="13.50"))
    assert_quarantined(path, tmp_path / "data", line=4, column="amount", reason="is not a number")


def test_more_than_two_decimals_is_a_quarantine_reason(v2, write_file, tmp_path: Path) -> None:
    path = write_file(v2.render([v2.line("1.005")], total="1.01"))
    assert_quarantined(path, tmp_path / "data", line=3, column="amount", reason="beyond 2 decimals")


def test_unparseable_date(v2, write_file, tmp_path: Path) -> None:
    lines = [
        v2.line("1.00"),
        v2.line("1.00"),
        v2.line("1.00", **{"posted-date-time": "2026-13-45 08:00:00 UTC"}),
    ]
    path = write_file(v2.render(lines, total="3.00"))
    assert_quarantined(path, tmp_path / "data", line=5, column="posted-date-time", reason="is not")


def test_bad_summary_date(v2, write_file, tmp_path: Path) -> None:
    path = write_file(v2.render([v2.line("1.00")], total="1.00", summary={"deposit-date": "soon"}))
    assert_quarantined(path, tmp_path / "data", line=2, column="deposit-date", reason="timestamp 'soon'")


def test_truncated_file(v2, write_file, tmp_path: Path) -> None:
    text = v2.render([v2.line("1.00"), v2.line("2.00")], total="3.00")
    cut = text[: text.rindex("\tAmazon.com")]  # the download stopped inside the last row
    assert_quarantined(
        write_file(cut), tmp_path / "data", line=4, column=None, reason="ends inside this row (truncated?)"
    )


def test_truncated_inside_the_header(v2, write_file, tmp_path: Path) -> None:
    # A header ending with its newline and nothing after it is `empty` (test_empty.py); one cut off before
    # its newline is a download that stopped.
    path = write_file("\t".join(v2.header))
    assert_quarantined(path, tmp_path / "data", line=2, column=None, reason="no summary row")


def test_missing_required_column(v2, write_file, tmp_path: Path) -> None:
    header = tuple(name for name in v2.header if name != "transaction-type")
    path = write_file(v2.render([v2.line("1.00")], total="1.00", header=header))
    assert_quarantined(path, tmp_path / "data", line=1, column="transaction-type", reason="required column")


def test_mixed_decimal_styles(v2, write_file, tmp_path: Path) -> None:
    path = write_file(v2.render([v2.line("1,00"), v2.line("2.00")], total="3,00"))
    # The summary (line 2) and line 3 use commas: line 4's point is the one that disagrees, and is named.
    assert_quarantined(path, tmp_path / "data", line=4, column="amount", reason="mix decimal commas")


def test_a_line_of_another_settlement(v2, write_file, tmp_path: Path) -> None:
    lines = [v2.line("1.00"), v2.line("2.00", **{"settlement-id": "999"})]
    path = write_file(v2.render(lines, total="3.00"))
    assert_quarantined(path, tmp_path / "data", line=4, column="settlement-id", reason="differs from")


def test_invalid_bytes_for_the_detected_encoding(v2, write_file, tmp_path: Path) -> None:
    # Valid UTF-8 in the head (so UTF-8 is detected), then a lone cp1252 byte far down the file.
    head = v2.render([v2.line("1.00", **{"amount-description": "Gebühr"})] * 3, total="4.00")
    tail = "\t".join(v2.line("1.00", **{"amount-description": "Geb\udcfchr"}).get(n, "") for n in v2.header)
    data = head.encode() + tail.encode("utf-8", "surrogateescape") + b"\n"
    assert_quarantined(write_file(data), tmp_path / "data", line=6, column=None, reason="not valid UTF-8")


def test_xml_report_is_quarantined_as_unsupported(write_file, tmp_path: Path) -> None:
    xml = '<?xml version="1.0"?>\n<AmazonEnvelope><Message><SettlementReport><SettlementData/>'
    sidecar = assert_quarantined(
        write_file(xml + "</SettlementReport></Message></AmazonEnvelope>\n"),
        tmp_path / "data",
        line=1,
        column=None,
        reason="XML layout not supported yet",
    )
    assert sidecar["status"] == "quarantined"


@pytest.mark.parametrize(
    "content",
    [
        "amazon-order-id\tpurchase-date\tsku\n111-1\t2026-01-01\tX\n",  # an orders report
        "settlement-id,total-amount\n1,2.00\n",  # comma-separated, not Amazon's tab-separated file
        "hello, world\n",
    ],
)
def test_not_a_settlement_report_is_rejected(write_file, tmp_path: Path, content: str) -> None:
    data_dir = tmp_path / "data"
    outcome = import_settlement_file(write_file(content), data_dir=data_dir)
    assert outcome.status == "rejected"
    assert "expected a tab-separated Amazon settlement report" in outcome.message
    [sidecar] = quarantined(data_dir)
    assert sidecar["status"] == "rejected"
    assert lake_files(data_dir) == []


@pytest.mark.parametrize("content", [b"", b"\n\n", b"  \r\n\t\n"])
def test_empty_file(write_file, tmp_path: Path, content: bytes) -> None:
    data_dir = tmp_path / "data"
    outcome = import_settlement_file(write_file(content), data_dir=data_dir)
    assert outcome.status == "empty"
    assert outcome.to_json() == {
        "file": outcome.file,
        "status": "empty",
        "settlement_id": None,
        "rows": 0,
        "message": outcome.message,
    }
    assert lake_files(data_dir) == [] and quarantined(data_dir) == []


def test_parse_settlement_raises_with_line_and_column(v2, write_file) -> None:
    path = write_file(v2.render([v2.line("abc")], total="1.00"))
    with pytest.raises(SettlementFileError) as raised:
        parse_settlement(path)
    assert (raised.value.line, raised.value.column, raised.value.kind) == (3, "amount", "malformed")
    assert raised.value.file == path.name


def test_older_layout_failures_name_the_column(write_file, tmp_path: Path, shared_fixtures: Path) -> None:
    real = (shared_fixtures / "settlement-samples/adwweaver_CA_v1_50011020300.txt").read_text()
    broken = real.replace("-32.09", "-32.0x")
    assert_quarantined(
        write_file(broken), tmp_path / "data", line=4, column="other-amount", reason="not a number"
    )


def test_invalid_utf8_beyond_the_head_is_found_when_the_lines_are_read(
    v2, write_file, tmp_path: Path
) -> None:
    # More than the 4 MB head of valid UTF-8 (with non-ASCII), then one cp1252 byte.
    line = v2.line("0.00", **{"amount-description": "Gebühr"})
    count = 35_000
    head = v2.render([line] * count, total="0.00")
    bad = "\t".join(line.get(n, "") for n in v2.header).encode().replace("Gebühr".encode(), b"Geb\xfchr")
    path = write_file(head.encode() + bad + b"\n")
    assert path.stat().st_size > 4 << 20
    assert_quarantined(path, tmp_path / "data", line=count + 3, column=None, reason="not valid UTF-8")
