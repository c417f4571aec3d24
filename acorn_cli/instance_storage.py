"""Where the Dagster instance keeps its runs, event logs and schedules: SQLite files in DAGSTER_HOME (embedded, the
default) or PostgreSQL (scale-out, when ACORN_DAGSTER_POSTGRES_URL is set); see README, "Scale-out".

The URL carries the database's credentials, so it is never shown as given: the `dagster.yaml` that `acorn` writes
names only the variable (`env: ACORN_DAGSTER_POSTGRES_URL`, read by Dagster when it opens the instance), and every
message here shows the URL with its password replaced (`redacted`) and any error text scrubbed of it (`scrubbed`).

Before a command opens an instance on PostgreSQL, `probe` connects once with a short timeout: an unreachable
server, a refused login or a missing database is then one line naming the cause and the fix, exit 3 ("could not
run"), rather than dagster-postgres's retries and a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import click

from orchestration.outcomes import ExitCode
from orchestration.shown_urls import redacted as shown_url
from orchestration.shown_urls import scrubbed as scrub
from orchestration.shown_urls import url_secrets

POSTGRES_URL_VAR = "ACORN_DAGSTER_POSTGRES_URL"
CONNECT_TIMEOUT_SECONDS = 5
URL_SHAPE = "postgresql://USER:PASSWORD@HOST:5432/DATABASE"


@dataclass(frozen=True)
class InstanceStorage:
    """The instance's storage as configured: `kind` 'sqlite' (in `home`) or 'postgres' (at `url`, secret)."""

    kind: str
    home: Path
    url: str | None = None

    @property
    def shown(self) -> str:
        """Where the storage is, safe to print."""
        if self.url is None:
            return f"SQLite in {self.home}"
        return f"PostgreSQL at {redacted(self.url)} ({POSTGRES_URL_VAR})"


def instance_storage(env: Mapping[str, str] | None = None) -> InstanceStorage:
    """The storage that `env` (default: this process's environment) selects."""
    env = os.environ if env is None else env
    home = Path(env.get("DAGSTER_HOME") or ".dagster_home")
    url = (env.get(POSTGRES_URL_VAR) or "").strip()
    return InstanceStorage("postgres", home, url) if url else InstanceStorage("sqlite", home)


def redacted(url: str) -> str:
    """`url` with its password (in the user part or as a `password=` parameter) replaced by ***."""
    return shown_url(url, POSTGRES_URL_VAR)


def scrubbed(text: str, url: str | None) -> str:
    """`text` (an error message) with the URL and its password masked."""
    return scrub(text, url_secrets(url)) if url else text


class InstanceUnavailable(click.ClickException):
    """The instance's PostgreSQL cannot be used: `acorn` says why and how to fix it, and exits 3."""

    exit_code = int(ExitCode.COULD_NOT_RUN)

    def __init__(self, storage: InstanceStorage, cause: str, fix: str) -> None:
        self.storage = storage
        self.cause = cause
        self.fix = fix
        super().__init__(f"the Dagster instance's {storage.shown} cannot be used: {cause}")

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"could not run: {self.message}\n  fix: {self.fix}", err=True)


@dataclass(frozen=True)
class ProbeResult:
    server: str  # e.g. "PostgreSQL 15.20"
    runs: int | None  # runs recorded; None when the instance's tables do not exist yet


def probe(storage: InstanceStorage, *, count_runs: bool = True) -> ProbeResult:
    """Connect once to the instance's PostgreSQL (short timeout) and read its version and (`count_runs`) the
    number of runs; raise InstanceUnavailable naming the cause and the fix. Creates nothing."""
    assert storage.url is not None
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    url = storage.url
    try:
        engine = sa.create_engine(
            url, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        )
        with engine.connect() as connection:
            version = str(connection.execute(sa.text("show server_version")).scalar())
            exists = connection.execute(sa.text("select to_regclass('runs') is not null")).scalar()
            counted = exists and count_runs
            runs = connection.execute(sa.text("select count(*) from runs")).scalar() if counted else None
        engine.dispose()
    except Exception as error:  # any failure to connect is reported, scrubbed, never raised raw
        cause = _cause(error)
        raise InstanceUnavailable(storage, scrubbed(cause, url), _fix(cause, storage)) from None
    return ProbeResult(f"PostgreSQL {version.split()[0]}", None if runs is None else int(runs))


def _cause(error: BaseException) -> str:
    """The driver's own words for `error` (psycopg2's message under SQLAlchemy's wrapper), on one line."""
    inner = getattr(error, "orig", None) or error
    text = " ".join(str(inner).split()) or type(inner).__name__
    return text.split(" (Background on this error at")[0]


def _fix(cause: str, storage: InstanceStorage) -> str:
    """What to do about `cause` (a driver message), for the storage at `storage.url`."""
    lowered = cause.lower()
    if urlsplit(storage.url or "").netloc.count("@") > 1:
        return f"percent-encode the password's @ as %40 (and : as %3A, / as %2F) in {POSTGRES_URL_VAR}"
    unset = f"or unset {POSTGRES_URL_VAR} to keep runs in SQLite under DAGSTER_HOME (the embedded mode)"
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return f"set the right user and password in {POSTGRES_URL_VAR} ({URL_SHAPE}), {unset}"
    if "database" in lowered and "does not exist" in lowered:
        database = urlsplit(storage.url or "").path.lstrip("/") or "DATABASE"
        return f"create the database (e.g. `createdb {database}` as a user allowed to), {unset}"
    if "role" in lowered and "does not exist" in lowered:
        return f"create that PostgreSQL role, or name an existing one in {POSTGRES_URL_VAR}, {unset}"
    if "can't load plugin" in lowered or "could not parse" in lowered or "invalid dsn" in lowered:
        return f"write {POSTGRES_URL_VAR} as {URL_SHAPE} (scheme postgresql://), {unset}"
    return (
        f"start PostgreSQL at the host and port of {POSTGRES_URL_VAR}, or correct them ({URL_SHAPE}), "
        f"then run `acorn doctor`; {unset}"
    )
