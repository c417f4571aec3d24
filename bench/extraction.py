"""Extraction efficiency: SP-API calls achieved per second ÷ what the rate limits allow, over a long run.

The simulator enforces Amazon's published limits on a clock running `--time-scale` times faster than real time
(and reports the scaled rate in `x-amzn-RateLimit-Limit`, as Amazon reports the rate it applies). ACORN's client
pages through financial events one event per page for `--seconds` real seconds. The most any client may make in
that time is the burst plus rate × time; efficiency is the calls made divided by that. Goal: at least 0.9, with no
failed request reaching the caller. Prints numbers; never fails on them.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from simulator import start_simulator
from simulator.requestlog import read_request_log
from spapi.client import ClientOptions, SpApiClient
from spapi.config import AccountConfig, resolve_endpoints
from spapi.credentials import LwaCredentials
from spapi.errors import SpApiError
from spapi.ratelimit import PUBLISHED_LIMITS, RateLimiterRegistry

OPERATION = "listFinancialEventsByGroupId"


def run(seconds: float, time_scale: float) -> dict[str, float]:
    limit = PUBLISHED_LIMITS[OPERATION]
    log = Path(tempfile.mkdtemp(prefix="acorn-bench-")) / "requests.jsonl"
    credentials = LwaCredentials("amzn1.application-oa2-client.bench", "bench-secret", "Atzr|bench")
    calls = failures = 0
    with start_simulator(profile="clean", request_log=log, time_scale=time_scale) as simulator:
        account = AccountConfig(id="demo-na", region="na")
        endpoints = resolve_endpoints(account, {"lwa": simulator.lwa_url, **simulator.spapi_urls})
        options = ClientOptions(now=simulator.clock.data_now, rate_limits=RateLimiterRegistry())
        with SpApiClient(account, credentials, endpoints=endpoints, options=options) as client:
            groups = [
                group["FinancialEventGroupId"]
                for page in client.iter_financial_event_groups(
                    simulator.clock.data_now() - timedelta(days=170)
                )
                for group in page.items
            ]
            started = time.monotonic()
            deadline = started + seconds
            while time.monotonic() < deadline:
                for group_id in groups:
                    try:
                        for _page in client.iter_financial_events_by_group(group_id, page_size=1):
                            calls += 1
                            if time.monotonic() >= deadline:
                                break
                    except SpApiError:
                        failures += 1
                    if time.monotonic() >= deadline:
                        break
            elapsed = time.monotonic() - started
    entries = read_request_log(log)
    throttled = sum(1 for e in entries if e["status"] == 429 and e["path"].endswith("/financialEvents"))
    allowed = limit.burst + limit.rate * time_scale * elapsed
    return {
        "seconds": elapsed,
        "calls": calls,
        "allowed": allowed,
        "efficiency": calls / allowed,
        "throttled_429": throttled,
        "failures_reaching_caller": failures,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.extraction", description=__doc__)
    parser.add_argument("--seconds", type=float, default=40.0, help="real seconds of paging (default 40)")
    parser.add_argument("--time-scale", type=float, default=20.0, help="simulated seconds per real second")
    args = parser.parse_args(argv)
    result = run(args.seconds, args.time_scale)
    limit = PUBLISHED_LIMITS[OPERATION]
    print(
        f"operation            {OPERATION} (published {limit.rate}/s, burst {limit.burst}; time scale "
        f"{args.time_scale:g} -> {limit.rate * args.time_scale:g}/s)"
    )
    print(
        f"run                  {result['seconds']:.1f} s, {result['calls']:.0f} calls, "
        f"{result['allowed']:.1f} allowed by the limits"
    )
    print(f"efficiency           {result['efficiency']:.3f}  (goal >= 0.9)")
    print(f"throttled (429)      {result['throttled_429']:.0f}, retried by the client")
    print(f"failures to caller   {result['failures_reaching_caller']:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
