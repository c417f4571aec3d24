"""The blocking lake-schema suite passes on parsed lines and fails on each way the lake could go wrong."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
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


def _variants(lines: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Frames on each side of every expectation, for comparing the proof without GX with GX itself."""
    amounts = lines["amount"].astype(object)
    return {
        "clean": lines,
        "missing column": lines.drop(columns=["raw_sha256"]),
        "extra column": lines.assign(extra="x"),
        "float amounts": lines.assign(amount=lines["amount"].astype(float)),
        "one float amount": lines.assign(amount=[float(amounts.iloc[0]), *amounts.iloc[1:]]),
        "null amount": lines.assign(amount=[None, *amounts.iloc[1:]]),
        "null settlement_id": lines.assign(settlement_id=[None, *lines["settlement_id"].iloc[1:]]),
        "unknown layout": lines.assign(source_layout="xml"),
        "lower-case currency": lines.assign(currency="usd"),
        "currency with a trailing newline": lines.assign(currency="USD\n"),
        "four-letter currency": lines.assign(currency="USDX"),
        "duplicate key": pd.concat([lines, lines.head(1)], ignore_index=True),
        "empty": lines.head(0),
    }


def _arrow(frame: pd.DataFrame) -> pa.Table | None:
    """The frame as the Arrow table it would be made from; None when Arrow cannot type a column (a column
    mixing floats and Decimals: a table read from the lake never does)."""
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def test_the_proof_without_gx_passes_only_tables_gx_passes(lines: pd.DataFrame) -> None:
    """The import's check proves a clean table on Arrow, without pandas or GX (passed_without_gx_table): every
    table it passes, GX passes too (on the frame the check would hand it), with the same expectations."""
    proved_any = False
    for name, frame in _variants(lines).items():
        table = _arrow(frame)
        if table is None:
            continue
        proved = settlement_lines_schema.passed_without_gx_table(table)
        if proved is None:
            continue
        proved_any = True
        assert proved.success and not proved.failures, name
        assert proved.validated_by != "great_expectations", name
        gx = validate_dataframe(settlement_lines_schema.build_suite(), table.to_pandas())
        assert gx.success, name
        assert sorted((o.expectation, o.column or "") for o in proved.outcomes) == sorted(
            (o.expectation, o.column or "") for o in gx.outcomes
        ), name
    assert proved_any


def test_clean_lines_need_no_gx_and_each_broken_rule_goes_to_gx(lines: pd.DataFrame) -> None:
    """Which variant the proof clears: the clean table and an extra column (GX passes both); every table that
    breaks an expectation goes to GX, and so does a currency with a trailing newline (stricter than GX)."""
    judged = {}
    for name, frame in _variants(lines).items():
        table = _arrow(frame)
        if table is not None:
            judged[name] = settlement_lines_schema.passed_without_gx_table(table) is not None
    assert judged == {
        "clean": True,
        "missing column": False,
        "extra column": True,
        "float amounts": False,
        "null amount": False,
        "null settlement_id": False,
        "unknown layout": False,
        "lower-case currency": False,
        "currency with a trailing newline": False,  # stricter than GX: GX judges it
        "four-letter currency": False,
        "duplicate key": False,
        "empty": False,
    }
    assert settlement_lines_schema.passed_without_gx_table(None) is None
    for name, frame in _variants(lines).items():
        if not judged.get(name, False) and name not in ("currency with a trailing newline", "empty"):
            assert not validate_dataframe(settlement_lines_schema.build_suite(), frame).success, name
