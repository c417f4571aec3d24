"""The warehouse as a DuckLake catalog (scale-out), chosen by configuration: its catalog in PostgreSQL, its data in
S3-compatible object storage (or a folder); see README "Scale-out".

Embedded (the default) keeps the one DuckDB file `data/warehouse.duckdb`. When `ACORN_WAREHOUSE_CATALOG_URL` is
set, every build writes and every reader reads the DuckLake catalog instead, through the same configuration:

- `ACORN_WAREHOUSE_CATALOG_URL`: `postgresql://USER:PASSWORD@HOST:5432/DATABASE`, the catalog's database (it must
  exist; DuckLake creates its tables on the first build);
- `ACORN_OBJECT_STORE_URL`: where the catalog's Parquet files go on its first build, `s3://bucket/prefix` (the
  warehouse's files under `<prefix>/warehouse/`) or a folder; unset, a folder beside the warehouse file. The
  catalog remembers it: later builds and readers need not set it, only the S3 credentials to read it;
- `ACORN_S3_ENDPOINT_URL`: an S3-compatible endpoint other than AWS's (MinIO, moto, Ceph), e.g.
  `http://127.0.0.1:9000`; path-style addressing is used with it;
- `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` (or `AWS_DEFAULT_REGION`): the
  object store's credentials, the standard variables.

Secrets never reach a command line, a log or a message: they go into DuckDB secrets inside the process that
connects (never into the ATTACH string, which DuckDB's errors repeat), messages show URLs with `***` for the
password, and errors are scrubbed of every secret (`scrubbed`).

DuckDB's extensions come from the wheels the install brings (duckdb-extension-ducklake, -postgres, -httpfs),
linked into an extension folder inside the venv; automatic installs are off, so no process downloads one.

A build publishes by committing a marker row with the commit message `PUBLISHED_MESSAGE` once dbt has succeeded
(orchestration/warehouse/ducklake_publish.py); readers attach read-only at that snapshot, so they never see a
half-finished build, and hold no lock anyone else waits for.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

import duckdb

from lake.object_store import duckdb_s3_secret_sql, object_store_settings
from orchestration.outcomes import CouldNotRun
from orchestration.paths import CATALOG_URL_VAR
from orchestration.shown_urls import redacted as shown_url
from orchestration.shown_urls import scrubbed as scrub
from orchestration.shown_urls import url_secrets

# The name the catalog is attached under, in builds (dbt's `database`) and for readers (`use warehouse`).
ALIAS = "warehouse"
# The DuckDB secrets a connection creates (temporary: in that process's memory only).
CATALOG_SECRET = "acorn_warehouse_catalog"
LAKE_SECRET = "acorn_warehouse"
OBJECT_STORE_SECRET = "acorn_object_store"
# The schema and table of the publish marker, and the commit message of a published build's snapshot.
BUILDS_TABLE = "acorn_meta.builds"
PUBLISHED_MESSAGE = "acorn build published"
EXTENSIONS = {"ducklake": "ducklake", "postgres": "postgres_scanner", "httpfs": "httpfs"}
CONNECT_TIMEOUT_SECONDS = 5


class WarehouseCatalogUnavailable(CouldNotRun):
    """The DuckLake catalog (or its object store) cannot be used; the message names the cause and the fix."""


class NoPublishedBuild(CouldNotRun):
    """The DuckLake catalog has no published build yet."""


def redacted(url: str) -> str:
    """`url` with its password (in the user part or as a `password=` parameter) replaced by ***."""
    return shown_url(url, CATALOG_URL_VAR)


@dataclass(frozen=True)
class DuckLakeWarehouse:
    """The configured DuckLake warehouse: its catalog URL (secret), data path and object store credentials."""

    catalog_url: str = field(repr=False)
    data_path: str | None
    s3_endpoint_url: str | None = None
    s3_credentials: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def shown(self) -> str:
        """Where the warehouse is, safe to print."""
        data = self.data_path or "the data path the catalog recorded"
        endpoint = f" at {self.s3_endpoint_url}" if self.s3_endpoint_url else ""
        return f"DuckLake catalog {redacted(self.catalog_url)} ({CATALOG_URL_VAR}), data in {data}{endpoint}"

    def secrets(self) -> list[str]:
        """Every string that must never be shown: the catalog URL, its password, the object store's keys."""
        found = url_secrets(self.catalog_url)
        found += [value for key, value in self.s3_credentials.items() if key != "region" and value]
        return sorted({secret for secret in found if len(secret) >= 3}, key=len, reverse=True)

    def scrubbed(self, text: str) -> str:
        return scrub(text, self.secrets())

    def secret_sql(self) -> list[str]:
        """The CREATE SECRET statements a connection runs before attaching (temporary: this process only)."""
        parts = urlsplit(self.catalog_url)
        # libpq takes the password from the user part or from a `password=` parameter; so does the secret.
        in_query = [value for key, value in parse_qsl(parts.query) if key.lower() == "password"]
        catalog = {
            "host": parts.hostname or "localhost",
            "port": str(parts.port or 5432),
            "database": unquote(parts.path.lstrip("/")),
            "user": unquote(parts.username or ""),
            "password": unquote(parts.password or "") or (in_query[0] if in_query else ""),
        }
        statements = [
            f"create or replace secret {CATALOG_SECRET} (type postgres, "
            + ", ".join(f"{key} {_literal(value)}" for key, value in catalog.items() if value)
            + ")"
        ]
        data_path = f", data_path {_literal(self.data_path)}" if self.data_path else ""
        statements.append(
            f"create or replace secret {LAKE_SECRET} (type ducklake, metadata_path ''{data_path}, "
            f"metadata_parameters map {{'TYPE': 'postgres', 'SECRET': '{CATALOG_SECRET}'}})"
        )
        s3_secret = duckdb_s3_secret_sql(self.s3_endpoint_url, self.s3_credentials, OBJECT_STORE_SECRET)
        if s3_secret is not None:
            statements.append(s3_secret)
        return statements


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def configured_warehouse(
    warehouse_file: Path | None = None, env: Mapping[str, str] | None = None
) -> DuckLakeWarehouse | None:
    """The DuckLake warehouse `env` (default: this process's environment) configures; None in embedded mode.

    `warehouse_file` is the embedded warehouse's path: with no object store configured, the catalog's data goes
    into a folder beside it (`warehouse.ducklake.files/`)."""
    env = os.environ if env is None else env
    url = (env.get(CATALOG_URL_VAR) or "").strip()
    if not url:
        return None
    if urlsplit(url).scheme not in ("postgresql", "postgres"):
        raise WarehouseCatalogUnavailable(
            f"{CATALOG_URL_VAR} must be a PostgreSQL URL, postgresql://USER:PASSWORD@HOST:5432/DATABASE; it is "
            f"{redacted(url)!r}. Fix the variable, or unset it to use the embedded warehouse file."
        )
    object_store = object_store_settings(env)
    store = object_store.url
    if object_store.is_s3:
        data_path: str | None = store.rstrip("/") + "/warehouse/"
    elif store:
        data_path = str(Path(store).resolve() / "warehouse") + "/"
    elif warehouse_file is not None:
        data_path = str(warehouse_file.resolve().with_name(warehouse_file.name + ".ducklake.files")) + "/"
    else:
        data_path = None
    return DuckLakeWarehouse(
        catalog_url=url,
        data_path=data_path,
        s3_endpoint_url=object_store.endpoint_url,
        s3_credentials=dict(object_store.credentials),
    )


