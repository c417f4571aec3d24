"""The real settlement samples (tests/fixtures/shared/settlement-samples) import as
documented."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from transforms.settlement import SETTLEMENT_LINES_SCHEMA, import_settlement_file, parse_settlement
from transforms.settlement.lake import read_settlement_lines
from transforms.settlement.schema import POSITIONAL_NUMBERING, POSITIONAL_NUMBERING_KEY

SAMPLES = "settlement-samples"
V2_SAMPLE = "xieyi138_US_v2_synthetic_settlement-sample.txt"


def test_v2_sample_reconciles_to_its_total(shared_fixtures: Path) -> None:
    parsed = parse_settlement(shared_fixtures / SAMPLES / V2_SAMPLE)
    assert parsed.settlement_id == "28471003921"
    assert parsed.layout == "flat_file_v2"
    assert parsed.total_amount == Decimal("582.89")
    assert parsed.lines_total == Decimal("582.89")
    assert parsed.line_count == 23
    assert parsed.lines.schema.equals(SETTLEMENT_LINES_SCHEMA)
    assert parsed.lines.column("line_number").to_pylist() == list(range(1, 24))
    assert parsed.lines.column("source_line").to_pylist() == list(range(3, 26))


def test_v2_sample_lands_in_the_lake(shared_fixtures: Path, tmp_path: Path) -> None:
    outcome = import_settlement_file(
        shared_fixtures / SAMPLES / V2_SAMPLE, data_dir=tmp_path, account_id="acct"
    )
    assert outcome.status == "imported"
    assert outcome.rows == 23
    lines = pq.read_table(tmp_path / "lake/settlement_lines/settlement_id=28471003921/part-0.parquet")
    summary = pq.read_table(
        tmp_path / "lake/settlements/settlement_id=28471003921/part-0.parquet"
    ).to_pylist()
    assert sum(lines.column("amount").to_pylist()) == Decimal("582.89")
    assert set(lines.column("account_id").to_pylist()) == {"acct"}
    assert set(lines.column("raw_sha256").to_pylist()) == {outcome.sha256}
    assert summary[0]["total_amount"] == summary[0]["lines_total"] == Decimal("582.89")
    assert summary[0]["marketplace_name"] == "amazon.com"
    # Stored positionally (no row counter while writing); every reader fills the numbers in from the order.
    part = tmp_path / "lake/settlement_lines/settlement_id=28471003921/part-0.parquet"
    assert set(lines.column("line_number").to_pylist()) == {None}
    assert pq.read_metadata(part).metadata[POSITIONAL_NUMBERING_KEY.encode()] == POSITIONAL_NUMBERING.encode()
    read = read_settlement_lines([part])
    assert read.column("line_number").to_pylist() == list(range(1, 24))
    assert read.column("source_line").to_pylist() == list(range(3, 26))
    assert read.column("amount").to_pylist() == lines.column("amount").to_pylist()


@pytest.mark.parametrize(
    ("name", "settlement_id", "total", "lines"),
    [
        ("adwweaver_CA_v1_50011020300.txt", "23874396421", "-321.69", 3),
        ("adwweaver_CA_v1_50034020328.txt", "24288684721", "1016.08", 153),
        ("adwweaver_CA_v1_50044020356.txt", "24495221541", "4630.23", 575),
    ],
)
def test_real_amazon_ca_files_reconcile(
    shared_fixtures: Path, name: str, settlement_id: str, total: str, lines: int
) -> None:
    parsed = parse_settlement(shared_fixtures / SAMPLES / name)
    assert parsed.layout == "flat_file"
    assert parsed.settlement_id == settlement_id
    assert parsed.total_amount == parsed.lines_total == Decimal(total)
    assert parsed.line_count == lines


def test_a_blank_line_between_rows_keeps_physical_line_numbers(shared_fixtures: Path) -> None:
    # Line 99 of this real file is blank; the row after it is physical line 100.
    parsed = parse_settlement(shared_fixtures / SAMPLES / "adwweaver_CA_v1_50034020328.txt")
    rows = parsed.lines.select(["line_number", "source_line", "amount"]).to_pylist()
    assert [r["source_line"] for r in rows if r["amount"] == Decimal("-54.08")] == [100]
    assert [r["line_number"] for r in rows] == list(range(1, len(rows) + 1))


def test_airbyte_fixture_imports_but_does_not_reconcile(shared_fixtures: Path, tmp_path: Path) -> None:
    outcome = import_settlement_file(
        shared_fixtures / SAMPLES / "airbyte_GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE.csv", data_dir=tmp_path
    )
    assert outcome.status == "imported"
    summary = pq.read_table(
        tmp_path / "lake/settlements/settlement_id=12345678901/part-0.parquet"
    ).to_pylist()[0]
    assert summary["total_amount"] == Decimal("1234.56")
    assert summary["lines_total"] == Decimal("16.77")
    assert "NOT reconciled" in outcome.message
