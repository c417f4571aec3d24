"""What a check concludes, independent of Dagster: passed or not, its severity, and the numbers behind it.

orchestration/quality turns a CheckOutcome into an AssetCheckResult; `acorn build --json` prints its metadata.
Scalars in `metadata` are the headline numbers (the CLI prints them); lists and dicts carry the detail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from expectations.runner import SuiteOutcome

Severity = Literal["WARN", "ERROR"]


@dataclass(frozen=True)
class CheckOutcome:
    check: str
    passed: bool
    severity: Severity
    metadata: dict[str, Any] = field(default_factory=dict)
    suite: SuiteOutcome | None = None


def money(value: Any) -> str | None:
    """Money for metadata: the exact decimal as text (JSON floats would round it)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return str(value if isinstance(value, Decimal) else Decimal(str(value)))


def rounded(value: float | None, places: int = 4) -> float | None:
    """A statistic (a rate, a z-score) for metadata; never used for money."""
    if value is None or value != value:
        return None
    return round(float(value), places)


def headline_first(metadata: dict[str, Any], headline: list[str]) -> dict[str, Any]:
    """`metadata` with the numbers that tripped the check first: summaries show the first few."""
    first = {key: metadata[key] for key in headline if key in metadata}
    return {**first, **{key: value for key, value in metadata.items() if key not in first}}
