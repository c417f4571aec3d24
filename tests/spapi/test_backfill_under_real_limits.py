"""A 500-page finance backfill under Amazon's real, unscaled limits never exceeds them.

Client and simulator share one simulated clock: every sleep of the client moves simulated time forward, so a
backfill that would take a quarter of an hour against Amazon runs in seconds here, while the simulator enforces
the published rate and burst (0.5 req/s, burst 30 for listFinancialEventsByGroupId) on that same clock. Exceeding
them would show as a 429; being needlessly slow shows as simulated time far beyond what the limits require.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from simulator import SimClock, start_simulator
from spapi.client import ClientOptions, SpApiClient
from spapi.config import AccountConfig, resolve_endpoints
from spapi.credentials import LwaCredentials
from spapi.ratelimit import PUBLISHED_LIMITS, RateLimiterRegistry

PAGES = 500


@pytest.mark.slow
def test_500_page_backfill_stays_within_published_limits(tmp_path: Path) -> None:
    clock = SimClock(time_scale=1.0)

    def simulated_seconds() -> float:
        return clock.seconds()

    def simulated_sleep(seconds: float) -> None:
        clock.advance(timedelta(seconds=max(0.0, seconds)))

    options = ClientOptions(
        clock=simulated_seconds,
        sleep=simulated_sleep,
        now=clock.data_now,
        rate_limits=RateLimiterRegistry(clock=simulated_seconds, sleep=simulated_sleep),
    )
    log = tmp_path / "requests.jsonl"
    credentials = LwaCredentials("amzn1.application-oa2-client.test", "test-secret", "Atzr|test-refresh")
    pages = 0
    with start_simulator(profile="clean", request_log=log, clock=clock) as simulator:
        account = AccountConfig(id="demo-na", region="na")
        endpoints = resolve_endpoints(account, {"lwa": simulator.lwa_url, **simulator.spapi_urls})
        with SpApiClient(account, credentials, endpoints=endpoints, options=options) as client:
            group_ids = [
                group["FinancialEventGroupId"]
                for page in client.iter_financial_event_groups(clock.data_now() - timedelta(days=170))
                for group in page.items
            ]
            started = clock.seconds()
            for group_id in group_ids:
                # One event a page: the ledger holds twice the pages needed on any day (at two, some fall short).
                for _page in client.iter_financial_events_by_group(group_id, page_size=1):
                    pages += 1
                    if pages == PAGES:
                        break
                if pages == PAGES:
                    break
            elapsed = clock.seconds() - started
    assert pages == PAGES, f"only {pages} pages of events in the demo ledger"

    entries = [json.loads(line) for line in log.read_text().splitlines()]
    throttled = [e for e in entries if e["status"] == 429]
    assert not throttled, f"{len(throttled)} calls exceeded the published limits"

    limit = PUBLISHED_LIMITS["listFinancialEventsByGroupId"]
    by_group_calls = sum(
        1 for e in entries if e["origin"] == "spapi" and e["path"].endswith("/financialEvents")
    )
    # The fastest any client may go: the burst at once, then `rate` per second.
    fastest = max(0.0, (by_group_calls - limit.burst) / limit.rate)
    assert elapsed >= fastest - 1.0, (
        "faster than the limits allow, yet no 429: the simulator is not enforcing"
    )
    assert elapsed <= fastest * 1.15 + 5.0, (
        f"backfill took {elapsed:.0f} s simulated; limits allow {fastest:.0f} s"
    )
