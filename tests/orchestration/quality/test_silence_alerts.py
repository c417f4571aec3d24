"""The silence sensor posts each silence finding to a webhook on loopback, once a day, and never a secret.

The sensor reads the wall clock, so the run history and the lake are written relative to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from silence_testkit import add_run, write_settlements

from orchestration.definitions import defs
from orchestration.quality.alerts import SILENCE_SENSOR, WEBHOOK_ENV, AlertDeliveryError, silence_alerts
from orchestration.quality.silence import RUNS_FAILING, SETTLEMENTS_SILENT

CLIENT_SECRET = "amzn1.oa2-cs.v1.0123456789abcdef-not-a-real-secret"
CONFIG = """
[[accounts]]
id = "my-store"
kind = "seller"
region = "na"
marketplaces = ["ATVPDKIKX0DER"]

[alerts]
failed_run_days = 2
cycle_margin_days = 3
"""


@pytest.fixture
def silent_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dg.DagsterInstance]:
    """`my-store` last succeeded 5 days ago and failed every day since; its last settlement ended 20 days ago."""
    now = datetime.now(UTC)
    config = tmp_path / "accounts.toml"
    config.write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("ACORN_CONFIG", str(config))
    monkeypatch.setenv("ACORN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SPAPI_LWA_CLIENT_SECRET", CLIENT_SECRET)
    write_settlements(tmp_path / "data" / "lake", "my-store", [now - timedelta(days=d) for d in (34, 20)])
    with dg.instance_for_test() as instance:
        add_run(instance, dg.DagsterRunStatus.SUCCESS, now - timedelta(days=5))
        for days in (4, 3, 2, 1):
            add_run(instance, dg.DagsterRunStatus.FAILURE, now - timedelta(days=days), "my-store")
        yield instance


def test_each_finding_is_posted_once_a_day_without_secrets(
    silent_instance: dg.DagsterInstance,
    receiver: tuple[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, handler = receiver
    monkeypatch.setenv(WEBHOOK_ENV, url)
    result = silence_alerts(dg.build_sensor_context(instance=silent_instance))
    assert isinstance(result, dg.SensorResult)
    assert "posted 2 silence alert(s)" in str(result.skip_reason.skip_message)  # type: ignore[union-attr]
    posted = {alert["kind"]: alert for alert in handler.received}
    assert set(posted) == {RUNS_FAILING, SETTLEMENTS_SILENT}
    runs = posted[RUNS_FAILING]
    assert runs["account_id"] == "my-store" and runs["days"] == 5
    assert runs["text"].startswith("ACORN: silence `runs_failing` on my-store: acorn_daily has not succeeded")
    assert "4 run(s) failed" in runs["message"]
    settlements = posted[SETTLEMENTS_SILENT]
    assert settlements["days"] == 20 and "alert after 17" in settlements["message"]
    body = json.dumps(handler.received)
    assert url not in body and CLIENT_SECRET not in body

    # The next tick the same day posts nothing; the cursor remembers what was posted.
    cursor = result.cursor
    assert cursor is not None
    assert json.loads(cursor)["posted"] == ["my-store:runs_failing", "my-store:settlements_silent"]
    again = silence_alerts(dg.build_sensor_context(instance=silent_instance, cursor=cursor))
    assert "posted 0 silence alert(s); 2 already posted today" in str(again.skip_reason.skip_message)  # type: ignore[union-attr]
    assert len(handler.received) == 2

    # A new day posts them again, as long as the silence lasts.
    yesterday = json.dumps({"day": "2000-01-01", "posted": json.loads(cursor)["posted"]})
    silence_alerts(dg.build_sensor_context(instance=silent_instance, cursor=yesterday))
    assert len(handler.received) == 4


def test_a_receiver_error_fails_the_tick_without_naming_the_url(
    silent_instance: dg.DagsterInstance,
    receiver: tuple[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, handler = receiver
    monkeypatch.setenv(WEBHOOK_ENV, url)
    handler.status = 503
    with pytest.raises(AlertDeliveryError) as raised:
        silence_alerts(dg.build_sensor_context(instance=silent_instance))
    assert "503" in str(raised.value) and url not in str(raised.value)


def test_without_a_url_nothing_is_posted_and_nothing_is_remembered(
    silent_instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    result = silence_alerts(dg.build_sensor_context(instance=silent_instance))
    assert isinstance(result, dg.SensorResult)
    assert "not set: 2 silence finding(s) not posted" in str(result.skip_reason.skip_message)  # type: ignore[union-attr]
    assert result.cursor is None


def test_the_sensor_is_registered_and_runs_with_the_daemon() -> None:
    sensor = defs.resolve_sensor_def(SILENCE_SENSOR)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == 3600
