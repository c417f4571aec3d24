"""Amounts as the files write them: Decimal in, text out, never a float between.

A currency's minor unit decides the decimals (JPY and the other zero-decimal currencies have none); an amount
that carries more decimals than its currency has is written exactly as it is rather than rounded, so no file ever
loses money to formatting.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 currencies without minor units that Amazon marketplaces settle in or a ledger may hold.
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "CLP", "ISK", "HUF", "VND", "TWD"})


def exponent(currency: str) -> Decimal:
    return Decimal(1) if currency.upper() in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")


def plain(amount: Decimal, currency: str) -> str:
    """`1234.50` (USD), `1500` (JPY): a dot for decimals, no thousands separator, exact."""
    quantum = exponent(currency)
    quantized = amount.quantize(quantum)
    chosen = quantized if quantized == amount else amount
    # Decimal keeps the sign of a zero (-0.00 from negating 0.00): no file writes "-0.00".
    return f"{abs(chosen) if chosen == 0 else chosen:f}"


def round_to_currency(amount: Decimal, currency: str) -> Decimal:
    """Rounded half up to the currency's minor unit (only where a conversion must round)."""
    return amount.quantize(exponent(currency), rounding=ROUND_HALF_UP)
