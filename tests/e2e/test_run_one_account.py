"""`acorn run --account` on a fresh data dir of its own (no demo): in no xdist group, so that either worker takes
it (in test_operations.py it was pinned to the demo group's worker, though it never reads a demo)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import dagster as dg
import pytest
from acorn_process import acorn, dagster_runs

pytestmark = pytest.mark.slow


def test_run_for_one_account_is_tagged_and_succeeds(tmp_path: Path) -> None:
    """`acorn run --account` on a fresh data dir: the vendor alone lands, builds and checks cleanly."""
    completed = acorn(tmp_path, "run", "--account", "demo-vendor", "--json")
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-3000:]
    report = json.loads(completed.stdout)
    assert report["success"] is True and report["problems"] == []
    [run] = dagster_runs(tmp_path, "acorn_daily")
    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert run.tags["acorn/accounts"] == "demo-vendor" and run.tags["acorn/outcome"] == "ok"
    assert "demo-vendor:" in completed.stderr and "demo-na:" not in completed.stderr
    # Its dbt ran in the process the command started ahead (its import beside the extraction), reaped by it.
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        messages = [record.user_message for record in instance.all_logs(run.run_id)]
    [said] = [message for message in messages if "started ahead" in message]
    pid = int(re.search(r"pid (\d+)", said).group(1))  # type: ignore[union-attr]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
