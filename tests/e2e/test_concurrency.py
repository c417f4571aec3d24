"""Two `acorn` commands at once on one data dir and Dagster home, as real processes: each ends with the right
outcome and exit code (never a failure for data that landed, nor success for data that did not), and the lake
holds every file once.

Where the overlap matters, it is made certain rather than left to timing: the first command is stopped at a
named point through the test hook `ACORN_TEST_PAUSE_AT` (transforms/crash_points.py) while the second runs to
its end, then it is let go. Two first runs on a fresh Dagster home are started together (the race there is
inside the creation of the instance's storage).
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from acorn_process import SAMPLES, acorn, start_acorn
from data_state import settlement_line_counts
from pause_hook import pause_env, wait_until_paused

from bench.settlement_import import generate
from transforms.recovery import find_leftovers

ACCOUNT = "demo-na"
LINES = 20_000  # long enough for the Parquet write to be caught half done
IMPORT = ("import", "--json", "--account", ACCOUNT)

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


def test_an_import_during_a_build(tmp_path: Path) -> None:
    samples = sorted(SAMPLES.glob("*"))
    first = acorn(tmp_path, *IMPORT, str(samples[0]))
    assert first.returncode == 0, first.stderr[-3000:]
    landed_before = settlement_line_counts(tmp_path / "data")
    # The build stops while dbt builds the warehouse's private copy; an import starts meanwhile, and waits
    # (a file lock) to publish until the build has read the lake.
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
    # The next build has both.
    after = acorn(tmp_path, "build", "--json")
    assert after.returncode in (0, 1) and json.loads(after.stdout)["outcome"] != "could_not_run"
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        built = connection.execute("select count(*) from marts.fct_settlement_lines").fetchone()
    assert built == (sum(settlement_line_counts(tmp_path / "data").values()),)
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
