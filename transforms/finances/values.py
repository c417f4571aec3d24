"""Exact conversions from parsed JSON values to lake values: money, timestamps, integers, masked tails.

Every JSON number is expected as `Decimal` (the client parses with `parse_float=Decimal, parse_int=Decimal`),
but ints, floats and strings are accepted too and converted through `str()`, never through float arithmetic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa

from transforms.finances.errors import (
    MoneyFormatError,
    MoneyPrecisionError,
    PayloadShapeError,
    TimestampFormatError,
)

MONEY_SCALE = 2
MONEY_PRECISION = 18
# decimal128(18, 2): every amount Amazon sends in these APIs has at most two decimals (JPY none). A value with
# more is refused (MoneyPrecisionError) rather than rounded, so reconciliation to the cent stays honest.
MONEY_TYPE = pa.decimal128(MONEY_PRECISION, MONEY_SCALE)
TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")

# A plain decimal literal: optional sign, digits with an optional fraction, optional exponent. No thousands
# separators or decimal commas: those belong to settlement files, not to JSON APIs.
_DECIMAL_LITERAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_INTEGER_LITERAL = re.compile(r"[+-]?\d+")


def to_decimal(value: Any, *, where: str = "") -> Decimal:
    """The exact decimal a JSON number or numeric string denotes."""
    if isinstance(value, bool) or value is None:
        raise MoneyFormatError(f"expected a number, got {value!r}", where=where)
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | float):
        # str(float) is the shortest text that round-trips, i.e. the literal the JSON carried.
        result = Decimal(str(value))
    elif isinstance(value, str) and _DECIMAL_LITERAL.fullmatch(value.strip()):
        result = Decimal(value.strip())
    else:
        raise MoneyFormatError(f"expected a decimal number, got {value!r}", where=where)
    if not result.is_finite():
        raise MoneyFormatError(f"expected a finite number, got {value!r}", where=where)
    return result


def to_money(value: Any, *, where: str = "", scale: int = MONEY_SCALE) -> Decimal:
    """An amount at `scale` places (the lake's 2 by default); raises rather than round it."""
    exact = to_decimal(value, where=where)
    limit = Decimal(10) ** (MONEY_PRECISION - scale)
    try:
        scaled = exact.quantize(Decimal(1).scaleb(-scale))
    except InvalidOperation as error:
        raise MoneyPrecisionError(
            f"amount {exact} does not fit decimal128(18, {scale})", where=where
        ) from error
    if scaled != exact:
        raise MoneyPrecisionError(f"amount {exact} has more than {scale} decimal places", where=where)
    if abs(scaled) >= limit:
        raise MoneyPrecisionError(f"amount {exact} does not fit decimal128(18, {scale})", where=where)
    return scaled


def to_optional_money(value: Any, *, where: str = "") -> Decimal | None:
    return None if value is None else to_money(value, where=where)


def to_timestamp(value: Any, *, where: str = "") -> datetime | None:
    """An ISO 8601 date or timestamp as an aware UTC datetime; a value without offset is taken as UTC."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError as error:
            raise TimestampFormatError(f"not an ISO 8601 timestamp: {value!r}", where=where) from error
    else:
        raise TimestampFormatError(f"not an ISO 8601 timestamp: {value!r}", where=where)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def to_required_timestamp(value: Any, *, where: str) -> datetime:
    """Like `to_timestamp`, for values a caller must supply (the run's as-of time)."""
    parsed = to_timestamp(value, where=where)
    if parsed is None:
        raise TimestampFormatError("a timestamp is required", where=where)
    return parsed


def to_optional_int(value: Any, *, where: str = "") -> int | None:
    """An integer from a JSON number or a numeric string (some models type quantities as strings)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise PayloadShapeError(f"expected an integer, got {value!r}", where=where)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER_LITERAL.fullmatch(value.strip()):
        return int(value.strip())
    if isinstance(value, Decimal | float):
        exact = to_decimal(value, where=where)
        if exact == exact.to_integral_value():
            return int(exact)
    raise PayloadShapeError(f"expected an integer, got {value!r}", where=where)


def to_optional_str(value: Any) -> str | None:
    """A scalar as text (identifiers sometimes arrive as numbers); None and empty text stay None."""
    if value is None:
        return None
    if isinstance(value, Mapping | list):
        raise PayloadShapeError(f"expected a scalar, got {type(value).__name__}")
    text = str(value)
    return text if text != "" else None


def mask_account_tail(tail: Any) -> str | None:
    """`****` plus at most the last two characters of the tail, always fewer characters than the tail has.

    Amazon's account tail is already only the end of a bank account number (often three digits); keeping it
    whole would still identify the account, so the lake keeps two at most, and never all of a short tail.
    """
    text = to_optional_str(tail)
    if text is None:
        return None
    text = text.strip()
    kept = min(2, max(len(text) - 1, 0))
    return "****" + (text[-kept:] if kept else "")


def get_ci(mapping: Mapping[str, Any], *names: str) -> Any:
    """The value of the first of `names` present in `mapping`, matching keys case-insensitively.

    Real payloads differ in case from the models (eolabs pages carry `PostedDate` and `FeeAmount` where the
    model says `postedDate` and `feeAmount`).
    """
    for name in names:
        if name in mapping:
            return mapping[name]
    lowered = {key.lower(): value for key, value in mapping.items() if isinstance(key, str)}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def is_currency(value: Any) -> bool:
    """A Currency object: `{CurrencyCode, CurrencyAmount}` (any case) or vendor `{currencyCode, amount}`."""
    if not isinstance(value, Mapping):
        return False
    keys = {key.lower() for key in value if isinstance(key, str)}
    return "currencyamount" in keys or ("amount" in keys and "currencycode" in keys)


def currency_parts(
    value: Mapping[str, Any], *, where: str = "", scale: int = MONEY_SCALE
) -> tuple[Decimal | None, str | None]:
    """(amount, currency code) of a Currency-shaped object; a missing amount stays None, never 0."""
    if not isinstance(value, Mapping):
        raise PayloadShapeError("expected a money object", where=where)
    raw_amount = get_ci(value, "CurrencyAmount", "amount")
    amount = None if raw_amount is None else to_money(raw_amount, where=where, scale=scale)
    return amount, to_optional_str(get_ci(value, "CurrencyCode"))
