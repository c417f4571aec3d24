"""`acorn build` while an analyst holds the warehouse open read-only, and two `acorn build`s at once.

The reader (another process, `duckdb.connect(path, read_only=True)`) holds its connection for the whole of both
builds: the build that gets the writer lock builds and publishes anyway; the reader keeps seeing the previous
build on its open connection and sees the new one once it reconnects. The other build fails at once, and its
output names the holder (pid and command). To make "at once" certain rather than a matter of timing, the first
build is paused (SIGSTOP) as soon as its lock file names it, the second runs to its end, then the first resumes.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest
from acorn_process import SAMPLES, acorn, start_acorn
from warehouse_processes import Process

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("warehouse_readers")]

LINES_SQL = "select count(*) from marts.fct_settlement_lines"
LOCK_ERROR = "Could not set lock"


def _wait_for_lock_holder(lock: Path, pid: int, process: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        text = lock.read_text() if lock.exists() else ""
        if f'"pid": {pid}' in text:
            return text
        time.sleep(0.02)
    output = "".join(process.communicate(timeout=600)) if process.poll() is not None else "(still running)"
    raise AssertionError(f"build {pid} never took the writer lock (exit {process.poll()}): {output[-3000:]}")


def test_a_reader_never_blocks_the_build_and_a_second_build_names_the_first(
    tmp_path: Path,
) -> None:
    samples = sorted(SAMPLES.glob("*"))
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    first = acorn(tmp_path, "import", "--account", "demo-na", *map(str, samples[:2]))
    assert first.returncode == 0, first.stderr[-2000:]
    built = acorn(tmp_path, "build")
    assert LOCK_ERROR not in built.stdout + built.stderr
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        lines_before = connection.execute(LINES_SQL).fetchone()[0]  # type: ignore[index]
    assert lines_before > 0
    more = acorn(tmp_path, "import", "--account", "demo-na", *map(str, samples[2:]))
    assert more.returncode == 0, more.stderr[-2000:]

    reader = Process("reader", str(warehouse), LINES_SQL)
    holder = start_acorn(tmp_path, "build")
    try:
        assert reader.expect("connected")["value"] == lines_before
        _wait_for_lock_holder(warehouse.with_name("warehouse.duckdb.lock"), holder.pid, holder)
        holder.send_signal(signal.SIGSTOP)
        # Its own Dagster home, so that the paused build cannot hold up this one's run storage.
        second = acorn(tmp_path, "build", dagster_home="dagster_home_second")
        holder.send_signal(signal.SIGCONT)
        holder_out, holder_err = holder.communicate(timeout=600)
    finally:
        holder.send_signal(signal.SIGCONT)
        if holder.poll() is None:
            holder.kill()
        holder.wait()

    refused = second.stdout + second.stderr
    assert second.returncode == 3, refused[-3000:]  # could not run: the lock is held
    assert f"pid {holder.pid}" in refused, refused[-3000:]
    assert "acorn_cli.main build" in refused, refused[-3000:]
    assert "Wait for it to finish" in refused, refused[-3000:]

    # The build that held the lock built and published, although a reader held the file all along.
    output = holder_out + holder_err
    assert holder.returncode in (0, 1), output[-3000:]  # 1: a data check failed; never 3 (could not run)
    assert LOCK_ERROR not in output and "WarehouseLocked" not in output, output[-3000:]
    assert reader.ask("query") == lines_before  # the open connection still sees the previous build
    lines_after = reader.ask("reconnect")  # a new connection sees the new one
    assert lines_after > lines_before
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        assert connection.execute(LINES_SQL).fetchone() == (lines_after,)
    assert reader.finish() == 0
    assert not list(warehouse.parent.glob("warehouse.duckdb.building-*"))
