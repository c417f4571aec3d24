"""What a finance run re-reads: pure decisions from what the lake already holds and the run's clock.

No Dagster and no I/O here, so the incremental rules are unit-tested on their own:
- v0 event groups: a group's events are (re)read when the group is new to the lake, still Open (its events
  keep coming until Amazon closes it), or ended within the lookback window (events post 3-5 days late, and
  re-reading weeks later can return more rows);
- 2024-06-19 transactions: the posted-date window starts `lookback_days` before the newest transaction landed,
  or earlier when a transaction landed as DEFERRED is older than that (its release is only seen by reading its
  posted date again); the first run reads `history_days` back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from spapi.windows import as_utc

OPEN_STATUS = "Open"
DEFERRED_STATUS = "DEFERRED"


@dataclass(frozen=True)
class KnownGroup:
    """A financial event group as the lake last saw it."""

    financial_event_group_id: str
    processing_status: str | None
    ended_at: datetime | None


def groups_to_read(
    listed: Iterable[KnownGroup],
    landed: Mapping[str, KnownGroup],
    *,
    now: datetime,
    lookback_days: int,
) -> list[str]:
    """Ids of the listed groups whose events this run (re)reads, in a stable order.

    `listed` is what listFinancialEventGroups returned this run; `landed` the groups whose events are already
    in the lake (keyed by id, with the state they had when read).
    """
    horizon = as_utc(now) - timedelta(days=lookback_days)
    chosen = []
    for group in listed:
        before = landed.get(group.financial_event_group_id)
        still_open = (group.processing_status or OPEN_STATUS) == OPEN_STATUS
        recent = group.ended_at is None or as_utc(group.ended_at) >= horizon
        changed = before is None or before.processing_status != group.processing_status
        if before is None or still_open or recent or changed:
            chosen.append(group.financial_event_group_id)
    return sorted(set(chosen))


def groups_listing_start(*, now: datetime, history_days: int) -> datetime:
    """FinancialEventGroupStartedAfter for the listing: ByGroupId reaches back two years at most."""
    return as_utc(now) - timedelta(days=min(history_days, 730))


def transactions_start(
    *,
    newest_posted_at: datetime | None,
    oldest_deferred_posted_at: datetime | None,
    now: datetime,
    lookback_days: int,
    history_days: int,
) -> datetime:
    """Start of the posted-date range this run reads for one account (ending at `now`, less Amazon's lag)."""
    if newest_posted_at is None:
        return as_utc(now) - timedelta(days=history_days)
    start = as_utc(newest_posted_at) - timedelta(days=lookback_days)
    if oldest_deferred_posted_at is not None:
        start = min(start, as_utc(oldest_deferred_posted_at))
    # Never later than the lookback from now: a quiet account still re-reads the recent past.
    return min(start, as_utc(now) - timedelta(days=lookback_days))
