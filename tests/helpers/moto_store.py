"""moto's S3 server on loopback for a test module (no service needed), with a secret key of the run's own: the
tests that write the raw archive's and the lake's copies on an object store, and look for the key in errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal

import pyarrow as pa
import pytest

from acorn_cli.loopback_s3 import LoopbackS3, loopback_s3
from lake.store import LakeStore

SECRET_KEY = f"sk-{uuid.uuid4().hex}"
# A small lake dataset's schema for the lake store's tests: an account, an id and an exact amount.
PARTITION_SCHEMA = pa.schema(
    [("account_id", pa.string()), ("id", pa.string()), ("amount", pa.decimal128(18, 2))]
)


def module_server(request: pytest.FixtureRequest) -> Iterator[LoopbackS3]:
    """The server for one test module (a module-scoped fixture), with a bucket named after the module."""
    pytest.importorskip("moto")
    bucket = "acorn-" + request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-")
    with loopback_s3(bucket[:63], SECRET_KEY) as server:
        yield server


def store_env(server: LoopbackS3, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The scale-out variables, a prefix of the bucket per test, set in this process's environment (the lake's
    writers read them there) and returned."""
    variables = server.env(f"t-{uuid.uuid4().hex[:8]}")
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return variables


def lake_store(env: dict[str, str]) -> LakeStore:
    """The lake's store those variables configure."""
    store = LakeStore.from_env(env)
    assert store is not None
    return store


def partition_table(*rows: tuple[str, str, str]) -> pa.Table:
    """Rows (account, id, amount as text) of PARTITION_SCHEMA."""
    return pa.Table.from_pylist(
        [{"account_id": a, "id": i, "amount": Decimal(m)} for a, i, m in rows], schema=PARTITION_SCHEMA
    )
