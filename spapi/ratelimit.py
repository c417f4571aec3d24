"""Client-side token buckets: one per (account, operation), shared by every client of that account in a
process.

Amazon meters each operation with a token bucket per selling partner and application: `burst` tokens, refilled
at `rate` per second. Mirroring it on our side means we rarely hear 429 at all, and spend the allowance
evenly.
Buckets start from the published defaults below and follow the `x-amzn-RateLimit-Limit` header, which reports
the rate actually applied (higher for some partners; the simulator reports its time-scaled rate there).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    rate: float  # requests per second
    burst: int
    source: str


_REPORTS = "model reports_2021-06-30.json, Usage Plan table (quoted too at docs.rs/amazon-spapi reports_api)"
_FIN_V0 = (
    "model financesV0.json, Usage Plan table; developer-docs.amazon.com/sp-api/docs/finances-api-rate-limits"
)
_FIN_2024 = (
    "model finances_2024-06-19.json, Usage Plan table; "
    "developer-docs.amazon.com/sp-api/docs/finances-api-rate-limits"
)
_TRANSFERS = "model transfers_2024-06-01.json, Usage Plan table"
_SHIPMENTS = "model vendorShipments.json, Usage Plan table"
_VENDOR = "model vendorOrders.json, Usage Plan table (quoted too at docs.rs/amazon-spapi vendor_orders_v1)"
# Finances Invoices 2026-06-25 has no Usage Plan table (AMAZON-FACTS.md: "The model states no rate limit"): a
# conservative default, the Finances 2024-06-19 plan (0.5 requests per second, burst 10), which the bucket leaves
# for the rate Amazon reports in `x-amzn-RateLimit-Limit` on the first answer.
_INVOICES = (
    "no usage plan in model financesInvoices_2026-06-25.json: conservative default (Finances 2024-06-19)"
)

# Amazon's published default rate and burst per operation. Each value is the "Usage Plan" table in the
# operation's description in Amazon's OpenAPI model (amzn/selling-partner-api-models, copied under
# tests/fixtures/shared/spapi-models/), checked against Amazon's rate-limit pages named in `source`.
PUBLISHED_LIMITS: dict[str, RateLimit] = {
    "getReports": RateLimit(0.0222, 10, _REPORTS),
    "getReport": RateLimit(2.0, 15, _REPORTS),
    "getReportDocument": RateLimit(0.0167, 15, _REPORTS),
    "listFinancialEventGroups": RateLimit(0.5, 30, _FIN_V0),
    "listFinancialEvents": RateLimit(0.5, 30, _FIN_V0),
    "listFinancialEventsByGroupId": RateLimit(0.5, 30, _FIN_V0),
    "listFinancialEventsByOrderId": RateLimit(0.5, 30, _FIN_V0),
    "listTransactions": RateLimit(0.5, 10, _FIN_2024),
    "listBalances": RateLimit(0.5, 10, _FIN_2024),
    "listSummary": RateLimit(0.5, 10, _FIN_2024),
    "listPayouts": RateLimit(0.5, 10, _TRANSFERS),
    "listExpectedPayouts": RateLimit(0.5, 10, _TRANSFERS),
    "getPurchaseOrders": RateLimit(10.0, 10, _VENDOR),
    "getPurchaseOrder": RateLimit(10.0, 10, _VENDOR),
    "getPurchaseOrdersStatus": RateLimit(10.0, 10, _VENDOR),
    "GetShipmentDetails": RateLimit(10.0, 10, _SHIPMENTS),
    "getInvoiceHeaders": RateLimit(0.5, 10, _INVOICES),
    "getInvoice": RateLimit(0.5, 10, _INVOICES),
}

# An operation missing from the table gets the most conservative published rate rather than none.
_UNKNOWN = RateLimit(0.0167, 1, "fallback: slowest published rate")

_EPSILON = 1e-9
# Fraction of a token kept in hand once requests are paced (see TokenBucket.acquire).
HEADROOM = 0.1

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class TokenBucket:
    """A thread-safe token bucket. `acquire()` blocks (through the injected `sleep`) until a token is free."""

    def __init__(
        self, rate: float, burst: int, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = threading.Lock()

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def burst(self) -> int:
        return self._burst

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self._burst), self._tokens + elapsed * self._rate)
        self._updated = now

    def available(self) -> float:
        with self._lock:
            self._refill(self._clock())
            return self._tokens

    def acquire(self) -> float:
        """Take one token, waiting for it if needed. Returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                self._refill(self._clock())
                # The tolerance absorbs float rounding: a refill of exactly the missing fraction can land a
                # hair below 1.0, and a sleep too short to move the clock would then spin forever.
                if self._tokens >= 1.0 - _EPSILON:
                    self._tokens = max(0.0, self._tokens - 1.0)
                    return waited
                # Once paced, wait for HEADROOM more than the token: Amazon's bucket sees each request a little
                # later than ours was taken, and that latency varies. The cushion stays in the bucket, so the
                # steady pace is still exactly `rate` (measured: a 500-page backfill at the published limit
                # drew a 429 without it, none with it).
                delay = (1.0 + HEADROOM - self._tokens) / self._rate
            # Sleep outside the lock so other threads can refill/inspect; loop because another may win the
            # token.
            self._sleep(delay)
            waited += delay

    def set_rate(self, rate: float) -> None:
        """Follow the rate Amazon says it applies (the `x-amzn-RateLimit-Limit` header)."""
        if rate <= 0:
            return
        with self._lock:
            self._refill(self._clock())
            self._rate = rate

    def handed_over(self) -> tuple[float, float]:
        """(tokens now, rate): what the next holder of the account needs to continue where this one stopped."""
        with self._lock:
            self._refill(self._clock())
            return self._tokens, self._rate

    def take_over(self, tokens: float, rate: float, elapsed: float) -> None:
        """Continue from a previous holder's bucket (`handed_over`, `elapsed` seconds ago): its tokens, refilled
        for the time since at its rate, and its rate (which followed Amazon's header)."""
        with self._lock:
            if rate > 0:
                self._rate = rate
            self._tokens = min(float(self._burst), max(0.0, tokens) + max(0.0, elapsed) * self._rate)
            self._updated = self._clock()

    def drain(self) -> None:
        """After a 429 our view was too optimistic: Amazon's bucket is empty, so ours should be too."""
        with self._lock:
            self._refill(self._clock())
            self._tokens = 0.0


