"""Reports API 2021-06-30: getReports, getReport, getReportDocument."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from simulator import params
from simulator.errors import InvalidInput, NotFound
from simulator.operations.context import (
    OperationContext,
    dt,
    iso,
    ordered,
    page_body,
    paged,
)

REPORT_RETENTION = timedelta(days=90)


def get_reports(ctx: OperationContext) -> dict[str, Any]:
    if "nextToken" in ctx.query and len(ctx.query) > 1:
        raise InvalidInput("nextToken must be the only parameter when it is specified.")
    if "nextToken" not in ctx.query and not params.string_list(ctx.query, "reportTypes"):
        raise InvalidInput("reportTypes or nextToken is required.")

    def read_filters() -> tuple[dict[str, Any], int]:
        report_types = params.string_list(ctx.query, "reportTypes", max_items=10)
        since = params.optional_datetime(ctx.query, "createdSince") or ctx.now - REPORT_RETENTION
        until = params.optional_datetime(ctx.query, "createdUntil") or ctx.now
        ordered("createdSince", since, "createdUntil", until)
        filters = {
            "reportTypes": report_types,
            "processingStatuses": params.string_list(ctx.query, "processingStatuses"),
            "marketplaceIds": params.string_list(ctx.query, "marketplaceIds", max_items=10),
            "createdSince": iso(since),
            "createdUntil": iso(until),
        }
        return filters, params.integer(ctx.query, "pageSize", default=10, minimum=1, maximum=100)

    def fetch(filters: dict[str, Any], snapshot: datetime) -> list[Any]:
        since, until = dt(filters["createdSince"]), dt(filters["createdUntil"])
        selected = []
        for report in ctx.ledger.reports(ctx.account_id, snapshot):
            created = params.parse_datetime("createdTime", report["createdTime"])
            if report["reportType"] not in filters["reportTypes"]:
                continue
            if (
                filters["processingStatuses"]
                and report["processingStatus"] not in filters["processingStatuses"]
            ):
                continue
            if filters["marketplaceIds"] and not set(filters["marketplaceIds"]) & set(
                report.get("marketplaceIds", [])
            ):
                continue
            if (since is not None and created < since) or (until is not None and created > until):
                continue
            selected.append(report)
        return selected

    reports, next_token = paged(ctx, "nextToken", read_filters, fetch)
    return page_body("reports", reports, next_token)


def get_report(ctx: OperationContext) -> dict[str, Any]:
    report = ctx.ledger.report(ctx.account_id, ctx.path_params["reportId"], ctx.now)
    if report is None:
        raise NotFound("The report does not exist.")
    return report


def get_report_document(ctx: OperationContext) -> dict[str, Any]:
    document_id = ctx.path_params["reportDocumentId"]
    visible = any(
        r.get("reportDocumentId") == document_id for r in ctx.ledger.reports(ctx.account_id, ctx.now)
    )
    document = ctx.ledger.report_document(ctx.account_id, document_id) if visible else None
    if document is None:
        raise NotFound("The report document does not exist.")
    content_encoding = params.boolean(ctx.query, "enableContentEncodingUrlHeader", default=False)
    body: dict[str, Any] = {
        "reportDocumentId": document_id,
        "url": ctx.presign(ctx.account_id, document_id, content_encoding and document.compress),
    }
    if document.compress:
        body["compressionAlgorithm"] = "GZIP"
    return body
