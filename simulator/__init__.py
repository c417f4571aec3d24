"""The bundled SP-API simulator: Amazon's LWA, SP-API (na, eu, fe) and report-document origins on loopback.

See README.md beside this file. The HTTP layer lives in this package; the synthetic business history it serves
lives in :mod:`simulator.ledger`. Nothing here imports ACORN's SP-API client: the simulator treats any
client as Amazon would.
"""

from simulator.clock import SimClock
from simulator.faults import PROFILES
from simulator.server import SimPorts, SimulatorHandle, run_forever, start_simulator

__all__ = ["PROFILES", "SimClock", "SimPorts", "SimulatorHandle", "run_forever", "start_simulator"]
