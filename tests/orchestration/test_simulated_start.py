"""The demo's simulated business day: today's 00:00 UTC, or the day ACORN_SIMULATOR_START names."""

from __future__ import annotations

from datetime import UTC, datetime

from orchestration.resources import simulated_start


def test_the_default_is_todays_midnight_utc() -> None:
    def midnight() -> datetime:
        return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)

    before = midnight()
    start = simulated_start({})
    assert start in {before, midnight()}  # (a run straddling midnight may see either day)


def test_a_date_or_a_time_with_an_offset_is_read_as_utc() -> None:
    assert simulated_start({"ACORN_SIMULATOR_START": "2026-12-01"}) == datetime(2026, 12, 1, tzinfo=UTC)
    assert simulated_start({"ACORN_SIMULATOR_START": "2027-01-01T05:00:00+02:00"}) == datetime(
        2027, 1, 1, 3, tzinfo=UTC
    )
    assert simulated_start({"ACORN_SIMULATOR_START": "2027-01-01T05:00:00Z"}) == datetime(
        2027, 1, 1, 5, tzinfo=UTC
    )
