"""Token buckets (with an injected clock, no real sleeping) and the published limits table."""

from __future__ import annotations

import json
import re

import pytest
from spapi_testkit import SHARED_FIXTURES, FakeClock, Harness, Recorded, Reply

from spapi.ratelimit import (
    HEADROOM,
    PUBLISHED_LIMITS,
    SHARED_REGISTRY,
    RateLimiterRegistry,
    TokenBucket,
    parse_rate_limit_header,
)


def test_bucket_allows_the_burst_then_paces_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=0.5, burst=3, clock=clock, sleep=clock.sleep)
    assert [bucket.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    # The first paced call waits for a token plus the headroom; from then on one token every 1 / 0.5 s.
    assert bucket.acquire() == pytest.approx((1 + HEADROOM) / 0.5)
    assert bucket.acquire() == pytest.approx(2.0)
    clock.advance(100)  # idle time refills up to the burst, not beyond
    assert bucket.available() == pytest.approx(3.0)


def test_bucket_follows_a_new_rate_and_drains_after_429() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=0.0222, burst=10, clock=clock, sleep=clock.sleep)
    bucket.set_rate(2.0)
    bucket.drain()
    assert bucket.acquire() == pytest.approx((1 + HEADROOM) / 2.0)
    bucket.set_rate(0)  # nonsense from a header is ignored
    assert bucket.rate == 2.0


def test_a_long_run_never_exceeds_the_published_limit() -> None:
    """500 pages of a finance backfill under the real, unscaled limits (simulated clock)."""
    clock = FakeClock()
    limit = PUBLISHED_LIMITS["listFinancialEventsByGroupId"]
    bucket = TokenBucket(limit.rate, limit.burst, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(500):
        bucket.acquire()
        starts.append(clock())
    elapsed = starts[-1] - starts[0]
    # At most `burst` calls plus `rate` per second over any stretch of time.
    assert limit.burst + limit.rate * elapsed + 1e-6 >= 500
    for i in range(len(starts)):
        for j in range(i + 1, min(i + 60, len(starts))):
            assert j - i + 1 <= limit.burst + limit.rate * (starts[j] - starts[i]) + 1e-6


def test_registry_shares_one_bucket_per_account_and_operation() -> None:
    registry = RateLimiterRegistry()
    assert registry.bucket("a", "getReports") is registry.bucket("a", "getReports")
    assert registry.bucket("a", "getReports") is not registry.bucket("b", "getReports")
    assert registry.bucket("a", "getReports") is not registry.bucket("a", "listTransactions")


def test_two_clients_of_one_account_share_the_allowance(harness: Harness) -> None:
    harness.api.route("GET", "/reports/2021-06-30/reports", Reply(200, {"reports": []}))
    with harness.client() as first, harness.client() as second:
        for _ in range(5):
            list(first.iter_reports(["X"]))
            list(second.iter_reports(["X"]))
    # 10 calls use up getReports' burst of 10; the 11th waits ~1 / 0.0222 s, whichever client makes it.
    assert harness.clock.sleeps == []
    with harness.client() as third:
        list(third.iter_reports(["X"]))
    assert harness.clock.sleeps == [pytest.approx((1 + HEADROOM) / 0.0222)]


def test_clients_use_the_process_wide_registry_by_default() -> None:
    from spapi.client import ClientOptions

    assert ClientOptions().rate_limits is None  # None selects SHARED_REGISTRY in SpApiClient
    assert SHARED_REGISTRY.bucket("x", "getReports") is SHARED_REGISTRY.bucket("x", "getReports")


def test_header_rate_is_followed_so_scaled_limits_are_used_fully(harness: Harness) -> None:
    def scaled(request: Recorded) -> Reply:
        return Reply(200, {"reports": []}, {"x-amzn-RateLimit-Limit": "1.332"})  # 0.0222 x 60

    harness.api.route("GET", "/reports/2021-06-30/reports", handler=scaled)
    with harness.client() as client:
        for _ in range(12):
            list(client.iter_reports(["X"]))
    assert harness.clock.sleeps == [pytest.approx((1 + HEADROOM) / 1.332), pytest.approx(1 / 1.332)]


def test_parse_rate_limit_header() -> None:
    assert parse_rate_limit_header("0.0167") == 0.0167
    assert parse_rate_limit_header(None) is None
    assert parse_rate_limit_header("fast") is None
    assert parse_rate_limit_header("-1") is None


def _usage_plans() -> dict[str, tuple[float, int]]:
    """Rate and burst from the 'Usage Plan' table in each operation's description in Amazon's models."""
    plans: dict[str, tuple[float, int]] = {}
    for model in (SHARED_FIXTURES / "spapi-models").glob("*.json"):
        document = json.loads(model.read_text())
        for item in document.get("paths", {}).values():
            for method, operation in item.items():
                if method == "parameters" or not isinstance(operation, dict):
                    continue
                found = re.search(r"\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|", operation.get("description", ""))
                if found:
                    plans[operation["operationId"]] = (float(found.group(1)), int(found.group(2)))
    return plans


def test_published_limits_match_amazons_models_and_name_their_source() -> None:
    plans = _usage_plans()
    for operation, limit in PUBLISHED_LIMITS.items():
        assert "model" in limit.source
        if "no usage plan" in limit.source:  # Finances Invoices: a stated conservative default
            assert operation not in plans and (limit.rate, limit.burst) == (0.5, 10), operation
            continue
        assert plans[operation] == (limit.rate, limit.burst), operation
