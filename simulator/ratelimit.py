"""Amazon's usage plans, enforced per (caller, account, operation) as token buckets on the simulated clock.

Rates and bursts are Amazon's published defaults (the "Usage Plan" table in each operation's description in
Amazon's OpenAPI models, tests/fixtures/shared/spapi-models/). Buckets refill in *simulated* seconds, so with
time_scale=100 a 0.0222 req/s plan admits 2.22 requests per real second; `x-amzn-RateLimit-Limit` reports that
scaled rate, as a client measuring real time would observe it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal

from simulator.clock import SimClock


@dataclass(frozen=True)
class UsagePlan:
    rate: Decimal  # requests per second
    burst: int


USAGE_PLANS: dict[str, UsagePlan] = {
    "getReports": UsagePlan(Decimal("0.0222"), 10),
    "getReport": UsagePlan(Decimal("2"), 15),
    "getReportDocument": UsagePlan(Decimal("0.0167"), 15),
    "listFinancialEventGroups": UsagePlan(Decimal("0.5"), 30),
    "listFinancialEvents": UsagePlan(Decimal("0.5"), 30),
    "listFinancialEventsByGroupId": UsagePlan(Decimal("0.5"), 30),
    "listFinancialEventsByOrderId": UsagePlan(Decimal("0.5"), 30),
    "listTransactions": UsagePlan(Decimal("0.5"), 10),
    "listBalances": UsagePlan(Decimal("0.5"), 10),
    "listSummary": UsagePlan(Decimal("0.5"), 10),
    "listExpectedPayouts": UsagePlan(Decimal("0.5"), 10),
    "getPurchaseOrders": UsagePlan(Decimal("10"), 10),
    "getPurchaseOrder": UsagePlan(Decimal("10"), 10),
    "getPurchaseOrdersStatus": UsagePlan(Decimal("10"), 10),
    "GetShipmentDetails": UsagePlan(Decimal("10"), 10),
    # Finances Invoices 2026-06-25 publishes no usage plan; the simulator applies the client's conservative
    # default (spapi.ratelimit: Finances 2024-06-19's 0.5/s, burst 10).
    "getInvoiceHeaders": UsagePlan(Decimal("0.5"), 10),
    "getInvoice": UsagePlan(Decimal("0.5"), 10),
}


def header_rate(plan: UsagePlan, time_scale: float) -> str:
    """The `x-amzn-RateLimit-Limit` value: the plan's rate per real second at this time scale."""
    scaled = (plan.rate * Decimal(repr(time_scale))).normalize()
    return format(scaled, "f")


class RateLimiter:
    def __init__(self, clock: SimClock) -> None:
        self._clock = clock
        self._buckets: dict[tuple[str, ...], tuple[float, float]] = {}  # key -> (tokens, at simulated second)
        self._lock = threading.Lock()

    def admit(self, key: tuple[str, ...], plan: UsagePlan) -> bool:
        """Take one request from the bucket; False means answer 429."""
        now = self._clock.seconds()
        rate = float(plan.rate)
        with self._lock:
            tokens, at = self._buckets.get(key, (float(plan.burst), now))
            tokens = min(float(plan.burst), tokens + (now - at) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return True
            self._buckets[key] = (tokens, now)
            return False
