"""The bundled simulator standing in for Amazon: whether a config asks for it, starting it, and the credentials
the demo sends it. One place for `acorn run`/`acorn demo` (the Dagster resource) and `acorn doctor`.

A config enables it with a `[simulator]` table (`enabled = true`, optional `seed`, `time_scale` and
`simulated_sellers`: that many seller accounts beside the demo's, sim-na-001, sim-eu-002, ..., for many-account
runs such as the cluster demo). `shared = true` says the simulator is already running (one `acorn simulator
--start DAY` for every worker) at the endpoints each account names (`spapi_endpoint`, `lwa_endpoint`): runs start
none, and keep the simulated day's clock (ACORN_SIMULATOR_START must be that DAY). The
simulator accepts any credentials, so the demo needs no SPAPI_* variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spapi.credentials import LwaCredentials

if TYPE_CHECKING:
    from simulator import SimulatorHandle


def simulator_settings(tables: Mapping[str, Any]) -> dict[str, Any]:
    """The config's `[simulator]` table when it enables the simulator, else {} (`tables`: the config's
    top-level tables, such as `Config.extra` or the whole TOML document)."""
    settings = tables.get("simulator", {})
    return dict(settings) if isinstance(settings, Mapping) and settings.get("enabled") else {}


def start_bundled_simulator(
    settings: Mapping[str, Any],
    *,
    profile: str = "clean",
    request_log: Path | None = None,
    start: datetime | None = None,
) -> SimulatorHandle:
    """Start the simulator as `settings` (see simulator_settings) describe it, its clock at `start` (None: the
    simulator's default, the wall clock or ACORN_SIMULATOR_START). Imported here, not at module level, so a
    run against Amazon never loads the simulator."""
    from simulator import SimClock, start_simulator

    return start_simulator(
        profile=profile,
        request_log=request_log,
        seed=int(settings.get("seed", 7)),
        clock=SimClock(start=start, time_scale=float(settings.get("time_scale", 1.0))),
        simulated_sellers=int(settings.get("simulated_sellers", 0)),
    )


def is_shared(settings: Mapping[str, Any]) -> bool:
    """The `[simulator]` settings name a simulator already running at the accounts' endpoints (see the module)."""
    return bool(settings.get("shared"))


def endpoint_overrides(handle: SimulatorHandle) -> dict[str, str]:
    """The simulator's LWA and regional SP-API URLs, as `spapi.config.resolve_endpoints` takes them."""
    return {"lwa": handle.lwa_url, **handle.spapi_urls}


def demo_credentials(account_id: str) -> LwaCredentials:
    """What the demo sends when no SPAPI_* variables are set: the simulator accepts any credentials."""
    return LwaCredentials(
        client_id="amzn1.application-oa2-client.acorn-demo",
        client_secret="acorn-demo-client-secret",
        refresh_token=f"Atzr|acorn-demo-{account_id}",
    )


# The simulated day (and seed) whose data a data dir holds, written by the first run that uses the simulator there.
SIMULATED_DAY_FILE = "simulator-day.txt"


class SimulatedDayMismatch(RuntimeError):
    """The data dir holds the bundled simulator's data of another simulated day (or seed)."""


def claim_simulated_day(data_root: Path, day: date, seed: int) -> None:
    """Record in `data_root` that it holds the simulator's data of `day` (with `seed`), or raise
    SimulatedDayMismatch when it already holds another day's.

    The simulator builds each day's demo history afresh from (seed, day): its windows, its anomalies, the
    outstanding B2B order and the vendor purchase orders are placed relative to that day, so day 2's history is
    not day 1's plus a day (money deferred on day 1 is never released on day 2, vendor invoices differ).
    Landing both in one data dir makes the deferred-balance and vendor checks fail on data that no real account
    would ever serve; saying so beats a red check about the user's books."""
    marker = data_root / SIMULATED_DAY_FILE
    wanted = f"{day.isoformat()} seed={seed}"
    if marker.exists():
        recorded = marker.read_text(encoding="utf-8").strip()
        if recorded != wanted:
            recorded_day = recorded.split(" ", 1)[0]
            raise SimulatedDayMismatch(
                f"the data dir {data_root} holds the bundled simulator's data of simulated day {recorded}, "
                f"but this run's simulator serves {wanted}. The simulator generates each day's demo history "
                "afresh (not the previous day's plus one day), so the two days' data cannot share a data dir. "
                f"Use a fresh data dir (ACORN_DATA_DIR=<new dir>, or remove {data_root}), or replay that day "
                f"with ACORN_SIMULATOR_START={recorded_day}."
            )
        return
    data_root.mkdir(parents=True, exist_ok=True)
    marker.write_text(wanted + "\n", encoding="utf-8")
