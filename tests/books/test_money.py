"""Amounts as the files write them: exact, the currency's decimals, no negative zero, no float anywhere."""

from __future__ import annotations

from decimal import Decimal

from books.money import plain, round_to_currency


def test_amounts_keep_their_currencys_decimals_and_never_lose_money() -> None:
    assert plain(Decimal("1234.5"), "USD") == "1234.50"
    assert plain(Decimal("15000.00"), "JPY") == "15000"
    assert (
        plain(Decimal("15000.50"), "JPY") == "15000.50"
    )  # not a valid yen amount: written exactly, not rounded
    assert plain(-Decimal("0.00"), "EUR") == "0.00"
    assert plain(Decimal("-0.01"), "EUR") == "-0.01"


def test_conversions_round_half_up_to_the_minor_unit() -> None:
    assert round_to_currency(Decimal("14.605"), "USD") == Decimal("14.61")
    assert round_to_currency(Decimal("-14.605"), "USD") == Decimal("-14.61")
    assert round_to_currency(Decimal("1234.5"), "JPY") == Decimal("1235")
