"""Settlement file values: amounts, dates and quantities, as Python parsers and as the equivalent DuckDB SQL.

The SQL runs on the fast path (every line of a file); the Python parsers read the summary row and, when the
SQL path fails, find the first bad line and column for the quarantine message. Both accept exactly the same
forms:

- amounts: optional sign, digits, optional decimal separator and decimals, in one style per file: `point`
  (decimal `.`, thousands grouped by `,`: `1,234.56`) or `comma` (decimal `,`, thousands grouped by `.`:
  `1.234,56`); grouping is optional (`1234.56`) and, when used, groups of exactly three digits; at most 16
  integer digits and no non-zero digit past the second decimal (money is decimal(18,2));
- timestamps: `yyyy-MM-dd HH:mm:ss UTC`, `dd.MM.yyyy HH:mm:ss UTC`, ISO 8601 with an offset (or `Z`);
- dates (posted-date): any timestamp form (its date as written), or `yyyy-MM-dd`, `dd.MM.yyyy`, `MM/dd/yy`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal

DecimalStyle = Literal["point", "comma"]

STYLES: tuple[DecimalStyle, DecimalStyle] = ("point", "comma")
SEPARATORS: dict[DecimalStyle, tuple[str, str]] = {"point": (".", ","), "comma": (",", ".")}  # decimal, group


def _amount_pattern(decimal: str, group: str) -> str:
    d, g = re.escape(decimal), re.escape(group)
    # Integer part: plain digits, or groups of three (at most 16 digits either way).
    integer = f"([0-9]{{1,16}}|[0-9]{{1,3}}({g}[0-9]{{3}}){{1,4}}|[0-9]({g}[0-9]{{3}}){{5}})"
    return f"[+-]?{integer}({d}[0-9]{{0,2}}0*)?"


AMOUNT_PATTERNS: dict[DecimalStyle, str] = {style: _amount_pattern(*SEPARATORS[style]) for style in STYLES}
_AMOUNT_RE = {style: re.compile(pattern) for style, pattern in AMOUNT_PATTERNS.items()}
_ANY_NUMBER = re.compile(r"[+-]?[0-9]+([.,][0-9]+)*[.,]?")

# Decimals of a currency's minor unit (ISO 4217) where it is not 2. A code not listed here has 2; an empty or
# malformed code is unknown (None).
_CURRENCY_DECIMALS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}


def currency_decimals(currency: str | None) -> int | None:
    """How many decimals the currency's money has (JPY 0, USD 2, KWD 3); None when the code is unknown."""
    code = (currency or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        return None
    return _CURRENCY_DECIMALS.get(code, 2)


def is_amount(text: str, style: DecimalStyle) -> bool:
    """Whether `text` (trimmed) is a valid amount written in `style`."""
    return _AMOUNT_RE[style].fullmatch(text) is not None


def has_separator(text: str) -> bool:
    return "," in text or "." in text


def ambiguous_separator(text: str) -> str | None:
    """The separator of an amount that reads validly in both styles with different values (`10,000`: ten
    thousand, or ten with a decimal comma; `2.500`), else None. Such an amount always has exactly one
    separator followed by three digits: as a decimal separator, more decimals than any common currency has."""
    if has_separator(text) and is_amount(text, "point") and is_amount(text, "comma"):
        return "," if "," in text else "."
    return None


def strong_style(text: str) -> DecimalStyle | None:
    """The one style an amount reads validly in (`1,234.56`, `12,50`, `5.99`), else None (both, or neither)."""
    if not has_separator(text):
        return None
    point, comma = is_amount(text, "point"), is_amount(text, "comma")
    if point != comma:
        return "point" if point else "comma"
    return None


def amount_or_none(text: str, style: DecimalStyle) -> Decimal | None:
    """`text` read in `style`, or None when it is not a valid amount in that style."""
    value = text.strip()
    if not is_amount(value, style):
        return None
    decimal, group = SEPARATORS[style]
    return Decimal(value.replace(group, "").replace(decimal, ".")).quantize(Decimal("0.01"))


TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M:%S UTC", "%d.%m.%Y %H:%M:%S UTC")
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%m/%d/%y")
_ISO_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})"
)


