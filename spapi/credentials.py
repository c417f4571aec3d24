"""LWA credentials, read from the environment when asked (never at import time)."""

from __future__ import annotations

from collections.abc import Mapping

from spapi.errors import CredentialsError
from spapi.redact import Secret

CLIENT_ID_VAR = "SPAPI_LWA_CLIENT_ID"
CLIENT_SECRET_VAR = "SPAPI_LWA_CLIENT_SECRET"
REFRESH_TOKEN_VAR = "SPAPI_REFRESH_TOKEN"


class LwaCredentials:
    """An LWA application's client id and secret plus one selling partner's refresh token.

    The secret and the refresh token are held as `Secret`, so printing or logging this object shows a mask.
    Plain strings are accepted and wrapped."""

    __slots__ = ("client_id", "client_secret", "refresh_token")

    def __init__(self, client_id: str, client_secret: str | Secret, refresh_token: str | Secret) -> None:
        self.client_id = client_id
        self.client_secret = Secret(client_secret) if isinstance(client_secret, str) else client_secret
        self.refresh_token = Secret(refresh_token) if isinstance(refresh_token, str) else refresh_token

    def __repr__(self) -> str:
        return (
            f"LwaCredentials(client_id={self.client_id!r}, client_secret={self.client_secret!r}, "
            f"refresh_token={self.refresh_token!r})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LwaCredentials) and (
            (self.client_id, self.client_secret, self.refresh_token)
            == (other.client_id, other.client_secret, other.refresh_token)
        )

    def __hash__(self) -> int:
        return hash((self.client_id, self.client_secret, self.refresh_token))


def refresh_token_var(account_id: str) -> str:
    """The per-account refresh-token variable: `demo-na` -> `SPAPI_REFRESH_TOKEN__DEMO_NA`."""
    return f"{REFRESH_TOKEN_VAR}__{account_id.upper().replace('-', '_')}"


def credentials_from_env(
    account_id: str, env: Mapping[str, str], *, fallback: LwaCredentials | None = None
) -> LwaCredentials:
    """The account's credentials from `env`: `SPAPI_LWA_CLIENT_ID`, `SPAPI_LWA_CLIENT_SECRET`, and
    `SPAPI_REFRESH_TOKEN__<ACCOUNT>` else `SPAPI_REFRESH_TOKEN`. A value missing from `env` is taken from
    `fallback` (the demo's fake credentials); without a fallback a missing value is an error naming the
    variable."""
    client_id = env.get(CLIENT_ID_VAR, "").strip()
    client_secret = env.get(CLIENT_SECRET_VAR, "").strip()
    refresh_token = (env.get(refresh_token_var(account_id), "") or env.get(REFRESH_TOKEN_VAR, "")).strip()
    if fallback is not None:
        client_id = client_id or fallback.client_id
        client_secret = client_secret or fallback.client_secret.reveal()
        refresh_token = refresh_token or fallback.refresh_token.reveal()
    missing = [
        name
        for name, value in (
            (CLIENT_ID_VAR, client_id),
            (CLIENT_SECRET_VAR, client_secret),
            (f"{refresh_token_var(account_id)} (or {REFRESH_TOKEN_VAR})", refresh_token),
        )
        if not value
    ]
    if missing:
        raise CredentialsError(
            f"account {account_id!r}: missing environment variable(s): {', '.join(missing)}"
        )
    return LwaCredentials(client_id=client_id, client_secret=client_secret, refresh_token=refresh_token)
