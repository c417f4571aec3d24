"""The bundled SP-API simulator: Amazon's LWA, SP-API (na, eu, fe) and report-document origins on loopback.

See README.md beside this file. The HTTP layer lives in this package; the synthetic business history it serves
lives in :mod:`simulator.ledger`. Nothing here imports ACORN's SP-API client: the simulator treats any
client as Amazon would.

The names below are loaded on first use (PEP 562): a process that only reads `simulator.clock` (every `acorn`
command, through orchestration/resources.py) does not import the server and the ledger (about 0.3 s).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulator.clock import SimClock
    from simulator.faults import PROFILES
    from simulator.server import SimPorts, SimulatorHandle, run_forever, start_simulator

__all__ = ["PROFILES", "SimClock", "SimPorts", "SimulatorHandle", "run_forever", "start_simulator"]

_HOMES = {
    "SimClock": "simulator.clock",
    "PROFILES": "simulator.faults",
    "SimPorts": "simulator.server",
    "SimulatorHandle": "simulator.server",
    "run_forever": "simulator.server",
    "start_simulator": "simulator.server",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'simulator' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
