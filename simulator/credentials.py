"""What LWA issues and the SP-API origins check: access tokens, their expiry, and who they belong to.

The simulator accepts any refresh token (the region port decides which demo account answers, unless the token is
the demo's refresh token of a simulated seller of that region: then that seller answers);
a token's *grant* is a one-way fingerprint of the refresh token, so rate limits can be kept per caller without
keeping the refresh token itself anywhere.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from simulator.clock import SimClock

ACCESS_TOKEN_LIFETIME = timedelta(seconds=3600)


@dataclass
class IssuedToken:
    grant: str  # fingerprint of the refresh token that obtained it (never the token itself)
    expires_at: datetime
    revoked: bool = False


class TokenCheck:
    VALID = "valid"
    UNKNOWN = "unknown"
    EXPIRED = "expired"


class AccessTokens:
    """Access tokens issued by the LWA origin, checked by the SP-API origins (thread-safe)."""

    def __init__(self, clock: SimClock) -> None:
        self._clock = clock
        self._tokens: dict[str, IssuedToken] = {}
        self._lock = threading.Lock()

    def issue(self, refresh_token: str) -> str:
        token = "Atza|" + secrets.token_urlsafe(48)
        grant = token_grant(refresh_token)
        with self._lock:
            self._tokens[token] = IssuedToken(grant, self._clock.now() + ACCESS_TOKEN_LIFETIME)
        return token

    def check(self, token: str | None) -> tuple[str, IssuedToken | None]:
        """(TokenCheck.*, the token's record when known)."""
        if not token:
            return TokenCheck.UNKNOWN, None
        with self._lock:
            record = self._tokens.get(token)
        if record is None:
            return TokenCheck.UNKNOWN, None
        if record.revoked or self._clock.now() >= record.expires_at:
            return TokenCheck.EXPIRED, record
        return TokenCheck.VALID, record

    def expire(self, token: str) -> None:
        """End a live token now (the hostile profile's 'token expires mid-run')."""
        with self._lock:
            if token in self._tokens:
                self._tokens[token].revoked = True


def token_grant(refresh_token: str) -> str:
    """The one-way fingerprint of a refresh token that the simulator keeps instead of the token."""
    return hashlib.sha256(refresh_token.encode("utf-8")).hexdigest()[:16]


def demo_refresh_token(account_id: str) -> str:
    """The refresh token ACORN's demo sends for `account_id` when no SPAPI_* variables are set (spapi's
    bundled_simulator.demo_credentials): by it the simulator knows which of its accounts is calling."""
    return f"Atzr|acorn-demo-{account_id}"
