"""The alert sensor posts each failed ERROR check to a webhook on loopback, once, and never a secret."""

from __future__ import annotations

import json
from typing import Any

import dagster as dg
import pytest
from dagster._core.events import DagsterEventType

from orchestration.quality.alerts import (
    SUCCEEDED_RUNS_SENSOR,
    WEBHOOK_ENV,
    AlertDeliveryError,
    alerts_for_succeeded_runs,
    scrub,
)

CLIENT_SECRET = "amzn1.oa2-cs.v1.0123456789abcdef-not-a-real-secret"
REFRESH_TOKEN = "Atzr|IwEBIA-not-a-real-refresh-token"


@dg.asset
def payouts() -> int:
    return 1


@dg.asset_check(asset=payouts, name="settlement_reconciles")
def reconciles() -> dg.AssetCheckResult:
    # A secret leaking into metadata by mistake must not leave the machine.
    return dg.AssetCheckResult(
        passed=False,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "unreconciled_settlements": 1,
            "difference": "0.01",
            "note": f"token {REFRESH_TOKEN}",
            "client": f"secret={CLIENT_SECRET}",
        },
    )


@dg.asset_check(asset=payouts, name="payout_amount_anomaly")
def anomaly() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN, metadata={"robust_z": 9.1})


@dg.asset_check(asset=payouts, name="settlement_freshness")
def fresh() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.ERROR)


def _run_checks(instance: dg.DagsterInstance) -> dg.RunStatusSensorContext:
    """Run the checks, and the context the daemon would give the sensor for that finished run."""
    result = dg.materialize([payouts, reconciles, anomaly, fresh], instance=instance)
    assert result.success
    assert len(result.get_asset_check_evaluations()) == 3
    (success,) = instance.all_logs(result.run_id, of_type=DagsterEventType.RUN_SUCCESS)
    return dg.build_run_status_sensor_context(
        sensor_name=SUCCEEDED_RUNS_SENSOR,
        dagster_event=success.dagster_event,
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),
    )


def test_posts_each_failed_error_check_of_a_run_without_secrets(
    receiver: tuple[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = receiver
    monkeypatch.setenv(WEBHOOK_ENV, url)
    monkeypatch.setenv("SPAPI_LWA_CLIENT_SECRET", CLIENT_SECRET)
    with dg.instance_for_test() as instance:
        context = _run_checks(instance)
        skip = alerts_for_succeeded_runs(context)
        assert "posted 1 alert" in str(skip.skip_message)
        assert len(handler.received) == 1
        (alert,) = handler.received
        assert alert["check"] == "settlement_reconciles"
        assert alert["severity"] == "ERROR"
        assert alert["asset"] == "payouts"
        assert alert["run_id"] == context.dagster_run.run_id
        assert "ERROR check `settlement_reconciles` failed on payouts" in alert["text"]
        assert "unreconciled_settlements=1" in alert["text"] and "difference=0.01" in alert["text"]
        body = json.dumps(alert)
        assert REFRESH_TOKEN not in body and CLIENT_SECRET not in body and url not in body
        assert "[redacted]" in body


def test_a_receiver_error_fails_the_tick_without_naming_the_url(
    receiver: tuple[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = receiver
    monkeypatch.setenv(WEBHOOK_ENV, url)
    handler.status = 503
    with dg.instance_for_test() as instance:
        context = _run_checks(instance)
        with pytest.raises(AlertDeliveryError) as raised:
            alerts_for_succeeded_runs(context)
        assert "503" in str(raised.value) and url not in str(raised.value)


def test_without_a_url_nothing_is_posted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    with dg.instance_for_test() as instance:
        skip = alerts_for_succeeded_runs(_run_checks(instance))
        assert "not set" in str(skip.skip_message) and "1 failed ERROR" in str(skip.skip_message)


def test_scrub_removes_tokens_and_secret_environment_values() -> None:
    environ = {"SPAPI_REFRESH_TOKEN__DEMO_NA": "plain-refresh-value-123", "HOME": "/root"}
    scrubbed = scrub({"a": ["x Atza|abc.def y", "plain-refresh-value-123"], "b": "/root"}, environ)
    assert scrubbed == {"a": ["x [redacted] y", "[redacted]"], "b": "/root"}
