"""Pure helpers for the time windows Amazon accepts and the lookback every run re-reads.

- Finances (v0 and 2024-06-19): posted-date windows of at most 180 days (wider returns nothing), ending more
  than two minutes before the request.
- Vendor purchase orders: windows of at most 7 days, reaching back at most 6 months.
- Events post 3-5 days late, so each run starts `lookback_days` before its last successful run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

FINANCES_MAX_WINDOW = timedelta(days=180)
FINANCES_MIN_LAG = timedelta(minutes=2)
# "more than two minutes": keep a little margin for the clock difference between us and Amazon.
FINANCES_SAFE_LAG = FINANCES_MIN_LAG + timedelta(seconds=30)
VENDOR_MAX_WINDOW = timedelta(days=7)
# Finances Invoices 2026-06-25: issue-date windows of at most 90 days.
INVOICE_MAX_WINDOW = timedelta(days=90)
# "at most 6 months": 180 days is inside six months whatever the months' lengths.
VENDOR_MAX_AGE = timedelta(days=180)


@dataclass(frozen=True)
class Window:
    start: datetime  # inclusive
    end: datetime  # exclusive


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive datetime is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso_z(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, the form every SP-API date-time parameter accepts."""
    moment = as_utc(moment)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


def iso_date(moment: datetime | date) -> str:
    if isinstance(moment, datetime):
        moment = as_utc(moment).date()
    return moment.isoformat()


def lookback_start(
    last_success: datetime | None, lookback_days: int, *, first_run_start: datetime | None = None
) -> datetime:
    """Where a run starts reading: `lookback_days` before the last successful run (never before
    `first_run_start`), or `first_run_start` when there was no successful run yet."""
    if lookback_days < 0:
        raise ValueError("lookback_days must not be negative")
    if last_success is None:
        if first_run_start is None:
            raise ValueError("no previous run: give first_run_start")
        return as_utc(first_run_start)
    start = as_utc(last_success) - timedelta(days=lookback_days)
    # Never reach back before the configured start of history.
    return max(start, as_utc(first_run_start)) if first_run_start is not None else start


def split_windows(start: datetime, end: datetime, max_width: timedelta) -> list[Window]:
    """[start, end) cut into consecutive windows no wider than `max_width`."""
    start, end = as_utc(start), as_utc(end)
    windows: list[Window] = []
    while start < end:
        stop = min(start + max_width, end)
        windows.append(Window(start, stop))
        start = stop
    return windows


def finances_windows(start: datetime, end: datetime | None, *, now: datetime) -> list[Window]:
    """Posted-date windows the Finances APIs accept for [start, end): at most 180 days each, the last ending
    more than two minutes before `now`. Empty when nothing old enough remains."""
    latest = as_utc(now) - FINANCES_SAFE_LAG
    stop = latest if end is None else min(as_utc(end), latest)
    return split_windows(start, stop, FINANCES_MAX_WINDOW)


def vendor_windows(start: datetime, end: datetime | None, *, now: datetime) -> list[Window]:
    """Windows the Vendor Orders API accepts for [start, end): at most 7 days each, none starting more than six
    months before `now` (older changes are not served; a start further back is moved forward)."""
    now = as_utc(now)
    earliest = now - VENDOR_MAX_AGE
    stop = now if end is None else min(as_utc(end), now)
    return split_windows(max(as_utc(start), earliest), stop, VENDOR_MAX_WINDOW)


def invoice_windows(start: datetime, end: datetime | None, *, now: datetime) -> list[Window]:
    """Issue-date windows getInvoiceHeaders accepts for [start, end): at most 90 days each, none after `now`."""
    stop = as_utc(now) if end is None else min(as_utc(end), as_utc(now))
    return split_windows(start, stop, INVOICE_MAX_WINDOW)
