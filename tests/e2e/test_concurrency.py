"""Two `acorn` commands at once on one data dir and Dagster home, as real processes: each ends with the right
outcome and exit code (never a failure for data that landed, nor success for data that did not), and the lake
holds every file once.

Where the overlap matters, it is made certain rather than left to timing: the first command is stopped at a
named point through the test hook `ACORN_TEST_PAUSE_AT` (transforms/crash_points.py) while the second runs to
its end, then it is let go. Two first runs on a fresh Dagster home are started together (the race there is
inside the creation of the instance's storage). A build while an analyst holds the warehouse open read-only,
and a second build at once, follow the import during a build on its data dir (one test: its two builds are the
second phase's starting point, and dbt builds are what these tests cost).
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from acorn_process import SAMPLES, acorn, start_acorn
from data_state import settlement_line_counts
from pause_hook import pause_env, wait_until_paused
from warehouse_processes import Process

from bench.settlement_import import generate
from transforms.recovery import find_leftovers

ACCOUNT = "demo-na"
LINES = 20_000  # long enough for the Parquet write to be caught half done
IMPORT = ("import", "--json", "--account", ACCOUNT)
LINES_SQL = "select count(*) from marts.fct_settlement_lines"
LOCK_ERROR = "Could not set lock"

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("concurrency")]


def _stopped_at(workdir: Path, point: str, *args: str) -> tuple[subprocess.Popen[str], Path]:
    """Start `acorn ARGS` with the hook at `point` and wait until it stops there: (the process, its marker)."""
    workdir.mkdir(parents=True, exist_ok=True)
    marker = workdir / f"paused-{point}.json"
    process = start_acorn(workdir, *args, env=pause_env(point, marker))
    wait_until_paused(process, marker, point, timeout=300)
    return process, marker


def _let_go(process: subprocess.Popen[str], marker: Path) -> subprocess.CompletedProcess[str]:
    """Let a stopped command go on (its marker removed) to its end."""
    marker.unlink()
    out, err = process.communicate(timeout=600)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def _outcomes(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """An `acorn import --json` result: file name -> status."""
    return {Path(f["file"]).name: f["status"] for f in json.loads(result.stdout)["files"]}


def _imported_once(workdir: Path) -> list[str]:
    log = workdir / "data" / "lake" / "settlement_versions.jsonl"
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    return sorted(r["settlement_id"] for r in records if r.get("event") == "imported")


def _run_statuses(workdir: Path) -> dict[str, list[dg.DagsterRunStatus]]:
    """Per `acorn` command, the statuses of its runs (oldest first)."""
    with dg.DagsterInstance.from_config(str(workdir / "dagster_home")) as instance:
        statuses: dict[str, list[dg.DagsterRunStatus]] = {}
        for run in reversed(instance.get_runs()):
            statuses.setdefault(run.tags.get("acorn/command", "?"), []).append(run.status)
        return statuses


def _settlement(tmp_path: Path, name: str, settlement_id: str) -> Path:
    path = tmp_path / name
    generate(path, LINES, settlement_id)
    return path


def _assert_clean(workdir: Path) -> None:
    data = workdir / "data"
    assert find_leftovers(data) == []
    assert not (data / "staging").exists() or not list((data / "staging").iterdir())


def test_two_imports_of_different_files_at_once(tmp_path: Path) -> None:
    first = _settlement(tmp_path, "first.txt", "92000000001")
    second = _settlement(tmp_path, "second.txt", "92000000002")
    # The first stops with its lines' Parquet half written in the staging area.
    paused, marker = _stopped_at(tmp_path, "parquet", *IMPORT, str(first))
    other = acorn(tmp_path, *IMPORT, str(second))
    resumed = _let_go(paused, marker)

    assert other.returncode == 0, other.stderr[-3000:]
    assert _outcomes(other) == {"second.txt": "imported"}
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert _outcomes(resumed) == {"first.txt": "imported"}
    assert settlement_line_counts(tmp_path / "data") == {"92000000001": LINES, "92000000002": LINES}
    assert _imported_once(tmp_path) == ["92000000001", "92000000002"]
    assert _run_statuses(tmp_path) == {"import": [dg.DagsterRunStatus.SUCCESS] * 2}
    _assert_clean(tmp_path)


def test_two_imports_of_the_same_file_at_once(tmp_path: Path) -> None:
    file = _settlement(tmp_path, "same.txt", "92000000003")
    # The first stops with the lines complete in the staging area, nothing published.
    paused, marker = _stopped_at(tmp_path, "staged", *IMPORT, str(file))
    other = acorn(tmp_path, *IMPORT, str(file))
    resumed = _let_go(paused, marker)

    assert other.returncode == 0, other.stderr[-3000:]
    assert _outcomes(other) == {"same.txt": "imported"}
    # The second to publish finds the same bytes landed: a duplicate, not a failure, and nothing doubled.
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert _outcomes(resumed) == {"same.txt": "duplicate"}
    assert settlement_line_counts(tmp_path / "data") == {"92000000003": LINES}
    assert _imported_once(tmp_path) == ["92000000003"]
    assert _run_statuses(tmp_path) == {"import": [dg.DagsterRunStatus.SUCCESS] * 2}
    _assert_clean(tmp_path)


def _waits_for_a_lock(pid: int) -> bool:
    """Whether process `pid` is blocked waiting for a file lock (Linux lists waiters in /proc/locks)."""
    return any(
        "->" in line and line.split()[5:6] == [str(pid)]
        for line in Path("/proc/locks").read_text().splitlines()
    )


def _wait_for_lock_holder(lock: Path, pid: int, process: subprocess.Popen[str]) -> str:
    """The warehouse's lock file once it names build `pid` (it holds the writer lock)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        text = lock.read_text() if lock.exists() else ""
        if f'"pid": {pid}' in text:
            return text
        time.sleep(0.02)
    output = "".join(process.communicate(timeout=600)) if process.poll() is not None else "(still running)"
    raise AssertionError(f"build {pid} never took the writer lock (exit {process.poll()}): {output[-3000:]}")