def extension_directory() -> Path:
    """A DuckDB extension folder holding the extension wheels' files (links), so DuckDB loads them from the
    install and never downloads one. Inside the venv (or, where the venv is read-only, a folder of this user's
    in the temporary directory); created on first use, idempotent and safe concurrently."""
    for root in (
        Path(sys.prefix) / "share" / "acorn" / "duckdb-extensions",
        Path(tempfile.gettempdir()) / f"acorn-duckdb-extensions-{os.getuid()}",
    ):
        try:
            _link_extensions(root)
            return root
        except PermissionError:
            continue
    raise WarehouseCatalogUnavailable(
        f"no writable folder for DuckDB's extension links (tried {sys.prefix}/share/acorn and the temporary "
        "directory). Fix: make one of them writable for this user."
    )


def _link_extensions(root: Path) -> None:
    version = "v" + duckdb.__version__
    [(platform,)] = duckdb.execute("pragma platform").fetchall()
    folder = root / version / platform
    for package, name in EXTENSIONS.items():
        target = folder / f"{name}.duckdb_extension"
        if target.exists():
            continue
        spec = importlib.util.find_spec(f"duckdb_extension_{package}")
        if spec is None or spec.origin is None:
            raise WarehouseCatalogUnavailable(
                f"DuckDB's {package} extension is not installed (package duckdb-extension-{package}), which the "
                "DuckLake warehouse needs. Fix: `make install` (uv sync) in the ACORN checkout."
            )
        found = sorted(Path(spec.origin).parent.glob(f"extensions/{version}/{package}.duckdb_extension"))
        if not found:
            raise WarehouseCatalogUnavailable(
                f"the installed duckdb-extension-{package} is not built for DuckDB {duckdb.__version__} (an extension "
                "loads only into its own DuckDB release). Fix: `make install`, which installs matching versions."
            )
        source = found[0]
        folder.mkdir(parents=True, exist_ok=True)
        link = folder / f".{name}.{os.getpid()}.tmp"
        link.unlink(missing_ok=True)
        link.symlink_to(source)
        os.replace(link, target)


