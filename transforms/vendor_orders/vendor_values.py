"""Value helpers shared by the vendor PO tables: unit prices, quantities, windows, parties."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pyarrow as pa

from transforms.finances.errors import PayloadShapeError
from transforms.finances.values import currency_parts, get_ci, to_optional_int, to_optional_str, to_timestamp

# Vendor net cost and list price are unit prices agreed in cost terms, which can carry sub-cent precision;
# decimal128(18, 4) keeps up to four places exactly (more raises MoneyPrecisionError, never rounds).
UNIT_PRICE_SCALE = 4
UNIT_PRICE_TYPE = pa.decimal128(18, UNIT_PRICE_SCALE)
CASES = "cases"


def unit_price_columns(value: Any, prefix: str, *, where: str) -> dict[str, Any]:
    """`<prefix>`, `_currency`, `_unit_of_measure` of a vendor Money (amount as string or number)."""
    if value is None:
        return {prefix: None, f"{prefix}_currency": None, f"{prefix}_unit_of_measure": None}
    if not isinstance(value, Mapping):
        raise PayloadShapeError("money is not an object", where=where)
    amount, currency = currency_parts(value, where=where, scale=UNIT_PRICE_SCALE)
    return {
        prefix: amount,
        f"{prefix}_currency": currency,
        f"{prefix}_unit_of_measure": to_optional_str(get_ci(value, "unitOfMeasure")),
    }


def quantity_columns(value: Any, prefix: str, *, where: str) -> dict[str, Any]:
    """`<prefix>`, `_unit`, `_unit_size` and `_eaches` (amount x unit size when ordered in cases)."""
    if value is None:
        return {prefix: None, f"{prefix}_unit": None, f"{prefix}_unit_size": None, f"{prefix}_eaches": None}
    if not isinstance(value, Mapping):
        raise PayloadShapeError("quantity is not an object", where=where)
    amount = to_optional_int(get_ci(value, "amount"), where=f"{where}.amount")
    unit = to_optional_str(get_ci(value, "unitOfMeasure"))
    unit_size = to_optional_int(get_ci(value, "unitSize"), where=f"{where}.unitSize")
    eaches = amount
    if amount is not None and unit is not None and unit.lower() == CASES:
        eaches = amount * unit_size if unit_size is not None else None
    return {
        prefix: amount,
        f"{prefix}_unit": unit,
        f"{prefix}_unit_size": unit_size,
        f"{prefix}_eaches": eaches,
    }


def interval_bounds(value: Any, *, where: str) -> tuple[datetime | None, datetime | None]:
    """(start, end) in UTC of an ISO 8601 interval `start--end` (the model's DateTimeInterval)."""
    text = to_optional_str(value)
    if text is None:
        return None, None
    start, separator, end = text.partition("--")
    if not separator:
        start, separator, end = text.partition("/")
    if not separator:
        raise PayloadShapeError(f"not an interval: {text!r}", where=where)
    return to_timestamp(start, where=where), to_timestamp(end, where=where)


def party_columns(value: Any, party: str, *, where: str) -> dict[str, Any]:
    """`<party>_party_id` and `<party>_country` only: names, addresses, phones and tax ids stay out."""
    if value is None:
        return {f"{party}_party_id": None, f"{party}_country": None}
    if not isinstance(value, Mapping):
        raise PayloadShapeError("party is not an object", where=where)
    address = get_ci(value, "address")
    country = get_ci(address, "countryCode") if isinstance(address, Mapping) else None
    return {
        f"{party}_party_id": to_optional_str(get_ci(value, "partyId")),
        f"{party}_country": to_optional_str(country),
    }
