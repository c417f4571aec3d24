"""Concurrent commits to one DuckLake table (orchestration/warehouse_catalog.py) against the machine's
PostgreSQL: a delete+insert that conflicts with another writer's commit is retried (bounded, logged) and the table
ends with each key once; the last published build is what readers attach at. Marker `cluster` (needs PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from postgres_server import fresh_database

from orchestration.warehouse_catalog import (
    PUBLISHED_MESSAGE,
    DuckLakeWarehouse,
    NoPublishedBuild,
    configured_warehouse,
    ducklake_connection,
    open_catalog,
    published_build,
    retry_on_conflict,
)

pytestmark = pytest.mark.cluster


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[DuckLakeWarehouse]:
    with fresh_database("catalog-test-password") as url:
        env = {"ACORN_WAREHOUSE_CATALOG_URL": url, "ACORN_OBJECT_STORE_URL": str(tmp_path / "store")}
        warehouse = configured_warehouse(tmp_path / "warehouse.duckdb", env)
        assert warehouse is not None
        yield warehouse


def test_a_conflicting_delete_insert_is_retried_and_each_key_stays_once(catalog: DuckLakeWarehouse) -> None:
    with ducklake_connection(catalog) as setup:
        setup.execute("create schema marts")
        setup.execute("create table marts.balances (account_id varchar, amount decimal(18, 2))")
        setup.execute("insert into marts.balances values ('a', 1.00), ('b', 2.00)")
    first = open_catalog(catalog)
    second = open_catalog(catalog)
    logged: list[str] = []
    attempts = 0

    def replace_a(connection: duckdb.DuckDBPyConnection, amount: str) -> None:
        connection.execute("begin")
        connection.execute("delete from marts.balances where account_id = 'a'")
        connection.execute(f"insert into marts.balances values ('a', {amount})")

    def second_writer() -> None:
        nonlocal attempts
        attempts += 1
        replace_a(second, "30.25")
        if attempts == 1:  # another writer replaces the same rows and commits first
            replace_a(first, "10.10")
            first.execute("commit")
        second.execute("commit")

    try:
        retry_on_conflict(second_writer, what="replacing account a", log=logged.append)
    finally:
        first.close()
        second.close()
    assert attempts == 2, logged
    assert len(logged) == 1 and "replacing account a: commit conflicted" in logged[0]
    with ducklake_connection(catalog, read_only=True) as reader:
        rows = reader.execute("select account_id, amount from marts.balances order by 1").fetchall()
    assert [(account, str(amount)) for account, amount in rows] == [("a", "30.25"), ("b", "2.00")]


def test_readers_attach_at_the_last_published_build(catalog: DuckLakeWarehouse) -> None:
    with ducklake_connection(catalog) as writer:
        writer.execute("create schema acorn_meta")
        writer.execute(
            "create table acorn_meta.builds (run_id varchar, published_at timestamptz, record varchar)"
        )
        writer.execute("create schema marts")
        writer.execute("create table marts.payouts as select 1 as id")
    with pytest.raises(NoPublishedBuild, match="No build is published"):
        published_build(catalog)
    with ducklake_connection(catalog) as writer:
        writer.execute("begin")
        writer.execute("insert into acorn_meta.builds values ('run-1', now(), null)")
        writer.execute("call warehouse.set_commit_message('acorn', ?)", [PUBLISHED_MESSAGE])
        writer.execute("commit")
        writer.execute("insert into marts.payouts values (2)")  # a build in progress, not published
    assert published_build(catalog).run_id == "run-1"
    with ducklake_connection(catalog, published=True) as reader:
        assert reader.execute("select id from marts.payouts").fetchall() == [(1,)]
        with pytest.raises(duckdb.Error, match="read-only"):
            reader.execute("insert into marts.payouts values (3)")
    with ducklake_connection(catalog, read_only=True) as head:
        assert sorted(head.execute("select id from marts.payouts").fetchall()) == [(1,), (2,)]
