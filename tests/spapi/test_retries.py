"""429, 5xx, resets, timeouts and typed errors: bounded retries; no failure reaches the caller silently."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from spapi_testkit import Harness, Recorded, Reply

from spapi.errors import SpApiError, SpApiServerError, SpApiThrottledError
from spapi.ratelimit import HEADROOM

TRANSACTIONS = "/finances/2024-06-19/transactions"
POSTED_AFTER = datetime(2026, 11, 1, tzinfo=UTC)
OK = Reply(200, {"payload": {"transactions": [{"transactionId": "t1"}]}}, {"x-amzn-RequestId": "ok"})
THROTTLED = Reply(429, {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota"}]})


def _transactions(harness: Harness, **options: object) -> list[object]:
    with harness.client(**options) as client:
        return [item for page in client.iter_transactions(POSTED_AFTER) for item in page.items]


def test_429_is_waited_out_and_retried(harness: Harness) -> None:
    harness.api.route("GET", TRANSACTIONS, THROTTLED, THROTTLED, OK)
    assert _transactions(harness) == [{"transactionId": "t1"}]
    assert len(harness.api.calls(TRANSACTIONS)) == 3
    # After a 429 the bucket is emptied, so each retry waited one refill interval (1 / 0.5 req/s = 2 s) plus
    # the limiter's headroom.
    assert [s for s in harness.clock.sleeps if s] == pytest.approx([(1 + HEADROOM) / 0.5] * 2)


def test_retry_after_is_honoured(harness: Harness) -> None:
    throttled = Reply(429, THROTTLED.body, {"Retry-After": "7"})
    harness.api.route("GET", TRANSACTIONS, throttled, OK)
    _transactions(harness)
    assert 7.0 in harness.clock.sleeps


def test_429_forever_gives_a_typed_error_after_a_bounded_number_of_attempts(harness: Harness) -> None:
    harness.api.route("GET", TRANSACTIONS, Reply(429, THROTTLED.body, {"x-amzn-RequestId": "req-429"}))
    with pytest.raises(SpApiThrottledError) as raised:
        _transactions(harness, max_throttle_retries=4)
    assert len(harness.api.calls(TRANSACTIONS)) == 5
    assert (raised.value.status, raised.value.code, raised.value.request_id) == (
        429,
        "QuotaExceeded",
        "req-429",
    )
    assert raised.value.operation == "listTransactions" and raised.value.account_id == "test-na"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_back_off_with_full_jitter_then_succeed(harness: Harness, status: int) -> None:
    harness.api.route("GET", TRANSACTIONS, Reply(status, b"{}"), Reply(status, b"{}"), OK)
    draws: list[tuple[float, float]] = []

    def jitter(low: float, high: float) -> float:
        draws.append((low, high))
        return high / 2

    assert _transactions(harness, jitter=jitter, backoff_base_seconds=0.5) == [{"transactionId": "t1"}]
    # Full jitter: each pause is drawn from [0, base * 2^n], here half of each ceiling.
    assert draws == [(0.0, 0.5), (0.0, 1.0)]
    assert [s for s in harness.clock.sleeps if s] == [0.25, 0.5]


def test_backoff_is_capped(harness: Harness) -> None:
    harness.api.route("GET", TRANSACTIONS, Reply(503, b"{}"))

    def jitter(low: float, high: float) -> float:
        return high

    with pytest.raises(SpApiServerError) as raised:
        _transactions(harness, jitter=jitter, max_transient_attempts=8, backoff_cap_seconds=4.0)
    assert [s for s in harness.clock.sleeps if s] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert len(harness.api.calls(TRANSACTIONS)) == 8
    assert raised.value.status == 503


def test_connection_reset_is_retried(harness: Harness) -> None:
    harness.api.route("GET", TRANSACTIONS, Reply(reset=True), OK)
    assert _transactions(harness) == [{"transactionId": "t1"}]
    assert len(harness.api.calls(TRANSACTIONS)) == 2


def test_read_timeout_is_retried(harness: Harness) -> None:
    harness.api.route("GET", TRANSACTIONS, Reply(200, OK.body, delay=0.4), OK)
    assert _transactions(harness, read_timeout=0.1) == [{"transactionId": "t1"}]
    assert len(harness.api.calls(TRANSACTIONS)) == 2


def test_resets_forever_end_in_a_typed_error(harness: Harness) -> None:
    harness.api.route("GET", TRANSACTIONS, Reply(reset=True))
    with pytest.raises(SpApiServerError) as raised:
        _transactions(harness, max_transient_attempts=3)
    assert len(harness.api.calls(TRANSACTIONS)) == 3
    assert raised.value.status is None and raised.value.code in ("ReadError", "RemoteProtocolError")


@pytest.mark.parametrize(
    ("status", "code"), [(400, "InvalidInput"), (403, "Unauthorized"), (404, "NotFound")]
)
def test_client_errors_are_typed_and_not_retried(harness: Harness, status: int, code: str) -> None:
    body = {
        "errors": [{"code": code, "message": "Request is missing or has invalid parameters", "details": "x"}]
    }
    harness.api.route("GET", TRANSACTIONS, Reply(status, body, {"x-amzn-RequestId": "req-4xx"}))
    with pytest.raises(SpApiError) as raised:
        _transactions(harness)
    error = raised.value
    assert (error.operation, error.account_id, error.status, error.code) == (
        "listTransactions",
        "test-na",
        status,
        code,
    )
    assert error.request_id == "req-4xx" and "req-4xx" in str(error)
    assert "invalid parameters" in error.error_message
    assert len(harness.api.calls(TRANSACTIONS)) == 1


def test_invalid_input_on_a_next_token_page_is_retried_a_bounded_number_of_times(harness: Harness) -> None:
    invalid = Reply(400, {"errors": [{"code": "InvalidInput", "message": "Invalid NextToken"}]})
    first = Reply(200, {"payload": {"transactions": [{"transactionId": "t1"}], "nextToken": "n2"}})
    second = Reply(200, {"payload": {"transactions": [{"transactionId": "t2"}]}})
    harness.api.route("GET", TRANSACTIONS, first, invalid, invalid, second)
    assert _transactions(harness) == [{"transactionId": "t1"}, {"transactionId": "t2"}]

    harness.api.route("GET", TRANSACTIONS, first, invalid)
    with pytest.raises(SpApiError) as raised:
        _transactions(harness, max_invalid_token_retries=2)
    assert raised.value.code == "InvalidInput"
    token_calls = [c for c in harness.api.calls(TRANSACTIONS) if c.q("nextToken") == "n2"]
    assert len(token_calls) == 3 + 3  # first run: 2 refusals + success; second: 1 try + 2 retries


def test_rate_limit_header_retunes_the_bucket(harness: Harness) -> None:
    def handler(request: Recorded) -> Reply:
        return Reply(200, {"payload": {"transactions": []}}, {"x-amzn-RateLimit-Limit": "30.0"})

    harness.api.route("GET", TRANSACTIONS, handler=handler)
    _transactions(harness)
    assert harness.registry.bucket("test-na", "listTransactions").rate == 30.0
