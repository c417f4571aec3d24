"""`acorn doctor` findings against a loopback LWA and SP-API."""

from __future__ import annotations

from email.utils import format_datetime

from spapi_testkit import FAKE_CLIENT_SECRET, FIXED_NOW, Harness, Reply

from spapi.config import Config
from spapi.doctor import run_doctor

ENV = {
    "SPAPI_LWA_CLIENT_ID": "amzn1.application-oa2-client.testclient0001",
    "SPAPI_LWA_CLIENT_SECRET": FAKE_CLIENT_SECRET,
    "SPAPI_REFRESH_TOKEN": "Atzr|doctor-test-refresh-token",
}
GROUPS = "/finances/v0/financialEventGroups"


def _doctor(harness: Harness, env: dict[str, str] = ENV) -> list[object]:
    config = Config(accounts=(harness.account,))
    overrides = {"na": harness.api.url, "lwa": harness.lwa.url}
    return run_doctor(config, env, overrides=overrides, options=harness.options(max_transient_attempts=1))


def _by_check(findings: list[object]) -> dict[str, object]:
    return {finding.check: finding for finding in findings}  # type: ignore[attr-defined]


def test_healthy_account(harness: Harness) -> None:
    date = format_datetime(FIXED_NOW, usegmt=True)
    harness.api.route("GET", GROUPS, Reply(200, {"payload": {"FinancialEventGroupList": []}}, {"Date": date}))
    findings = _by_check(_doctor(harness))
    assert all(f.ok for f in findings.values())  # type: ignore[attr-defined]
    assert set(findings) == {"config", "credentials", "token", "call", "clock"}
    assert harness.api.calls(GROUPS)[0].q("MaxResultsPerPage") == "1"


def test_missing_credentials_and_invalid_grant_get_advice(harness: Harness) -> None:
    findings = _by_check(_doctor(harness, env={}))
    assert not findings["credentials"].ok  # type: ignore[attr-defined]
    harness.lwa.refuse_with = "invalid_grant"
    token = _by_check(_doctor(harness))["token"]
    assert not token.ok and "re-authorise" in token.advice  # type: ignore[attr-defined]
    harness.lwa.refuse_with = "invalid_client"
    token = _by_check(_doctor(harness))["token"]
    assert "180 days" in token.advice and FAKE_CLIENT_SECRET not in str(token)  # type: ignore[attr-defined]


def test_missing_role_and_clock_skew(harness: Harness) -> None:
    harness.api.route(
        "GET", GROUPS, Reply(403, {"errors": [{"code": "Unauthorized", "message": "Access denied"}]})
    )
    call = _by_check(_doctor(harness))["call"]
    assert not call.ok and "role" in call.advice and "region" in call.advice  # type: ignore[attr-defined]
    skewed = format_datetime(FIXED_NOW.replace(hour=13), usegmt=True)
    harness.api.route("GET", GROUPS, Reply(200, {"payload": {}}, {"Date": skewed}))
    clock = _by_check(_doctor(harness))["clock"]
    assert not clock.ok and "3600 s off" in clock.message  # type: ignore[attr-defined]


def test_no_accounts() -> None:
    (finding,) = run_doctor(Config(accounts=()), {})
    assert not finding.ok and "accounts" in finding.message
