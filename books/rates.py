"""The rate table a user gives to convert journals for a ledger that cannot carry their currency (Xero manual
journals are in the organisation's base currency).

A CSV with the columns of ACORN's own fx_rates seed: `rate_date,currency,reporting_currency,rate`, where one
`currency` is worth `rate` `reporting_currency` from `rate_date` on. A journal uses the latest rate dated on or
before it; a pair with no such rate is an error naming the pair and the date, never a guess.
"""

from __future__ import annotations

import csv
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

COLUMNS = ("rate_date", "currency", "reporting_currency", "rate")


class RateError(ValueError):
    """The rate file is unreadable, or has no rate for a pair on a date."""


@dataclass(frozen=True)
class Rate:
    rate_date: date
    value: Decimal


@dataclass(frozen=True)
class RateTable:
    source: str
    rates: dict[tuple[str, str], list[Rate]]

    def rate(self, currency: str, base: str, on: date) -> Rate:
        """One `currency` in `base` on the date: the latest rate dated on or before it."""
        series = self.rates.get((currency.upper(), base.upper()), [])
        index = bisect_right([rate.rate_date for rate in series], on)
        if index == 0:
            raise RateError(
                f"{self.source} has no {currency}->{base} rate dated on or before {on.isoformat()}: add a row "
                f"`{on.isoformat()},{currency},{base},<rate>`"
            )
        return series[index - 1]


def load_rates(path: Path) -> RateTable:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise RateError(f"cannot read the rate file {path}: {error.strerror}") from None
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames is None or not set(COLUMNS) <= set(reader.fieldnames):
        raise RateError(f"{path}: the header must have the columns {','.join(COLUMNS)}")
    rates: dict[tuple[str, str], list[Rate]] = {}
    for number, row in enumerate(reader, start=2):
        try:
            rate = Rate(date.fromisoformat(row["rate_date"].strip()), Decimal(row["rate"].strip()))
        except (ValueError, InvalidOperation):
            raise RateError(
                f"{path} line {number}: rate_date YYYY-MM-DD and a decimal rate, got {row}"
            ) from None
        if rate.value <= 0:
            raise RateError(f"{path} line {number}: a rate must be positive, got {rate.value}")
        pair = (row["currency"].strip().upper(), row["reporting_currency"].strip().upper())
        rates.setdefault(pair, []).append(rate)
    for series in rates.values():
        series.sort(key=lambda rate: rate.rate_date)
    return RateTable(str(path), rates)
