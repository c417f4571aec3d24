"""What the origins share: the clock, the ledger, issued tokens, signing, limits, faults, the log."""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.clock import SimClock
from simulator.credentials import AccessTokens
from simulator.faults import FaultPlan
from simulator.ledger import Ledger
from simulator.ratelimit import RateLimiter
from simulator.requestlog import RequestLog
from simulator.signing import PageTokens, Signer

DEFAULT_SLOW_RESPONSE_SECONDS = 12.0
DEFAULT_REJECTED_PREFIX = "invalid"


@dataclass
class SimulatorState:
    clock: SimClock
    ledger: Ledger
    faults: FaultPlan
    request_log: RequestLog
    signer: Signer
    # LWA refuses refresh tokens (invalid_grant) and client ids (invalid_client) starting with this prefix.
    rejected_prefix: str = DEFAULT_REJECTED_PREFIX
    slow_response_seconds: float = DEFAULT_SLOW_RESPONSE_SECONDS
    documents_url: str = ""  # set once the documents origin is bound
    tokens: AccessTokens = field(init=False)
    page_tokens: PageTokens = field(init=False)
    limiter: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = AccessTokens(self.clock)
        self.page_tokens = PageTokens(self.signer)
        self.limiter = RateLimiter(self.clock)
