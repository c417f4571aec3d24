"""An S3 API on loopback for the scale-out proof (`make demo-cluster`) and its tests: moto's server (a dev
dependency) in a thread of this process, with one empty bucket, and the variables that point ACORN at it.

One module for the demo and every test that needs an object store (tests/e2e/test_ducklake_warehouse.py,
tests/transforms/test_archive_object_store.py), so they start it and name the variables the same way.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

REGION = "us-east-1"
ACCESS_KEY_ID = "acorn-test"


class LoopbackS3Unavailable(RuntimeError):
    """moto is not installed (it is a dev dependency) or its server did not start."""


@dataclass(frozen=True)
class LoopbackS3:
    endpoint_url: str
    bucket: str
    secret_key: str = field(repr=False)

    def env(self, prefix: str) -> dict[str, str]:
        """The variables that put ACORN's object store (the DuckLake warehouse's data and the raw archive's copy)
        under s3://<bucket>/<prefix> on this server."""
        return {
            "ACORN_OBJECT_STORE_URL": f"s3://{self.bucket}/{prefix.strip('/')}",
            "ACORN_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": REGION,
        }


@contextlib.contextmanager
def loopback_s3(bucket: str, secret_key: str) -> Iterator[LoopbackS3]:
    """moto's S3 server on 127.0.0.1 (a free port) with `bucket` created; stopped on exit."""
    try:
        from moto.server import ThreadedMotoServer
        from pyarrow import fs
    except ImportError as error:
        raise LoopbackS3Unavailable(
            f"moto's S3 server needs the dev dependencies (make install): {error}"
        ) from None
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per S3 request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        fs.S3FileSystem(
            access_key=ACCESS_KEY_ID,
            secret_key=secret_key,
            region=REGION,
            endpoint_override=f"{host}:{port}",
            scheme="http",
            allow_bucket_creation=True,
        ).create_dir(bucket)
        yield LoopbackS3(endpoint, bucket, secret_key)
    finally:
        server.stop()
