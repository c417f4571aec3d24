"""The ledger: holds the generated history and answers every question the simulator's operations ask it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache

from simulator.clock import default_start
from simulator.credentials import demo_refresh_token, token_grant
from simulator.ledger import anomalies as anomaly_catalog
from simulator.ledger import (
    finances_2024,
    finances_v0,
    vendor_invoices,
    vendor_orders,
)
from simulator.ledger.catalog import MARKETPLACES, all_accounts, seller_profile
from simulator.ledger.history import build_history
from simulator.ledger.model import Entry, Settlement
from simulator.ledger.records import InjectedAnomaly, SettlementInfo, SimAccount, SimDocument
from simulator.ledger.settlement_report import render_settlement_report

SETTLEMENT_REPORT_TYPE = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
REPORT_RETENTION = timedelta(days=90)  # getReports keeps settlement reports 90 days at most


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Ledger:
    """The deterministic synthetic history of every demo account (same seed and today → identical output).

    The history covers at least eight closed 14-day settlement periods before ``today``, the open period, and
    about 30 days after ``today`` (visible only once the simulator clock reaches it).
    """

    def __init__(self, *, seed: int = 7, today: date | None = None, simulated_sellers: int = 0) -> None:
        """Build the whole history in memory; ``today`` (UTC date the simulator starts) defaults to today;
        ``simulated_sellers`` more seller accounts beside the demo's (sim-na-001, sim-eu-002, ...)."""
        self.seed = seed
        self.today = today or default_start().date()
        self.simulated_sellers = simulated_sellers
        self._settlements = build_history(seed, self.today, simulated_sellers)
        # Which account a caller is: the grant (fingerprint) of the refresh token the demo sends for it.
        self._by_grant = {
            token_grant(demo_refresh_token(a.account_id)): a for a in all_accounts(simulated_sellers)
        }
        self._anomalies = anomaly_catalog.place(self._settlements, self.today)
        self._vendor, self._invoices = vendor_invoices.build_invoices(
            vendor_orders.build_purchase_orders(seed, self.today), seed, self.today
        )
        self._by_document = {
            s.report_document_id: s for settlements in self._settlements.values() for s in settlements
        }
        self._transaction_parts: dict[str, tuple] = {}
        self._by_report = {s.report_id: s for settlements in self._settlements.values() for s in settlements}

    # -- accounts ------------------------------------------------------------------------------------------

    def accounts(self) -> list[SimAccount]:
        """Every demo account: sellers demo-na, demo-eu (demo-jp when built), the vendor demo-vendor, and the
        simulated sellers asked for."""
        return all_accounts(self.simulated_sellers)

    def account_for(self, region: str, kind: str, grant: str | None = None) -> SimAccount | None:
        """The account answering on a regional host: the one whose demo refresh token obtained the caller's
        access token (`grant`) when it is of this region and kind, else the region's demo seller or vendor
        (any other credentials: the demo accepts whatever it is sent)."""
        known = self._by_grant.get(grant or "")
        if known is not None and known.region == region and known.kind == kind:
            return known
        return next((a for a in all_accounts() if a.region == region and a.kind == kind), None)

    def _seller(self, account_id: str) -> list[Settlement]:
        return self._settlements.get(account_id, [])

    def _entries(self, account_id: str) -> list[tuple[Settlement, Entry]]:
        return [(s, e) for s in self._seller(account_id) for e in s.entries]

    # -- reports -------------------------------------------------------------------------------------------

    def _report_dict(self, s: Settlement) -> dict:
        return {
            "reportId": s.report_id,
            "reportType": SETTLEMENT_REPORT_TYPE,
            "dataStartTime": iso(s.period.start),
            "dataEndTime": iso(s.period.end),
            "createdTime": iso(s.report_created_at),
            "processingStatus": "DONE",
            "processingStartTime": iso(s.report_created_at - timedelta(minutes=4)),
            "processingEndTime": iso(s.report_created_at),
            "marketplaceIds": [s.marketplace_id],
            "reportDocumentId": s.report_document_id,
        }

    def reports(self, account_id: str, now: datetime) -> list[dict]:
        """`Report` dicts of the settlement reports created by ``now`` (last 90 days), newest first.

        Only ``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2`` exists here (Amazon removed the older types
        on 2026-11-11). Each report is ``DONE`` with a ``reportDocumentId``.
        """
        visible = [
            s for s in self._seller(account_id) if now - REPORT_RETENTION <= s.report_created_at <= now
        ]
        visible.sort(key=lambda s: (s.report_created_at, s.report_id), reverse=True)
        return [self._report_dict(s) for s in visible]

    def report(self, account_id: str, report_id: str, now: datetime) -> dict | None:
        """One `Report` dict, or None when unknown or not yet created at ``now``."""
        s = self._by_report.get(report_id)
        if s is None or s.account_id != account_id or s.report_created_at > now:
            return None
        return self._report_dict(s)

    def report_document(self, account_id: str, report_document_id: str) -> SimDocument | None:
        """The document behind a report (the HTTP layer decides whether it may be served yet)."""
        s = self._by_document.get(report_document_id)
        if s is None or s.account_id != account_id:
            return None
        return self._document(report_document_id)

    @cache  # noqa: B019 - the engine lives as long as the simulator; documents are rendered once
    def _document(self, report_document_id: str) -> SimDocument:
        s = self._by_document[report_document_id]
        mp = MARKETPLACES[s.marketplace_id]
        drifted = anomaly_catalog.is_drifted_report(self._anomalies, s.settlement_id)
        return SimDocument(
            report_document_id=report_document_id,
            content=render_settlement_report(s, drifted=drifted),
            charset=mp.charset,
            compress=mp.compress,
        )

    # -- Finances v0 ---------------------------------------------------------------------------------------

    def financial_event_groups(self, account_id: str, now: datetime) -> list[dict]:
        """`FinancialEventGroup` dicts of the groups opened by ``now``, newest first.

        One group per settlement; the open one carries its running balance (ProcessingStatus ``Open``).
        """
        profile = seller_profile(account_id)
        if profile is None:
            return []
        groups = [s for s in self._seller(account_id) if s.period.start <= now]
        groups.sort(key=lambda s: (s.period.start, s.marketplace_id), reverse=True)
        return [finances_v0.event_group(s, now, profile.account_tail) for s in groups]

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
        omitted = anomaly_catalog.omitted_v0_entries(self._anomalies)
        events = []
        for s, e in self._entries(account_id):
            if e.release_at > now or e.entry_id in omitted:
                continue
            if group_id is not None and s.financial_event_group_id != group_id:
                continue
            if posted_after is not None and e.release_at < posted_after:
                continue
            if posted_before is not None and e.release_at >= posted_before:
                continue
            if order_id is not None and e.order_id != order_id:
                continue
            events.append((e.release_at, e.entry_id, finances_v0.event(e)))
        events.sort(key=lambda item: (item[0], item[1]))
        return [pair for _, _, pair in events]

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
        profile = seller_profile(account_id)
        if profile is None:
            return []
        found = []
        for s, e in self._entries(account_id):
            if not (posted_after <= e.posted_at < posted_before) or e.posted_at > now:
                continue
            if marketplace_id is not None and e.marketplace_id != marketplace_id:
                continue
            transaction = finances_2024.transaction(
                e, s, now, profile.account.selling_partner_id, self._transaction_parts
            )
            if related_identifier_name is not None and not any(
                r["relatedIdentifierName"] == related_identifier_name
                and (
                    related_identifier_value is None
                    or r["relatedIdentifierValue"] == related_identifier_value
                )
                for r in transaction["relatedIdentifiers"]
            ):
                continue
            found.append((e.posted_at, e.entry_id, transaction))
        found.sort(key=lambda item: (item[0], item[1]))
        return [t for _, _, t in found]

    def balances(
        self,
        account_id: str,
        now: datetime,
        *,
        as_of: datetime | None = None,
        marketplace_id: str | None = None,
    ) -> list[dict]:
        """`Balance` dicts (one TOTAL tree per marketplace) as of ``as_of`` (default ``now``, never later)."""
        profile = seller_profile(account_id)
        if profile is None:
            return []
        moment = min(as_of or now, now)
        marketplaces = [m for m in profile.account.marketplace_ids if marketplace_id in (None, m)]
        return [
            finances_2024.balance(
                self._seller(account_id),
                m,
                MARKETPLACES[m].currency,
                moment,
                profile.account.selling_partner_id,
            )
            for m in marketplaces
        ]

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
        profile = seller_profile(account_id)
        if profile is None:
            return []
        chosen = []
        for s in self._seller(account_id):
            if s.period.end > now:  # a settlement's net proceeds are final once its period closes
                continue
            if settlement_id is not None and s.settlement_id != settlement_id:
                continue
            if marketplace_id is not None and s.marketplace_id != marketplace_id:
                continue
            if start is not None and s.period.end <= start:
                continue
            if end is not None and s.period.start >= end:
                continue
            chosen.append(s)
        return [finances_2024.summary(s, profile.account.selling_partner_id) for s in chosen]

    # -- Transfers 2024-06-01 ------------------------------------------------------------------------------

    def expected_payouts(self, account_id: str, now: datetime, *, marketplace_id: str) -> list[dict]:
        """`ExpectedPayout` dicts for settlements not yet deposited at ``now`` (EU marketplaces only)."""
        profile = seller_profile(account_id)
        if profile is None or marketplace_id not in profile.account.marketplace_ids:
            return []
        upcoming = [
            s
            for s in self._seller(account_id)
            if s.marketplace_id == marketplace_id and s.period.start <= now < s.deposit_at
        ]
        return finances_2024.expected_payouts(upcoming, now, profile)

    # -- Vendor Orders -------------------------------------------------------------------------------------

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
        if account_id != vendor_orders.VENDOR_ACCOUNT_ID:
            return []
        return vendor_orders.orders_view(
            self._vendor,
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
        if account_id != vendor_orders.VENDOR_ACCOUNT_ID:
            return []
        return vendor_orders.statuses_view(
            self._vendor, now, updated_after=updated_after, updated_before=updated_before
        )

    # -- Finances Invoices 2026-06-25 ------------------------------------------------------------------------

    def invoice_headers(
        self,
        account_id: str,
        now: datetime,
        *,
        issued_from: datetime | None = None,
        issued_to: datetime | None = None,
        modified_after: datetime | None = None,
    ) -> list[dict]:
        """The vendor's `InvoiceHeader` dicts as they stand at ``now``, oldest issue first (amounts Decimal)."""
        if account_id != vendor_orders.VENDOR_ACCOUNT_ID:
            return []
        return vendor_invoices.headers_view(
            self._invoices, now, issued_from=issued_from, issued_to=issued_to, modified_after=modified_after
        )

    def invoice(self, account_id: str, identifier: str, now: datetime) -> tuple[dict, list[dict]] | None:
        """(header, line items) of one invoice issued by ``now``, or None."""
        if account_id != vendor_orders.VENDOR_ACCOUNT_ID:
            return None
        for invoice in self._invoices:
            if invoice.identifier == identifier and invoice.issued_at <= now:
                return vendor_invoices.header_dict(invoice, now), vendor_invoices.item_dicts(invoice, now)
        return None

    def shipments(
        self,
        account_id: str,
        now: datetime,
        *,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
    ) -> list[dict]:
        """Vendor Shipments v1 `Shipment` dicts (one ASN per invoiced PO) created by ``now``, oldest first."""
        if account_id != vendor_orders.VENDOR_ACCOUNT_ID:
            return []
        return vendor_invoices.shipments_view(
            self._invoices, now, created_after=created_after, created_before=created_before
        )

    def vendor_invoice_plan(self) -> list[vendor_invoices.VendorInvoice]:
        """The invoices with their roles (what the tests and the README's planted shortages refer to)."""
        return list(self._invoices)

    # -- helpers -------------------------------------------------------------------------------------------

    def settlements(self, account_id: str) -> list[SettlementInfo]:
        """Every settlement of the whole history (including future ones), oldest first."""
        return [
            SettlementInfo(
                settlement_id=s.settlement_id,
                account_id=s.account_id,
                marketplace_id=s.marketplace_id,
                currency=s.currency,
                start=s.period.start,
                end=s.period.end,
                deposit=s.deposit_at,
                total=s.total,
                line_count=s.line_count,
                financial_event_group_id=s.financial_event_group_id,
                report_id=s.report_id,
                report_document_id=s.report_document_id,
            )
            for s in self._seller(account_id)
        ]

    def deferred_balance(
        self, account_id: str, as_of: datetime, marketplace_id: str | None = None
    ) -> Decimal:
        """Money posted by ``as_of`` and still deferred then (maturity after ``as_of``)."""
        return sum(
            (
                e.total
                for _, e in self._entries(account_id)
                if marketplace_id in (None, e.marketplace_id) and e.posted_at <= as_of < e.release_at
            ),
            Decimal("0"),
        )

    def injected_anomalies(self) -> list[InjectedAnomaly]:
        """The deliberate anomalies, exactly those documented in README.md beside this file."""
        return list(self._anomalies)
