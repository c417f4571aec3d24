"""Fault profiles: what the `hostile` simulator does to SP-API calls, deterministically from the seed.

`hostile` answers, in every block of 20 SP-API requests, 5 with 429 QuotaExceeded and 2 with a 5xx (positions
shuffled by a RNG seeded with (seed, block)), so any run of 20·k requests sees exactly 25 % throttled and 10 %
failed. Once per run, at fixed early request numbers: the connection is reset without a response, the caller's
live access token expires, and a response is delayed beyond a client's read timeout. The first gzip document
downloaded is served truncated once. The LWA origin is never faulted.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

PROFILES = ("clean", "hostile")

BLOCK = 20
THROTTLED_PER_BLOCK = 5
FAILED_PER_BLOCK = 2

# Request numbers (0-based, counted over SP-API requests) of the once-per-run faults, early in a run and on
# positions that the block pattern leaves alone (checked in `_once_faults`).
TOKEN_EXPIRY_AT = 3
CONNECTION_RESET_AT = 6
SLOW_RESPONSE_AT = 9


class Fault:
    THROTTLE = "throttle"
    SERVER_ERROR = "server_error"
    CONNECTION_RESET = "connection_reset"
    TOKEN_EXPIRED = "token_expired"
    SLOW_RESPONSE = "slow_response"
    TRUNCATED_DOCUMENT = "truncated_document"


@dataclass(frozen=True)
class SpapiFault:
    kind: str
    status: int = 0  # for SERVER_ERROR: 500 or 503


class FaultPlan:
    """Decides, per SP-API request number and per document download, which fault (if any) to inject."""

    def __init__(self, profile: str, seed: int) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")
        self.profile = profile
        self._seed = seed
        self._lock = threading.Lock()
        self._spapi_requests = 0
        self._truncated_once = False
        self._token_expired_once = False

    @property
    def hostile(self) -> bool:
        return self.profile == "hostile"

    def next_request_number(self) -> int:
        """Count one SP-API request; its 0-based number decides its fault."""
        with self._lock:
            number = self._spapi_requests
            self._spapi_requests += 1
        return number

    def fault_for(self, number: int) -> SpapiFault | None:
        """The block-pattern or once-per-run fault of SP-API request `number` (token expiry aside)."""
        if not self.hostile:
            return None
        once = {
            CONNECTION_RESET_AT: SpapiFault(Fault.CONNECTION_RESET),
            SLOW_RESPONSE_AT: SpapiFault(Fault.SLOW_RESPONSE),
        }
        if number in once:
            return once[number]
        block, position = divmod(number, BLOCK)
        rng = random.Random(f"{self._seed}:block:{block}")
        # Positions of the first block that carry a once-per-run fault are not used for the block pattern.
        reserved = (TOKEN_EXPIRY_AT, CONNECTION_RESET_AT, SLOW_RESPONSE_AT)
        free = [p for p in range(BLOCK) if block > 0 or p not in reserved]
        rng.shuffle(free)
        throttled = free[:THROTTLED_PER_BLOCK]
        failed = free[THROTTLED_PER_BLOCK : THROTTLED_PER_BLOCK + FAILED_PER_BLOCK]
        if position in throttled:
            return SpapiFault(Fault.THROTTLE)
        if position in failed:
            status = random.Random(f"{self._seed}:status:{number}").choice((500, 503))
            return SpapiFault(Fault.SERVER_ERROR, status=status)
        return None

    def take_token_expiry(self, number: int) -> bool:
        """True once per hostile run, for the first authenticated request from TOKEN_EXPIRY_AT on."""
        if not self.hostile or number < TOKEN_EXPIRY_AT:
            return False
        with self._lock:
            if self._token_expired_once:
                return False
            self._token_expired_once = True
            return True

    def truncate_document_download(self) -> bool:
        """True exactly once per hostile run: serve this (gzip) document cut short."""
        if not self.hostile:
            return False
        with self._lock:
            if self._truncated_once:
                return False
            self._truncated_once = True
            return True
