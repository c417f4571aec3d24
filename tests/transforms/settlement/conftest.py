"""Small settlement files written by the tests: a V2 builder that knows nothing of the parser under test."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

import pytest

from transforms.settlement.headers import V2_HEADER

SETTLEMENT_ID = "11122233344"


def money_text(amount: Decimal, style: str = "point") -> str:
    text = f"{amount:.2f}"
    return text.replace(".", ",") if style == "comma" else text


def default_line(amount: str, **overrides: str) -> dict[str, str]:
    line = {
        "settlement-id": SETTLEMENT_ID,
        "transaction-type": "Order",
        "order-id": "111-0000000-0000001",
        "marketplace-name": "Amazon.com",
        "amount-type": "ItemPrice",
        "amount-description": "Principal",
        "amount": amount,
        "fulfillment-id": "AFN",
        "posted-date": "2026-06-17 00:00:00 UTC",
        "posted-date-time": "2026-06-17 08:14:22 UTC",
        "sku": "SKU-1",
        "quantity-purchased": "1",
    }
    line.update(overrides)
    return line


def render_v2(
    lines: Sequence[dict[str, str]],
    *,
    total: str,
    header: Sequence[str] = V2_HEADER,
    summary: dict[str, str] | None = None,
    newline: str = "\n",
    trailing: str = "",
) -> str:
    summary_row = {
        "settlement-id": SETTLEMENT_ID,
        "settlement-start-date": "2026-06-16 00:00:00 UTC",
        "settlement-end-date": "2026-06-30 23:59:59 UTC",
        "deposit-date": "2026-07-02 00:00:00 UTC",
        "total-amount": total,
        "currency": "USD",
        **(summary or {}),
    }
    rows = ["\t".join(header), "\t".join(summary_row.get(name, "") for name in header)]
    rows += ["\t".join(line.get(name, "") for name in header) for line in lines]
    return newline.join(rows) + newline + trailing


WriteFile = Callable[..., Path]


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    """write_file(text_or_bytes, name=..., encoding=...) -> path of a new file under tmp_path."""
    counter = iter(range(10_000))

    def write(content: str | bytes, *, name: str | None = None, encoding: str = "utf-8") -> Path:
        path = tmp_path / (name or f"settlement-{next(counter)}.txt")
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return path

    return write


class V2:
    """The builder, handed to tests as a fixture (test modules cannot import conftest with importlib mode)."""

    header = V2_HEADER
    settlement_id = SETTLEMENT_ID
    line = staticmethod(default_line)
    render = staticmethod(render_v2)
    money = staticmethod(money_text)


@pytest.fixture
def v2() -> type[V2]:
    return V2
