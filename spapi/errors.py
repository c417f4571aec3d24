"""Typed errors of the SP-API client. Every message passes through `redact_text`: no secret ever reaches
it."""

from __future__ import annotations

from spapi.redact import redact_text


class SpApiClientError(Exception):
    """Base class of everything this package raises."""

    def __init__(self, message: str) -> None:
        self.message = redact_text(message)
        super().__init__(self.message)


class ConfigError(SpApiClientError):
    """The accounts config file is missing, malformed, or names an invalid value."""


class CredentialsError(SpApiClientError):
    """LWA credentials are missing from the environment (names the variables, never their values)."""


class LwaError(SpApiClientError):
    """The LWA token endpoint refused the credentials of an account (invalid_grant, invalid_client, ...)."""

    def __init__(self, account_id: str, error: str, description: str, status: int | None = None) -> None:
        self.account_id = account_id
        self.error = error
        self.description = redact_text(description)
        self.status = status
        super().__init__(f"LWA token exchange failed for account {account_id!r}: {error}: {description}")


class SpApiError(SpApiClientError):
    """An SP-API call failed: 4xx (no retry), or 429/5xx/transport after the retries were used up."""

    def __init__(
        self,
        operation: str,
        account_id: str,
        status: int | None,
        code: str | None,
        message: str,
        request_id: str | None,
    ) -> None:
        self.operation = operation
        self.account_id = account_id
        self.status = status
        self.code = code
        self.error_message = redact_text(message)
        self.request_id = request_id
        super().__init__(
            f"{operation} for account {account_id!r} failed: HTTP {status if status is not None else '-'} "
            f"{code or ''}: {message} (x-amzn-RequestId: {request_id or '-'})"
        )


class SpApiThrottledError(SpApiError):
    """Still answered 429 after the bounded number of throttle retries."""


class SpApiServerError(SpApiError):
    """5xx, timeouts or connection resets persisted through the bounded backoff."""


class DocumentDownloadError(SpApiClientError):
    """A report document could not be downloaded intact (truncated, corrupt or refused) within the retries."""

    def __init__(self, account_id: str, report_document_id: str, reason: str) -> None:
        self.account_id = account_id
        self.report_document_id = report_document_id
        self.reason = redact_text(reason)
        super().__init__(f"report document {report_document_id!r} of account {account_id!r}: {reason}")
