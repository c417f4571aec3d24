"""Transfers 2024-06-01: listExpectedPayouts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulator.operations.context import (
    OperationContext,
    page_body,
    paged,
    requested_marketplaces,
)

EXPECTED_PAYOUTS_PAGE_SIZE = 10


def list_expected_payouts(ctx: OperationContext) -> dict[str, Any]:
    def read_filters() -> tuple[dict[str, Any], int]:
        return {"marketplaceIds": requested_marketplaces(ctx)}, EXPECTED_PAYOUTS_PAGE_SIZE

    def fetch(filters: dict[str, Any], snapshot: datetime) -> list[Any]:
        payouts: list[dict[str, Any]] = []
        for marketplace_id in filters["marketplaceIds"]:
            payouts.extend(
                ctx.ledger.expected_payouts(ctx.account_id, snapshot, marketplace_id=marketplace_id)
            )
        return payouts

    payouts, next_token = paged(ctx, "nextToken", read_filters, fetch)
    return page_body("expectedPayouts", payouts, next_token)
