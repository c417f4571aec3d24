"""Issue 14: no silent misread of money. Thousands separators are read in the style the whole file agrees on;
an amount whose reading is not certain quarantines the file, naming its line and value."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from transforms.settlement import SettlementFileError, head, import_settlement_file, parse_settlement


def amounts(parsed) -> list[Decimal]:
    return parsed.lines.column("amount").to_pylist()


def test_usd_thousands_without_decimals_read_as_thousands(v2, write_file) -> None:
    # The file of the issue: it used to import as 10.00 / 2.50 / 12.50, "reconciled", with a decimal comma.
    parsed = parse_settlement(write_file(v2.render([v2.line("10,000"), v2.line("2,500")], total="12,500")))
    assert parsed.decimal_style == "point"
    assert amounts(parsed) == [Decimal("10000.00"), Decimal("2500.00")]
    assert parsed.total_amount == parsed.lines_total == Decimal("12500.00")


def test_thousands_separators_in_a_decimal_point_file(v2, write_file) -> None:
    lines = [v2.line("10,000"), v2.line("1,234.56"), v2.line("-1,000,000.5"), v2.line("99")]
    parsed = parse_settlement(write_file(v2.render(lines, total="-988,666.94")))
    assert parsed.decimal_style == "point"
    assert amounts(parsed) == [Decimal("10000"), Decimal("1234.56"), Decimal("-1000000.50"), Decimal("99")]
    assert parsed.is_reconciled


def test_thousands_separators_in_a_decimal_comma_file(v2, write_file) -> None:
    lines = [v2.line("1.234,56"), v2.line("10.000"), v2.line("-0,56")]
    parsed = parse_settlement(write_file(v2.render(lines, total="11.234", summary={"currency": "EUR"})))
    assert parsed.decimal_style == "comma"
    assert amounts(parsed) == [Decimal("1234.56"), Decimal("10000"), Decimal("-0.56")]
    assert parsed.total_amount == parsed.lines_total == Decimal("11234")


def test_a_decimal_comma_file_of_round_euros(v2, write_file) -> None:
    # No decimals at all, so only the grouping shows; EUR has 2 decimals, so `2.500` cannot be 2.500 euros.
    lines = [v2.line("10.000"), v2.line("2.500")]
    parsed = parse_settlement(write_file(v2.render(lines, total="12.500", summary={"currency": "EUR"})))
    assert amounts(parsed) == [Decimal("10000"), Decimal("2500")] and parsed.is_reconciled


def test_whole_yen_with_thousands_separators(v2, write_file) -> None:
    lines = [v2.line("12,500", **{"marketplace-name": "Amazon.co.jp"}), v2.line("-1,500"), v2.line("800")]
    parsed = parse_settlement(write_file(v2.render(lines, total="11,800", summary={"currency": "JPY"})))
    assert amounts(parsed) == [Decimal("12500"), Decimal("-1500"), Decimal("800")]
    assert parsed.total_amount == parsed.lines_total == Decimal("11800")


def test_a_total_with_a_separator_and_lines_without(v2, write_file) -> None:
    parsed = parse_settlement(write_file(v2.render([v2.line("10000"), v2.line("2500")], total="12,500")))
    assert parsed.total_amount == parsed.lines_total == Decimal("12500")


def _quarantined(path: Path, data_dir: Path) -> dict:
    outcome = import_settlement_file(path, data_dir=data_dir)
    assert outcome.status == "quarantined", outcome
    [sidecar] = [json.loads(p.read_text()) for p in (data_dir / "quarantine").glob("*.json")]
    assert not list((data_dir / "lake").rglob("*.parquet"))
    return sidecar


def test_ambiguous_amounts_without_a_currency_are_quarantined(v2, write_file, tmp_path: Path) -> None:
    # No currency column: 10,000 could be ten thousand or ten, and the file reconciles either way.
    header = tuple(name for name in v2.header if name != "currency")
    path = write_file(v2.render([v2.line("10,000"), v2.line("2,500")], total="12,500", header=header))
    sidecar = _quarantined(path, tmp_path / "data")
    assert (sidecar["line"], sidecar["column"]) == (3, "amount")
    assert "'10,000' is ambiguous" in sidecar["reason"]
    assert "10000.00" in sidecar["reason"] and "10.00" in sidecar["reason"]
    assert "reconciles either way" in sidecar["reason"]


def test_ambiguous_amounts_in_a_three_decimal_currency_are_quarantined(
    v2, write_file, tmp_path: Path
) -> None:
    path = write_file(v2.render([v2.line("5"), v2.line("1,500")], total="7", summary={"currency": "KWD"}))
    # KWD has 3 decimals, so 1.500 is plausible; 5 + 1500 != 7 and 5 + 1.5 != 7: nothing decides.
    sidecar = _quarantined(path, tmp_path / "data")
    assert (sidecar["line"], sidecar["column"]) == (4, "amount") and "'1,500' is ambiguous" in sidecar[
        "reason"
    ]


def test_an_unknown_currency_is_decided_by_the_total(v2, write_file) -> None:
    header = tuple(name for name in v2.header if name != "currency")
    lines = [v2.line("10,000"), v2.line("5")]
    parsed = parse_settlement(write_file(v2.render(lines, total="10,005", header=header)))
    assert parsed.total_amount == parsed.lines_total == Decimal("10005")  # 10.005 would not reconcile


def test_a_reading_that_does_not_reconcile_while_the_other_does_is_not_certain(
    v2, write_file, tmp_path: Path
) -> None:
    # USD has 2 decimals, so 1,000 reads as a thousand; but then the file does not reconcile
    # (1000 + 0 != 1), while 1.000 (a decimal comma) would: not certain.
    path = write_file(v2.render([v2.line("1,000"), v2.line("0")], total="1"))
    sidecar = _quarantined(path, tmp_path / "data")
    assert sidecar["line"] == 3 and "'1,000' is ambiguous" in sidecar["reason"]
    assert "does not reconcile" in sidecar["reason"]


def test_a_separator_pattern_that_differs_from_the_rest_of_the_file(v2, write_file, tmp_path: Path) -> None:
    lines = [v2.line("1,234.56"), v2.line("1.234,56")]
    path = write_file(v2.render(lines, total="2469.12"))
    sidecar = _quarantined(path, tmp_path / "data")
    assert (sidecar["line"], sidecar["column"]) == (4, "amount")
    assert "'1.234,56'" in sidecar["reason"] and "mix decimal commas and decimal points" in sidecar["reason"]


def test_badly_grouped_thousands_are_named(v2, write_file, tmp_path: Path) -> None:
    path = write_file(v2.render([v2.line("1.50"), v2.line("10,00.00")], total="1001.50"))
    sidecar = _quarantined(path, tmp_path / "data")
    assert sidecar["line"] == 4 and "'10,00.00'" in sidecar["reason"]


def test_evidence_past_the_head_decides_for_ambiguous_amounts_in_the_head(
    v2, write_file, monkeypatch
) -> None:
    # The head holds only 1,000 (ambiguous); a decimal point further on settles the style for the whole file.
    monkeypatch.setattr(head, "HEAD_BYTES", 1024)
    header = tuple(name for name in v2.header if name != "currency")
    lines = [v2.line("1,000") for _ in range(30)] + [v2.line("0.50")]
    parsed = parse_settlement(write_file(v2.render(lines, total="30,000.50", header=header)))
    assert parsed.decimal_style == "point" and parsed.lines_total == Decimal("30000.50")


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_ambiguous_amounts_past_the_head_are_decided_by_the_whole_file(
    v2, write_file, monkeypatch, encoding
) -> None:
    monkeypatch.setattr(head, "HEAD_BYTES", 1024)
    lines = [v2.line("100", sku="Café") for _ in range(30)] + [v2.line("12,500")]
    parsed = parse_settlement(
        write_file(v2.render(lines, total="15500", summary={"currency": "JPY"}), encoding=encoding)
    )
    assert parsed.lines_total == parsed.total_amount == Decimal("15500")

    header = tuple(name for name in v2.header if name != "currency")
    with pytest.raises(SettlementFileError) as raised:
        parse_settlement(write_file(v2.render(lines, total="99", header=header), encoding=encoding))
    assert raised.value.line == 33 and "'12,500' is ambiguous" in raised.value.reason
    assert "reconciles neither way" in raised.value.reason


def test_the_simulator_files_still_read(v2, write_file) -> None:
    # Amazon's own shapes: 2 decimals always (point in NA, comma in EU), whole yen without separators.
    de = [v2.line("1234,50"), v2.line("-0,99")]
    assert parse_settlement(write_file(v2.render(de, total="1233,51"))).decimal_style == "comma"
    jp = [v2.line("12500"), v2.line("-1500")]
    yen = parse_settlement(write_file(v2.render(jp, total="11000", summary={"currency": "JPY"})))
    assert yen.lines_total == yen.total_amount == Decimal("11000")


def test_older_layout_amount_columns_are_weighed_together(write_file, tmp_path: Path) -> None:
    header = [
        "settlement-id",
        "total-amount",
        "currency",
        "transaction-type",
        "price-type",
        "price-amount",
        "item-related-fee-type",
        "item-related-fee-amount",
        "other-amount",
    ]
    rows = [
        ["555", "11,000", "USD", "", "", "", "", "", ""],
        ["555", "", "USD", "Order", "Principal", "12,000", "Commission", "-1,000", ""],
    ]
    text = "\n".join("\t".join(row) for row in [header, *rows]) + "\n"
    parsed = parse_settlement(write_file(text))
    assert amounts(parsed) == [Decimal("12000"), Decimal("-1000")] and parsed.is_reconciled

    rows[0][2] = ""  # no currency: 12,000 - 1,000 = 11,000 and 12.000 - 1.000 = 11.000 both reconcile
    text = "\n".join("\t".join(row) for row in [header, *rows]) + "\n"
    with pytest.raises(SettlementFileError) as raised:
        parse_settlement(write_file(text))
    assert (raised.value.line, raised.value.column) == (3, "price-amount")
