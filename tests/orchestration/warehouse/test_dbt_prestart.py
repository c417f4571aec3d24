"""dbt started ahead (orchestration/warehouse/dbt_prestart.py): `acorn-dbt` hands its command to the process
`acorn build` forked, which runs it with the caller's streams, folder and environment and returns dbt's exit
code; anything that finds no such process runs dbt itself; the process is reaped, killed when unused."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
from acorn_process import acorn

from orchestration.warehouse import dbt_prestart
from orchestration.warehouse.dbt_command import PRESTARTED_DBT_ENV
from orchestration.warehouse.project import BUILD_DBT_EXECUTABLE

CLOCK = re.compile(r"\d\d:\d\d:\d\d")

# Runs in a process of its own: the fork needs a process with one thread (pytest's may have more).
SCRIPT = textwrap.dedent(
    """
    import json, os, subprocess, sys
    from orchestration.warehouse.dbt_prestart import start_dbt_ahead

    executable, workdir = sys.argv[1], sys.argv[2]

    def dbt(*args):
        done = subprocess.run([executable, *args], capture_output=True, text=True, cwd=workdir)
        return {"code": done.returncode, "stdout": done.stdout, "stderr": done.stderr}

    results = []
    # dbt's help (exit 0, on stdout), and a command dbt refuses (no profiles in the folder: exit 2, on stderr).
    for args in (["--help"], ["parse", "--project-dir", workdir, "--profiles-dir", workdir]):
        ahead = start_dbt_ahead()
        result = {"started": ahead is not None, "ahead": dbt(*args), "taken": ahead.taken()}
        result["again"] = dbt(*args)  # taken already: acorn-dbt runs dbt itself
        ahead.stop()
        result["env_after_stop"] = os.environ.get("ACORN_PRESTARTED_DBT")
        result["folder_left"] = ahead.folder.exists()
        try:
            os.waitpid(ahead.pid, os.WNOHANG)
            result["reaped"] = False
        except ChildProcessError:
            result["reaped"] = True
        results.append(result)
    print(json.dumps(results))
    """
)


def _run_script(tmp_path: Path, script: str, **env: str) -> Any:
    completed = subprocess.run(
        [sys.executable, "-c", script, BUILD_DBT_EXECUTABLE, str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.splitlines()[-1])


def _plain_dbt(tmp_path: Path, *args: str, **env: str) -> dict[str, object]:
    """`acorn-dbt ARGS` in `tmp_path` with no process started ahead (unless `env` names one); code and output."""
    environment = {name: value for name, value in os.environ.items() if name != PRESTARTED_DBT_ENV}
    done = subprocess.run(
        [BUILD_DBT_EXECUTABLE, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**environment, **env},
        timeout=300,
        check=False,
    )
    return {"code": done.returncode, "stdout": done.stdout, "stderr": done.stderr}


def _untimed(result: dict[str, object]) -> dict[str, object]:
    """A dbt command's exit code and output, less the clock times dbt starts its lines with."""
    return {key: CLOCK.sub("", value) if isinstance(value, str) else value for key, value in result.items()}


def test_the_command_runs_in_the_process_started_ahead_with_the_callers_streams_and_exit_code(
    tmp_path: Path,
) -> None:
    helped, refused = _run_script(tmp_path, SCRIPT)
    plain_help = _plain_dbt(tmp_path, "--help")
    plain_refusal = _plain_dbt(
        tmp_path, "parse", "--project-dir", str(tmp_path), "--profiles-dir", str(tmp_path)
    )
    assert plain_help["code"] == 0 and "Usage: acorn-dbt" in str(plain_help["stdout"])
    assert plain_refusal["code"] == 2 and "No dbt_project.yml found" in str(plain_refusal["stdout"])
    for result, plain in ((helped, plain_help), (refused, plain_refusal)):
        assert result["started"] is True
        assert result["taken"] is True
        # dbt's own output and exit code, on the caller's streams, from the process started ahead and after it.
        assert _untimed(result["ahead"]) == _untimed(plain)
        assert _untimed(result["again"]) == _untimed(plain)
        # Reaped, its socket's folder removed, the variable gone from the environment.
        assert result["reaped"] is True
        assert result["folder_left"] is False
        assert result["env_after_stop"] is None


