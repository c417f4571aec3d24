"""The warehouse copied ahead (orchestration/warehouse/precopy.py), with real files, real DuckDB and real processes:
the build takes the copy when the published file is the one copied, unchanged, and publishes what a build
without it publishes; otherwise it copies the file itself; a program holding the file read-write gets no copy
made and the build's `WarehouseLocked` as before; an unused copy is removed and its process reaped; a killed
command's copy is removed by the next build, a live command's is left to it; ACORN_WAREHOUSE_PRECOPY=0 stops it."""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import duckdb

from orchestration.paths import REPO_ROOT
from orchestration.warehouse.precopy import PRECOPY_INFIX, PRECOPY_SWITCH_ENV
from orchestration.warehouse.publish import build_and_publish, building_copies

# Runs in a process of its own: the fork needs a process with one thread (pytest's has more; DuckDB's import
# starts one, so the script imports it only after the fork).
SCRIPT = textwrap.dedent(
    """
    import hashlib, json, os, signal, sys
    from dataclasses import asdict
    from pathlib import Path
    from orchestration.warehouse import precopy
    from transforms import prestage

    warehouse, mode = Path(sys.argv[1]), sys.argv[2]
    ahead = precopy.start_precopy(warehouse)
    out = {"started": ahead is not None}
    if ahead is not None:
        out["copy_name"], out["pid"] = ahead.path.name, ahead.pid

    import duckdb
    from orchestration.outcomes import WarehouseLocked
    from orchestration.warehouse.publish import build_and_publish

    def digest(path):
        return hashlib.sha256(path.read_bytes()).hexdigest()

    if mode == "changed":  # the published file changes after the copy ahead was made
        ahead.wait()
        with duckdb.connect(str(warehouse)) as connection:
            connection.execute("insert into marts.payouts values (-1)")
    if mode == "refused":
        ahead.wait()
        out["report"] = ahead.report
    if mode == "sigterm":
        with prestage.unwinding_on_sigterm(precopy.stop_all):
            os.kill(os.getpid(), signal.SIGTERM)
            raise SystemExit("not ended by SIGTERM")
    if mode == "stop":
        out["held_while_running"] = ahead is not None and ahead.path.exists()
        precopy.stop_all()
    else:
        try:
            with build_and_publish(warehouse) as building:
                out["copy_is_the_published_file"] = digest(building.path) == digest(warehouse)
                out["timings"] = asdict(building.timings)
                out["describe"] = building.timings.describe_copy(warehouse.name)
                with duckdb.connect(str(building.path)) as connection:
                    connection.execute("insert into marts.payouts select max(payout_id) + 1 from marts.payouts")
        except WarehouseLocked as error:
            out["locked"] = str(error)
        precopy.stop_all()
    if ahead is not None:
        try:
            os.waitpid(out["pid"], os.WNOHANG)
            out["reaped"] = False
        except ChildProcessError:
            out["reaped"] = True
    out["files"] = sorted(path.name for path in warehouse.parent.iterdir())
    print(json.dumps(out))
    """
)

PAYOUTS_SQL = "select count(*), sum(payout_id) from marts.payouts"


def _warehouse(folder: Path, rows: int = 200_000) -> Path:
    """A published warehouse of a few MB (as a build published it: no WAL)."""
    folder.mkdir(parents=True, exist_ok=True)
    warehouse = folder / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create schema marts")
        connection.execute(f"create table marts.payouts as select range as payout_id from range({rows})")
    return warehouse


def _run(warehouse: Path, mode: str, *, returncode: int = 0, **env: str) -> Any:
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(warehouse), mode],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
        check=False,
    )
    assert completed.returncode == returncode, completed.stderr[-3000:]
    return json.loads(completed.stdout.splitlines()[-1]) if returncode == 0 else None


def _payouts(warehouse: Path) -> tuple[int, int]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(PAYOUTS_SQL).fetchone()  # type: ignore[return-value]


