"""The warehouse's mode from configuration (orchestration/warehouse_catalog.py): embedded unless
ACORN_WAREHOUSE_CATALOG_URL is set; where the DuckLake catalog's data goes; secrets never shown; and the
extensions load from the installed wheels with automatic installs off. No service needed: the DuckLake build
itself is tested against PostgreSQL and an S3 server in tests/e2e/test_ducklake_warehouse.py (marker cluster)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.warehouse_catalog import (
    WarehouseCatalogUnavailable,
    configured_warehouse,
    connection_config,
    is_conflict,
    redacted,
    retry_on_conflict,
)

URL = "postgresql://acorn:p%40ss-w0rd-secret@db.example.internal:5433/acorn_wh"


def test_embedded_unless_a_catalog_url_is_set(tmp_path: Path) -> None:
    assert configured_warehouse(tmp_path / "warehouse.duckdb", {}) is None
    assert configured_warehouse(tmp_path / "warehouse.duckdb", {"ACORN_WAREHOUSE_CATALOG_URL": "  "}) is None


def test_data_path_from_the_object_store_url_else_beside_the_warehouse_file(tmp_path: Path) -> None:
    env = {"ACORN_WAREHOUSE_CATALOG_URL": URL}
    beside = configured_warehouse(tmp_path / "warehouse.duckdb", env)
    assert beside is not None and beside.data_path == f"{tmp_path}/warehouse.duckdb.ducklake.files/"
    s3 = configured_warehouse(
        tmp_path / "warehouse.duckdb",
        {
            **env,
            "ACORN_OBJECT_STORE_URL": "s3://bucket/acorn/",
            "ACORN_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        },
    )
    assert s3 is not None and s3.data_path == "s3://bucket/acorn/warehouse/"
    assert s3.shown.endswith("data in s3://bucket/acorn/warehouse/ at http://127.0.0.1:9000")


def test_secrets_are_masked_in_what_is_shown_and_in_errors(tmp_path: Path) -> None:
    env = {
        "ACORN_WAREHOUSE_CATALOG_URL": URL,
        "ACORN_OBJECT_STORE_URL": "s3://bucket/acorn",
        "AWS_ACCESS_KEY_ID": "AKIA-test-key-id",
        "AWS_SECRET_ACCESS_KEY": "aws-secret-access-key-value",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    warehouse = configured_warehouse(tmp_path / "warehouse.duckdb", env)
    assert warehouse is not None
    assert "postgresql://acorn:***@db.example.internal:5433/acorn_wh" in warehouse.shown
    assert "secret" not in warehouse.shown and "aws-secret" not in repr(warehouse)
    error = f"could not connect to {URL}: password p@ss-w0rd-secret refused; key aws-secret-access-key-value"
    scrubbed = warehouse.scrubbed(error)
    assert "w0rd" not in scrubbed and "aws-secret-access-key-value" not in scrubbed
    # The secrets go into DuckDB secrets (never into an ATTACH string DuckDB's errors repeat): decoded password,
    # keys and region.
    statements = "\n".join(warehouse.secret_sql())
    assert "password 'p@ss-w0rd-secret'" in statements and "port '5433'" in statements
    assert "secret 'aws-secret-access-key-value'" in statements and "region 'eu-west-1'" in statements


def test_a_catalog_url_that_is_not_postgresql_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(WarehouseCatalogUnavailable, match="must be a PostgreSQL URL") as raised:
        configured_warehouse(
            tmp_path / "w.duckdb", {"ACORN_WAREHOUSE_CATALOG_URL": "mysql://u:hunter22@h/db"}
        )
    assert "hunter22" not in str(raised.value)


def test_extensions_load_from_the_installed_wheels_without_downloading() -> None:
    with duckdb.connect(config=connection_config()) as connection:
        assert connection.execute("select current_setting('autoinstall_known_extensions')").fetchone() == (
            False,
        )
        for name in ("ducklake", "postgres_scanner", "httpfs"):
            connection.execute(f"load {name}")
        loaded = {
            name: path
            for name, path in connection.execute(
                "select extension_name, install_path from duckdb_extensions() where loaded"
            ).fetchall()
        }
    assert {"ducklake", "postgres_scanner", "httpfs"} <= loaded.keys()


def test_conflicting_commits_are_retried_a_bounded_number_of_times() -> None:
    attempts: list[int] = []
    logged: list[str] = []

    def conflicting() -> None:
        attempts.append(1)
        raise duckdb.TransactionException("Transaction conflict: cannot commit")

    with pytest.raises(duckdb.TransactionException):
        retry_on_conflict(conflicting, what="publishing", log=logged.append, attempts=3)
    assert len(attempts) == 3 and len(logged) == 2 and "attempt 1 of 3" in logged[0]
    assert is_conflict(duckdb.TransactionException("x")) and not is_conflict(duckdb.CatalogException("x"))

    def settles() -> str:
        attempts.append(1)
        if len(attempts) < 5:
            raise duckdb.TransactionException("Transaction conflict")
        return "committed"

    assert retry_on_conflict(settles, what="publishing", log=logged.append, attempts=3) == "committed"


def test_the_catalog_url_is_shown_without_its_password_wherever_it_is_given() -> None:
    assert redacted(URL) == "postgresql://acorn:***@db.example.internal:5433/acorn_wh"
    in_parameters = redacted("postgresql://acorn@db:5432/acorn_wh?sslmode=require&password=s3cr3t-catalog")
    assert "s3cr3t-catalog" not in in_parameters and "sslmode=require" in in_parameters


def test_a_password_given_as_a_parameter_is_used_and_never_shown(tmp_path: Path) -> None:
    url = "postgresql://acorn@db:5432/acorn_wh?sslmode=require&password=s3cr3t%40catalog"
    warehouse = configured_warehouse(tmp_path / "warehouse.duckdb", {"ACORN_WAREHOUSE_CATALOG_URL": url})
    assert warehouse is not None
    assert "password 's3cr3t@catalog'" in "\n".join(warehouse.secret_sql())
    error = f"connection to {url} failed: password s3cr3t@catalog (s3cr3t%40catalog) refused"
    scrubbed = warehouse.scrubbed(error)
    assert "s3cr3t" not in scrubbed and "refused" in scrubbed
