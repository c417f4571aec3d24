"""What every operation handler shares: its context (account, clock, query, ledger, page tokens), the cache of
full result lists, paging with next tokens, and the date checks Amazon applies to every API alike.

Each handler (one module per API beside this one) takes an :class:`OperationContext` and returns the response
body (the envelope of its model), or raises :class:`InvalidInput` / :class:`NotFound`. A next token carries the
first page's filters and its snapshot time, so later pages are cut from the same list even while the simulated
clock moves on.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.datastructures import QueryParams

from simulator import params
from simulator.errors import InvalidInput
from simulator.ledger import Ledger, SimAccount
from simulator.signing import PageTokens

# Amazon refuses dates closer to the request than this (Finances v0 and 2024-06-19).
MIN_AGE = timedelta(minutes=2)
# Finances windows wider than this answer an empty page (not an error), as the models say.
MAX_FINANCES_WINDOW = timedelta(days=180)


FAR_PAST = datetime(2000, 1, 1, tzinfo=UTC)


class ResultCache:
    """The last few full result lists, keyed by (operation, account, filters, snapshot).

    A page after the first reuses its list instead of asking the ledger again (building a listTransactions
    list takes ~0.3 s).
    """

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._entries: OrderedDict[str, list[Any]] = OrderedDict()

    def get_or_build(self, key: str, build: Callable[[], list[Any]]) -> list[Any]:
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        value = build()
        self._entries[key] = value
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return value


@dataclass
class OperationContext:
    operation: str
    account: SimAccount
    now: datetime
    query: QueryParams
    path_params: dict[str, str]
    ledger: Ledger
    page_tokens: PageTokens
    presign: Callable[[str, str, bool], str]  # (account_id, report_document_id, content_encoding) -> URL
    cache: ResultCache

    @property
    def account_id(self) -> str:
        return self.account.account_id

    def resume(self, token_param: str) -> dict[str, Any] | None:
        """The state of the page token in the query (None on a first page); 400 if it is not ours."""
        token = self.query.get(token_param)
        if token is None:
            return None
        state = self.page_tokens.decode(token, self.operation, self.account_id)
        # A token also belongs to its path (the event group, the order): it must not page another one.
        if state is None or state.get("path") != self.path_params:
            raise InvalidInput(f"Invalid {token_param}.")
        return state

    def page(
        self, items: list[Any], *, filters: dict[str, Any], snapshot: datetime, offset: int, size: int
    ) -> tuple[list[Any], str | None]:
        chunk = items[offset : offset + size]
        if offset + size >= len(items):
            return chunk, None
        state = {
            "filters": filters,
            "path": self.path_params,
            "now": snapshot.isoformat(),
            "offset": offset + size,
            "size": size,
        }
        return chunk, self.page_tokens.encode(self.operation, self.account_id, state)


def dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def paged(
    ctx: OperationContext,
    token_param: str,
    read_filters: Callable[[], tuple[dict[str, Any], int]],
    fetch: Callable[[dict[str, Any], datetime], list[Any]],
) -> tuple[list[Any], str | None]:
    state = ctx.resume(token_param)
    if state is None:
        filters, size = read_filters()
        snapshot, offset = ctx.now, 0
    else:
        filters, size = state["filters"], int(state["size"])
        snapshot, offset = datetime.fromisoformat(state["now"]), int(state["offset"])
    # The path parameters (e.g. the event group id) select the list as much as the filters do.
    key = json.dumps(
        [ctx.operation, ctx.account_id, ctx.path_params, filters, snapshot.isoformat()], sort_keys=True
    )
    items = ctx.cache.get_or_build(key, lambda: fetch(filters, snapshot))
    return ctx.page(items, filters=filters, snapshot=snapshot, offset=offset, size=size)


def not_too_recent(ctx: OperationContext, name: str, value: datetime | None) -> None:
    if value is not None and value > ctx.now - MIN_AGE:
        raise InvalidInput(f"{name} must be more than two minutes before the time of the request.")


def ordered(after_name: str, after: datetime | None, before_name: str, before: datetime | None) -> None:
    if after is not None and before is not None and before <= after:
        raise InvalidInput(f"{before_name} must be later than {after_name}.")


def too_wide(after: datetime | None, before: datetime | None) -> bool:
    return after is not None and before is not None and before - after > MAX_FINANCES_WINDOW


def requested_marketplaces(ctx: OperationContext) -> list[str]:
    requested = params.string_list(ctx.query, "marketplaceIds")
    unknown = [m for m in requested if m not in ctx.account.marketplace_ids]
    if unknown:
        raise InvalidInput(f"Invalid marketplaceIds: {', '.join(unknown)}")
    return requested or list(ctx.account.marketplace_ids)


def page_body(
    items_name: str, items: Any, next_token: str | None, *, next_key: str = "nextToken"
) -> dict[str, Any]:
    """One page as the models spell it: `{items_name: items}`, plus the next token under `next_key` when there
    is a next page (the callers wrap it in `payload` or `pagination` where their API does)."""
    body: dict[str, Any] = {items_name: items}
    if next_token:
        body[next_key] = next_token
    return body
