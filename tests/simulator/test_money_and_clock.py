"""Money is serialised from Decimal digit for digit; the simulated clock scales and advances."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from simkit import parse

from simulator.clock import SimClock
from simulator.jsonbody import dumps, money_as_strings


def test_dumps_writes_decimals_exactly_and_refuses_floats() -> None:
    assert dumps(
        {"a": Decimal("0.10"), "b": Decimal("-0.00"), "c": Decimal("1E+2"), "d": [Decimal("0.3")]}
    ) == ('{"a":0.10,"b":-0.00,"c":100,"d":[0.3]}')
    assert dumps({"s": 'x"y', "n": None, "t": True, "i": 3}) == '{"s":"x\\"y","n":null,"t":true,"i":3}'
    with pytest.raises(TypeError):
        dumps({"amount": 0.1})
    with pytest.raises(ValueError):
        dumps(Decimal("NaN"))
    assert money_as_strings({"netCost": {"amount": Decimal("9.50")}, "qty": {"amount": 3}}) == {
        "netCost": {"amount": "9.50"},
        "qty": {"amount": 3},
    }


def test_served_money_equals_the_ledgers_decimals(api) -> None:  # type: ignore[no-untyped-def]
    now = api.sim.clock.now()
    after, before = now - timedelta(days=30), now - timedelta(minutes=5)
    served = parse(
        api.call(
            "listTransactions",
            params={
                "postedAfter": after.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "postedBefore": before.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )
    )
    expected = api.sim.ledger.transactions("demo-na", now, posted_after=after, posted_before=before)[:100]
    assert served["payload"]["transactions"] == expected  # Decimal == Decimal, including the scale
    raw = api.call(
        "listTransactions",
        params={
            "postedAfter": after.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "postedBefore": before.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    ).text
    first_amount = expected[0]["totalAmount"]["currencyAmount"]
    assert f'"currencyAmount":{first_amount}' in raw and "e" not in format(first_amount, "f")


def test_clock_scales_real_time_and_advances() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    clock = SimClock(start=start, time_scale=1000.0)
    time.sleep(0.05)
    elapsed = (clock.now() - start).total_seconds()
    assert 40 <= elapsed <= 200
    clock.advance(timedelta(hours=2))
    assert clock.now() - start >= timedelta(hours=2, seconds=40)
    with pytest.raises(ValueError):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError):
        SimClock(time_scale=0)
