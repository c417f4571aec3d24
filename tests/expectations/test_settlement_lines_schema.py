"""The blocking lake-schema suite passes on parsed lines and fails on each way the lake could go wrong."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from expectations import settlement_lines_schema
from expectations.runner import validate_dataframe
from transforms.settlement import parse_settlement


@pytest.fixture(scope="module")
def lines(shared_fixtures: Path) -> pd.DataFrame:
    sample = shared_fixtures / "settlement-samples" / "xieyi138_US_v2_synthetic_settlement-sample.txt"
    # parse_settlement writes nothing, so it has no archive hash; landed lines always carry one.
    return parse_settlement(sample).lines.to_pandas().assign(raw_sha256="0" * 64)


def _failed(frame: pd.DataFrame) -> set[str]:
    outcome = validate_dataframe(settlement_lines_schema.build_suite(), frame)
    return {f.expectation for f in outcome.failures}


def test_parsed_lines_pass(lines: pd.DataFrame) -> None:
    assert _failed(lines) == set()


def test_a_missing_contract_column_fails(lines: pd.DataFrame) -> None:
    assert "expect_table_columns_to_match_set" in _failed(lines.drop(columns=["raw_sha256"]))


def test_float_amounts_fail(lines: pd.DataFrame) -> None:
    assert "expect_column_values_to_be_of_type" in _failed(lines.assign(amount=lines["amount"].astype(float)))


def test_unknown_layout_and_duplicate_keys_fail(lines: pd.DataFrame) -> None:
    assert "expect_column_values_to_be_in_set" in _failed(lines.assign(source_layout="xml"))
    doubled = pd.concat([lines, lines.head(1)], ignore_index=True)
    assert "expect_compound_columns_to_be_unique" in _failed(doubled)
