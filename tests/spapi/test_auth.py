"""LWA: caching, refresh before expiry, one refresh on an expired-token 403, clear errors without secrets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from spapi_testkit import FAKE_CLIENT_SECRET, FAKE_REFRESH_TOKEN, Harness, Recorded, Reply

from spapi.errors import LwaError, SpApiError

GROUPS = "/finances/v0/financialEventGroups"
STARTED_AFTER = datetime(2026, 10, 1, tzinfo=UTC)
# What Amazon answers for a stale access token.
EXPIRED = {
    "errors": [
        {
            "code": "Unauthorized",
            "message": "Access to requested resource is denied.",
            "details": "The access token you provided has expired.",
        }
    ]
}


def _groups_ok(request: Recorded) -> Reply:
    return Reply(200, {"payload": {"FinancialEventGroupList": []}})


def test_token_is_reused_until_shortly_before_expiry(harness: Harness) -> None:
    harness.lwa.expires_in = 3600
    harness.api.route("GET", GROUPS, handler=_groups_ok)
    with harness.client() as client:
        client.tokens.token()
        harness.clock.advance(3600 - 120)  # still two minutes to live: more than the 60 s margin
        client.tokens.token()
        assert len(harness.lwa.issued) == 1
        harness.clock.advance(90)  # 30 s left: inside the margin, so refreshed before use
        client.tokens.token()
        assert len(harness.lwa.issued) == 2


def test_expired_token_403_refreshes_once_and_resends(harness: Harness) -> None:
    def handler(request: Recorded) -> Reply:
        if request.headers.get("x-amz-access-token") == harness.lwa.issued[0]:
            return Reply(403, EXPIRED)
        return Reply(200, {"payload": {"FinancialEventGroupList": [{"FinancialEventGroupId": "g1"}]}})

    harness.api.route("GET", GROUPS, handler=handler)
    with harness.client() as client:
        client.tokens.token()
        (page,) = list(client.iter_financial_event_groups(STARTED_AFTER))
    assert page.items == [{"FinancialEventGroupId": "g1"}]
    assert len(harness.lwa.issued) == 2
    tokens_sent = [call.headers["x-amz-access-token"] for call in harness.api.calls(GROUPS)]
    assert tokens_sent == harness.lwa.issued


def test_a_second_expired_answer_is_an_error_not_a_loop(harness: Harness) -> None:
    harness.api.route("GET", GROUPS, Reply(403, EXPIRED, {"x-amzn-RequestId": "req-403"}))
    with harness.client() as client, pytest.raises(SpApiError) as raised:
        list(client.iter_financial_event_groups(STARTED_AFTER))
    assert raised.value.status == 403 and raised.value.code == "Unauthorized"
    assert raised.value.request_id == "req-403"
    assert len(harness.api.calls(GROUPS)) == 2  # the original call and exactly one resend
    assert len(harness.lwa.issued) == 2


@pytest.mark.parametrize("error", ["invalid_grant", "invalid_client"])
def test_refused_credentials_name_the_account_never_the_secret(harness: Harness, error: str) -> None:
    harness.lwa.refuse_with = error
    harness.api.route("GET", GROUPS, handler=_groups_ok)
    with harness.client() as client, pytest.raises(LwaError) as raised:
        list(client.iter_financial_event_groups(STARTED_AFTER))
    text = str(raised.value)
    assert "test-na" in text and error in text
    assert FAKE_CLIENT_SECRET not in text and FAKE_REFRESH_TOKEN not in text
    assert raised.value.error == error
    assert harness.api.calls() == []  # no SP-API call without a token


def test_lwa_outage_is_retried_with_backoff(harness: Harness) -> None:
    answers = [Reply(503, b"unavailable"), Reply(500, b"oops")]

    def flaky(request: Recorded) -> Reply:
        if answers:
            return answers.pop(0)
        return Reply(200, {"access_token": "Atza|after-outage-token-xyz", "expires_in": 3600})

    harness.lwa.server.route("POST", "/auth/o2/token", handler=flaky)
    with harness.client() as client:
        assert client.tokens.token() == "Atza|after-outage-token-xyz"
    assert len(harness.lwa.server.calls()) == 3
    assert len(harness.clock.sleeps) == 2
