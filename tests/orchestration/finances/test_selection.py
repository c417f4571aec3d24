"""The incremental rules: which v0 groups a run re-reads, and where its transaction window starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orchestration.finances.selection import KnownGroup, groups_to_read, transactions_start

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _group(group_id: str, status: str | None, ended_days_ago: float | None) -> KnownGroup:
    ended = None if ended_days_ago is None else NOW - timedelta(days=ended_days_ago)
    return KnownGroup(group_id, status, ended)


def test_new_open_recent_and_changed_groups_are_read_old_closed_ones_are_not() -> None:
    listed = [
        _group("new-closed-old", "Closed", 90),
        _group("open", "Open", None),
        _group("recent", "Closed", 5),
        _group("old", "Closed", 60),
        _group("just-closed", "Closed", 30),
    ]
    landed = {
        "open": _group("open", "Open", None),
        "recent": _group("recent", "Closed", 5),
        "old": _group("old", "Closed", 60),
        "just-closed": _group("just-closed", "Open", None),
    }
    chosen = groups_to_read(listed, landed, now=NOW, lookback_days=14)
    assert chosen == ["just-closed", "new-closed-old", "open", "recent"]


def test_lookback_boundary_is_inclusive_and_order_is_stable() -> None:
    listed = [_group("b", "Closed", 14), _group("a", "Closed", 14.01)]
    landed = {g.financial_event_group_id: g for g in listed}
    assert groups_to_read(listed, landed, now=NOW, lookback_days=14) == ["b"]
    assert groups_to_read(list(reversed(listed)), landed, now=NOW, lookback_days=15) == ["a", "b"]


def test_first_run_reads_the_history() -> None:
    start = transactions_start(
        newest_posted_at=None, oldest_deferred_posted_at=None, now=NOW, lookback_days=14, history_days=180
    )
    assert start == NOW - timedelta(days=180)


def test_later_runs_start_a_lookback_before_the_newest_transaction() -> None:
    newest = NOW - timedelta(days=1)
    start = transactions_start(
        newest_posted_at=newest, oldest_deferred_posted_at=None, now=NOW, lookback_days=14, history_days=180
    )
    assert start == newest - timedelta(days=14)


def test_an_old_deferred_transaction_pulls_the_window_back_to_its_posted_date() -> None:
    deferred = NOW - timedelta(days=40)
    start = transactions_start(
        newest_posted_at=NOW - timedelta(days=1),
        oldest_deferred_posted_at=deferred,
        now=NOW,
        lookback_days=14,
        history_days=180,
    )
    assert start == deferred


def test_a_quiet_account_still_rereads_the_recent_past() -> None:
    start = transactions_start(
        newest_posted_at=NOW - timedelta(days=2),
        oldest_deferred_posted_at=None,
        now=NOW + timedelta(days=60),
        lookback_days=14,
        history_days=180,
    )
    assert start == NOW - timedelta(days=16)
