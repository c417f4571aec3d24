"""Property: any generated V2 file, in either decimal style and any supported encoding, round-trips.

A single-byte or Shift_JIS file comes with its charset as a download would (Content-Type); guessing the
encoding of a few bytes with no hint is ambiguous by nature and has its own tests in test_formats.py.
"""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from transforms.settlement import parse_settlement
from transforms.settlement.headers import V2_HEADER

# The V2 header's summary and order columns, then the few line columns this property needs.
HEADER = [*V2_HEADER[:8], "amount-type", "amount-description", "amount", "posted-date", "sku"]

# Text each encoding can carry; none of these byte sequences is valid UTF-8 when encoded in cp1252/cp932.
TEXT = {
    "utf-8": "abcXYZ äöüß é 手数料 €",
    "utf-8-sig": "abcXYZ äöüß é 手数料 €",
    "cp1252": "abcXYZ äöüßé",
    "cp932": "abcXYZ 手数料返金注文配送",
}
HINTS = {"utf-8": None, "utf-8-sig": None, "cp1252": "windows-1252", "cp932": "Shift_JIS"}
DATES = {"point": ("2026-06-17 00:00:00 UTC", "06/17/26"), "comma": ("17.06.2026 00:00:00 UTC", "17.06.2026")}

amounts = st.decimals(min_value=Decimal("-99999999.99"), max_value=Decimal("99999999.99"), places=2)


@st.composite
def settlement_files(draw: st.DrawFn) -> tuple[bytes, str | None, list[Decimal], list[str], str]:
    encoding = draw(st.sampled_from(sorted(TEXT)))
    style = draw(st.sampled_from(["point", "comma"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    values = draw(st.lists(amounts, min_size=1, max_size=30))
    descriptions = draw(
        st.lists(
            st.text(alphabet=TEXT[encoding], min_size=1, max_size=12).map(str.strip).filter(bool),
            min_size=len(values),
            max_size=len(values),
        )
    )
    padding = draw(st.sampled_from(["", " ", "   "]))

    def money(value: Decimal) -> str:
        text = f"{value:.2f}"
        return padding + (text.replace(".", ",") if style == "comma" else text) + padding

    stamp, short = DATES[style]
    total = sum(values, Decimal("0.00"))
    rows = [HEADER, ["777", stamp, stamp, stamp, money(total), "EUR", "", "", "", "", "", "", ""]]
    for value, description in zip(values, descriptions, strict=True):
        rows.append(
            [
                "777",
                "",
                "",
                "",
                "",
                "EUR",
                "Order",
                "1-2-3",
                "ItemPrice",
                description,
                money(value),
                draw(st.sampled_from([stamp, short])),
                "SKU",
            ]
        )
    text = newline.join("\t".join(row) for row in rows) + newline * draw(st.integers(1, 3))
    data = text.encode(encoding)
    if encoding in ("cp1252", "cp932"):
        try:
            data.decode("utf-8")
            has_non_ascii = not data.isascii()
        except UnicodeDecodeError:
            has_non_ascii = False
        assume(not has_non_ascii)  # bytes that happen to be valid UTF-8 are (rightly) read as UTF-8
    return data, HINTS[encoding], values, descriptions, style


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(settlement_files())
def test_generated_files_round_trip_their_total_exactly(
    case: tuple[bytes, str | None, list[Decimal], list[str], str],
) -> None:
    data, hint, values, descriptions, style = case
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "generated.txt"
        path.write_bytes(data)
        parsed = parse_settlement(path, charset_hint=hint)
    assert parsed.decimal_style == style or all("." not in f"{v}" for v in values)
    assert parsed.lines.column("amount").to_pylist() == values
    assert parsed.lines.column("amount_description").to_pylist() == descriptions
    assert parsed.total_amount == parsed.lines_total == sum(values, Decimal("0.00"))
    assert parsed.line_count == len(values)