class RateLimiterRegistry:
    """Buckets keyed by (account, operation). The module-level `SHARED_REGISTRY` is what clients use by
    default,
    so two clients of the same account in one process share (and respect) one allowance."""

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, account_id: str, operation: str) -> TokenBucket:
        key = (account_id, operation)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                limit = PUBLISHED_LIMITS.get(operation, _UNKNOWN)
                bucket = TokenBucket(limit.rate, limit.burst, clock=self._clock, sleep=self._sleep)
                self._buckets[key] = bucket
            return bucket

    def hand_over(self, account_id: str, *, wall: Clock = time.time) -> dict[str, dict[str, float]]:
        """The account's buckets as the next holder of its lock takes them over (`take_over`): per operation the
        tokens left, the rate and the wall-clock second it was read (JSON-ready; wall time, since the next holder
        may be another process or host)."""
        with self._lock:
            buckets = {
                operation: bucket
                for (account, operation), bucket in self._buckets.items()
                if account == account_id
            }
        states = {}
        for operation, bucket in buckets.items():
            tokens, rate = bucket.handed_over()
            states[operation] = {"tokens": tokens, "rate": rate, "at": wall()}
        return states

    def take_over(
        self, account_id: str, states: dict[str, dict[str, float]], *, wall: Clock = time.time
    ) -> None:
        """Continue the account's buckets from what the previous holder of its lock handed over (`hand_over`):
        Amazon's bucket is shared by every process calling the account, so a process that takes the account over
        must not start from a full burst the previous holder has spent."""
        for operation, state in states.items():
            try:
                tokens, rate, at = float(state["tokens"]), float(state["rate"]), float(state["at"])
            except (KeyError, TypeError, ValueError):
                continue  # an unreadable entry: that operation starts from its published burst
            self.bucket(account_id, operation).take_over(tokens, rate, wall() - at)


SHARED_REGISTRY = RateLimiterRegistry()


def parse_rate_limit_header(value: str | None) -> float | None:
    """The rate in `x-amzn-RateLimit-Limit` (requests per second), or None when absent or unreadable."""
    if not value:
        return None
    try:
        rate = float(value.strip())
    except ValueError:
        return None
    return rate if rate > 0 and rate != float("inf") else None
