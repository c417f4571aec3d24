"""Resources shared by the domains: where the data lives, and the SP-API (live Amazon or the bundled simulator).

The SP-API resource has two flavours behind one interface (the HNClient pattern of Dagster's fully-featured
example): accounts whose config says `[simulator] enabled = true` talk to an in-process simulator started for the
run on free loopback ports (started when the run first needs it: an `acorn import` never does), or, with
`shared = true` too, to one simulator already running for every worker at the accounts' own `spapi_endpoint` and
`lwa_endpoint` (the cluster demo's, so its limits hold across workers); every other config talks to Amazon.
Credentials are read from the environment when a run starts, never at import time, and never end up in metadata
or logs.
"""

from __future__ import annotations

import os
import threading
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import PrivateAttr

from lake.read import LakeSource
from orchestration.account_locks import spapi_account_lock
from orchestration.interrupted_runs import claim_run
from orchestration.lake_refresh import lake_files, refresh_account
from orchestration.paths import DataPaths, data_paths, default_config_path
from simulator.clock import start_override
from spapi.bundled_simulator import (
    claim_simulated_day,
    demo_credentials,
    endpoint_overrides,
    simulator_settings,
    start_bundled_simulator,
)
from spapi.config import AccountConfig, load_config, resolve_endpoints
from spapi.credentials import LwaCredentials, credentials_from_env
from spapi.ratelimit import SHARED_REGISTRY

if TYPE_CHECKING:
    # Imported when a client is opened (its HTTP and retry libraries): an import, which calls no API, never does.
    from spapi.client import SpApiClient

# Where the per-account SP-API locks live in the embedded mode (flock; scale-out: PostgreSQL, account_locks.py).
ACCOUNT_LOCKS_DIR = ".acorn-locks"
# One SpApiResource starts its simulator at a time (a run's account threads may all ask at once).
_SIMULATOR_STARTING = threading.Lock()


class DataDirResource(dg.ConfigurableResource):
    """The ACORN data dir (raw/, lake/, quarantine/, inbox/, warehouse.duckdb)."""

    data_dir: str = ""

    def paths(self) -> DataPaths:
        return data_paths(self.data_dir or None).ensure()

    def lake_files(self) -> LakeSource:
        """What the lake's checks read (every account's partitions, which other hosts may have landed): the local
        lake; in scale-out with an s3:// store, the store's current files, read in place (nothing downloaded:
        orchestration/lake_refresh.py `lake_files`)."""
        return lake_files(self.paths().lake)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Every job's first step uses the data dir: there a run started from the UI or by the daemon names its
        # run worker, and the runs of processes that are gone are marked failed.
        run = context.run
        if run is None or context.instance is None:
            return  # a sensor's evaluation, not a run
        try:
            said = [f"run {run_id} marked failed: {why}" for run_id, why in claim_run(context.instance, run)]
        except Exception as error:  # bookkeeping of other runs never fails this one
            said = [f"could not check for interrupted runs: {error}"]
        for line in said:
            if context.log is not None:
                context.log.warning(line)


def _simulator_settings(config_path: Path) -> dict[str, Any]:
    with config_path.open("rb") as handle:
        return simulator_settings(tomllib.load(handle))


def simulated_start(environ: Mapping[str, str] | None = None) -> datetime:
    """Where the bundled simulator's business day starts: today's 00:00 UTC, so every run on one day sees the
    same ledger (a hostile run and a clean run compare row for row), or ACORN_SIMULATOR_START to replay the
    demo as of another day."""
    override = start_override(environ)
    if override is not None:
        return override
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def claim_simulated_data_dir(config_path: Path | None = None, data_root: Path | None = None) -> None:
    """When the accounts config stands the bundled simulator in for Amazon: record the simulated day in the
    data dir, or raise SimulatedDayMismatch when the data dir holds another simulated day's data (see
    spapi.bundled_simulator.claim_simulated_day). Nothing for a config that talks to Amazon."""
    settings = _simulator_settings(config_path or default_config_path())
    if settings:
        root = data_root or data_paths().root
        claim_simulated_day(root, simulated_start().date(), int(settings.get("seed", 7)))


def business_now(config_path: Path | None = None) -> datetime:
    """What "now" is for the data: the simulated business day when the accounts config stands the bundled
    simulator in for Amazon (so a replayed day's data is as fresh as on that day), else the wall clock."""
    if _simulator_settings(config_path or default_config_path()):
        return simulated_start()
    return datetime.now(UTC)


