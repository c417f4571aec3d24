"""Login with Amazon (LWA): exchanging a refresh token for access tokens, and attaching them to SP-API calls.

SP-API needs only the LWA access token in the `x-amz-access-token` header. AWS Signature Version 4 signing is not
needed: Amazon dropped that requirement in October 2023, so no IAM user or role is involved.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from spapi.credentials import LwaCredentials
from spapi.errors import LwaError
from spapi.redact import Secret, get_logger, register_secret

ACCESS_TOKEN_HEADER = "x-amz-access-token"
log = get_logger()


@dataclass(frozen=True)
class AccessToken:
    value: Secret
    expires_at: float  # on the provider's clock


class _TransientLwaFailure(Exception):
    """5xx, timeout or reset from the token endpoint: worth another try."""


class LwaTokenProvider:
    """Caches one account's access token until shortly before `expires_in` runs out; thread-safe."""

    def __init__(
        self,
        account_id: str,
        credentials: LwaCredentials,
        token_url: str,
        http: httpx.Client,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        refresh_margin_seconds: float = 60.0,
        max_attempts: int = 4,
        backoff_base_seconds: float = 0.5,
        backoff_cap_seconds: float = 8.0,
    ) -> None:
        self.account_id = account_id
        self._credentials = credentials
        self._token_url = token_url
        self._http = http
        self._clock = clock
        self._sleep = sleep
        self._margin = refresh_margin_seconds
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base_seconds
        self._backoff_cap = backoff_cap_seconds
        self._cached: AccessToken | None = None
        self._lock = threading.Lock()
        self.exchanges = 0  # how many times the token endpoint was asked (tests and doctor read it)

    def token(self) -> str:
        """A valid access token, from the cache when it still has more than the margin to live."""
        with self._lock:
            cached = self._cached
            if cached is not None and self._clock() < cached.expires_at - self._margin:
                return cached.value.reveal()
            self._cached = self._exchange()
            return self._cached.value.reveal()

    def invalidate(self, token: str) -> None:
        """Forget `token` (Amazon said it expired). A token another thread already replaced is left alone."""
        with self._lock:
            if self._cached is not None and self._cached.value.reveal() == token:
                self._cached = None

    def _exchange(self) -> AccessToken:
        retrying = Retrying(
            retry=retry_if_exception_type(_TransientLwaFailure),
            wait=wait_random_exponential(multiplier=self._backoff_base, max=self._backoff_cap),
            stop=stop_after_attempt(self._max_attempts),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(self._exchange_once)
        except _TransientLwaFailure as failure:
            raise LwaError(self.account_id, "temporarily_unavailable", str(failure)) from None

    def _exchange_once(self) -> AccessToken:
        self.exchanges += 1
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self._credentials.refresh_token.reveal(),
            "client_id": self._credentials.client_id,
            "client_secret": self._credentials.client_secret.reveal(),
        }
        try:
            # auth=None: the token request carries no access token, whatever the injected client's default.
            response = self._http.post(self._token_url, data=form, auth=None)  # type: ignore[arg-type]
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as error:
            log.warning(
                "LWA token endpoint unreachable for account %s: %s", self.account_id, type(error).__name__
            )
            raise _TransientLwaFailure(type(error).__name__) from None
        if response.status_code >= 500 or response.status_code == 429:
            log.warning(
                "LWA token endpoint answered %s for account %s", response.status_code, self.account_id
            )
            raise _TransientLwaFailure(f"HTTP {response.status_code}")
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = {}
        if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            fields = body if isinstance(body, dict) else {}
            code = str(fields.get("error", "unexpected_response"))
            description = str(fields.get("error_description", "")) or f"HTTP {response.status_code}"
            raise LwaError(self.account_id, code, description, response.status_code)
        value = str(body["access_token"])
        register_secret(value)
        expires_in = float(body.get("expires_in", 3600))
        log.info("LWA access token obtained for account %s (expires in %.0f s)", self.account_id, expires_in)
        return AccessToken(Secret(value), self._clock() + expires_in)


def is_expired_token_response(response: httpx.Response) -> bool:
    """Amazon answers 403 `Unauthorized` ("The access token you provided has expired") for a stale token."""
    if response.status_code not in (401, 403):
        return False
    text = response.content.decode("utf-8", "replace").lower()
    return "expired" in text and "token" in text


class LwaAuth(httpx.Auth):
    """httpx auth flow: adds the access token; when Amazon says it expired, refreshes it and resends once."""

    requires_response_body = True

    def __init__(self, provider: LwaTokenProvider, before_resend: Callable[[], object] | None = None) -> None:
        self._provider = provider
        self._before_resend = before_resend

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._provider.token()
        request.headers[ACCESS_TOKEN_HEADER] = token
        response = yield request
        if is_expired_token_response(response):
            log.info("access token expired for account %s; refreshing once", self._provider.account_id)
            self._provider.invalidate(token)
            if self._before_resend is not None:
                self._before_resend()  # the resend is a call like any other: it spends a rate-limit token
            request.headers[ACCESS_TOKEN_HEADER] = self._provider.token()
            yield request