def test_an_unused_process_is_killed_and_reaped_and_nothing_is_left(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import json, os, sys
        from orchestration.warehouse.dbt_prestart import start_dbt_ahead
        ahead = start_dbt_ahead()
        socket_path = os.environ["ACORN_PRESTARTED_DBT"]
        ahead.stop()
        try:
            os.kill(ahead.pid, 0)
            alive = True
        except ProcessLookupError:
            alive = False
        print(json.dumps({"alive": alive, "taken": ahead.taken(), "socket_left": os.path.exists(socket_path)}))
        """
    )
    assert _run_script(tmp_path, script) == {"alive": False, "taken": False, "socket_left": False}


def test_acorn_dbt_runs_dbt_itself_when_no_process_takes_the_command(tmp_path: Path) -> None:
    # A socket path nothing listens on: the process ended, or was never started.
    gone = str(tmp_path / "gone.sock")
    handed = _plain_dbt(tmp_path, "parse", "--project-dir", str(tmp_path), **{PRESTARTED_DBT_ENV: gone})
    plain = _plain_dbt(tmp_path, "parse", "--project-dir", str(tmp_path))
    assert _untimed(handed) == _untimed(plain)
    assert plain["code"] != 0


def test_not_started_when_switched_off_or_with_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(dbt_prestart.PRESTART_SWITCH_ENV, "0")
    assert dbt_prestart.start_dbt_ahead() is None
    monkeypatch.delenv(dbt_prestart.PRESTART_SWITCH_ENV)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert dbt_prestart.start_dbt_ahead() is None
    finally:
        stop.set()
        thread.join()


def test_likely_to_run_dbt_when_the_lake_changed_since_the_last_build(tmp_path: Path) -> None:
    warehouse, lake = tmp_path / "warehouse.duckdb", tmp_path / "lake"
    published = lake / "settlement_lines" / "settlement_id=1"
    published.mkdir(parents=True)
    (published / "part-0.parquet").write_bytes(b"")
    assert dbt_prestart.likely_to_run_dbt(warehouse, lake)  # never built
    record = tmp_path / "warehouse.duckdb.last-build.json"
    record.write_text("{}")
    os.utime(record, ns=(1_500_000_000_000_000_000, 1_500_000_000_000_000_000))  # 2017
    for path in (lake, lake / "settlement_lines", published, published / "part-0.parquet"):
        os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    assert not dbt_prestart.likely_to_run_dbt(warehouse, lake)  # nothing written since the build
    later = lake / "settlement_lines" / "settlement_id=2"
    later.mkdir()
    (later / "part-0.parquet").write_bytes(b"")
    os.utime(later, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    os.utime(lake / "settlement_lines", ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    assert dbt_prestart.likely_to_run_dbt(warehouse, lake)  # a file published since, deep in the lake


@pytest.mark.slow
def test_acorn_build_runs_its_dbt_in_the_process_it_started_ahead(tmp_path: Path) -> None:
    completed = acorn(tmp_path, "build", "--json")
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-3000:]
    # It exits as dbt's own process would: nothing left for multiprocessing's resource tracker (which the process
    # started, and which writes to the command's stderr once it is gone) to report as leaked. The output is read
    # to its end, so the tracker's exit is waited for.
    assert "resource_tracker" not in completed.stderr, completed.stderr[-3000:]
    run_id = json.loads(completed.stdout)["run_id"]
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        messages = [record.user_message for record in instance.all_logs(run_id)]
    [said] = [message for message in messages if "started ahead" in message]
    pid = int(re.search(r"pid (\d+)", said).group(1))  # type: ignore[union-attr]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped by the command
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        assert connection.sql("select count(*) from duckdb_tables()").fetchone()[0] > 0  # type: ignore[index]


def test_the_warm_up_reads_the_latest_saved_parse_and_never_fails(tmp_path: Path) -> None:
    from orchestration.paths import DBT_PROJECT_DIR

    # Definitions' load parsed the project: its own saved parse is a real one of this dbt.
    parse = (DBT_PROJECT_DIR / "target" / "partial_parse.msgpack").read_bytes()
    saved = tmp_path / "saved_parses"
    saved.mkdir()
    assert dbt_prestart.warm_up_dbt(saved) == ["schemas"]  # none saved yet: the schemas only
    (saved / "a.msgpack").write_bytes(parse)
    assert dbt_prestart.warm_up_dbt(saved) == ["schemas", "manifest"]
    # The latest one is read: one of another dbt (or cut short) stops the warm-up there, without an error.
    (saved / "b.msgpack").write_bytes(parse[: len(parse) // 2])
    os.utime(saved / "a.msgpack", (1_000_000, 1_000_000))
    assert dbt_prestart.warm_up_dbt(saved) == ["schemas"]
    assert dbt_prestart.warm_up_dbt(tmp_path / "missing") == ["schemas"]
