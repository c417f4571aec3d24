"""`acorn run --account` on a fresh data dir of its own (no demo): in no xdist group, so that either worker takes
it (in test_operations.py it was pinned to the demo group's worker, though it never reads a demo)."""

from __future__ import annotations

import json
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
