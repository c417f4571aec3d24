"""What each landing needs from an SP-API client, as Protocols: the seam between orchestration and the client.

`SpApiClient` satisfies all three (mypy checks it wherever a landing is handed one); a test or a future client
(another transport, recorded responses) needs only the calls of the landing it drives.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

from spapi.endpoints import ApiPage


class FinancesV0Calls(Protocol):
    """Finances v0: event groups and the events of each group."""

    def iter_financial_event_groups(
        self, started_after: datetime, started_before: datetime | None = None, *, page_size: int = 100
    ) -> Iterator[ApiPage]: ...

    def iter_financial_events_by_group(
        self,
        group_id: str,
        *,
        posted_after: datetime | None = None,
        posted_before: datetime | None = None,
        page_size: int = 100,
    ) -> Iterator[ApiPage]: ...


class FinancesCalls(Protocol):
    """Finances 2024-06-19 (transactions, balances, summaries) and Transfers (expected payouts)."""

    def iter_transactions(
        self,
        posted_after: datetime,
        posted_before: datetime | None = None,
        *,
        marketplace_id: str | None = None,
        related_identifier: tuple[str, str] | None = None,
    ) -> Iterator[ApiPage]: ...

    def list_balances(
        self, *, as_of: datetime | None = None, marketplace_id: str | None = None
    ) -> Iterator[ApiPage]: ...

    def list_summary(
        self,
        *,
        settlement_id: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        marketplace_id: str | None = None,
    ) -> Iterator[ApiPage]: ...

    def iter_expected_payouts(self, marketplace_id: str) -> Iterator[ApiPage]: ...


class VendorOrdersCalls(Protocol):
    """Vendor Orders v1: purchase orders and their statuses."""

    def iter_purchase_orders(
        self, changed_after: datetime, changed_before: datetime | None = None, *, page_size: int = 100
    ) -> Iterator[ApiPage]: ...

    def iter_purchase_order_statuses(
        self, updated_after: datetime, updated_before: datetime | None = None, *, page_size: int = 100
    ) -> Iterator[ApiPage]: ...


class VendorInvoicesCalls(Protocol):
    """Finances Invoices 2026-06-25: invoice headers and each invoice's line items."""

    def iter_invoice_headers(
        self,
        marketplace_id: str,
        *,
        issued_from: datetime | None = None,
        issued_to: datetime | None = None,
        modified_after: datetime | None = None,
    ) -> Iterator[ApiPage]: ...

    def iter_invoice_pages(self, invoice_identifier: str, marketplace_id: str) -> Iterator[ApiPage]: ...

    def iter_shipment_details(
        self, created_after: datetime, created_before: datetime | None = None, *, page_size: int = 50
    ) -> Iterator[ApiPage]: ...