def test_the_copy_made_ahead_is_taken_and_publishes_what_a_build_without_it_does(tmp_path: Path) -> None:
    ahead = _warehouse(tmp_path / "ahead")
    plain = _warehouse(tmp_path / "plain")
    mode = ahead.stat().st_mode

    took = _run(ahead, "build")
    assert took["started"] and took["copy_name"].startswith("warehouse.duckdb" + PRECOPY_INFIX)
    assert took["timings"]["copied_ahead"] is True
    assert took["timings"]["copied_bytes"] == os.path.getsize(tmp_path / "plain" / "warehouse.duckdb")
    # The child wrote the copy to disk before it reported (not the build's first checkpoint), within its time.
    assert 0 < took["timings"]["sync_seconds"] <= took["timings"]["copy_seconds"]
    assert re.fullmatch(
        r"\d+ bytes copied from warehouse.duckdb ahead, while the command started, in \d+\.\d\d s "
        r"\(\d+\.\d\d s of it writing the copy to disk\); the build waited \d+\.\d\d s for it",
        took["describe"],
    )
    assert took["copy_is_the_published_file"] and took["reaped"]
    assert took["files"] == ["warehouse.duckdb", "warehouse.duckdb.lock"]  # nothing left beside it

    copied = _run(plain, "build", **{PRECOPY_SWITCH_ENV: "0"})
    assert not copied["started"]
    assert copied["timings"]["copied_ahead"] is False and copied["timings"]["ahead_unused"] is None
    assert "ahead" not in copied["describe"]
    assert _payouts(ahead) == _payouts(plain) == (200_001, sum(range(200_001)))
    assert ahead.stat().st_mode == plain.stat().st_mode == mode  # the mode a plain copy gets


def test_a_published_file_changed_after_the_copy_is_copied_again(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path)
    result = _run(warehouse, "changed")
    assert result["started"]
    assert result["timings"]["copied_ahead"] is False
    assert result["timings"]["ahead_unused"] == "the published file changed since"
    assert "the copy made ahead was not used (the published file changed since" in result["describe"]
    assert result["copy_is_the_published_file"] and result["reaped"]
    assert result["files"] == ["warehouse.duckdb", "warehouse.duckdb.lock"]
    # Built on the changed file: its row (-1) and the build's.
    assert _payouts(warehouse) == (200_002, sum(range(200_001)) - 1)


def test_a_read_write_holder_gets_no_copy_and_the_build_is_refused_as_before(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path)
    # `duckdb warehouse.duckdb` in a shell, nothing written yet (a write would leave a WAL: no copy either).
    holder = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('connected', flush=True); input()"
    shell = subprocess.Popen(
        [sys.executable, "-c", holder, str(warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert shell.stdout is not None and shell.stdout.readline() == "connected\n"
        assert not (tmp_path / "warehouse.duckdb.wal").exists()
        refused = _run(warehouse, "refused")
    finally:
        shell.communicate("\n", timeout=60)
    assert refused["report"] == {"refused": "a program had the published file open read-write"}
    assert f"PID {shell.pid}" in refused["locked"] and "open read-write" in refused["locked"]
    assert refused["reaped"]
    assert not [name for name in refused["files"] if PRECOPY_INFIX in name]
    assert shell.returncode == 0
    assert _payouts(warehouse) == (200_000, sum(range(200_000)))  # untouched


def test_an_unused_copy_is_removed_and_its_process_reaped(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path)
    result = _run(warehouse, "stop")
    assert result["started"] and result["held_while_running"] and result["reaped"]
    assert result["files"] == ["warehouse.duckdb"]


def test_sigterm_removes_the_copy_and_the_command_still_ends_by_it(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path)
    _run(warehouse, "sigterm", returncode=-signal.SIGTERM)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["warehouse.duckdb"]


def test_switched_off_or_without_a_published_file_nothing_is_started(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path)
    assert not _run(warehouse, "stop", **{PRECOPY_SWITCH_ENV: "0"})["started"]
    (tmp_path / "warehouse.duckdb.wal").write_bytes(b"")  # a WAL: the build copies it beside the file
    assert not _run(warehouse, "stop")["started"]
    (tmp_path / "warehouse.duckdb.wal").unlink()
    (tmp_path / "none").mkdir()
    assert not _run(tmp_path / "none" / "warehouse.duckdb", "stop")["started"]


def test_a_killed_commands_copy_is_removed_by_the_next_build_a_live_ones_is_not(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path, rows=10)
    killed = tmp_path / f"warehouse.duckdb{PRECOPY_INFIX}killed"  # nobody holds it: a leftover
    killed.write_bytes(b"half a copy")
    live = tmp_path / f"warehouse.duckdb{PRECOPY_INFIX}live"
    live.write_bytes(b"")
    held = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running `acorn build` holds its own
        with build_and_publish(warehouse) as building, duckdb.connect(str(building.path)) as connection:
            connection.execute("insert into marts.payouts values (10)")
        assert building_copies(warehouse) == [live]
    finally:
        os.close(held)
    with build_and_publish(warehouse):
        pass
    assert building_copies(warehouse) == []
    assert _payouts(warehouse) == (11, sum(range(11)))
