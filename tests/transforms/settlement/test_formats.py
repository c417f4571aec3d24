"""Each format quirk of real settlement files, on a small file written here: parsed to the cent, right values."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from transforms.settlement import parse_settlement


def amounts(parsed) -> list[Decimal]:
    return parsed.lines.column("amount").to_pylist()


def test_crlf_line_endings(v2, write_file) -> None:
    text = v2.render([v2.line("10.00"), v2.line("-2.50")], total="7.50", newline="\r\n")
    parsed = parse_settlement(write_file(text))
    assert amounts(parsed) == [Decimal("10.00"), Decimal("-2.50")]
    assert parsed.is_reconciled
    assert parsed.lines.column("sku").to_pylist() == ["SKU-1", "SKU-1"]  # no stray \r on the last column


def test_utf8_with_bom(v2, write_file) -> None:
    text = v2.render([v2.line("10.00", **{"amount-description": "Rückerstattung"})], total="10.00")
    parsed = parse_settlement(write_file(b"\xef\xbb\xbf" + text.encode("utf-8")))
    assert parsed.encoding == "utf-8-sig"
    assert parsed.header_columns[0] == "settlement-id"
    assert parsed.lines.column("amount_description").to_pylist() == ["Rückerstattung"]


def test_utf8_without_bom_with_non_ascii(v2, write_file) -> None:
    text = v2.render([v2.line("1.00", **{"amount-description": "Gebühr €"})], total="1.00")
    parsed = parse_settlement(write_file(text))
    assert parsed.encoding == "utf-8"
    assert parsed.lines.column("amount_description").to_pylist() == ["Gebühr €"]


def test_cp1252_detected_without_a_hint(v2, write_file) -> None:
    lines = [v2.line("5.00", **{"amount-description": "Rücksendegebühr", "sku": "STRAßE-Ä"})]
    parsed = parse_settlement(write_file(v2.render(lines, total="5.00"), encoding="cp1252"))
    assert parsed.encoding == "cp1252"
    assert parsed.lines.column("amount_description").to_pylist() == ["Rücksendegebühr"]
    assert parsed.lines.column("sku").to_pylist() == ["STRAßE-Ä"]


def test_iso_8859_1_hint_is_used_when_the_bytes_agree(v2, write_file) -> None:
    lines = [v2.line("5.00", **{"amount-description": "Frais d'expédition"})]
    path = write_file(v2.render(lines, total="5.00"), encoding="latin-1")
    parsed = parse_settlement(path, charset_hint="ISO-8859-1")
    assert parsed.encoding == "cp1252"
    assert parsed.lines.column("amount_description").to_pylist() == ["Frais d'expédition"]


def test_shift_jis_detected_and_decoded(v2, write_file) -> None:
    lines = [
        v2.line("1500", **{"amount-description": "手数料", "marketplace-name": "Amazon.co.jp"}),
        v2.line("-300", **{"amount-description": "配送料の返金", "marketplace-name": "Amazon.co.jp"}),
    ]
    text = v2.render(lines, total="1200", summary={"currency": "JPY"})
    parsed = parse_settlement(write_file(text, encoding="cp932"))
    assert parsed.encoding == "cp932"
    assert parsed.lines.column("amount_description").to_pylist() == ["手数料", "配送料の返金"]
    assert amounts(parsed) == [Decimal("1500"), Decimal("-300")]  # whole yen fit decimal(18,2)
    assert parsed.total_amount == parsed.lines_total == Decimal("1200")


def test_a_wrong_hint_is_not_believed(v2, write_file) -> None:
    lines = [v2.line("1.00", **{"amount-description": "Gebühr"})]
    parsed = parse_settlement(write_file(v2.render(lines, total="1.00")), charset_hint="Shift_JIS")
    assert parsed.encoding == "utf-8"
    assert parsed.lines.column("amount_description").to_pylist() == ["Gebühr"]


def test_eu_decimal_comma_and_dotted_dates(v2, write_file) -> None:
    lines = [
        v2.line("95,00", **{"posted-date": "17.06.2026", "posted-date-time": "17.06.2026 08:14:22 UTC"}),
        v2.line("-14,25", **{"posted-date": "18.06.2026", "posted-date-time": "18.06.2026 23:00:00 UTC"}),
    ]
    summary = {
        "settlement-start-date": "14.03.2026 07:49:55 UTC",
        "settlement-end-date": "28.03.2026 07:49:55 UTC",
        "deposit-date": "30.03.2026 07:49:55 UTC",
        "currency": "EUR",
    }
    parsed = parse_settlement(write_file(v2.render(lines, total="80,75", summary=summary)))
    assert parsed.decimal_style == "comma"
    assert amounts(parsed) == [Decimal("95.00"), Decimal("-14.25")]
    assert parsed.total_amount == Decimal("80.75") and parsed.is_reconciled
    assert parsed.lines.column("posted_date").to_pylist() == [date(2026, 6, 17), date(2026, 6, 18)]
    assert parsed.lines.column("posted_at").to_pylist()[1] == datetime(2026, 6, 18, 23, 0, tzinfo=UTC)
    summary_row = parsed.settlement.to_pylist()[0]
    assert summary_row["period_start_at"] == datetime(2026, 3, 14, 7, 49, 55, tzinfo=UTC)
    assert summary_row["decimal_style"] == "comma"


def test_iso_8601_with_offsets_is_stored_in_utc(v2, write_file) -> None:
    lines = [v2.line("1.00", **{"posted-date": "2026-06-17T22:30:00-07:00", "posted-date-time": ""})]
    summary = {
        "settlement-start-date": "2026-06-05T22:07:18+00:00",
        "deposit-date": "2026-06-20T01:00:00+02:00",
    }
    parsed = parse_settlement(write_file(v2.render(lines, total="1.00", summary=summary)))
    line = parsed.lines.to_pylist()[0]
    assert line["posted_at"] == datetime(2026, 6, 18, 5, 30, tzinfo=UTC)
    assert line["posted_date"] == date(2026, 6, 17)  # the date as Amazon wrote it
    assert parsed.settlement.to_pylist()[0]["deposit_at"] == datetime(2026, 6, 19, 23, 0, tzinfo=UTC)


def test_us_short_posted_date(v2, write_file) -> None:
    lines = [v2.line("1.00", **{"posted-date": "06/17/26", "posted-date-time": ""})]
    parsed = parse_settlement(write_file(v2.render(lines, total="1.00")))
    line = parsed.lines.to_pylist()[0]
    assert line["posted_date"] == date(2026, 6, 17)
    assert line["posted_at"] is None


def test_padded_amounts_and_trailing_blank_lines(v2, write_file) -> None:
    lines = [v2.line("  32.09    "), v2.line("-0.09 ")]
    parsed = parse_settlement(write_file(v2.render(lines, total=" 32.00 ", trailing="\n\n\n")))
    assert amounts(parsed) == [Decimal("32.09"), Decimal("-0.09")]
    assert parsed.total_amount == Decimal("32.00") and parsed.is_reconciled


def test_crlf_with_trailing_blank_lines(v2, write_file) -> None:
    text = v2.render([v2.line("1.00")], total="1.00", newline="\r\n", trailing="\r\n\r\n")
    parsed = parse_settlement(write_file(text))
    assert parsed.lines.column("source_line").to_pylist() == [3]


def test_blank_line_between_rows_keeps_physical_line_numbers(v2, write_file) -> None:
    text = v2.render([v2.line("1.00"), v2.line("2.00")], total="3.00")
    head, last = text.rstrip("\n").rsplit("\n", 1)
    parsed = parse_settlement(write_file(head + "\n\n" + last + "\n"))
    assert parsed.lines.column("source_line").to_pylist() == [3, 5]
    assert parsed.lines.column("line_number").to_pylist() == [1, 2]


def test_columns_are_matched_by_name_not_position(v2, write_file) -> None:
    shuffled = tuple(reversed(v2.header))
    lines = [v2.line("4.20", sku="SKU-X", **{"order-id": "111-2"})]
    parsed = parse_settlement(write_file(v2.render(lines, total="4.20", header=shuffled)))
    line = parsed.lines.to_pylist()[0]
    assert (line["amount"], line["sku"], line["order_id"]) == (Decimal("4.20"), "SKU-X", "111-2")
    assert parsed.header_columns == shuffled


def test_unknown_columns_are_kept_as_json(v2, write_file) -> None:
    header = (*v2.header, "new-amazon-column")
    lines = [v2.line("1.00", **{"new-amazon-column": "abc"}), v2.line("2.00")]
    parsed = parse_settlement(write_file(v2.render(lines, total="3.00", header=header)))
    extras = parsed.lines.column("extra_columns").to_pylist()
    assert json.loads(extras[0]) == {"new-amazon-column": "abc"}
    assert json.loads(extras[1]) == {"new-amazon-column": None}


def test_no_unknown_columns_means_null_extra_columns(v2, write_file) -> None:
    parsed = parse_settlement(write_file(v2.render([v2.line("1.00")], total="1.00")))
    assert parsed.lines.column("extra_columns").to_pylist() == [None]


def test_optional_columns_may_be_missing(v2, write_file) -> None:
    dropped = {"promotion-id", "posted-date-time", "merchant-adjustment-item-id", "marketplace-name"}
    header = tuple(name for name in v2.header if name not in dropped)
    parsed = parse_settlement(write_file(v2.render([v2.line("1.00")], total="1.00", header=header)))
    line = parsed.lines.to_pylist()[0]
    assert line["promotion_id"] is None and line["marketplace_name"] is None
    assert line["posted_at"] == datetime(2026, 6, 17, tzinfo=UTC)  # from posted-date, which has a time


def test_negative_payout(v2, write_file) -> None:
    lines = [v2.line("-321.69", **{"transaction-type": "ServiceFee", "amount-type": "other-transaction"})]
    parsed = parse_settlement(write_file(v2.render(lines, total="-321.69")))
    assert parsed.total_amount == parsed.lines_total == Decimal("-321.69")


def test_trailing_zeros_beyond_two_decimals_are_exact(v2, write_file) -> None:
    parsed = parse_settlement(write_file(v2.render([v2.line("1.2300")], total="1.230")))
    assert amounts(parsed) == [Decimal("1.23")] and parsed.is_reconciled


@pytest.mark.parametrize("quantity", ["", "3"])
def test_quantity_is_optional_per_line(v2, write_file, quantity: str) -> None:
    lines = [v2.line("1.00", **{"quantity-purchased": quantity})]
    parsed = parse_settlement(write_file(v2.render(lines, total="1.00")))
    assert parsed.lines.column("quantity").to_pylist() == [int(quantity) if quantity else None]


def test_line_values_and_summary_columns(v2, write_file) -> None:
    parsed = parse_settlement(write_file(v2.render([v2.line("1.00")], total="1.00")), display_name="x.txt")
    line = parsed.lines.to_pylist()[0]
    assert line["currency"] == "USD" and line["source_layout"] == "flat_file_v2"
    assert line["posted_at"] == datetime(2026, 6, 17, 8, 14, 22, tzinfo=UTC)
    row = parsed.settlement.to_pylist()[0]
    assert (
        row["source_name"] == "x.txt" and row["line_count"] == 1 and row["marketplace_name"] == "Amazon.com"
    )
    assert row["header_columns"] == list(parsed.header_columns)


def test_a_file_mixing_date_forms_lands_each_value_as_written(v2, write_file) -> None:
    # The head shows one form, a later line another: the import first reads the usual form only, meets the
    # other, and reads the file again accepting every form, so both lines land with their own values.
    lines = [
        v2.line(
            "1.00",
            **{"posted-date": "2026-06-17 10:00:00 UTC", "posted-date-time": "2026-06-17 10:00:00 UTC"},
        ),
        v2.line(
            "2.00", **{"posted-date": "18.06.2026 11:30:00 UTC", "posted-date-time": "2026-06-18T11:30:00Z"}
        ),
        v2.line("3.00", **{"posted-date": "2026-06-19", "posted-date-time": ""}),
    ]
    parsed = parse_settlement(write_file(v2.render(lines, total="6.00")))
    rows = parsed.lines.select(["posted_date", "posted_at", "line_number"]).to_pylist()
    assert rows == [
        {
            "posted_date": date(2026, 6, 17),
            "posted_at": datetime(2026, 6, 17, 10, tzinfo=UTC),
            "line_number": 1,
        },
        {
            "posted_date": date(2026, 6, 18),
            "posted_at": datetime(2026, 6, 18, 11, 30, tzinfo=UTC),
            "line_number": 2,
        },
        {"posted_date": date(2026, 6, 19), "posted_at": None, "line_number": 3},
    ]


def test_a_bad_date_after_usual_ones_still_names_its_line(v2, write_file) -> None:
    from transforms.settlement import SettlementFileError

    lines = [v2.line("1.00"), v2.line("2.00", **{"posted-date-time": "2026-13-45 99:00:00 UTC"})]
    with pytest.raises(SettlementFileError) as raised:
        parse_settlement(write_file(v2.render(lines, total="3.00")))
    assert raised.value.line == 4 and raised.value.column == "posted-date-time"


# Each file keeps to one form per column (what real files do), so the usual-format pass reads it all: the CSV
# reader types one timestamp format and one date format itself, and strptime reads a second timestamp format.
CONSISTENT_DATE_FORMS = {
    "both timestamps, one format": ("2028-02-29 00:00:00 UTC", "2028-02-29 23:59:59 UTC"),
    "date only, timestamp": ("2026-12-31", "2026-12-31 23:59:59 UTC"),
    "EU dotted": ("31.12.2026 00:00:00 UTC", "31.12.2026 23:59:59 UTC"),
    "EU date only": ("31.12.2026", "01.01.2027 00:00:01 UTC"),
    "US short date": ("12/31/26", "2026-12-31 05:06:07 UTC"),
    "two timestamp formats": ("31.12.2026 10:11:12 UTC", "2026-12-31 10:11:12 UTC"),
    "only posted-date": ("2026-06-17 08:00:00 UTC", ""),
}


@pytest.mark.parametrize("forms", CONSISTENT_DATE_FORMS.values(), ids=CONSISTENT_DATE_FORMS.keys())
def test_the_usual_format_pass_reads_what_the_general_pass_reads(v2, write_file, tmp_path, forms) -> None:
    import duckdb

    from transforms.settlement.head import inspect_head
    from transforms.settlement.lines_sql import lines_select_sql, reader_typed_dates

    posted_date, posted_date_time = forms
    lines = [
        v2.line(f"{n}.00", **{"posted-date": posted_date, "posted-date-time": posted_date_time})
        for n in range(1, 4)
    ]
    lines.append(v2.line("4.00", **{"posted-date": "", "posted-date-time": ""}))
    path = write_file(v2.render(lines, total="10.00"))
    shape = inspect_head(path, charset_hint=None, file=path.name)
    assert reader_typed_dates(shape), "the CSV reader types no date column here"

    def select(usual_only: bool) -> list[tuple]:
        sql = lines_select_sql(path, shape, account_id=None, raw_sha256=None, usual_only=usual_only)
        with duckdb.connect() as connection:
            connection.execute("set TimeZone = 'UTC'")
            return connection.execute(f"select posted_date, posted_at from ({sql})").fetchall()

    usual = select(usual_only=True)
    assert usual == select(usual_only=False)
    assert usual[-1] == (None, None) and usual[0][0] is not None
    assert [
        tuple(row.values())
        for row in parse_settlement(path).lines.select(["posted_date", "posted_at"]).to_pylist()
    ] == usual


def test_padded_dates_land_as_their_trimmed_values(v2, write_file) -> None:
    lines = [
        v2.line("1.00", **{"posted-date": " 2026-06-17 ", "posted-date-time": "  2026-06-17 08:14:22 UTC "}),
        v2.line("2.00", **{"posted-date": "2026-06-18", "posted-date-time": "2026-06-18 09:00:00 UTC"}),
    ]
    rows = parse_settlement(write_file(v2.render(lines, total="3.00"))).lines.to_pylist()
    assert [(r["posted_date"], r["posted_at"]) for r in rows] == [
        (date(2026, 6, 17), datetime(2026, 6, 17, 8, 14, 22, tzinfo=UTC)),
        (date(2026, 6, 18), datetime(2026, 6, 18, 9, tzinfo=UTC)),
    ]


def test_a_padded_settlement_id_lands_trimmed(v2, write_file) -> None:
    lines = [v2.line("1.00"), v2.line("2.00", **{"settlement-id": f"  {v2.settlement_id} "})]
    parsed = parse_settlement(write_file(v2.render(lines, total="3.00")))
    assert parsed.lines.column("settlement_id").to_pylist() == [v2.settlement_id] * 2
    assert amounts(parsed) == [Decimal("1.00"), Decimal("2.00")]


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_decimal_style_is_decided_past_the_head_when_the_head_has_whole_numbers(
    v2, write_file, monkeypatch, encoding
) -> None:
    # A file larger than the head whose head shows only whole amounts (yen, or round prices): the first amount
    # with a separator, however far in, decides the style.
    from transforms.settlement import decimal_style, head
    from transforms.settlement.errors import SettlementFileError

    monkeypatch.setattr(head, "HEAD_BYTES", 1024)
    looked_up = decimal_style._first_separated_amounts
    answers: list[list[str] | None] = []
    monkeypatch.setattr(
        decimal_style, "_first_separated_amounts", lambda *a: answers.append(looked_up(*a)) or answers[-1]
    )
    whole = [v2.line("10", sku="Café") for _ in range(40)]
    lines = [*whole, v2.line("2,50"), v2.line("-1"), v2.line("0,50")]
    path = write_file(v2.render(lines, total="402"), encoding=encoding)  # the summary total decides nothing
    parsed = parse_settlement(path)
    assert parsed.decimal_style == "comma"
    assert amounts(parsed)[-3:] == [Decimal("2.50"), Decimal("-1.00"), Decimal("0.50")]
    assert sum(amounts(parsed)) == Decimal("402.00")
    assert answers == [["2,50"]]  # DuckDB looked (a cp1252 file once transcoded to UTF-8)

    mixed = [*whole, v2.line("2.50"), v2.line("0,50")]
    with pytest.raises(SettlementFileError) as raised:
        parse_settlement(write_file(v2.render(mixed, total="403"), encoding=encoding))
    assert raised.value.line == len(whole) + 4 and raised.value.column == "amount"
    assert "mix decimal commas and decimal points" in raised.value.reason

    only_whole = parse_settlement(write_file(v2.render(whole, total="400"), encoding=encoding))
    assert only_whole.decimal_style == "point" and sum(amounts(only_whole)) == Decimal("400")


def test_a_large_shift_jis_yen_file_and_a_short_row_past_its_head(v2, write_file, monkeypatch) -> None:
    # Amazon.co.jp files: cp932, whole yen throughout, so the style is looked for in the whole (transcoded) file.
    from transforms.settlement import head
    from transforms.settlement.errors import SettlementFileError

    monkeypatch.setattr(head, "HEAD_BYTES", 1024)
    yen = [v2.line(str(100 * n), sku="商品-1", **{"marketplace-name": "Amazon.co.jp"}) for n in range(1, 41)]
    parsed = parse_settlement(
        write_file(v2.render(yen, total="82000", summary={"currency": "JPY"}), encoding="cp932")
    )
    assert (parsed.encoding, parsed.decimal_style) == ("cp932", "point")
    assert sum(amounts(parsed)) == Decimal("82000") == parsed.total_amount
    assert set(parsed.lines.column("sku").to_pylist()) == {"商品-1"}

    short = v2.render(yen, total="82000", summary={"currency": "JPY"}).splitlines()
    short[30] = short[30].rsplit("\t", 3)[0]  # line 31 loses its last three fields
    with pytest.raises(SettlementFileError) as raised:
        parse_settlement(write_file("\n".join(short) + "\n", encoding="cp932"))
    assert raised.value.line == 31 and "fields" in raised.value.reason
