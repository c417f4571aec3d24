"""`SpApiClient`: one selling partner account's SP-API calls, with LWA, rate limits, retries and pagination.

Every list operation is a generator of `ApiPage`s (the exact bytes plus their Decimal-exact reading). Retries:
- 429: the account's bucket is emptied, `Retry-After` honoured when present, then retried (bounded).
- 500/502/503/504, timeouts, connection resets: exponential backoff with full jitter (tenacity), capped and
  bounded.
- 400 InvalidInput on a page requested with a valid next token: Amazon answers that now and then; retried a
  bounded number of times before it counts as an error.
- any other 4xx: `SpApiError` at once, carrying the operation, account, status, Amazon's code and message and the
  `x-amzn-RequestId`.

One module of about 600 lines on purpose: throttling, retries, token refresh and pagination all wrap the same
request path (`_request`), and each list operation is a few lines on top of it.
"""

from __future__ import annotations

import json
import os
import random
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from spapi import endpoints as ops
from spapi.auth import LwaAuth, LwaTokenProvider
from spapi.config import AccountConfig, Endpoints
from spapi.credentials import LwaCredentials
from spapi.documents import (
    DocumentCorrupt,
    DocumentTransient,
    DocumentUnsupported,
    DocumentUrlExpired,
    DownloadedDocument,
    fetch_document,
)
from spapi.endpoints import ApiPage, MalformedResponseError, Operation, parse_json, parse_page
from spapi.errors import DocumentDownloadError, SpApiError, SpApiServerError, SpApiThrottledError
from spapi.ratelimit import SHARED_REGISTRY, RateLimiterRegistry, parse_rate_limit_header
from spapi.redact import get_logger, protect_third_party_loggers
from spapi.windows import finances_windows, invoice_windows, iso_date, iso_z, vendor_windows

log = get_logger()

RATE_LIMIT_HEADER = "x-amzn-RateLimit-Limit"
REQUEST_ID_HEADER = "x-amzn-RequestId"
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
TRANSPORT_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
# A pre-signed document URL lives 5 minutes; older than this we ask for a fresh one before downloading.
DOCUMENT_URL_MAX_AGE_SECONDS = 240.0


def default_user_agent() -> str:
    """ACORN's User-Agent (Amazon asks for `App/version (Language=...; Platform=...)`), naming the process too: the
    simulator's ledger tells the workers that called one account apart by it (README "Scale-out"). A pid and a
    host name are no secret."""
    return f"ACORN/0.1 (Language=Python; Platform=httpx; Process={os.getpid()}@{socket.gethostname()})"


@dataclass
class ClientOptions:
    """Tunables of `SpApiClient`; the defaults suit Amazon. Tests inject `clock`, `sleep`, `now`, `rate_limits`."""

    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    max_throttle_retries: int = 10
    max_transient_attempts: int = 5
    max_invalid_token_retries: int = 3
    max_download_attempts: int = 4
    backoff_base_seconds: float = 0.5
    backoff_cap_seconds: float = 30.0
    token_refresh_margin_seconds: float = 60.0
    user_agent: str = field(default_factory=lambda: default_user_agent())
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    rate_limits: RateLimiterRegistry | None = None  # None: the process-wide registry shared by all clients
    jitter: Callable[[float, float], float] = random.uniform

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.read_timeout, connect=self.connect_timeout)


class _Retryable(Exception):
    """One attempt failed in a way worth another (internal to the retry loop)."""

    def __init__(self, kind: str, error: SpApiError, retry_after: float | None = None) -> None:
        super().__init__(kind)
        self.kind = kind  # "throttled" | "transient" | "invalid_token"
        self.error = error
        self.retry_after = retry_after


def _error_details(response: httpx.Response) -> tuple[str | None, str]:
    """Amazon's error `code` and a message (message plus details) from an SP-API error body."""
    try:
        body = json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None, response.reason_phrase or f"HTTP {response.status_code}"
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        message = str(first.get("message") or "")
        details = str(first.get("details") or "")
        text = f"{message} ({details})" if details and details != message else message
        return (str(first["code"]) if first.get("code") is not None else None), text
    return None, response.reason_phrase or f"HTTP {response.status_code}"


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP-date: rare here; the emptied bucket paces the retry instead


