"""`acorn run` under cron, with no daemon: silence becomes a problem of the run (exit 1) and is posted to the
webhook, with the run's failed ERROR checks; accounts not asked for are left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from silence_testkit import add_run

from acorn_cli.main import alert_after_run
from acorn_cli.runs import RunReport
from orchestration.outcomes import ExitCode

CONFIG = """
[[accounts]]
id = "shop-us"
kind = "vendor"
region = "na"

[[accounts]]
id = "shop-eu"
kind = "vendor"
region = "eu"

[alerts]
failed_run_days = 2
"""


def test_a_daily_run_failing_for_days_is_exit_1_and_posted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: tuple[str, Any]
) -> None:
    url, handler = receiver
    received = handler.received
    config = tmp_path / "accounts.toml"
    config.write_text(CONFIG)
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("ACORN_CONFIG", str(config))
    monkeypatch.setenv("ACORN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ACORN_ALERT_WEBHOOK_URL", url)
    now = datetime.now(UTC)
    with dg.DagsterInstance.get() as instance:
        add_run(instance, dg.DagsterRunStatus.SUCCESS, now - timedelta(days=5))
        for days in (3, 2, 1):  # shop-us has failed every day since
            add_run(instance, dg.DagsterRunStatus.FAILURE, now - timedelta(days=days), "shop-us")
        add_run(instance, dg.DagsterRunStatus.SUCCESS, now - timedelta(hours=3), "shop-eu")
        today = add_run(instance, dg.DagsterRunStatus.SUCCESS, now - timedelta(minutes=1), "shop-eu")

    report = RunReport(today, "acorn_daily", True, [], {}, [])
    assert report.exit_code == ExitCode.OK
    alert_after_run(report, [])
    assert report.exit_code == ExitCode.DATA_PROBLEM
    assert [p for p in report.problems() if p.startswith("silent: shop-us")], report.problems()
    assert not [p for p in report.problems() if "shop-eu" in p]
    assert [(a["account_id"], a["kind"]) for a in received] == [("shop-us", "runs_failing")]

    # Asked for shop-eu alone: shop-us's silence is not this run's business.
    received.clear()
    only_eu = RunReport(today, "acorn_daily", True, [], {}, [])
    alert_after_run(only_eu, ["shop-eu"])
    assert only_eu.exit_code == ExitCode.OK and received == []
