"""moto's S3 server on loopback for a test module (no service needed), with a secret key of the run's own: the
tests that write the raw archive's and the lake's copies on an object store, and look for the key in errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from acorn_cli.loopback_s3 import LoopbackS3, loopback_s3

SECRET_KEY = f"sk-{uuid.uuid4().hex}"


def module_server(request: pytest.FixtureRequest) -> Iterator[LoopbackS3]:
    """The server for one test module (a module-scoped fixture), with a bucket named after the module."""
    pytest.importorskip("moto")
    bucket = "acorn-" + request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-")
    with loopback_s3(bucket[:63], SECRET_KEY) as server:
        yield server