class ValueError_(ValueError):
    """A value that does not parse; the message says what was expected."""


def parse_amount(text: str, style: DecimalStyle) -> Decimal:
    value = text.strip()
    parsed = amount_or_none(value, style)
    if parsed is None:
        other: DecimalStyle = "comma" if style == "point" else "point"
        if _ANY_NUMBER.fullmatch(value):
            if len(re.sub(r"[^0-9]", "", value.rpartition(SEPARATORS[style][0])[0] or value)) > 16:
                raise ValueError_(f"amount {value!r} is too large for decimal(18,2)")
            decimal, group = SEPARATORS[style]
            if is_amount(value, other) and group not in value and value.count(decimal) == 1:
                raise ValueError_(
                    f"amount {value!r} has non-zero digits beyond 2 decimals (money is decimal(18,2)); read "
                    f"with {decimal!r} grouping thousands it would mix decimal commas and decimal points"
                )
            if is_amount(value, other):
                raise ValueError_(
                    f"amount {value!r} uses the other decimal separator than this file's other amounts "
                    f"(decimal {style}s): amounts mix decimal commas and decimal points"
                )
            if SEPARATORS[style][1] in value:
                raise ValueError_(
                    f"amount {value!r} groups thousands wrongly for decimal {style}s (groups of three digits "
                    f"separated by {SEPARATORS[style][1]!r})"
                )
            raise ValueError_(
                f"amount {value!r} has non-zero digits beyond 2 decimals (money is decimal(18,2))"
            )
        raise ValueError_(f"amount {value!r} is not a number")
    return parsed


def parse_timestamp(text: str) -> datetime:
    value = text.strip()
    for form in TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(value, form).replace(tzinfo=UTC)
        except ValueError:
            continue
    if _ISO_RE.fullmatch(value):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parsed.astimezone(UTC)
    raise ValueError_(
        f"timestamp {value!r} is not 'yyyy-MM-dd HH:mm:ss UTC', 'dd.MM.yyyy HH:mm:ss UTC' or ISO 8601 "
        f"with an offset"
    )


def parse_posted_date(text: str) -> date:
    value = text.strip()
    head = value.replace("T", " ", 1).split(" ", 1)[0]
    has_time = head != value
    if has_time:
        parse_timestamp(value)  # the whole value must be a valid timestamp, not just its date
    for form in DATE_FORMATS:
        try:
            return datetime.strptime(head, form).date()
        except ValueError:
            continue
    raise ValueError_(f"date {value!r} is not yyyy-MM-dd, dd.MM.yyyy, MM/dd/yy or one of the timestamp forms")


def parse_quantity(text: str) -> int:
    value = text.strip()
    if not re.fullmatch(r"[+-]?[0-9]{1,9}", value):
        raise ValueError_(f"quantity {value!r} is not a whole number")
    return int(value)


def usual_format(text: str) -> str | None:
    """The strptime format of a date/timestamp value, for the SQL fast path (None for ISO forms and junk)."""
    for form in (*TIMESTAMP_FORMATS, *DATE_FORMATS):
        try:
            datetime.strptime(text.strip(), form)
        except ValueError:
            continue
        return form
    return None


# --- the same rules in DuckDB SQL ---------------------------------------------------------------------------


def sql_literal(text: str | None) -> str:
    return "NULL" if text is None else "'" + text.replace("'", "''") + "'"


def sql_clean(column: str) -> str:
    """A raw column as trimmed text, empty -> NULL (done once per column; the helpers below expect it).

    Only padded values are trimmed: testing the ends is cheap, copying every string is not (an eighth of a
    5-million-line import). DuckDB already reads an empty field as NULL, and trim() strips spaces only."""
    return (
        f"(case when starts_with({column}, ' ') or ends_with({column}, ' ') "
        f"then nullif(trim({column}), '') else {column} end)"
    )


def sql_text(column: str) -> str:
    """A column of the cleaned relation (see sql_clean)."""
    return column


def sql_fail(what: str) -> str:
    return f"error({sql_literal('acorn: bad ' + what)})"


