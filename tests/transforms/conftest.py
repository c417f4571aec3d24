"""Helpers for the finance and vendor transform tests: exact JSON loading and an independent count of money fields."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from moto_store import module_server, store_env

from acorn_cli.loopback_s3 import LoopbackS3

MoneyObject = tuple[str, Decimal, str | None]


def walk_money(node: Any, path: str = "") -> Iterator[MoneyObject]:
    """Every Currency-shaped object in a JSON value with its path; written apart from the code under test.

    Shapes: {CurrencyCode, CurrencyAmount} (v0, any case), {currencyCode, currencyAmount} (2024 APIs) and the
    vendor Money {currencyCode, amount}.
    """
    if isinstance(node, dict):
        lowered = {key.lower(): key for key in node}
        amount_key = lowered.get("currencyamount")
        if amount_key is None and "amount" in lowered and "currencycode" in lowered:
            amount_key = lowered["amount"]
        if amount_key is not None:
            code_key = lowered.get("currencycode")
            yield path, Decimal(str(node[amount_key])), node[code_key] if code_key else None
            return
        for key, value in node.items():
            yield from walk_money(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk_money(value, f"{path}[{index}]")


def load_exact(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal, parse_int=Decimal)


@pytest.fixture(scope="session")
def examples(shared_fixtures: Path) -> Path:
    return shared_fixtures / "spapi-examples"


@pytest.fixture(scope="session")
def eolabs(shared_fixtures: Path) -> Path:
    return shared_fixtures / "api-fixtures" / "eolabs-sp-api-response-parser"


@pytest.fixture(scope="session")
def finances_v0_model(shared_fixtures: Path) -> dict[str, Any]:
    return json.loads((shared_fixtures / "spapi-models" / "financesV0.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def money_walker() -> Callable[..., Iterator[MoneyObject]]:
    return walk_money


@pytest.fixture(scope="session")
def exact_loader() -> Callable[[Path], Any]:
    return load_exact


@pytest.fixture(scope="module")
def s3(request: pytest.FixtureRequest) -> Iterator[LoopbackS3]:
    """moto's S3 server on loopback for the test module (the object-store copies' tests)."""
    yield from module_server(request)


@pytest.fixture
def lake_env(s3: LoopbackS3, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The scale-out variables in this process's environment, a bucket prefix per test (the lake store's tests)."""
    return store_env(s3, monkeypatch)
