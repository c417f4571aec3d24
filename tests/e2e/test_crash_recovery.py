"""`acorn import` killed (SIGKILL) at each point of an import; the next commands recover, and the warehouse ends
exactly as a clean run's, with no line doubled and no leftover in the data dir (issue 14).

Each kill point is reached deterministically through the test hook `ACORN_TEST_PAUSE_AT` (transforms/
crash_points.py): the import writes a marker file there and stops, and the test kills it. After each kill,
`acorn build` must still work (it recovers first: the killed run is marked failed, the leftovers are finished or
removed, and it never reads a staged file), and importing the file again lands it once. One settlement file per
kill point, all into one data dir; a clean data dir imports the same files once, and both warehouses' marts are
compared row for row.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from acorn_process import acorn, start_acorn
from data_state import runs_with_failures, settlement_line_counts
from pause_hook import pause_env, wait_until_paused

from bench.settlement_import import generate
from transforms.recovery import find_leftovers

ACCOUNT = "demo-na"
MEDIUM = 20_000  # lines (3.6 MB): the raw copy is stopped after its first 1 MiB; the Parquet is cut in half
SMALL = 3_000
# (kill point, settlement id, lines)
POINTS = [
    ("archive", "91000000001", MEDIUM),
    ("parquet", "91000000002", MEDIUM),
    ("staged", "91000000003", SMALL),
    ("publish", "91000000004", SMALL),
    ("versions-log", "91000000005", SMALL),
]
# Where the killed import left something a build could have read (a half-written or unpublished Parquet file,
# lines published without their settlements row), `acorn build` runs before the import again; elsewhere the
# import again is the next command (it recovers the same way), which keeps the test near two minutes.
BUILD_AFTER = {"parquet", "staged", "publish"}
COMPARED_MARTS = ["fct_settlement_lines", "fct_payouts", "fct_fees", "fct_refunds", "fct_sku_daily"]

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("crash")]


def _acorn(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    try:  # acorn_process's timeout (15 min): a loaded machine takes minutes per build, 300 s was not enough
        return acorn(workdir, *args)
    finally:
        print(f"acorn {args[0]} in {workdir.name}: {time.monotonic() - started:.1f} s")


def _import(workdir: Path, *files: Path) -> tuple[dict, str]:
    """`acorn import --json FILES` (exit 0): its JSON and its stderr."""
    result = _acorn(workdir, "import", "--json", "--account", ACCOUNT, *map(str, files))
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout), result.stderr


def _kill_at(workdir: Path, point: str, file: Path) -> dict[str, object]:
    """Start `acorn import FILE` with the hook at `point`, wait until it stops there, SIGKILL it and reap it."""
    workdir.mkdir(parents=True, exist_ok=True)
    marker = workdir / f"paused-{point}.json"
    log = workdir / f"killed-{point}.log"
    with open(log, "w") as output:
        process = start_acorn(
            workdir,
            "import",
            "--account",
            ACCOUNT,
            str(file),
            env=pause_env(point, marker),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            return wait_until_paused(process, marker, point, timeout=180, log=log)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()


def _versions_log(data: Path) -> list[dict]:
    log = data / "lake" / "settlement_versions.jsonl"
    records = []
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue  # a torn record left by a kill (the next append starts a fresh line)
    return records


def _marts_differences(reference: Path, crashed: Path) -> dict[str, tuple[int, int, int]]:
    """Per mart: (rows in the reference, rows only in the reference, rows only in the crashed run's)."""
    found = {}
    with duckdb.connect() as connection:
        connection.execute(f"attach '{reference}' as ref (read_only)")
        connection.execute(f"attach '{crashed}' as got (read_only)")
        for mart in COMPARED_MARTS:
            total = connection.execute(f"select count(*) from ref.marts.{mart}").fetchone()
            only_ref = connection.execute(
                f"select count(*) from (from ref.marts.{mart} except all from got.marts.{mart})"
            ).fetchone()
            only_got = connection.execute(
                f"select count(*) from (from got.marts.{mart} except all from ref.marts.{mart})"
            ).fetchone()
            assert total and only_ref and only_got
            found[mart] = (total[0], only_ref[0], only_got[0])
    return found


def test_imports_killed_at_every_point_recover_to_a_clean_runs_warehouse(tmp_path: Path) -> None:
    files = []
    for point, settlement_id, lines in POINTS:
        path = tmp_path / f"settlement-{point}.txt"
        generate(path, lines, settlement_id)
        files.append(path)
    expected_counts = {settlement_id: lines for _, settlement_id, lines in POINTS}

    # The clean run, beside the crashes (on another core): every file imported once, then built.
    reference = tmp_path / "reference"
    clean: dict[str, subprocess.CompletedProcess[str]] = {}

    def clean_run() -> None:
        clean["import"] = _acorn(reference, "import", "--json", "--account", ACCOUNT, *map(str, files))
        if clean["import"].returncode == 0:
            clean["build"] = _acorn(reference, "build", "--json")

    reference_run = threading.Thread(target=clean_run)
    reference_run.start()

    crashed = tmp_path / "crashed"
    data = crashed / "data"
    for (point, settlement_id, lines), file in zip(POINTS, files, strict=True):
        paused = _kill_at(crashed, point, file)
        leftovers = find_leftovers(data)
        assert leftovers, f"{point}: the kill left nothing to recover?"
        if point == "parquet":
            staged = Path(str(paused["path"]))
            assert staged.read_bytes()[-4:] != b"PAR1", (
                "the Parquet file was complete when the import stopped"
            )
        if point == "publish":  # the lines published, not the settlements row: no payout yet
            assert settlement_id in settlement_line_counts(data)

        # The next command recovers first, and never fails on (or publishes) what the killed one staged.
        if point in BUILD_AFTER:
            build = _acorn(crashed, "build", "--json")
            assert build.returncode in (0, 1), f"{point}: {build.stderr[-3000:]}"
            assert "marked failed" in build.stderr, build.stderr[-3000:]
            assert "recovered: " in build.stderr.replace("recovered: run", ""), build.stderr[-3000:]
            assert find_leftovers(data) == [], f"{point}: leftovers after the build"
            counts = settlement_line_counts(data)
            if point == "publish":
                # The journal was written: the build finished publishing, lines and settlements row together.
                assert counts.get(settlement_id) == lines
            else:
                assert settlement_id not in counts, f"{point}: lines of an unfinished import reached the lake"

        again, stderr = _import(crashed, file)
        if point not in BUILD_AFTER:
            assert "marked failed" in stderr and "recovered: " in stderr.replace("recovered: run", ""), stderr
        [outcome] = again["files"]
        assert outcome["status"] == ("duplicate" if point in ("publish", "versions-log") else "imported")
        assert settlement_line_counts(data).get(settlement_id) == lines, point
        assert find_leftovers(data) == [], f"{point}: leftovers after the import"

    final = _acorn(crashed, "build", "--json")
    reference_run.join()
    assert clean["import"].returncode == 0, clean["import"].stderr[-3000:]
    statuses = [f["status"] for f in json.loads(clean["import"].stdout)["files"]]
    assert statuses == ["imported"] * len(files)
    assert clean["build"].returncode in (0, 1), clean["build"].stderr[-3000:]
    assert settlement_line_counts(reference / "data") == expected_counts
    assert final.returncode == clean["build"].returncode, final.stderr[-3000:]
    assert find_leftovers(data) == []
    assert not list(data.rglob(".tmp-*")) and not list(data.glob(".settlement-*"))
    assert not list((data / "staging").iterdir())

    # Nothing lost, nothing doubled: the same lines, the same payouts, row for row.
    assert settlement_line_counts(data) == expected_counts
    differences = _marts_differences(reference / "data" / "warehouse.duckdb", data / "warehouse.duckdb")
    assert all(only_ref == only_got == 0 for _, only_ref, only_got in differences.values()), differences
    assert differences["fct_payouts"][0] == len(POINTS)
    assert differences["fct_settlement_lines"][0] == sum(expected_counts.values())

    # The versions log says each settlement was imported exactly once (a torn record does not count).
    imported = [r["settlement_id"] for r in _versions_log(data) if r.get("event") == "imported"]
    assert sorted(imported) == sorted(expected_counts)

    # Every killed run was marked failed, naming the process that was gone; nothing is left STARTED.
    runs = runs_with_failures(crashed / "dagster_home")
    unfinished = (dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.NOT_STARTED)
    assert not [run for run, _ in runs if run.status in unfinished]
    killed = [(run, why) for run, why in runs if "acorn/outcome" not in run.tags]
    assert len(killed) == len(POINTS)
    for run, why in killed:
        assert run.status == dg.DagsterRunStatus.FAILURE and run.tags.get("acorn/command") == "import"
        assert f"(pid {run.tags['acorn/pid']}) is gone" in why, why
    assert all(run.tags.get("acorn/pid") and run.tags.get("acorn/host") for run, _ in runs)
