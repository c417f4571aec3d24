"""Robust statistics for the anomaly suites: median, MAD and the modified z-score of Iglewicz and Hoaglin.

z = 0.6745 · (x − median) / MAD. The MAD ignores the outliers it is looking for, where a standard deviation
would be inflated by them. Scores are statistics, so floats are fine here; money itself stays Decimal.
A MAD of zero (identical history) would make every difference infinite, so callers pass a floor: the smallest
spread they consider meaningful.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# 0.6745 is the 0.75 quantile of the standard normal: it makes the MAD comparable to a standard deviation.
CONSISTENCY = 0.6745
# Iglewicz & Hoaglin's recommended cut-off for |modified z|.
DEFAULT_THRESHOLD = 3.5


@dataclass(frozen=True)
class RobustScore:
    value: float
    median: float
    mad: float  # the MAD actually used (after the floor)
    z: float


def median_absolute_deviation(values: Sequence[float]) -> float:
    centre = statistics.median(values)
    return statistics.median(abs(v - centre) for v in values)


def robust_score(value: float, history: Sequence[float], *, mad_floor: float) -> RobustScore:
    """The modified z-score of `value` against `history` (which must not be empty)."""
    centre = statistics.median(history)
    mad = max(median_absolute_deviation(history), mad_floor)
    return RobustScore(value=value, median=centre, mad=mad, z=CONSISTENCY * (value - centre) / mad)


def peer_scores(
    values: Sequence[float | None], *, mad_floor: float, min_peers: int
) -> list[RobustScore | None]:
    """Each value scored against the others (leave-one-out); None with fewer than `min_peers` others."""
    scores: list[RobustScore | None] = []
    for index, value in enumerate(values):
        peers = [v for i, v in enumerate(values) if i != index and v is not None]
        if value is None or len(peers) < min_peers:
            scores.append(None)
        else:
            scores.append(robust_score(value, peers, mad_floor=mad_floor))
    return scores
