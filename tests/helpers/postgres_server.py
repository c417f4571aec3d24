"""The machine's PostgreSQL for the scale-out tests (README "Scale-out"): 127.0.0.1:5432, trust auth, a database
`test` to connect to. `fresh_database` creates a database of its own for the caller and drops it afterwards, so
parallel test runs never meet. Outside CI a machine with no such server skips the caller, saying why; in CI
(CI=true) the missing server fails it."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest

SERVER = "127.0.0.1:5432"


@contextlib.contextmanager
def fresh_database(password: str | None = None) -> Iterator[str]:
    """A new, empty database; its URL (with `password`, which trust auth ignores, when given)."""
    psycopg2 = pytest.importorskip("psycopg2")
    name = f"acorn_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg2.connect(f"postgresql://postgres@{SERVER}/test", connect_timeout=3)
    except psycopg2.OperationalError as error:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"no PostgreSQL on {SERVER} with a database `test` (trust auth): {error}")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'create database "{name}"')
    user = "postgres" if password is None else f"postgres:{password}"
    try:
        yield f"postgresql://{user}@{SERVER}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'drop database if exists "{name}" with (force)')
        admin.close()
