"""Tamper-checked opaque strings: pagination tokens and pre-signed document URLs.

Both are HMAC-signed with a key derived from the seed, so a run is reproducible, any client can page with
them, and a token edited by hand, or taken from another operation or account, is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


class Signer:
    def __init__(self, seed: int) -> None:
        self._key = hashlib.sha256(f"acorn-simulator-signing-key:{seed}".encode()).digest()

    def signature(self, message: str) -> str:
        digest = hmac.new(self._key, message.encode("utf-8"), hashlib.sha256).hexdigest()
        return digest

    def verify(self, message: str, signature: str) -> bool:
        return hmac.compare_digest(self.signature(message), signature)


class PageTokens:
    """Next tokens binding (operation, account, filters, snapshot time, offset)."""

    def __init__(self, signer: Signer) -> None:
        self._signer = signer

    def encode(self, operation: str, account_id: str, state: dict[str, Any]) -> str:
        body = json.dumps({"op": operation, "acct": account_id, "state": state}, sort_keys=True)
        payload = base64.urlsafe_b64encode(body.encode("utf-8")).decode("ascii").rstrip("=")
        return f"{payload}.{self._signer.signature(payload)[:32]}"

    def decode(self, token: str, operation: str, account_id: str) -> dict[str, Any] | None:
        """The state inside a valid token of this operation and account, else None."""
        payload, _, signature = token.partition(".")
        if not payload or not hmac.compare_digest(self._signer.signature(payload)[:32], signature):
            return None
        try:
            body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (ValueError, UnicodeDecodeError):
            return None
        if body.get("op") != operation or body.get("acct") != account_id:
            return None
        state = body.get("state")
        return state if isinstance(state, dict) else None
