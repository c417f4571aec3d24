"""Suite `settlement_schema_drift`: each settlement file's header is one Amazon is known to write.

The parser matches headers by name, so a drifted file still lands, but a column Amazon added,
dropped or moved means the mapping must be reviewed before anyone trusts the numbers: ERROR, with the
columns named. A header is compared with every known variant of its layout; the closest one names what was
added, removed or moved (moved = the columns outside the longest common subsequence of the two orders).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from expectations.outcome import CheckOutcome, Severity, headline_first
from expectations.runner import new_suite, passed_without_gx, validate_dataframe
from transforms.settlement.headers import V1_HEADER, V1_HEADER_NO_PROMOTIONS, V2_HEADER

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from expectations.runner import SuiteOutcome

CHECK_NAME = "settlement_schema_drift"
SEVERITY: Severity = "ERROR"

# Lists, as the suite's callers compare and extend them.
FLAT_FILE_V2 = list(V2_HEADER)
FLAT_FILE = list(V1_HEADER)
FLAT_FILE_NO_PROMOTIONS = list(V1_HEADER_NO_PROMOTIONS)

KNOWN_HEADERS: dict[str, list[list[str]]] = {
    "flat_file_v2": [FLAT_FILE_V2],
    "flat_file": [FLAT_FILE, FLAT_FILE_NO_PROMOTIONS],
}


@dataclass(frozen=True)
class ColumnDrift:
    added: list[str]
    removed: list[str]
    moved: list[str]

    @property
    def drifted(self) -> bool:
        return bool(self.added or self.removed or self.moved)

    @property
    def size(self) -> int:
        return len(self.added) + len(self.removed) + len(self.moved)


def normalise_header(columns: Sequence[str]) -> list[str]:
    """Names as the parser matches them: BOM and padding stripped, lower case."""
    return [str(c).replace("\ufeff", "").strip().lower() for c in columns]


def column_drift(expected: Sequence[str], actual: Sequence[str]) -> ColumnDrift:
    expected_set, actual_set = set(expected), set(actual)
    added = [c for c in actual if c not in expected_set]
    removed = [c for c in expected if c not in actual_set]
    common_expected = [c for c in expected if c in actual_set]
    common_actual = [c for c in actual if c in expected_set]
    kept_in_place = set(_longest_common_subsequence(common_expected, common_actual))
    moved = [c for c in common_actual if c not in kept_in_place]
    return ColumnDrift(added=added, removed=removed, moved=moved)


def closest_drift(layout: str | None, header: Sequence[str]) -> tuple[str, ColumnDrift]:
    """The drift against the nearest known header (of the file's layout, or of any layout when unknown)."""
    layouts = [layout] if layout in KNOWN_HEADERS else list(KNOWN_HEADERS)
    candidates = [(name, column_drift(known, header)) for name in layouts for known in KNOWN_HEADERS[name]]
    return min(candidates, key=lambda candidate: candidate[1].size)


def parse_header(value: Any) -> list[str] | None:
    """`header_columns` as the lake stores it: a list, or its JSON text, or the header line itself."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.ndarray | list | tuple):
        return normalise_header([str(v) for v in value])
    text = str(value)
    if text.lstrip().startswith("["):
        return normalise_header(json.loads(text))
    return normalise_header(text.split("\t") if "\t" in text else text.split(","))


def score_settlements(settlements: pd.DataFrame) -> pd.DataFrame:
    """One row per settlement: how its header differs from the closest known header of its layout."""
    import pandas as pd

    rows = []
    for record in settlements.to_dict("records"):
        header = parse_header(record.get("header_columns"))
        if header is None:
            rows.append(
                {
                    "settlement_id": record["settlement_id"],
                    "header_known": False,
                    "compared_with": None,
                    "added": [],
                    "removed": [],
                    "moved": [],
                    "is_drifted": True,
                }
            )
            continue
        compared_with, drift = closest_drift(record.get("source_layout"), header)
        rows.append(
            {
                "settlement_id": record["settlement_id"],
                "header_known": True,
                "compared_with": compared_with,
                "added": drift.added,
                "removed": drift.removed,
                "moved": drift.moved,
                "is_drifted": drift.drifted,
            }
        )
    columns = ["settlement_id", "header_known", "compared_with", "added", "removed", "moved", "is_drifted"]
    return pd.DataFrame(rows, columns=columns)


def build_suite() -> Any:
    from expectations.gx_import import great_expectations

    gx = great_expectations()

    return new_suite(
        CHECK_NAME, [gx.expectations.ExpectColumnValuesToBeInSet(column="is_drifted", value_set=[False])]
    )


def evaluate_table(settlements: pa.Table) -> CheckOutcome:
    """`evaluate` of `settlements.to_pandas()`, with the same outcome, making the frame only when a header
    drifted (or is missing, or there is none): the usual case, every header a known one, needs no pandas
    (about 0.25 CPU s of every `acorn import` to import it). tests/expectations/test_suites.py compares both."""
    if settlements.num_rows == 0 or "header_columns" not in settlements.column_names:
        return evaluate(settlements.to_pandas())
    layouts = (
        settlements.column("source_layout").to_pylist()
        if "source_layout" in settlements.column_names
        else [None] * settlements.num_rows
    )
    for value, layout in zip(settlements.column("header_columns").to_pylist(), layouts, strict=True):
        header = parse_header(value)
        if header is None or closest_drift(layout, header)[1].drifted:
            return evaluate(settlements.to_pandas())
    return _no_drift(settlements.num_rows)


def _no_drift(settlements: int) -> CheckOutcome:
    """The outcome when every one of `settlements` (at least one) has a known header."""
    suite = _proved_no_drift(settlements)
    metadata = {
        "settlements": settlements,
        "drifted_settlements": 0,
        "columns_added": 0,
        "columns_removed": 0,
        "columns_moved": 0,
    }
    return CheckOutcome(CHECK_NAME, suite.success, SEVERITY, _headline(metadata), suite)


def _proved_no_drift(settlements: int) -> SuiteOutcome:
    """The suite's passing outcome when none of `settlements` (at least one) drifted: its one expectation
    (is_drifted in {False}) holds without GX."""
    return passed_without_gx(
        CHECK_NAME,
        [("expect_column_values_to_be_in_set", "is_drifted")],
        settlements,
        "pandas (no settlement drifted; GX judges any drift)",
    )


def _headline(metadata: dict[str, Any]) -> dict[str, Any]:
    return headline_first(
        metadata,
        [
            "first_drifted_settlement",
            "added_columns",
            "removed_columns",
            "moved_columns",
            "drifted_settlements",
        ],
    )


def evaluate(settlements: pd.DataFrame) -> CheckOutcome:
    """`settlements`: the lake's settlements (settlement_id, source_layout, header_columns, account_id)."""
    import pandas as pd

    if "header_columns" not in settlements.columns:
        return CheckOutcome(
            CHECK_NAME,
            False,
            SEVERITY,
            {
                "settlements": len(settlements),
                "note": "the lake's settlements have no header_columns: cannot compare headers",
            },
        )
    scored = score_settlements(settlements)
    judged = scored.astype({"is_drifted": bool})
    # No settlement drifted: the suite's one expectation (is_drifted in {False}) holds; GX judges the rest.
    suite = (
        _proved_no_drift(len(judged))
        if len(judged) and not judged["is_drifted"].any()
        else validate_dataframe(build_suite(), judged)
    )
    drifted = scored[scored["is_drifted"]]
    accounts = settlements.set_index("settlement_id").get("account_id", pd.Series(dtype=object))
    metadata: dict[str, Any] = {
        "settlements": len(scored),
        "drifted_settlements": len(drifted),
        "columns_added": sum(len(v) for v in drifted["added"]),
        "columns_removed": sum(len(v) for v in drifted["removed"]),
        "columns_moved": sum(len(v) for v in drifted["moved"]),
    }
    if len(drifted):
        first = drifted.iloc[0]
        metadata["first_drifted_settlement"] = str(first["settlement_id"])
        metadata["added_columns"] = ",".join(first["added"]) or "-"
        metadata["removed_columns"] = ",".join(first["removed"]) or "-"
        metadata["moved_columns"] = ",".join(first["moved"]) or "-"
        metadata["drift"] = [
            {
                "settlement_id": str(r["settlement_id"]),
                "account_id": _plain(accounts.get(r["settlement_id"])),
                "compared_with": r["compared_with"],
                "added": r["added"],
                "removed": r["removed"],
                "moved": r["moved"],
                "header_known": r["header_known"],
            }
            for r in drifted.to_dict("records")
        ]
    return CheckOutcome(CHECK_NAME, suite.success, SEVERITY, _headline(metadata), suite)


def _plain(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def _longest_common_subsequence(first: Sequence[str], second: Sequence[str]) -> list[str]:
    lengths = [[0] * (len(second) + 1) for _ in range(len(first) + 1)]
    for i, a in enumerate(first):
        for j, b in enumerate(second):
            lengths[i + 1][j + 1] = lengths[i][j] + 1 if a == b else max(lengths[i][j + 1], lengths[i + 1][j])
    out: list[str] = []
    i, j = len(first), len(second)
    while i and j:
        if first[i - 1] == second[j - 1]:
            out.append(first[i - 1])
            i, j = i - 1, j - 1
        elif lengths[i - 1][j] >= lengths[i][j - 1]:
            i -= 1
        else:
            j -= 1
    return out[::-1]
