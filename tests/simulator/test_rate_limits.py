"""Usage plans: Amazon's rate and burst per (caller, account, operation), scaled by time_scale, with
`x-amzn-RateLimit-Limit` on throttled and successful responses alike."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest
from simkit import fetch_token

REPORTS = {"reportTypes": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"}


def test_unscaled_plan_header(api) -> None:  # type: ignore[no-untyped-def]
    assert api.call("getReports", params=REPORTS).headers["x-amzn-RateLimit-Limit"] == "0.0222"
    assert api.call("listBalances").headers["x-amzn-RateLimit-Limit"] == "0.5"


@pytest.fixture
def frozen_api(start, caller_factory):  # type: ignore[no-untyped-def]
    """Simulated time all but stopped (1 s per 11.6 real days): only advance() refills, so the counts below
    do not depend on how fast a loaded machine runs the test."""
    return caller_factory(start(time_scale=1e-6))


def test_get_reports_burst_of_10_then_429_with_the_plan_header(frozen_api) -> None:  # type: ignore[no-untyped-def]
    api = frozen_api
    responses = [api.call("getReports", params=REPORTS) for _ in range(11)]
    assert [r.status_code for r in responses] == [200] * 10 + [429]
    assert len({r.headers["x-amzn-RateLimit-Limit"] for r in responses}) == 1  # on 200s and the 429 alike
    assert responses[-1].json()["errors"][0]["code"] == "QuotaExceeded"
    # 0.0222 req/s: one request refills in 45.05 simulated seconds, not in 44.
    api.sim.clock.advance(timedelta(seconds=44))
    assert api.call("getReports", params=REPORTS).status_code == 429
    api.sim.clock.advance(timedelta(seconds=2))
    assert api.call("getReports", params=REPORTS).status_code == 200


def test_buckets_are_per_operation_and_per_caller(frozen_api) -> None:  # type: ignore[no-untyped-def]
    api = frozen_api
    for _ in range(10):
        api.call("getReports", params=REPORTS)
    assert api.call("getReports", params=REPORTS).status_code == 429
    assert api.call("listBalances").status_code == 200  # another operation, another bucket
    other_caller = fetch_token(api.sim, refresh_token="Atzr|another-selling-partner")
    assert api.call("getReports", params=REPORTS, token=other_caller).status_code == 200
    # the same refresh token, a new access token: still the same caller, still throttled
    assert api.call("getReports", params=REPORTS, token=fetch_token(api.sim)).status_code == 429


def test_time_scale_speeds_up_the_plan_and_its_header(start, caller_factory) -> None:  # type: ignore[no-untyped-def]
    sim = start(time_scale=100.0)
    api = caller_factory(sim)
    first = api.call("getReports", params=REPORTS)
    assert first.headers["x-amzn-RateLimit-Limit"] == "2.22"
    vendor = api.call("getPurchaseOrdersStatus", params={"purchaseOrderNumber": "NONE"})
    assert vendor.headers["x-amzn-RateLimit-Limit"] == "1000"
    # For one real second, hammer getReports: what is left of the burst plus 2.22 refills at 100x.
    admitted, deadline = 0, time.monotonic() + 1.0
    with httpx.Client(headers={"x-amz-access-token": api.token}) as client:
        while time.monotonic() < deadline:
            response = client.get(api.url("getReports"), params=REPORTS)
            admitted += response.status_code == 200
            assert response.headers["x-amzn-RateLimit-Limit"] == "2.22"
    # the 9 left of the burst + about 2.2 refills (1x would admit 9; a loaded machine may miss the last one)
    assert 10 <= admitted <= 13


def test_throttled_responses_still_identify_the_request(frozen_api) -> None:  # type: ignore[no-untyped-def]
    api = frozen_api
    responses = [api.call("listBalances") for _ in range(12)]
    throttled = [r for r in responses if r.status_code == 429]
    assert len(throttled) == 2
    assert len({r.headers["x-amzn-RequestId"] for r in responses}) == 12