def sql_amount(column: str, style: DecimalStyle, what: str) -> str:
    text = sql_text(column)
    number = sql_amount_number(text, style)
    return (
        f"(case when {text} is null then null "
        f"when regexp_full_match({text}, {sql_literal(AMOUNT_PATTERNS[style])}) "
        f"then cast({number} as decimal(18,2)) else {sql_fail(what)} end)"
    )


def sql_amount_number(text: str, style: DecimalStyle) -> str:
    """A valid amount's text in `style` as a number DuckDB casts: grouping dropped, decimal point."""
    if style == "point":
        return f"replace({text}, ',', '')"
    return f"replace(replace({text}, '.', ''), ',', '.')"


def sql_timestamp(column: str, what: str, usual: str | None = None) -> str:
    """`usual` is the format the file's head showed: tried first, since one strptime is much cheaper than the
    general chain (which still accepts every form, so a file mixing forms parses the same)."""
    text = sql_text(column)
    formats = ", ".join(sql_literal(f) for f in TIMESTAMP_FORMATS)
    fast = f"cast(try_strptime({text}, {sql_literal(usual)}) as timestamptz), " if usual else ""
    parsed = (
        f"coalesce({fast}cast(try_strptime({text}, [{formats}]) as timestamptz), "
        f"case when regexp_full_match({text}, {sql_literal(_ISO_RE.pattern)}) "
        f"then try_cast({text} as timestamptz) end)"
    )
    return f"(case when {text} is null then null else coalesce({parsed}, {sql_fail(what)}) end)"


# Raised by the usual-format expressions below when a value is in another (valid or not) form: the import then
# runs the general expressions, which accept every form and name a bad value.
UNUSUAL_VALUE = "acorn: unusual value"


def sql_from_utc(timestamp: str, sql_type: Literal["timestamptz", "date"]) -> str:
    """A TIMESTAMP written in UTC (the usual formats end in ` UTC`) as `sql_type`.

    For timestamptz this is the same instant `cast(... as timestamptz)` gives on connect()'s connection (its
    TimeZone is UTC), taken from the microseconds since the epoch: the cast goes through ICU's calendar for
    every value (about 7% of a large import's conversion), this is integer arithmetic."""
    if sql_type == "timestamptz":
        return f"make_timestamptz(epoch_us({timestamp}))"
    return f"cast({timestamp} as {sql_type})"


def sql_usual(column: str, usual: str, sql_type: Literal["timestamptz", "date"]) -> str:
    """A timestamp or posted-date (`sql_type`) in the file's usual format only: one strptime per value (most
    files use one format); any other form raises UNUSUAL_VALUE."""
    text = sql_text(column)
    parsed = sql_from_utc(f"try_strptime({text}, {sql_literal(usual)})", sql_type)
    return f"(case when {text} is null then null else coalesce({parsed}, error({sql_literal(UNUSUAL_VALUE)})) end)"


def sql_posted_date(column: str, what: str, usual: str | None = None) -> str:
    text = sql_text(column)
    spaced = f"replace({text}, 'T', ' ')"
    head = f"split_part({spaced}, ' ', 1)"
    formats = ", ".join(sql_literal(f) for f in DATE_FORMATS)
    # A posted-date with a time part must be a whole valid timestamp (sql_timestamp raises otherwise).
    general = (
        f"(case when {text} is null then null "
        f"when strpos({spaced}, ' ') > 0 and {sql_timestamp(column, what)} is null then null "
        f"else coalesce(cast(try_strptime({head}, [{formats}]) as date), {sql_fail(what)}) end)"
    )
    if usual is None:
        return general
    # The usual format: a date-only form, or a UTC timestamp form whose date is the date as written.
    return f"coalesce(cast(try_strptime({text}, {sql_literal(usual)}) as date), {general})"


def sql_quantity(column: str, what: str) -> str:
    text = sql_text(column)
    return (
        f"(case when {text} is null then null when regexp_full_match({text}, '[+-]?[0-9]{{1,9}}') "
        f"then cast({text} as integer) else {sql_fail(what)} end)"
    )