class SpApiResource(dg.ConfigurableResource):
    """Selling Partner API access for every configured account."""

    config_path: str = ""
    simulator_profile: str = "clean"
    simulator_request_log: str = ""

    _simulator: Any = PrivateAttr(default=None)
    _overrides: dict[str, str] = PrivateAttr(default_factory=dict)
    # Set by setup_for_execution when the config enables the simulator: what to start on first need.
    _settings: dict[str, Any] = PrivateAttr(default_factory=dict)
    _start: datetime | None = PrivateAttr(default=None)

    def resolved_config_path(self) -> Path:
        return Path(self.config_path).resolve() if self.config_path else default_config_path()

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # The simulator is started on first use (`client`, `now`, `credentials_for`): a run that calls no
        # SP-API, such as `acorn import`'s, does not build its demo ledger (about 0.3 CPU s and a server thread).
        self._settings = _simulator_settings(self.resolved_config_path())
        self._start = simulated_start() if self._settings else None

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._simulator is not None:
            self._simulator.stop()
            self._simulator = None

    @property
    def _shared_simulator(self) -> bool:
        """The config names a simulator already running for every worker (`[simulator] shared = true`): the
        accounts' endpoints point at it, and the run starts none."""
        return bool(self._settings.get("shared"))

    def _running_simulator(self) -> Any:
        """The bundled simulator when the config enables it (started now if not yet), else None (also when the
        config names a shared one: nothing runs in this process)."""
        if self._simulator is None and self._settings and not self._shared_simulator:
            with _SIMULATOR_STARTING:
                if self._simulator is None:
                    handle = start_bundled_simulator(
                        self._settings,
                        profile=self.simulator_profile,
                        request_log=Path(self.simulator_request_log) if self.simulator_request_log else None,
                        start=self._start,
                    )
                    self._overrides = endpoint_overrides(handle)
                    self._simulator = handle
        return self._simulator

    @property
    def uses_simulator(self) -> bool:
        return self._shared_simulator or self._running_simulator() is not None

    def accounts(self, kind: str | None = None) -> list[AccountConfig]:
        """Every account of the config (of `kind` when given); a run's partitions choose which ones it lands
        (orchestration/account_partitions.py)."""
        accounts = load_config(self.resolved_config_path()).accounts
        return [account for account in accounts if kind is None or account.kind == kind]

    def credentials_for(self, account: AccountConfig) -> LwaCredentials:
        fallback = demo_credentials(account.id) if self.uses_simulator else None
        return credentials_from_env(account.id, os.environ, fallback=fallback)

    def now(self) -> datetime:
        """Amazon's current time: the simulator's clock when it stands in (it runs faster than real time and
        tests move it ahead), else the wall clock. Posted-date windows and as-of times follow it."""
        simulator = self._running_simulator()
        if simulator is not None:
            return simulator.clock.data_now()
        if self._shared_simulator and self._start is not None:
            # The shared simulator's data_now: started at the same simulated day, never moved.
            return self._start
        return datetime.now(UTC)

    @contextmanager
    def client(
        self, account: AccountConfig, on_wait: Callable[[str], None] | None = None
    ) -> Iterator[SpApiClient]:
        """The account's client, open only while this process holds the account's lock (spapi/account_lock.py):
        two processes (workers, a UI run beside a cron run) never call one account at once. `on_wait` is told
        who holds it when this process has to wait."""
        from spapi.client import ClientOptions, SpApiClient

        self._running_simulator()
        endpoints = resolve_endpoints(account, self._overrides or None)
        options = ClientOptions(now=self.now)
        paths = data_paths()
        # The lock hands the account's client-side buckets from process to process: Amazon's are per account.
        with spapi_account_lock(paths.root / ACCOUNT_LOCKS_DIR, account.id, on_wait, buckets=SHARED_REGISTRY):
            # Scale-out: the account's lake as the object store has it (another host may have landed it last);
            # under the lock, so no host lands the account meanwhile. Embedded: one look at the environment.
            refresh_account(paths.lake, account.id)
            with SpApiClient(
                account, self.credentials_for(account), endpoints=endpoints, options=options
            ) as client:
                yield client
