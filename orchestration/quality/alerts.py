"""Alerts: each failed ERROR check is posted to a webhook (Slack-style JSON with a `text` field).

The URL comes from ACORN_ALERT_WEBHOOK_URL, read when the sensor ticks (never at import). A webhook URL is
itself a credential (Slack's carry a token), so it is never logged or put in an error message, and the message
body carries only the check's name, asset, run and numbers, scrubbed of anything that looks like an Amazon
token or the value of a secret environment variable. Two run-status sensors (a run that succeeded and one that
failed can both carry failed checks) run on the Dagster daemon (`make ui`); each run is handled once, and a
webhook that does not answer 2xx fails the tick, so the run is tried again on the next one.

A third sensor, `silence_alerts`, posts silence (orchestration/quality/silence.py: a daily run that keeps failing
or stopped, Amazon sending no settlement or event group for longer than usual). It ticks hourly and posts each
finding (account and kind) at most once per UTC day, for as long as the silence lasts.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import dagster as dg
from dagster._core.events import DagsterEventType

from orchestration.lake_refresh import refresh_lake
from orchestration.paths import data_paths, default_config_path
from orchestration.quality.silence import SilenceFinding, silence_findings
from spapi.config import load_config

if TYPE_CHECKING:
    import httpx

WEBHOOK_ENV = "ACORN_ALERT_WEBHOOK_URL"
SUCCEEDED_RUNS_SENSOR = "check_alerts_succeeded_runs"
FAILED_RUNS_SENSOR = "check_alerts_failed_runs"
SILENCE_SENSOR = "silence_alerts"
# Amazon LWA tokens (access `Atza|`, refresh `Atzr|`) and client secrets (`amzn1.oa2-cs.`).
TOKEN_PATTERN = re.compile(r"(Atz[ar]\|[^\s\"',]+|amzn1\.oa2-cs\.[^\s\"',]+)")
SECRET_ENV_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|WEBHOOK|CREDENTIAL|API_KEY", re.IGNORECASE)
REDACTED = "[redacted]"


@dataclass(frozen=True)
class CheckAlert:
    check: str
    asset: str
    run_id: str
    severity: str
    numbers: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        shown = ", ".join(f"{key}={value}" for key, value in list(self.numbers.items())[:8])
        text = f"ACORN: {self.severity} check `{self.check}` failed on {self.asset} (run {self.run_id[:8]})"
        return {
            "text": f"{text}: {shown}" if shown else text,
            "check": self.check,
            "asset": self.asset,
            "severity": self.severity,
            "run_id": self.run_id,
            "numbers": self.numbers,
        }


def scrub(value: Any, environ: Mapping[str, str]) -> Any:
    """`value` with Amazon tokens and secret environment values replaced, however deeply nested."""
    if isinstance(value, dict):
        return {str(k): scrub(v, environ) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v, environ) for v in value]
    if not isinstance(value, str):
        return value
    text = TOKEN_PATTERN.sub(REDACTED, value)
    for name, secret in environ.items():
        if SECRET_ENV_NAME.search(name) and len(secret) >= 8 and secret in text:
            text = text.replace(secret, REDACTED)
    return text


def failed_error_alerts(
    instance: dg.DagsterInstance, run_id: str, environ: Mapping[str, str]
) -> list[CheckAlert]:
    """The failed ERROR check evaluations of one run, numbers scrubbed."""
    alerts = []
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
        event = entry.dagster_event
        evaluation = event.event_specific_data if event else None
        if not isinstance(
            evaluation, dg.AssetCheckEvaluation
        ):  # what this event type carries; narrows the type
            continue
        if evaluation.passed or evaluation.severity != dg.AssetCheckSeverity.ERROR:
            continue
        numbers = {
            key: value.value
            for key, value in evaluation.metadata.items()
            if isinstance(value.value, str | int | float | bool)
        }
        alerts.append(
            CheckAlert(
                check=evaluation.check_name,
                asset=evaluation.asset_key.to_user_string(),
                run_id=run_id,
                severity=evaluation.severity.value,
                numbers=scrub(numbers, environ),
            )
        )
    return alerts


def post_run_alerts(instance: dg.DagsterInstance, run_id: str, environ: Mapping[str, str]) -> str:
    """Post every failed ERROR check of the run; raises AlertDeliveryError so the tick is retried."""
    alerts = failed_error_alerts(instance, run_id, environ)
    url = environ.get(WEBHOOK_ENV, "").strip()
    if not url:
        return f"{WEBHOOK_ENV} is not set: {len(alerts)} failed ERROR check(s) not posted"
    import httpx  # only to post: the checks module imports this one, and an import posts nothing

    with httpx.Client() as client:
        for alert in alerts:
            post_alert(client, url, alert)
    return f"posted {len(alerts)} alert(s) for failed ERROR checks"


def post_alert(client: httpx.Client, url: str, alert: CheckAlert | SilenceAlert) -> None:
    """POST one alert; raises AlertDeliveryError (without the URL) when the receiver does not accept it."""
    import httpx

    try:
        response = client.post(url, json=alert.payload(), timeout=10.0)
    except httpx.HTTPError as error:
        raise AlertDeliveryError(f"webhook unreachable ({type(error).__name__})") from None
    if response.status_code >= 300:
        raise AlertDeliveryError(f"webhook answered HTTP {response.status_code}")


class AlertDeliveryError(Exception):
    """The webhook did not take the alert. The message never contains the URL."""


@dg.run_status_sensor(
    name=SUCCEEDED_RUNS_SENSOR,
    run_status=dg.DagsterRunStatus.SUCCESS,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Posts each failed ERROR check of a finished run to {WEBHOOK_ENV} (nothing when unset).",
)
def alerts_for_succeeded_runs(context: dg.RunStatusSensorContext) -> dg.SkipReason:
    return dg.SkipReason(post_run_alerts(context.instance, context.dagster_run.run_id, dict(os.environ)))


@dg.run_status_sensor(
    name=FAILED_RUNS_SENSOR,
    run_status=dg.DagsterRunStatus.FAILURE,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Posts each failed ERROR check of a failed run to {WEBHOOK_ENV} (nothing when unset).",
)
def alerts_for_failed_runs(context: dg.RunStatusSensorContext) -> dg.SkipReason:
    return dg.SkipReason(post_run_alerts(context.instance, context.dagster_run.run_id, dict(os.environ)))


@dataclass(frozen=True)
class SilenceAlert:
    finding: SilenceFinding

    def payload(self) -> dict[str, Any]:
        finding = self.finding
        return {
            "text": f"ACORN: silence `{finding.kind}` on {finding.account_id}: {finding.message}",
            "kind": finding.kind,
            "account_id": finding.account_id,
            "days": finding.days,
            "message": finding.message,
        }


def post_silence_alerts(
    findings: list[SilenceFinding], cursor: str | None, environ: Mapping[str, str], now: datetime
) -> tuple[str, str | None]:
    """Post the findings not yet posted on `now`'s UTC day; the summary and the new cursor (None: unchanged).

    The cursor is `{"day": "YYYY-MM-DD", "posted": ["<account>:<kind>", ...]}`. Raises AlertDeliveryError when
    the webhook refuses one, leaving the cursor as it was, so the next tick tries again.
    """
    day = now.astimezone(UTC).date().isoformat()
    state = json.loads(cursor) if cursor else {}
    posted: list[str] = list(state.get("posted", [])) if state.get("day") == day else []
    due = [f for f in findings if f"{f.account_id}:{f.kind}" not in posted]
    url = environ.get(WEBHOOK_ENV, "").strip()
    if not url:
        return f"{WEBHOOK_ENV} is not set: {len(due)} silence finding(s) not posted", None
    import httpx

    with httpx.Client() as client:
        for finding in due:
            scrubbed = SilenceFinding(
                account_id=finding.account_id,
                kind=finding.kind,
                message=scrub(finding.message, environ),
                days=finding.days,
            )
            post_alert(client, url, SilenceAlert(scrubbed))
            posted.append(f"{finding.account_id}:{finding.kind}")
    summary = f"posted {len(due)} silence alert(s); {len(findings) - len(due)} already posted today"
    return summary, json.dumps({"day": day, "posted": sorted(posted)})


@dg.sensor(
    name=SILENCE_SENSOR,
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        f"Posts silence to {WEBHOOK_ENV} (nothing when unset), each finding once a day: acorn_daily failing or "
        "stopped for an account, or Amazon sending no settlement or event group for longer than its cycle."
    ),
)
def silence_alerts(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    environ = dict(os.environ)
    config_path = default_config_path()
    now = datetime.now(UTC)
    lake = data_paths(environ.get("ACORN_DATA_DIR")).lake
    refresh_lake(lake)  # scale-out: the object store's lake, which the workers landed (embedded: nothing)
    findings = silence_findings(context.instance, load_config(config_path), lake, now)
    summary, cursor = post_silence_alerts(findings, context.cursor, environ, now)
    return dg.SensorResult(skip_reason=dg.SkipReason(summary), cursor=cursor or context.cursor)


ALERT_SENSORS = [alerts_for_succeeded_runs, alerts_for_failed_runs, silence_alerts]
