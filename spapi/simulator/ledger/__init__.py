"""The simulator's synthetic ledger: one consistent business history behind every dataset it serves.

The HTTP layer of the simulator (``spapi/simulator/``) serves what this package computes. Every rendering
(settlement flat files, Finances v0 event groups and events, Finances 2024-06-19 transactions, balances and
summaries, Transfers expected payouts, Vendor Orders) is derived from the same list of ledger entries, so they
agree to the cent, except for the deliberate anomalies listed by :meth:`Ledger.injected_anomalies` (and in
``README.md`` beside this file).

Conventions for every method:

* returned dicts are already in Amazon's model shapes (the items of a page, not the envelope);
* money inside them is :class:`~decimal.Decimal`; the HTTP layer serialises it exactly, as a JSON number, or
  as a string where the model says string (Vendor Orders ``Money.amount`` is already a ``str`` here);
* timestamps inside them are ISO-8601 strings in UTC (``2026-11-23T07:49:55Z``);
* ``now`` is the simulator clock (a UTC-aware datetime): nothing dated after ``now`` is visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

__all__ = ["InjectedAnomaly", "Ledger", "SettlementInfo", "SimAccount", "SimDocument"]


@dataclass(frozen=True)
class SimAccount:
    """A demo selling partner the simulator answers for."""

    account_id: str  # "demo-na", "demo-eu", "demo-vendor", ...
    kind: Literal["seller", "vendor"]
    region: Literal["na", "eu", "fe"]
    selling_partner_id: str
    marketplace_ids: tuple[str, ...]


@dataclass(frozen=True)
class SimDocument:
    """A report document as the documents origin serves it."""

    report_document_id: str
    content: bytes  # the uncompressed flat file exactly as Amazon would produce it
    charset: str  # e.g. "UTF-8", "windows-1252", "Shift_JIS"; sent in Content-Type
    compress: bool  # served gzip-compressed, with compressionAlgorithm GZIP in getReportDocument


@dataclass(frozen=True)
class SettlementInfo:
    """One settlement (one account, one marketplace, one 14-day period), for tests and the demo summary."""

    settlement_id: str
    account_id: str
    marketplace_id: str
    currency: str
    start: datetime
    end: datetime  # exclusive; the next period starts here
    deposit: datetime
    total: Decimal  # the settlement report's total-amount (sum of its lines)
    line_count: int  # data lines, the summary row not counted
    financial_event_group_id: str
    report_id: str
    report_document_id: str


@dataclass(frozen=True)
class InjectedAnomaly:
    """A deliberate defect in the demo data that a downstream check must find (and nothing else)."""

    anomaly_id: str  # "v0_group_mismatch", "settlement_schema_drift", "payout_amount_anomaly", ...
    issue: int  # the issue that asks for it (6 or 7)
    account_id: str
    settlement_id: str
    financial_event_group_id: str
    description: str
    numbers: dict[str, str]  # the figures that make it anomalous, as exact strings


class Ledger:
    """The deterministic synthetic history of every demo account (same seed and today → identical output).

    The history covers at least eight closed 14-day settlement periods before ``today``, the open period, and
    about 30 days after ``today`` (visible only once the simulator clock reaches it).
    """

    def __init__(self, *, seed: int = 7, today: date | None = None) -> None:
        """Build the whole history in memory; ``today`` (UTC date the simulator starts) defaults to today."""
        from spapi.simulator.ledger._engine import LedgerEngine

        self._engine = LedgerEngine(seed=seed, today=today)

    # -- accounts ------------------------------------------------------------------------------------------

    def accounts(self) -> list[SimAccount]:
        """Every demo account: sellers demo-na, demo-eu (demo-jp when built) and the vendor demo-vendor."""
        return self._engine.accounts()

    def account_for(self, region: str, kind: str) -> SimAccount | None:
        """The account answering on a regional host: one seller and at most one vendor per region."""
        return self._engine.account_for(region, kind)

    # -- Reports API 2021-06-30 ----------------------------------------------------------------------------

    def reports(self, account_id: str, now: datetime) -> list[dict]:
        """`Report` dicts of the settlement reports created by ``now`` (last 90 days), newest first.

        Only ``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2`` exists here (Amazon removed the older types
        on 2026-11-11). Each report is ``DONE`` with a ``reportDocumentId``.
        """
        return self._engine.reports(account_id, now)

    def report(self, account_id: str, report_id: str, now: datetime) -> dict | None:
        """One `Report` dict, or None when unknown or not yet created at ``now``."""
        return self._engine.report(account_id, report_id, now)

    def report_document(self, account_id: str, report_document_id: str) -> SimDocument | None:
        """The document behind a report (the HTTP layer decides whether it may be served yet)."""
        return self._engine.report_document(account_id, report_document_id)

    # -- Finances v0 ---------------------------------------------------------------------------------------

    def financial_event_groups(self, account_id: str, now: datetime) -> list[dict]:
        """`FinancialEventGroup` dicts of the groups opened by ``now``, newest first.

        One group per settlement; the open one carries its running balance (ProcessingStatus ``Open``).
        """
        return self._engine.financial_event_groups(account_id, now)

    def financial_events(
        self,
        account_id: str,
        now: datetime,
        *,
        group_id: str | None = None,
        posted_after: datetime | None = None,
        posted_before: datetime | None = None,
        order_id: str | None = None,
    ) -> list[tuple[str, dict]]:
        """Events visible at ``now`` as (EventListName, event dict) pairs, oldest first.

        An event is visible once its money is released (v0 never shows deferred money); its ``PostedDate`` is
        the release time. Filters combine with AND; posted_after is inclusive, posted_before exclusive.
        """
        return self._engine.financial_events(
            account_id,
            now,
            group_id=group_id,
            posted_after=posted_after,
            posted_before=posted_before,
            order_id=order_id,
        )

    # -- Finances 2024-06-19 -------------------------------------------------------------------------------

    def transactions(
        self,
        account_id: str,
        now: datetime,
        *,
        posted_after: datetime,
        posted_before: datetime,
        marketplace_id: str | None = None,
        related_identifier_name: str | None = None,
        related_identifier_value: str | None = None,
    ) -> list[dict]:
        """`Transaction` dicts posted in [posted_after, posted_before) and by ``now``, oldest first.

        Status as seen at ``now``: RELEASED, DEFERRED (maturity after ``now``) or DEFERRED_RELEASED.
        """
        return self._engine.transactions(
            account_id,
            now,
            posted_after=posted_after,
            posted_before=posted_before,
            marketplace_id=marketplace_id,
            related_identifier_name=related_identifier_name,
            related_identifier_value=related_identifier_value,
        )

    def balances(
        self,
        account_id: str,
        now: datetime,
        *,
        as_of: datetime | None = None,
        marketplace_id: str | None = None,
    ) -> list[dict]:
        """`Balance` dicts (one TOTAL tree per marketplace) as of ``as_of`` (default ``now``, never later)."""
        return self._engine.balances(account_id, now, as_of=as_of, marketplace_id=marketplace_id)

    def summaries(
        self,
        account_id: str,
        now: datetime,
        *,
        settlement_id: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        marketplace_id: str | None = None,
    ) -> list[dict]:
        """`Summary` dicts: one per closed settlement selected by id or by period overlap with [start, end).

        ``netProceeds`` equals the settlement report's total-amount.
        """
        return self._engine.summaries(
            account_id, now, settlement_id=settlement_id, start=start, end=end, marketplace_id=marketplace_id
        )

    # -- Transfers 2024-06-01 ------------------------------------------------------------------------------

    def expected_payouts(self, account_id: str, now: datetime, *, marketplace_id: str) -> list[dict]:
        """`ExpectedPayout` dicts for settlements not yet deposited at ``now`` (EU marketplaces only)."""
        return self._engine.expected_payouts(account_id, now, marketplace_id=marketplace_id)

    # -- Vendor Orders v1 ----------------------------------------------------------------------------------

    def purchase_orders(
        self,
        account_id: str,
        now: datetime,
        *,
        changed_after: datetime | None = None,
        changed_before: datetime | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
    ) -> list[dict]:
        """Vendor `Order` dicts as they stand at ``now``, oldest first; filters on orderDate / last change."""
        return self._engine.purchase_orders(
            account_id,
            now,
            changed_after=changed_after,
            changed_before=changed_before,
            created_after=created_after,
            created_before=created_before,
        )

    def purchase_order_statuses(
        self,
        account_id: str,
        now: datetime,
        *,
        updated_after: datetime | None = None,
        updated_before: datetime | None = None,
    ) -> list[dict]:
        """Vendor `OrderStatus` dicts (acknowledged and received quantities) as they stand at ``now``."""
        return self._engine.purchase_order_statuses(
            account_id, now, updated_after=updated_after, updated_before=updated_before
        )

    # -- helpers for tests and the demo summary ------------------------------------------------------------

    def settlements(self, account_id: str) -> list[SettlementInfo]:
        """Every settlement of the whole history (including future ones), oldest first."""
        return self._engine.settlements(account_id)

    def deferred_balance(
        self, account_id: str, as_of: datetime, marketplace_id: str | None = None
    ) -> Decimal:
        """Money posted by ``as_of`` and still deferred then (maturity after ``as_of``)."""
        return self._engine.deferred_balance(account_id, as_of, marketplace_id)

    def injected_anomalies(self) -> list[InjectedAnomaly]:
        """The deliberate anomalies (issues 6 and 7), exactly those documented in README.md."""
        return self._engine.injected_anomalies()
