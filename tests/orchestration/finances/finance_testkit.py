"""Shared by the finance tests: a real simulator, real SP-API clients on loopback, a data dir to land into.

Imported by name (the project runs pytest with --import-mode=importlib; the conftests put this folder on
sys.path). No stubs: the clients talk HTTP to the bundled simulator, whose clock the tests can move ahead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from orchestration.resources import demo_credentials
from spapi.client import ClientOptions, SpApiClient
from spapi.config import AccountConfig, load_config, resolve_endpoints
from spapi.ratelimit import RateLimiterRegistry
from spapi.simulator import SimulatorHandle, start_simulator
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
def landing_on_simulator(root: Path) -> Iterator[Landing]:
    accounts = {a.id: a for a in load_config(REPO_ROOT / "config" / "demo.toml").accounts}
    with start_simulator(time_scale=TIME_SCALE) as simulator:
        # A registry of the test's own (real time), so no bucket is shared with other tests in the process.
        registry = RateLimiterRegistry()
        yield Landing(simulator, accounts, root, registry)
