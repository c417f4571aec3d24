"""The records the ledger hands out: accounts, report documents, settlements and injected anomalies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal


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
