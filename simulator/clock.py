"""The simulator's clock: simulated time runs `time_scale` times faster than real time and can be moved ahead.

Everything time-dependent in the simulator (access-token expiry, pre-signed URL expiry, rate-limit refill,
what the ledger shows) reads this one clock, so a test can jump an hour ahead instead of waiting for it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

START_VARIABLE = "ACORN_SIMULATOR_START"


def start_override(environ: Mapping[str, str] | None = None) -> datetime | None:
    """ACORN_SIMULATOR_START (an ISO 8601 date or time; UTC unless it has an offset), or None when unset.

    One variable moves every simulator (the demo's and the tests') to another day, so a failure seen on one date
    can be replayed on any other, and the date sweep can run the whole suite at month ends and DST changes."""
    environ = os.environ if environ is None else environ
    text = environ.get(START_VARIABLE, "").strip()
    if not text:
        return None
    try:
        start = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise ValueError(
            f"{START_VARIABLE}={text!r} is not an ISO 8601 date or time (e.g. 2027-02-28)"
        ) from error
    return start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)


def default_start(environ: Mapping[str, str] | None = None) -> datetime:
    """Where a simulator's clock starts when none is given: ACORN_SIMULATOR_START, else the wall clock."""
    override = start_override(environ)
    return override if override is not None else datetime.now(UTC)


class SimClock:
    """Simulated now = start + (real elapsed seconds × time_scale) + offset (moved by :meth:`advance`)."""

    def __init__(
        self, *, start: datetime | None = None, time_scale: float = 1.0, freeze_data: bool = True
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        start = start or default_start()
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._start = start.astimezone(UTC)
        self._started_monotonic = time.monotonic()
        self._offset = timedelta(0)
        self._lock = threading.Lock()
        self.time_scale = time_scale
        # A long-running standalone simulator lets its data move with time; a run or a test keeps it still.
        self.freeze_data = freeze_data

    def now(self) -> datetime:
        """The simulated current time (UTC-aware)."""
        elapsed = (time.monotonic() - self._started_monotonic) * self.time_scale
        with self._lock:
            offset = self._offset
        return self._start + timedelta(seconds=elapsed) + offset

    def data_now(self) -> datetime:
        """The instant the business data is shown as of: start + what :meth:`advance` added. Real time does not
        move it, so one run sees one consistent state of the ledger (two runs of a demo on the same start see the
        same data, however long throttling makes either take), while token expiry, URL expiry and rate limits
        follow :meth:`now` and :meth:`seconds`."""
        if not self.freeze_data:
            return self.now()
        with self._lock:
            offset = self._offset
        return self._start + offset

    def seconds(self) -> float:
        """Simulated seconds since the clock started (monotonic; what rate limits measure)."""
        return (self.now() - self._start).total_seconds()

    def advance(self, delta: timedelta) -> None:
        """Move simulated time forward (never backward: expiry and rate limits assume it only grows)."""
        if delta < timedelta(0):
            raise ValueError("the simulated clock only moves forward")
        with self._lock:
            self._offset += delta