def _csv(values: Sequence[str]) -> str:
    return ",".join(values)


class SpApiClient:
    """The SP-API operations ACORN uses, for one account. A context manager: closes the httpx client it made."""

    def __init__(
        self,
        account: AccountConfig,
        credentials: LwaCredentials,
        *,
        endpoints: Endpoints,
        options: ClientOptions | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self.account = account
        self.endpoints = endpoints
        self.options = options or ClientOptions()
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=self.options.timeout())
        self._rate_limits = self.options.rate_limits or SHARED_REGISTRY
        self.tokens = LwaTokenProvider(
            account.id,
            credentials,
            endpoints.lwa,
            self._http,
            clock=self.options.clock,
            sleep=self.options.sleep,
            refresh_margin_seconds=self.options.token_refresh_margin_seconds,
            backoff_base_seconds=self.options.backoff_base_seconds,
            backoff_cap_seconds=self.options.backoff_cap_seconds,
        )
        protect_third_party_loggers()

    def __enter__(self) -> SpApiClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __repr__(self) -> str:
        return f"SpApiClient(account={self.account.id!r}, spapi={self.endpoints.spapi!r})"

    # -------------------------------------------------------------------------------- the request loop

    def _request(
        self, operation: Operation, path: str, params: Mapping[str, str], *, paged: bool
    ) -> httpx.Response:
        """One logical call: rate-limited, authenticated, retried as the module docstring says. 2xx or
        raises."""
        bucket = self._rate_limits.bucket(self.account.id, operation.operation_id)
        url = self.endpoints.spapi + path
        attempts = {"throttled": 0, "transient": 0, "invalid_token": 0}
        limits = {
            "throttled": self.options.max_throttle_retries + 1,
            "transient": self.options.max_transient_attempts,
            "invalid_token": self.options.max_invalid_token_retries + 1,
        }

        def attempt() -> httpx.Response:
            bucket.acquire()
            auth = LwaAuth(self.tokens, before_resend=bucket.acquire)
            try:
                response = self._http.get(
                    url,
                    params=dict(params),
                    auth=auth,
                    headers={"User-Agent": self.options.user_agent, "Accept": "application/json"},
                    timeout=self.options.timeout(),
                )
            except TRANSPORT_ERRORS as transport_error:
                lost = SpApiServerError(
                    operation.operation_id,
                    self.account.id,
                    None,
                    type(transport_error).__name__,
                    "no response",
                    None,
                )
                raise _Retryable("transient", lost) from None
            rate = parse_rate_limit_header(response.headers.get(RATE_LIMIT_HEADER))
            if rate is not None and rate != bucket.rate:
                bucket.set_rate(rate)
            if response.is_success:
                return response
            request_id = response.headers.get(REQUEST_ID_HEADER)
            code, message = _error_details(response)
            status = response.status_code
            if status == 429:
                bucket.drain()
                failure: SpApiError = SpApiThrottledError(
                    operation.operation_id,
                    self.account.id,
                    status,
                    code or "QuotaExceeded",
                    message,
                    request_id,
                )
                raise _Retryable("throttled", failure, _retry_after_seconds(response))
            if status in RETRYABLE_STATUSES:
                failure = SpApiServerError(
                    operation.operation_id, self.account.id, status, code, message, request_id
                )
                raise _Retryable("transient", failure, _retry_after_seconds(response))
            failure = SpApiError(operation.operation_id, self.account.id, status, code, message, request_id)
            if status == 400 and code == "InvalidInput" and paged:
                raise _Retryable("invalid_token", failure)
            raise failure

        def count(state: RetryCallState) -> None:  # tenacity runs `after` before `wait` and `stop`
            failure = state.outcome.exception() if state.outcome else None
            if isinstance(failure, _Retryable):
                attempts[failure.kind] += 1

        def stop(state: RetryCallState) -> bool:
            failure = state.outcome.exception() if state.outcome else None
            if not isinstance(failure, _Retryable):
                return True
            return attempts[failure.kind] >= limits[failure.kind]

        def wait(state: RetryCallState) -> float:
            failure = state.outcome.exception() if state.outcome else None
            if not isinstance(failure, _Retryable):
                return 0.0
            if failure.retry_after is not None:
                return min(failure.retry_after, self.options.backoff_cap_seconds)
            if failure.kind == "throttled":
                return 0.0  # the emptied bucket makes the next attempt wait one refill interval
            # Full jitter: uniform between 0 and the capped exponential (AWS architecture blog's
            # recommendation).
            ceiling = min(
                self.options.backoff_cap_seconds,
                self.options.backoff_base_seconds * 2 ** (attempts[failure.kind] - 1),
            )
            return self.options.jitter(0.0, ceiling)

        def before_sleep(state: RetryCallState) -> None:
            failure = state.outcome.exception() if state.outcome else None
            if isinstance(failure, _Retryable):
                log.info(
                    "%s for account %s: %s (HTTP %s, request id %s); retrying",
                    operation.operation_id,
                    self.account.id,
                    failure.kind,
                    failure.error.status,
                    failure.error.request_id,
                )

        retrying = Retrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop,
            wait=wait,
            sleep=self.options.sleep,
            after=count,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Retryable as exhausted:
            log.warning(
                "%s for account %s gave up: %s", operation.operation_id, self.account.id, exhausted.error
            )
            raise exhausted.error from None

    def _get_json(
        self, operation: Operation, path: str, params: Mapping[str, str]
    ) -> tuple[httpx.Response, Any]:
        response = self._request(operation, path, params, paged=False)
        try:
            return response, parse_json(response.content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise SpApiError(
                operation.operation_id,
                self.account.id,
                response.status_code,
                "MalformedResponse",
                "response body is not JSON",
                response.headers.get(REQUEST_ID_HEADER),
            ) from None

    def paginate(
        self, operation: Operation, params: Mapping[str, str], *, path: str | None = None
    ) -> Iterator[ApiPage]:
        """Every page of `operation`, following its next-page token until Amazon sends none."""
        path = path or operation.path
        token: str | None = None
        seen: set[str] = set()
        while True:
            if token is None:
                query = dict(params)
            elif operation.token_replaces_params:
                query = {operation.next_token_param: token}
            else:
                query = {**params, operation.next_token_param: token}
            response = self._request(operation, path, query, paged=token is not None)
            request_id = response.headers.get(REQUEST_ID_HEADER)
            try:
                page = parse_page(operation, response.content, request_id=request_id, params=query)
            except MalformedResponseError as error:
                raise SpApiError(
                    operation.operation_id,
                    self.account.id,
                    response.status_code,
                    "MalformedResponse",
                    str(error),
                    request_id,
                ) from None
            yield page
            if page.next_token is None:
                return
            if page.next_token in seen:  # a server repeating a token would otherwise loop forever
                raise SpApiError(
                    operation.operation_id,
                    self.account.id,
                    response.status_code,
                    "PaginationLoop",
                    "the same next token came back twice",
                    request_id,
                )
            seen.add(page.next_token)
            token = page.next_token

    # ----------------------------------------------------------------------------------------- reports

    def iter_reports(
        self,
        report_types: Sequence[str],
        *,
        created_since: datetime | None = None,
        created_until: datetime | None = None,
        processing_statuses: Sequence[str] = ("DONE",),
        page_size: int = 100,
    ) -> Iterator[ApiPage]:
        """getReports, all pages; items are report objects (`reportId`, `reportDocumentId`,
        `createdTime`...)."""
        params = {"reportTypes": _csv(report_types), "pageSize": str(page_size)}
        if processing_statuses:
            params["processingStatuses"] = _csv(processing_statuses)
        if created_since is not None:
            params["createdSince"] = iso_z(created_since)
        if created_until is not None:
            params["createdUntil"] = iso_z(created_until)
        yield from self.paginate(ops.GET_REPORTS, params)

    def get_report(self, report_id: str) -> dict[str, Any]:
        """getReport: one report's metadata (status, `reportDocumentId` once DONE)."""
        path = ops.GET_REPORT.path.format(reportId=quote(report_id, safe=""))
        _, body = self._get_json(ops.GET_REPORT, path, {})
        return body if isinstance(body, dict) else {}

    def get_report_document(self, report_document_id: str) -> dict[str, Any]:
        """getReportDocument: `{reportDocumentId, url, compressionAlgorithm?}` (the URL expires in 5
        minutes)."""
        path = ops.GET_REPORT_DOCUMENT.path.format(reportDocumentId=quote(report_document_id, safe=""))
        _, body = self._get_json(ops.GET_REPORT_DOCUMENT, path, {})
        if not isinstance(body, dict) or not body.get("url"):
            raise SpApiError(
                "getReportDocument", self.account.id, 200, "MalformedResponse", "no document url", None
            )
        return body

    def download_report_document(self, report_document_id: str, dest_dir: Path) -> DownloadedDocument:
        """getReportDocument, then the document itself into `dest_dir`, verified (see `spapi.documents`).

        Truncated or corrupt downloads are retried; an expired URL is replaced by calling getReportDocument
        again.
        Raises `DocumentDownloadError` when no intact copy arrived within `max_download_attempts`."""
        document: dict[str, Any] | None = None
        fetched_at = 0.0
        reason = "no attempt made"
        for attempt in range(1, self.options.max_download_attempts + 1):
            if document is None or self.options.clock() - fetched_at > DOCUMENT_URL_MAX_AGE_SECONDS:
                document = self.get_report_document(report_document_id)
                fetched_at = self.options.clock()
            try:
                return fetch_document(
                    self._http,
                    str(document["url"]),
                    document_id=report_document_id,
                    compression=document.get("compressionAlgorithm"),
                    dest_dir=Path(dest_dir),
                    timeout=self.options.timeout(),
                    user_agent=self.options.user_agent,
                )
            except DocumentUnsupported as error:
                raise DocumentDownloadError(self.account.id, report_document_id, str(error)) from None
            except DocumentUrlExpired as error:
                reason = f"document URL refused ({error})"
                document = None
            except (DocumentCorrupt, DocumentTransient) as error:
                reason = str(error)
                ceiling = min(
                    self.options.backoff_cap_seconds, self.options.backoff_base_seconds * 2 ** (attempt - 1)
                )
                self.options.sleep(self.options.jitter(0.0, ceiling))
            log.warning(
                "report document %s of account %s: attempt %d failed: %s",
                report_document_id,
                self.account.id,
                attempt,
                reason,
            )
        raise DocumentDownloadError(
            self.account.id,
            report_document_id,
            f"{reason} (after {self.options.max_download_attempts} attempts)",
        )

    # ------------------------------------------------------------------------------------------- finances v0

    def iter_financial_event_groups(
        self, started_after: datetime, started_before: datetime | None = None, *, page_size: int = 100
    ) -> Iterator[ApiPage]:
        """listFinancialEventGroups over [started_after, started_before); items are event groups."""
        latest = self.options.now()
        for window in finances_windows(started_after, started_before, now=latest):
            params = {
                "MaxResultsPerPage": str(page_size),
                "FinancialEventGroupStartedAfter": iso_z(window.start),
                "FinancialEventGroupStartedBefore": iso_z(window.end),
            }
            yield from self.paginate(ops.LIST_FINANCIAL_EVENT_GROUPS, params)

    def iter_financial_events_by_group(
        self,
        group_id: str,
        *,
        posted_after: datetime | None = None,
        posted_before: datetime | None = None,
        page_size: int = 100,
    ) -> Iterator[ApiPage]:
        """listFinancialEventsByGroupId; each page's `items` is `[FinancialEvents]` (the dict of
        *EventList)."""
        path = ops.LIST_FINANCIAL_EVENTS_BY_GROUP_ID.path.format(eventGroupId=quote(group_id, safe=""))
        base = {"MaxResultsPerPage": str(page_size)}
        if posted_after is None:
            if posted_before is not None:
                base["PostedBefore"] = iso_z(min(posted_before, self.options.now()))
            yield from self.paginate(ops.LIST_FINANCIAL_EVENTS_BY_GROUP_ID, base, path=path)
            return
        for window in finances_windows(posted_after, posted_before, now=self.options.now()):
            params = {**base, "PostedAfter": iso_z(window.start), "PostedBefore": iso_z(window.end)}
            yield from self.paginate(ops.LIST_FINANCIAL_EVENTS_BY_GROUP_ID, params, path=path)

    # ------------------------------------------------------------------------------- finances 20240619

    def iter_transactions(
        self,
        posted_after: datetime,
        posted_before: datetime | None = None,
        *,
        marketplace_id: str | None = None,
        related_identifier: tuple[str, str] | None = None,
    ) -> Iterator[ApiPage]:
        """listTransactions over posted-date windows of at most 180 days ending > 2 minutes ago; with
        `related_identifier=("FINANCIAL_EVENT_GROUP_ID", id)` the transactions of one group. Empty pages
        happen."""
        for window in finances_windows(posted_after, posted_before, now=self.options.now()):
            params = {"postedAfter": iso_z(window.start), "postedBefore": iso_z(window.end)}
            if marketplace_id:
                params["marketplaceId"] = marketplace_id
            if related_identifier is not None:
                params["relatedIdentifierName"], params["relatedIdentifierValue"] = related_identifier
            yield from self.paginate(ops.LIST_TRANSACTIONS, params)

    def list_balances(
        self, *, as_of: datetime | None = None, marketplace_id: str | None = None
    ) -> Iterator[ApiPage]:
        """listBalances, now or as of a past date; items are balance trees (TOTAL > AVAILABLE/RESERVED >
        ...)."""
        params: dict[str, str] = {}
        if marketplace_id:
            params["marketplaceIds"] = marketplace_id
        if as_of is not None:
            params["asOfDate"] = iso_date(as_of)
        yield from self.paginate(ops.LIST_BALANCES, params)

    def list_summary(
        self,
        *,
        settlement_id: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        marketplace_id: str | None = None,
    ) -> Iterator[ApiPage]:
        """listSummary by `SETTLEMENT_ID` or by period; items are summaries with `netProceeds` and
        breakdowns."""
        params: dict[str, str] = {}
        if marketplace_id:
            params["marketplaceIds"] = marketplace_id
        if settlement_id is not None:
            params["relatedIdentifierName"] = "SETTLEMENT_ID"
            params["relatedIdentifierValue"] = settlement_id
        if start is not None:
            params["periodStart"] = iso_date(start)
        if end is not None:
            params["periodEnd"] = iso_date(end)
        yield from self.paginate(ops.LIST_SUMMARY, params)

    def iter_expected_payouts(self, marketplace_id: str) -> Iterator[ApiPage]:
        """Transfers 2024-06-01 listExpectedPayouts for one marketplace (Amazon serves DE FR IT ES SE NL PL
        BE)."""
        yield from self.paginate(ops.LIST_EXPECTED_PAYOUTS, {"marketplaceIds": marketplace_id})

    # ---------------------------------------------------------------------------------------- vendor orders

    def iter_purchase_orders(
        self, changed_after: datetime, changed_before: datetime | None = None, *, page_size: int = 100
    ) -> Iterator[ApiPage]:
        """getPurchaseOrders by changedAfter/changedBefore windows of at most 7 days (no older than 6 months).
        Amazon sometimes ignores the filters, so `items` is filtered to the range and de-duplicated
        client-side
        (`raw` stays the exact body)."""
        yield from self._vendor_pages(
            ops.GET_PURCHASE_ORDERS,
            ("changedAfter", "changedBefore"),
            changed_after,
            changed_before,
            page_size,
            date_fields=("purchaseOrderChangedDate", "purchaseOrderStateChangedDate", "purchaseOrderDate"),
        )

    def get_purchase_order(self, purchase_order_number: str) -> dict[str, Any]:
        """getPurchaseOrder: one purchase order (`payload` of the response)."""
        path = ops.GET_PURCHASE_ORDER.path.format(purchaseOrderNumber=quote(purchase_order_number, safe=""))
        _, body = self._get_json(ops.GET_PURCHASE_ORDER, path, {})
        payload = body.get("payload") if isinstance(body, dict) else None
        return payload if isinstance(payload, dict) else {}

    def iter_purchase_order_statuses(
        self, updated_after: datetime, updated_before: datetime | None = None, *, page_size: int = 100
    ) -> Iterator[ApiPage]:
        """getPurchaseOrdersStatus by updatedAfter/updatedBefore windows, filtered and de-duplicated like
        POs."""
        yield from self._vendor_pages(
            ops.GET_PURCHASE_ORDERS_STATUS,
            ("updatedAfter", "updatedBefore"),
            updated_after,
            updated_before,
            page_size,
            date_fields=("lastUpdatedDate", "purchaseOrderDate"),
        )

    def iter_shipment_details(
        self, created_after: datetime, created_before: datetime | None = None, *, page_size: int = 50
    ) -> Iterator[ApiPage]:
        """Vendor Shipments v1 GetShipmentDetails: the vendor's shipments (ASNs) created in the range, 50 a page
        (the model states no maximum range; the range is asked in one sweep)."""
        params = {"limit": str(page_size), "createdAfter": iso_z(created_after), "sortOrder": "ASC"}
        if created_before is not None:
            params["createdBefore"] = iso_z(created_before)
        yield from self.paginate(ops.GET_SHIPMENT_DETAILS, params)

    # ------------------------------------------------------------------------------- vendor invoices

    def iter_invoice_headers(
        self,
        marketplace_id: str,
        *,
        issued_from: datetime | None = None,
        issued_to: datetime | None = None,
        modified_after: datetime | None = None,
    ) -> Iterator[ApiPage]:
        """Finances Invoices getInvoiceHeaders: issue-date windows of at most 90 days from `issued_from`, or
        (`issued_from` None) the headers modified after `modified_after` (Amazon's default window: the last 90
        days of issue dates). Items are `InvoiceHeader` dicts, amounts Decimal."""
        if issued_from is None:
            params = {"marketplaceId": marketplace_id}
            if modified_after is not None:
                params["invoicesModifiedAfter"] = iso_z(modified_after)
            yield from self.paginate(ops.GET_INVOICE_HEADERS, params)
            return
        for window in invoice_windows(issued_from, issued_to, now=self.options.now()):
            params = {
                "marketplaceId": marketplace_id,
                "fromIssueDate": iso_z(window.start),
                "toIssueDate": iso_z(window.end),
            }
            if modified_after is not None:
                params["invoicesModifiedAfter"] = iso_z(modified_after)
            yield from self.paginate(ops.GET_INVOICE_HEADERS, params)

    def iter_invoice_pages(self, invoice_identifier: str, marketplace_id: str) -> Iterator[ApiPage]:
        """getInvoice: every page of one invoice's line items (`nextTokenForLineItems`); each page's body also
        holds `invoiceHeader`. The identifier of an inventory invoice is `InvoiceNumber~PayeeCode`."""
        path = ops.GET_INVOICE.path.format(invoiceIdentifier=quote(invoice_identifier, safe=""))
        yield from self.paginate(ops.GET_INVOICE, {"marketplaceId": marketplace_id}, path=path)

    def _vendor_pages(
        self,
        operation: Operation,
        names: tuple[str, str],
        after: datetime,
        before: datetime | None,
        page_size: int,
        *,
        date_fields: tuple[str, ...],
    ) -> Iterator[ApiPage]:
        windows = vendor_windows(after, before, now=self.options.now())
        if not windows:
            return
        low, high = windows[0].start, windows[-1].end
        seen: set[tuple[str, ...]] = set()
        for window in windows:
            params = {
                "limit": str(page_size),
                names[0]: iso_z(window.start),
                names[1]: iso_z(window.end),
                "sortOrder": "ASC",
            }
            for page in self.paginate(operation, params):
                kept = []
                for item in page.items:
                    if not isinstance(item, dict):
                        continue
                    key = (
                        str(item.get("purchaseOrderNumber")),
                        *(str(item.get(name)) for name in date_fields),
                    )
                    if key in seen or not _changed_within(item, date_fields, low, high):
                        continue
                    seen.add(key)
                    kept.append(item)
                yield ApiPage(
                    page.operation, page.raw, page.body, kept, page.next_token, page.request_id, page.params
                )


def _changed_within(
    item: Mapping[str, Any], date_fields: tuple[str, ...], low: datetime, high: datetime
) -> bool:
    """Whether the PO's first present change date lies in [low, high]; an item without any date is kept."""
    for name in date_fields:
        value = item.get(name)
        if isinstance(value, str) and value:
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return True
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            return low <= moment <= high
    return True
