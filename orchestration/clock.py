"""Which "now" a finance run uses: Amazon's. Against the bundled simulator that is the simulator's clock.

The simulator runs its clock faster than real time (the demo's time_scale) and tests move it ahead; what it
shows (transactions, their status, the DEFERRED balance) is as of its own now. Reading transactions up to the
wall clock while listBalances answers as of the simulator's now would leave the newest deferred money out of
the schedule, so the run aligns the client's `now` (which ends its posted-date windows) with the simulator's.
"""

from __future__ import annotations

from datetime import datetime

from spapi.client import SpApiClient


def amazon_now(client: SpApiClient) -> datetime:
    """The run's as-of time: the clock of the client the run lands with (`SpApiResource.client()` gives its
    clients the resource's now), so the as-of time and the client's posted-date windows cannot disagree."""
    return client.options.now()
