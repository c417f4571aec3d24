"""orchestration/warehouse/publish.py with real DuckDB files and real processes (DuckDB's locks are per process).

A reader holding the warehouse open read-only keeps the previous build while a new one is published, and sees
the new one once it reconnects; a second writer is refused at once with `WarehouseLocked` naming the holder; a
program holding the file read-write is reported with DuckDB's own message; a failed build leaves the published
file untouched; a killed build's copy is removed by the next build; a stale WAL is never replayed onto a new build.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from warehouse_processes import Process

from orchestration.outcomes import WarehouseLocked
from orchestration.warehouse.publish import (
    build_and_publish,
    building_copies,
    lock_path,
    read_lock_holder,
    wal_path,
)

COUNT_SQL = "select count(*) from marts.payouts"


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in started:
        process.stop()


def _start(processes: list[Process], *args: str) -> Process:
    process = Process(*args)
    processes.append(process)
    return process


def _payouts(rows: int) -> str:
    return (
        "create schema if not exists marts; "
        f"create or replace table marts.payouts as select range as payout_id from range({rows})"
    )


def _build(warehouse: Path, sql: str) -> None:
    with build_and_publish(warehouse) as building, duckdb.connect(str(building.path)) as connection:
        connection.execute(sql)


def _count(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(COUNT_SQL).fetchone()[0]  # type: ignore[index,no-any-return]


def test_a_reader_keeps_the_previous_build_until_it_reconnects(
    tmp_path: Path, processes: list[Process]
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    _build(warehouse, _payouts(3))
    reader = _start(processes, "reader", str(warehouse), COUNT_SQL)
    assert reader.expect("connected")["value"] == 3
    # What a build writing the published file in place runs into while the reader is connected:
    with pytest.raises(duckdb.IOException, match=f"Could not set lock.*PID {reader.pid}"):
        duckdb.connect(str(warehouse))

    with build_and_publish(warehouse) as building, duckdb.connect(str(building.path)) as connection:
        # The copy starts from the published build (incremental models keep their state).
        assert connection.execute(COUNT_SQL).fetchone() == (3,)
        connection.execute("insert into marts.payouts select range from range(100, 102)")
        assert reader.ask("query") == 3  # half-way through the build, still the previous one
    assert reader.ask("query") == 3  # its open connection keeps the previous build
    assert reader.ask("reconnect") == 5  # a new connection sees the new build
    assert _count(warehouse) == 5
    assert building_copies(warehouse) == []
    assert not wal_path(warehouse).exists()
    assert reader.finish() == 0


def test_a_second_writer_gets_warehouse_locked_naming_the_holder(
    tmp_path: Path, processes: list[Process]
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    _build(warehouse, _payouts(3))
    holder = _start(processes, "build", str(warehouse), "run-of-the-holder", _payouts(4))
    holder_copy = Path(holder.expect("holding")["copy"])

    with pytest.raises(WarehouseLocked) as refused, build_and_publish(warehouse):
        pytest.fail("a second writer got the warehouse while another build held it")
    message = str(refused.value)
    assert f"pid {holder.pid}" in message
    assert "warehouse_processes.py build" in message  # the holder's command line
    assert "since 20" in message and "run-of-the-holder" in message
    assert "Wait for it to finish" in message and f"kill {holder.pid}" in message
    assert read_lock_holder(warehouse).pid == holder.pid
    # The refused writer touched nothing: the holder's copy is still there, the published build unchanged.
    assert holder_copy.exists()
    assert _count(warehouse) == 3

    assert holder.finish("publish") == 0
    assert _count(warehouse) == 4
    assert lock_path(warehouse).read_text() == ""  # released: nobody named any more
    _build(warehouse, _payouts(5))  # the lock is free again
    assert _count(warehouse) == 5


def test_a_program_holding_the_warehouse_read_write_is_named_with_duckdbs_message(
    tmp_path: Path, processes: list[Process]
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    _build(warehouse, _payouts(3))
    shell = _start(processes, "read-write", str(warehouse))
    shell.expect("connected")
    with pytest.raises(WarehouseLocked, match=f"open read-write.*Conflicting lock.*PID {shell.pid}"):
        _build(warehouse, _payouts(4))
    assert building_copies(warehouse) == []
    assert shell.finish() == 0
    assert _count(warehouse) == 3

    # A program that opens it read-write while a build runs: the build refuses to publish over its writes.
    with pytest.raises(WarehouseLocked, match=r"PID \d+"), build_and_publish(warehouse) as building:
        with duckdb.connect(str(building.path)) as connection:
            connection.execute(_payouts(6))
        shell = _start(processes, "read-write", str(warehouse))
        shell.expect("connected")
    assert building_copies(warehouse) == []
    assert shell.finish() == 0
    assert _count(warehouse) == 3
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        assert connection.execute("select count(*) from held").fetchone() == (2,)  # its writes are kept


def test_a_failed_build_leaves_the_published_file_untouched(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    _build(warehouse, _payouts(3))
    before = warehouse.read_bytes(), warehouse.stat().st_ino

    with pytest.raises(RuntimeError, match="dbt failed"), build_and_publish(warehouse) as building:
        with duckdb.connect(str(building.path)) as connection:
            connection.execute("drop table marts.payouts")
        raise RuntimeError("dbt failed")

    assert (warehouse.read_bytes(), warehouse.stat().st_ino) == before
    assert building_copies(warehouse) == []
    assert _count(warehouse) == 3


def test_a_killed_builds_copy_is_removed_by_the_next_build(tmp_path: Path, processes: list[Process]) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    _build(warehouse, _payouts(3))
    killed = _start(processes, "build", str(warehouse), "run-killed", _payouts(1000))
    leftover = Path(killed.expect("holding")["copy"])
    killed.popen.send_signal(signal.SIGKILL)
    killed.popen.wait(timeout=60)
    assert leftover in building_copies(warehouse)
    assert _count(warehouse) == 3  # the killed build published nothing

    _build(warehouse, "insert into marts.payouts values (7)")  # the kernel dropped the killed build's lock
    assert building_copies(warehouse) == []
    assert _count(warehouse) == 4


def test_a_stale_wal_is_folded_into_the_next_build_and_never_replayed(
    tmp_path: Path, processes: list[Process]
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    _build(warehouse, _payouts(3))
    # A program killed while it had the file open read-write leaves its last writes in warehouse.duckdb.wal.
    shell = _start(processes, "read-write", str(warehouse))
    shell.expect("connected")
    shell.popen.send_signal(signal.SIGKILL)
    shell.popen.wait(timeout=60)
    assert wal_path(warehouse).exists()

    _build(warehouse, "insert into marts.payouts values (7)")
    assert not wal_path(warehouse).exists()
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        assert connection.execute(COUNT_SQL).fetchone() == (4,)
        assert connection.execute("select count(*) from held").fetchone() == (1,)  # once, not replayed again
    _build(warehouse, "insert into marts.payouts values (8)")
    assert _count(warehouse) == 5
