"""orchestration/published_warehouse.py's `shared_reads`: within the block the readers of one published file share
one read-only DuckDB database; a build published meanwhile is read as the new file; a publish inside the block
(its lock guards are readers of their own) still works; nothing stays open after the block."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from warehouse_processes import Process

from orchestration import published_warehouse
from orchestration.outcomes import WarehouseLocked
from orchestration.published_warehouse import read_only, shared_reads
from orchestration.warehouse.publish import build_and_publish

COUNT_SQL = "select count(*) from marts.payouts"


def _build(warehouse: Path, rows: int) -> None:
    with build_and_publish(warehouse) as building, duckdb.connect(str(building.path)) as connection:
        connection.execute(
            "create schema if not exists marts; "
            f"create or replace table marts.payouts as select range as payout_id from range({rows})"
        )


def _count(warehouse: Path) -> int:
    with read_only(warehouse) as connection:
        return connection.execute(COUNT_SQL).fetchone()[0]  # type: ignore[index,no-any-return]


def test_readers_share_one_database_and_see_a_new_build(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    _build(warehouse, 3)
    with shared_reads():
        assert _count(warehouse) == 3
        [first] = published_warehouse._SHARED.values()
        with read_only(warehouse) as connection:
            assert connection.execute("select current_setting('TimeZone')").fetchone() == ("UTC",)
            assert _count(warehouse) == 3  # two readers at once, one database
        assert list(published_warehouse._SHARED.values()) == [first]
        _build(warehouse, 5)  # published inside the block: the publish's own readers, then a new file
        assert _count(warehouse) == 5
        [second] = published_warehouse._SHARED.values()
        assert second is not first
    assert published_warehouse._SHARED == {}
    # Nothing holds the file after the block: a program may open it read-write again.
    with duckdb.connect(str(warehouse)) as connection:
        assert connection.execute(COUNT_SQL).fetchone() == (5,)


def test_outside_the_block_each_reader_has_its_own(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    _build(warehouse, 2)
    assert _count(warehouse) == 2
    assert published_warehouse._SHARED == {}


def test_a_file_held_read_write_is_still_reported(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    _build(warehouse, 2)
    # DuckDB's lock is per process: the writer is another process.
    holder = Process("read-write", str(warehouse))
    try:
        holder.expect("connected")
        with shared_reads(), pytest.raises(WarehouseLocked):
            _count(warehouse)
        assert published_warehouse._SHARED == {}
    finally:
        assert holder.finish() == 0