def test_an_import_during_a_build_then_a_build_beside_a_reader_and_a_second_build(tmp_path: Path) -> None:
    """Two phases on one data dir, each build's result the next phase's starting point.

    An import during a build: the build stops while dbt builds the warehouse's private copy, an import starts
    meanwhile and waits (a file lock) to publish until the build has read the lake; the build holds what the lake
    held when it started.

    A build while an analyst holds the warehouse open read-only, and a second build at once: the reader (another
    process, `duckdb.connect(path, read_only=True)`) holds its connection for the whole of both builds; the build
    that gets the writer lock builds and publishes anyway (and has both files); the reader keeps seeing the
    previous build on its open connection and sees the new one once it reconnects. The other build fails at once,
    and its output names the holder (pid and command). To make "at once" certain rather than a matter of timing,
    the first build is paused (SIGSTOP) as soon as its lock file names it, the second runs to its end, then the
    first resumes."""
    samples = sorted(SAMPLES.glob("*"))
    first = acorn(tmp_path, *IMPORT, str(samples[0]))
    assert first.returncode == 0, first.stderr[-3000:]
    landed_before = settlement_line_counts(tmp_path / "data")
    paused, marker = _stopped_at(tmp_path, "dbt-build", "build", "--json")
    during = start_acorn(tmp_path, *IMPORT, str(samples[1]))
    deadline = time.monotonic() + 300
    while not _waits_for_a_lock(during.pid):
        assert during.poll() is None, "".join(during.communicate())[-3000:]
        assert time.monotonic() < deadline, "the import never waited for the build"
        time.sleep(0.05)
    build = _let_go(paused, marker)
    out, err = during.communicate(timeout=600)

    assert during.returncode == 0, err[-3000:]
    assert _outcomes(subprocess.CompletedProcess([], 0, out, err)) == {samples[1].name: "imported"}
    report = json.loads(build.stdout)
    # The build's outcome is the lake's: never "could not run"; any problem is a check on the data it read.
    assert build.returncode in (0, 1) and report["outcome"] != "could_not_run", build.stderr[-3000:]
    assert all(problem.startswith("ERROR check failed: ") for problem in report["problems"]), report
    assert LOCK_ERROR not in build.stdout + build.stderr
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        lines = dict(
            connection.execute(
                "select settlement_id, count(*) from marts.fct_settlement_lines group by 1"
            ).fetchall()
        )
        payouts = {
            row[0] for row in connection.execute("select settlement_id from marts.fct_payouts").fetchall()
        }
    # The build read the lake as it was when it started: all of the first file, none of the one landed during.
    assert lines == landed_before and payouts == set(landed_before)
    assert len(settlement_line_counts(tmp_path / "data")) == 2
    lines_before = sum(lines.values())
    assert lines_before > 0

    # The next build has both, built and published while a reader holds the warehouse open all along; a second
    # build at once is refused and names it.
    reader = Process("reader", str(warehouse), LINES_SQL)
    holder = start_acorn(tmp_path, "build", "--json")
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
    assert json.loads(holder_out)["outcome"] != "could_not_run", output[-3000:]
    assert LOCK_ERROR not in output and "WarehouseLocked" not in output, output[-3000:]
    assert reader.ask("query") == lines_before  # the open connection still sees the previous build
    lines_after = reader.ask("reconnect")  # a new connection sees the new one
    assert lines_after > lines_before
    assert lines_after == sum(settlement_line_counts(tmp_path / "data").values())
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        assert connection.execute(LINES_SQL).fetchone() == (lines_after,)
    assert reader.finish() == 0
    assert not list(warehouse.parent.glob("warehouse.duckdb.building-*"))
    statuses = _run_statuses(tmp_path)
    assert statuses["import"] == [dg.DagsterRunStatus.SUCCESS] * 2
    assert len(statuses["build"]) == 2 and dg.DagsterRunStatus.STARTED not in statuses["build"]
    _assert_clean(tmp_path)


def test_two_first_runs_on_a_fresh_dagster_home(tmp_path: Path) -> None:
    samples = sorted(SAMPLES.glob("*"))[:2]
    processes = [start_acorn(tmp_path, *IMPORT, str(sample)) for sample in samples]
    results = [process.communicate(timeout=600) for process in processes]
    for process, sample, (out, err) in zip(processes, samples, results, strict=True):
        assert process.returncode == 0, err[-3000:]
        assert _outcomes(subprocess.CompletedProcess([], 0, out, err)) == {sample.name: "imported"}
    assert len(settlement_line_counts(tmp_path / "data")) == 2
    assert _run_statuses(tmp_path) == {"import": [dg.DagsterRunStatus.SUCCESS] * 2}
    _assert_clean(tmp_path)
