"""Starting the simulator: five loopback origins served by uvicorn on one event loop in a thread."""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from simulator.clock import SimClock
from simulator.documents_origin import build_documents_origin
from simulator.faults import FaultPlan
from simulator.ledger import Ledger
from simulator.lwa_origin import build_lwa_origin
from simulator.requestlog import RequestLog
from simulator.signing import Signer
from simulator.spapi_origin import build_spapi_origin
from simulator.state import DEFAULT_REJECTED_PREFIX, DEFAULT_SLOW_RESPONSE_SECONDS, SimulatorState

HOST = "127.0.0.1"
REGIONS = ("na", "eu", "fe")


@dataclass(frozen=True)
class SimPorts:
    """Fixed ports; 0 (the default) picks a free one."""

    lwa: int = 0
    na: int = 0
    eu: int = 0
    fe: int = 0
    documents: int = 0

    @classmethod
    def consecutive(cls, first: int) -> SimPorts:
        """LWA on first, na/eu/fe on first+1..+3, documents on first+4 (the `acorn simulator` layout)."""
        return cls(lwa=first, na=first + 1, eu=first + 2, fe=first + 3, documents=first + 4)


class SimulatorHandle:
    """A running simulator. Use as a context manager, or call :meth:`stop`."""

    def __init__(
        self,
        state: SimulatorState,
        urls: dict[str, str],
        servers: list[uvicorn.Server],
        thread: threading.Thread,
    ) -> None:
        self.state = state
        self.lwa_url = urls["lwa"] + "/auth/o2/token"
        self.spapi_urls = {region: urls[region] for region in REGIONS}
        self.documents_url = urls["documents"]
        self.clock = state.clock
        self.ledger = state.ledger
        self._servers = servers
        self._thread = thread

    def advance(self, delta: timedelta) -> None:
        """Move the simulated clock forward (shorthand for ``handle.clock.advance``)."""
        self.clock.advance(delta)

    def stop(self) -> None:
        for server in self._servers:
            server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> SimulatorHandle:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class _NoDelayH11Protocol(H11Protocol):
    """uvicorn writes a response's headers and body separately: without TCP_NODELAY the body waits ~40 ms
    for the client's delayed ACK (Nagle), which made every simulated call 40 ms slower than it needs to be."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def start_simulator(
    *,
    profile: str = "clean",
    request_log: Path | None = None,
    seed: int = 7,
    time_scale: float = 1.0,
    ports: SimPorts | None = None,
    ledger: Ledger | None = None,
    clock: SimClock | None = None,
    slow_response_seconds: float = DEFAULT_SLOW_RESPONSE_SECONDS,
    rejected_prefix: str = DEFAULT_REJECTED_PREFIX,
    simulated_sellers: int = 0,
) -> SimulatorHandle:
    """Start the LWA, SP-API (na, eu, fe) and documents origins on 127.0.0.1 and return once they listen.

    profile: "clean" or "hostile" (see faults.py); request_log: append one JSON line per request there;
    seed: the ledger's and the fault plan's seed; time_scale: simulated seconds per real second (rate
    limits, token and URL expiry follow it); ledger/clock: inject your own (tests).
    slow_response_seconds: how long the hostile profile's one slow response waits (real seconds).
    rejected_prefix: LWA refuses refresh tokens / client ids starting with it.
    simulated_sellers: seller accounts beside the demo's (sim-na-001, sim-eu-002, ...; the demo's refresh token
    for an account selects it).
    """
    clock = clock or SimClock(time_scale=time_scale)
    state = SimulatorState(
        clock=clock,
        ledger=ledger
        or Ledger(seed=seed, today=clock.data_now().date(), simulated_sellers=simulated_sellers),
        faults=FaultPlan(profile, seed),
        request_log=RequestLog(request_log),
        signer=Signer(seed),
        rejected_prefix=rejected_prefix,
        slow_response_seconds=slow_response_seconds,
    )
    ports = ports or SimPorts()
    sockets = {name: _bind(getattr(ports, name)) for name in ("lwa", *REGIONS, "documents")}
    urls = {name: f"http://{HOST}:{sock.getsockname()[1]}" for name, sock in sockets.items()}
    state.documents_url = urls["documents"]

    apps = {
        "lwa": build_lwa_origin(state),
        "documents": build_documents_origin(state),
        **{region: build_spapi_origin(state, region) for region in REGIONS},
    }
    servers = {
        name: uvicorn.Server(
            uvicorn.Config(
                apps[name], log_level="warning", access_log=False, lifespan="off", http=_NoDelayH11Protocol
            )
        )
        for name in sockets
    }
    started = threading.Event()

    async def serve_all() -> None:
        tasks = [asyncio.create_task(servers[name].serve(sockets=[sockets[name]])) for name in sockets]
        while not all(server.started for server in servers.values()):
            if any(task.done() for task in tasks):
                break
            await asyncio.sleep(0.01)
        started.set()
        await asyncio.gather(*tasks)

    thread = threading.Thread(target=lambda: asyncio.run(serve_all()), name="acorn-simulator", daemon=True)
    thread.start()
    if not started.wait(timeout=15) or not all(server.started for server in servers.values()):
        for server in servers.values():
            server.should_exit = True
        raise RuntimeError("the SP-API simulator did not start")
    return SimulatorHandle(state, urls, list(servers.values()), thread)


def run_forever(
    port: int,
    *,
    profile: str = "clean",
    request_log: Path | None = None,
    seed: int = 7,
    time_scale: float = 1.0,
    slow_response_seconds: float = DEFAULT_SLOW_RESPONSE_SECONDS,
    simulated_sellers: int = 0,
    start: datetime | None = None,
) -> None:
    """Run the simulator in the foreground until interrupted (`acorn simulator --port N ...`).

    LWA listens on `port` (token URL `http://127.0.0.1:N/auth/o2/token`), the SP-API regions na, eu, fe on
    N+1, N+2, N+3, and the documents origin on N+4; port 0 picks a free port for each. The URLs are printed on
    start; Ctrl-C (SIGINT) or SIGTERM stops it. Without `start` its business follows the running clock (a
    service); with it, the clock starts there and the data stay as of then, as a run's own simulator does (one
    simulator shared by many workers serves each account what a run's own would).
    """
    handle = start_simulator(
        profile=profile,
        request_log=request_log,
        seed=seed,
        clock=SimClock(start=start, time_scale=time_scale, freeze_data=start is not None),
        ports=SimPorts() if port == 0 else SimPorts.consecutive(port),
        slow_response_seconds=slow_response_seconds,
        simulated_sellers=simulated_sellers,
    )
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"ACORN SP-API simulator (profile {profile}, seed {seed}, time scale {time_scale})", flush=True)
    if start is not None:
        print(
            f"  simulated day: data as of {start.isoformat()}, {simulated_sellers} simulated sellers",
            flush=True,
        )
    print(f"  LWA token endpoint: {handle.lwa_url}", flush=True)
    for region, url in handle.spapi_urls.items():
        print(f"  SP-API {region}: {url}", flush=True)
    print(f"  documents: {handle.documents_url}", flush=True)
    if request_log is not None:
        print(f"  request log: {request_log}", flush=True)
    print("  ready", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the service as Ctrl-C does: the origins are shut down in order
