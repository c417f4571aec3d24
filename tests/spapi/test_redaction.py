"""Secrets never reach logs or exception text."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from spapi_testkit import FAKE_CLIENT_SECRET, FAKE_REFRESH_TOKEN, Harness, Recorded, Reply

from spapi.credentials import credentials_from_env
from spapi.errors import LwaError, SpApiError
from spapi.redact import LOGGER_NAME, Secret, get_logger, redact_text


def test_secret_is_masked_in_str_repr_and_format() -> None:
    secret = Secret("very-secret-value-1")
    assert "very-secret-value-1" not in f"{secret} {secret!r} {[secret]}"
    assert secret.reveal() == "very-secret-value-1"
    assert Secret(secret).reveal() == "very-secret-value-1"


def test_redact_text_masks_registered_secrets_and_any_lwa_token() -> None:
    Secret("registered-secret-42")
    text = (
        "client_secret=registered-secret-42&refresh_token=Atzr|never-registered-refresh "
        '{"access_token": "Atza|IwEBIA-unregistered.token_value-9"} '
        "header x-amz-access-token: raw-token-value, bare Atza|bare-token-in-prose."
    )
    cleaned = redact_text(text)
    for leaked in (
        "registered-secret-42",
        "never-registered-refresh",
        "IwEBIA-unregistered",
        "raw-token-value",
    ):
        assert leaked not in cleaned
    assert "bare Atza|***" in cleaned and "client_secret=***" in cleaned


def test_log_records_are_redacted_including_args_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    # Secrets become known to the redactor when credentials are read, before anything can log them.
    env = {
        "SPAPI_LWA_CLIENT_ID": "client-id",
        "SPAPI_LWA_CLIENT_SECRET": FAKE_CLIENT_SECRET,
        "SPAPI_REFRESH_TOKEN": FAKE_REFRESH_TOKEN,
    }
    credentials_from_env("acct", env)
    logger = get_logger()
    with caplog.at_level(logging.DEBUG, logger=LOGGER_NAME):
        logger.info("token %s and secret %s", "Atza|abc123-def456", FAKE_CLIENT_SECRET)
        try:
            raise RuntimeError(f"boom with {FAKE_REFRESH_TOKEN}")
        except RuntimeError:
            logger.exception("failed")
    output = caplog.text + "".join(record.exc_text or "" for record in caplog.records)
    assert "abc123-def456" not in output
    assert FAKE_CLIENT_SECRET not in output and FAKE_REFRESH_TOKEN not in output
    assert "Atza|***" in output


def test_error_messages_echoing_a_token_are_redacted() -> None:
    error = SpApiError("getReports", "acct", 400, "InvalidInput", "bad header Atza|leaky-token-123", "req-1")
    assert "leaky-token-123" not in str(error) and "leaky-token-123" not in error.error_message
    lwa = LwaError("acct", "invalid_grant", f"refresh token {FAKE_REFRESH_TOKEN} is revoked")
    assert FAKE_REFRESH_TOKEN not in str(lwa)


def test_a_whole_hostile_exchange_leaves_no_secret_in_logs(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    calls = {"n": 0}

    def hostile(request: Recorded) -> Reply:
        calls["n"] += 1
        if calls["n"] == 1:
            return Reply(429, {"errors": [{"code": "QuotaExceeded", "message": "slow down"}]})
        if calls["n"] == 2:
            token = request.headers["x-amz-access-token"]  # an error body that echoes the token back
            return Reply(503, {"errors": [{"code": "InternalFailure", "message": f"bad {token}"}]})
        if calls["n"] == 3:
            return Reply(
                403,
                {
                    "errors": [
                        {"code": "Unauthorized", "message": "The access token you provided has expired"}
                    ]
                },
            )
        return Reply(
            400,
            {
                "errors": [
                    {"code": "InvalidInput", "message": f"echo {request.headers['x-amz-access-token']}"}
                ]
            },
        )

    harness.api.route("GET", "/finances/2024-06-19/transactions", handler=hostile)
    with caplog.at_level(logging.DEBUG), harness.client() as client, pytest.raises(SpApiError) as raised:
        list(client.iter_transactions(datetime(2026, 11, 1, tzinfo=UTC)))
    everything = caplog.text + str(raised.value) + repr(raised.value) + repr(client) + repr(client.tokens)
    assert len(harness.lwa.issued) == 2
    for secret in (*harness.lwa.issued, FAKE_CLIENT_SECRET, FAKE_REFRESH_TOKEN):
        assert secret not in everything
    assert "QuotaExceeded" not in str(raised.value) and "InvalidInput" in str(raised.value)
