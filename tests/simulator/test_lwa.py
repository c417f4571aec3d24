"""The LWA origin: the refresh_token grant as Amazon answers it, and the errors a client must explain."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from simkit import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN

from simulator import SimulatorHandle


def _form(**overrides: str) -> dict[str, str]:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH_TOKEN,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value != ""}


def test_refresh_token_grant_issues_an_atza_token_for_an_hour(sim: SimulatorHandle) -> None:
    response = httpx.post(sim.lwa_url, data=_form())
    assert response.status_code == 200
    body = response.json()
    assert body["access_token"].startswith("Atza|")
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert response.headers["x-amzn-RequestId"]
    second = httpx.post(sim.lwa_url, data=_form()).json()["access_token"]
    assert second != body["access_token"]


@pytest.mark.parametrize(
    ("overrides", "status", "error"),
    [
        ({"refresh_token": "invalid-refresh-token"}, 400, "invalid_grant"),
        ({"client_id": "invalid-client"}, 401, "invalid_client"),
        ({"client_secret": "invalid-rotated-secret"}, 401, "invalid_client"),
        ({"refresh_token": ""}, 400, "invalid_request"),
        ({"grant_type": "authorization_code"}, 400, "unsupported_grant_type"),
    ],
)
def test_lwa_errors_have_lwa_bodies_and_never_echo_secrets(
    sim: SimulatorHandle, overrides: dict[str, str], status: int, error: str
) -> None:
    response = httpx.post(sim.lwa_url, data=_form(**overrides))
    assert response.status_code == status
    body = response.json()
    assert body["error"] == error
    assert body["error_description"]
    assert CLIENT_SECRET not in response.text and "invalid-rotated-secret" not in response.text
    assert "invalid-refresh-token" not in response.text


def test_token_endpoint_wants_a_form_body(sim: SimulatorHandle) -> None:
    response = httpx.post(sim.lwa_url, json=_form())
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_rejected_prefix_is_configurable(start) -> None:  # type: ignore[no-untyped-def]
    sim = start(rejected_prefix="revoked-")
    assert httpx.post(sim.lwa_url, data=_form(refresh_token="invalid-is-fine-now")).status_code == 200
    refused = httpx.post(sim.lwa_url, data=_form(refresh_token="revoked-token"))
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_access_token_expires_after_3600_simulated_seconds(api) -> None:  # type: ignore[no-untyped-def]
    params = {"reportTypes": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"}
    assert api.call("getReports", params=params).status_code == 200
    api.sim.clock.advance(timedelta(seconds=3500))
    assert api.call("getReports", params=params).status_code == 200
    api.sim.clock.advance(timedelta(seconds=110))
    expired = api.call("getReports", params=params)
    assert expired.status_code == 403
    assert expired.json()["errors"][0] == {
        "code": "Unauthorized",
        "message": "The access token you provided has expired.",
        "details": "",
    }
