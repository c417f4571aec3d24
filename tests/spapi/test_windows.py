"""Pure window and lookback helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spapi.windows import (
    FINANCES_MAX_WINDOW,
    VENDOR_MAX_WINDOW,
    as_utc,
    finances_windows,
    iso_z,
    lookback_start,
    split_windows,
    vendor_windows,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_lookback_start() -> None:
    last = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    assert lookback_start(last, 7) == datetime(2026, 11, 13, 6, 0, tzinfo=UTC)
    assert lookback_start(None, 7, first_run_start=datetime(2026, 1, 1, tzinfo=UTC)) == datetime(
        2026, 1, 1, tzinfo=UTC
    )
    # The lookback never reaches before the configured start of history.
    assert lookback_start(last, 30, first_run_start=datetime(2026, 11, 1, tzinfo=UTC)) == datetime(
        2026, 11, 1, tzinfo=UTC
    )
    with pytest.raises(ValueError):
        lookback_start(None, 7)
    with pytest.raises(ValueError):
        lookback_start(last, -1)


def test_finances_windows_cap_width_and_stay_two_minutes_behind_now() -> None:
    windows = finances_windows(datetime(2025, 1, 1, tzinfo=UTC), None, now=NOW)
    assert windows[0].start == datetime(2025, 1, 1, tzinfo=UTC)
    assert all(w.end - w.start <= FINANCES_MAX_WINDOW for w in windows)
    assert all(a.end == b.start for a, b in pairwise(windows))
    assert NOW - windows[-1].end > timedelta(minutes=2)
    assert len(windows) == 4  # 691 days / 180


def test_finances_windows_empty_when_nothing_is_old_enough() -> None:
    assert finances_windows(NOW - timedelta(seconds=30), None, now=NOW) == []
    explicit_end = datetime(2026, 6, 1, tzinfo=UTC)
    (window,) = finances_windows(datetime(2026, 5, 1, tzinfo=UTC), explicit_end, now=NOW)
    assert window.end == explicit_end


def test_vendor_windows_are_seven_days_and_no_older_than_six_months() -> None:
    windows = vendor_windows(datetime(2025, 1, 1, tzinfo=UTC), None, now=NOW)
    assert windows[0].start == NOW - timedelta(days=180)
    assert windows[-1].end == NOW
    assert all(w.end - w.start <= VENDOR_MAX_WINDOW for w in windows)
    assert vendor_windows(NOW - timedelta(days=400), NOW - timedelta(days=300), now=NOW) == []


def test_iso_z_and_naive_datetimes() -> None:
    assert iso_z(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"
    assert iso_z(datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)) == "2026-01-02T03:04:05.678Z"
    assert as_utc(datetime(2026, 1, 2)) == datetime(2026, 1, 2, tzinfo=UTC)
    plus_two = datetime.fromisoformat("2026-01-02T05:00:00+02:00")
    assert iso_z(plus_two) == "2026-01-02T03:00:00Z"


@given(
    start=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2026, 1, 1)),
    length=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2000)),
    width=st.integers(min_value=1, max_value=400),
)
def test_split_windows_cover_the_range_exactly(start: datetime, length: timedelta, width: int) -> None:
    windows = split_windows(start, start + length, timedelta(days=width))
    if length == timedelta(0):
        assert windows == []
        return
    assert windows[0].start == as_utc(start) and windows[-1].end == as_utc(start + length)
    assert all(a.end == b.start for a, b in pairwise(windows))
    assert all(timedelta(0) < w.end - w.start <= timedelta(days=width) for w in windows)
