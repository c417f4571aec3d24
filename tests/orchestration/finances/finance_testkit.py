"""Shared by the finance tests: a real simulator, real SP-API clients on loopback, a data dir to land into.

Imported by name (this folder is on the pytest `pythonpath` in pyproject.toml). No stubs: the clients talk
HTTP to the bundled simulator, whose clock the tests can move ahead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from simulator import SimClock, SimulatorHandle, start_simulator
from spapi.bundled_simulator import demo_credentials
from spapi.client import ClientOptions, SpApiClient
from spapi.config import AccountConfig, load_config, resolve_endpoints
from spapi.ratelimit import RateLimiterRegistry
from spapi.windows import FINANCES_SAFE_LAG
from transforms.archive import RawArchive

REPO_ROOT = Path(__file__).resolve().parents[3]
# Simulated seconds per real second: Amazon's rate limits hold in simulated time, and the simulator reports
# them per real second in x-amzn-RateLimit-Limit (which the client adopts), so the tests wait 60x less.
TIME_SCALE = 60.0


@dataclass
class Landing:
    """One simulator, the demo accounts, and a data dir (lake + raw archive) the tests land into."""

    simulator: SimulatorHandle
    accounts: dict[str, AccountConfig]
    root: Path
    registry: RateLimiterRegistry

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def archive(self) -> RawArchive:
        return RawArchive(self.root / "raw")

    def client(self, account_id: str) -> SpApiClient:
        account = self.accounts[account_id]
        overrides = {"lwa": self.simulator.lwa_url, **self.simulator.spapi_urls}
        options = ClientOptions(now=self.simulator.clock.data_now, rate_limits=self.registry)
        endpoints = resolve_endpoints(account, overrides)
        return SpApiClient(account, demo_credentials(account.id), endpoints=endpoints, options=options)


@contextmanager
def landing_on_simulator(root: Path, *, start: datetime | None = None) -> Iterator[Landing]:
    """A simulator whose data time starts at `start`: by default now, so the suite meets many times of day, or
    ACORN_SIMULATOR_START (as for the demo) to replay the instant a failing run started at."""
    accounts = {a.id: a for a in load_config(REPO_ROOT / "config" / "demo.toml").accounts}
    clock = SimClock(start=start, time_scale=TIME_SCALE)
    with start_simulator(time_scale=TIME_SCALE, clock=clock) as simulator:
        # A registry of the test's own (real time), so no bucket is shared with other tests in the process.
        registry = RateLimiterRegistry()
        yield Landing(simulator, accounts, root, registry)


def in_flight_deferred(simulator: SimulatorHandle, account_id: str) -> dict[str, Decimal]:
    """Per currency, the deferred money the ledger posted in the last FINANCES_SAFE_LAG before the simulator's
    data time: listBalances counts it, listTransactions does not list it yet (the oracle for the gap)."""
    now = simulator.clock.data_now()
    recent = simulator.ledger.transactions(
        account_id,
        now,
        posted_after=now - FINANCES_SAFE_LAG,
        posted_before=now + timedelta(microseconds=1),
    )
    totals: dict[str, Decimal] = {}
    for transaction in recent:
        if transaction["transactionStatus"] == "DEFERRED":
            amount = transaction["totalAmount"]
            code = amount["currencyCode"]
            totals[code] = totals.get(code, Decimal(0)) + Decimal(str(amount["currencyAmount"]))
    return totals