def connection_config() -> dict[str, str | bool]:
    """DuckDB settings a DuckLake connection needs from its start (dbt: `config_options`): extensions from the
    install, never downloaded."""
    return {
        "extension_directory": str(extension_directory()),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": True,
    }


def attach_sql(*, alias: str = ALIAS, read_only: bool = False, snapshot: int | None = None) -> str:
    options = (["read_only"] if read_only else []) + ([f"snapshot_version {snapshot}"] if snapshot else [])
    return f"attach 'ducklake:{LAKE_SECRET}' as {alias}" + (f" ({', '.join(options)})" if options else "")


def _unavailable(warehouse: DuckLakeWarehouse, error: Exception) -> WarehouseCatalogUnavailable:
    return WarehouseCatalogUnavailable(
        f"the warehouse's {warehouse.shown} cannot be used: {warehouse.scrubbed(str(error))}. Fix: check that "
        f"PostgreSQL answers at that URL and the database exists, and that the object store's endpoint and AWS_* "
        f"credentials are right; or unset {CATALOG_URL_VAR} to use the embedded warehouse file."
    )


def open_catalog(
    warehouse: DuckLakeWarehouse,
    *,
    read_only: bool = False,
    snapshot: int | None = None,
    config: Mapping[str, str | bool | int | float | list[str]] | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the catalog attached as `warehouse` (at `snapshot`, read-only, when
    given) and in use; the caller closes it. Errors are `WarehouseCatalogUnavailable`, scrubbed of secrets."""
    connection = duckdb.connect(config={**connection_config(), **(config or {})})
    try:
        connection.execute("set TimeZone = 'UTC'")
        connection.execute("set enable_progress_bar = false")
        for statement in warehouse.secret_sql():
            connection.execute(statement)
        connection.execute(attach_sql(read_only=read_only or snapshot is not None, snapshot=snapshot))
        connection.execute(f"use {ALIAS}")
    except duckdb.Error as error:
        connection.close()
        raise _unavailable(warehouse, error) from None
    except BaseException:
        connection.close()
        raise
    return connection


@dataclass(frozen=True)
class PublishedBuild:
    """The last published build: its snapshot, run and time."""

    snapshot: int
    run_id: str | None
    published_at: datetime | None


def published_build(warehouse: DuckLakeWarehouse) -> PublishedBuild:
    """The catalog's last published build; `NoPublishedBuild` when there is none yet."""
    connection = open_catalog(warehouse, read_only=True)
    try:
        snapshot = published_snapshot(connection)
        if snapshot is None:
            raise _no_published_build(warehouse)
        rows = connection.execute(
            f"select run_id, published_at from {BUILDS_TABLE} at (version => ?) "
            "order by published_at desc limit 1",
            [snapshot],
        ).fetchall()
    except duckdb.Error as error:
        raise _unavailable(warehouse, error) from None
    finally:
        connection.close()
    run_id, published_at = rows[0] if rows else (None, None)
    return PublishedBuild(snapshot, run_id, published_at)


def _no_published_build(warehouse: DuckLakeWarehouse) -> NoPublishedBuild:
    return NoPublishedBuild(
        f"No build is published in the warehouse's {warehouse.shown} yet: run `acorn build` (or `acorn run`) "
        "with this configuration first."
    )


@contextlib.contextmanager
def ducklake_connection(
    warehouse: DuckLakeWarehouse,
    *,
    read_only: bool = False,
    published: bool = False,
    memory_limit: str | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB connection with the catalog attached as `warehouse` and in use.

    `published=True` (readers): read-only at the last published build's snapshot (`NoPublishedBuild` when there
    is none); otherwise at the catalog's head. Errors are `WarehouseCatalogUnavailable`, scrubbed of secrets."""
    with tempfile.TemporaryDirectory(prefix="acorn-duckdb-spill-") as spill:
        config: dict[str, str | bool | int | float | list[str]] = {"temp_directory": spill}
        if memory_limit:
            config["memory_limit"] = memory_limit
        snapshot = published_build(warehouse).snapshot if published else None
        connection = open_catalog(warehouse, read_only=read_only, snapshot=snapshot, config=config)
        try:
            yield connection
        finally:
            connection.close()


def published_snapshot(connection: duckdb.DuckDBPyConnection, alias: str = ALIAS) -> int | None:
    """The snapshot of the last published build in the catalog attached as `alias`, or None."""
    [(snapshot,)] = connection.execute(
        f"select max(snapshot_id) from ducklake_snapshots('{alias}') where commit_message = ?",
        [PUBLISHED_MESSAGE],
    ).fetchall()
    return None if snapshot is None else int(snapshot)


T = TypeVar("T")
CONFLICT_ATTEMPTS = 5


def is_conflict(error: Exception) -> bool:
    """Whether DuckLake refused a commit because another transaction committed a conflicting change first."""
    return isinstance(error, duckdb.TransactionException) or "conflict" in str(error).lower()


def retry_on_conflict(
    attempt: Callable[[], T], *, what: str, log: Callable[[str], None], attempts: int = CONFLICT_ATTEMPTS
) -> T:
    """Run `attempt` (one transaction); when a concurrent commit conflicts with it, run it again, up to
    `attempts` times with a growing pause, logging each retry. The last conflict is raised."""
    for number in range(1, attempts + 1):
        try:
            return attempt()
        except duckdb.Error as error:
            if not is_conflict(error) or number == attempts:
                raise
            log(
                f"{what}: commit conflicted with a concurrent writer (attempt {number} of {attempts}); retrying"
            )
            time.sleep(0.1 * 2**number)
    raise AssertionError("unreachable")


def catalog_status(warehouse: DuckLakeWarehouse) -> str:
    """What `acorn doctor` says of a reachable catalog: its last published build (run, time, snapshot), or that
    none is published yet. Raises `WarehouseCatalogUnavailable` (scrubbed) when it cannot be attached."""
    try:
        build = published_build(warehouse)
    except NoPublishedBuild:
        return "reachable, no build published yet (the next `acorn build` creates it)"
    when = f"{build.published_at:%Y-%m-%d %H:%M:%S %Z}" if build.published_at else "?"
    return f"last build published by run {build.run_id} at {when} (snapshot {build.snapshot})"
