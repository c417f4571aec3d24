"""The blocking `settlement_lines_schema` check reads the lake in DuckDB and hands GX a bounded frame: it still
fails on every way the lake's lines can break the suite, wherever the bad rows sit, and it reads a file again
whenever the file changed or a new file shares its settlement."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from expectations.settlement_lines_scan import EXAMPLES_PER_RULE, SAMPLE_ROWS
from orchestration.quality.checks import settlement_lines_schema_check
from orchestration.resources import DataDirResource
from orchestration.verdict import evaluate
from transforms.settlement import parse_settlement


@pytest.fixture(scope="module")
def parsed(shared_fixtures: Path) -> pa.Table:
    sample = shared_fixtures / "settlement-samples" / "xieyi138_US_v2_synthetic_settlement-sample.txt"
    lines = parse_settlement(sample).lines
    position = lines.schema.get_field_index("raw_sha256")
    return lines.set_column(position, "raw_sha256", pa.array(["0" * 64] * lines.num_rows, pa.string()))


def _with_id(table: pa.Table, settlement_id: str) -> pa.Table:
    position = table.schema.get_field_index("settlement_id")
    return table.set_column(
        position, "settlement_id", pa.array([settlement_id] * table.num_rows, pa.string())
    )


def _many(table: pa.Table, rows: int) -> pa.Table:
    """`table`'s rows repeated to `rows` lines, numbered 1..rows (more lines than GX is ever handed)."""
    repeated = pa.concat_tables([table] * (rows // table.num_rows + 1)).slice(0, rows)
    numbers = pa.array(range(1, rows + 1), pa.int64())
    return repeated.set_column(repeated.schema.get_field_index("line_number"), "line_number", numbers)


def _land(data_dir: Path, settlement_id: str, table: pa.Table, folder: str | None = None) -> Path:
    target = (
        data_dir / "lake" / "settlement_lines" / f"settlement_id={folder or settlement_id}" / "part-0.parquet"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name("new.tmp")
    pq.write_table(table, scratch)
    scratch.replace(target)  # a new file (new inode), as every publish is
    return target


def _check(data_dir: Path) -> tuple[dg.AssetCheckResult, set[str]]:
    result = evaluate(settlement_lines_schema_check, data=DataDirResource(data_dir=str(data_dir)))
    failures = result.metadata.get("failures")
    names = {item["expectation"] for item in failures.data} if failures is not None else set()  # type: ignore[union-attr]
    return result, names


def _value(result: dg.AssetCheckResult, key: str) -> object:
    value = result.metadata[key]
    return getattr(value, "value", value)


def test_clean_lake_passes_and_is_not_read_twice(tmp_path: Path, parsed: pa.Table) -> None:
    _land(tmp_path, "S1", _with_id(parsed, "S1"))
    _land(tmp_path, "S2", _with_id(parsed, "S2"))
    first, failed = _check(tmp_path)
    assert first.passed and failed == set()
    assert _value(first, "rows") == 2 * parsed.num_rows
    assert _value(first, "files_checked") == 2
    again, _ = _check(tmp_path)
    assert again.passed and _value(again, "files_checked") == 0
    assert _value(again, "lines_in_lake") == 2 * parsed.num_rows
    _land(tmp_path, "S3", _with_id(parsed, "S3"))
    third, _ = _check(tmp_path)
    assert (
        third.passed and _value(third, "files_checked") == 1 and _value(third, "files_already_validated") == 2
    )


def _replaced(table: pa.Table, column: str, value: object) -> pa.Table:
    field = table.schema.field(column)
    return table.set_column(
        table.schema.get_field_index(column), field, pa.array([value] * table.num_rows, field.type)
    )


@pytest.mark.parametrize(
    ("column", "value", "expectation"),
    [
        ("source_layout", "xml", "expect_column_values_to_be_in_set"),
        ("currency", "usd", "expect_column_values_to_match_regex"),
        ("raw_sha256", None, "expect_column_values_to_not_be_null"),
        ("currency", None, "expect_column_values_to_not_be_null"),
    ],
)
def test_one_bad_line_far_past_the_sample_fails(
    tmp_path: Path, parsed: pa.Table, column: str, value: object, expectation: str
) -> None:
    rows = SAMPLE_ROWS * 3
    good = _many(_with_id(parsed, "S1"), rows)
    _land(tmp_path, "S0", _with_id(parsed, "S0"))  # validated first: the bad file arrives later
    assert _check(tmp_path)[0].passed
    _land(
        tmp_path,
        "S1",
        pa.concat_tables([good.slice(0, rows - 1), _replaced(good.slice(rows - 1, 1), column, value)]),
    )
    result, failed = _check(tmp_path)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    assert failed == {expectation}


def test_float_amounts_fail(tmp_path: Path, parsed: pa.Table) -> None:
    lines = _with_id(parsed, "S1")
    floats = lines.set_column(
        lines.schema.get_field_index("amount"), "amount", pc.cast(lines["amount"], pa.float64())
    )
    _land(tmp_path, "S1", floats)
    result, failed = _check(tmp_path)
    assert not result.passed and failed == {"expect_column_values_to_be_of_type"}


def test_a_missing_contract_column_fails(tmp_path: Path, parsed: pa.Table) -> None:
    _land(tmp_path, "S1", _with_id(parsed, "S1").drop_columns(["extra_columns"]))
    result, failed = _check(tmp_path)
    assert not result.passed and failed == {"expect_table_columns_to_match_set"}


def test_a_duplicated_key_fails_within_a_file(tmp_path: Path, parsed: pa.Table) -> None:
    rows = SAMPLE_ROWS * 3
    good = _many(_with_id(parsed, "S1"), rows)
    doubled = pa.concat_tables([good, good.slice(rows - 1, 1)])
    _land(tmp_path, "S1", doubled)
    result, failed = _check(tmp_path)
    assert not result.passed and failed == {"expect_compound_columns_to_be_unique"}


def test_a_settlement_in_two_partitions_fails_even_when_one_was_validated(
    tmp_path: Path, parsed: pa.Table
) -> None:
    _land(tmp_path, "S1", _with_id(parsed, "S1"))
    assert _check(tmp_path)[0].passed
    _land(tmp_path, "S1", _with_id(parsed, "S1"), folder="S1-copy")
    result, failed = _check(tmp_path)
    assert not result.passed and "expect_compound_columns_to_be_unique" in failed
    assert _value(result, "files_checked") == 2


def test_a_validated_file_replaced_by_a_bad_one_is_read_again(tmp_path: Path, parsed: pa.Table) -> None:
    _land(tmp_path, "S1", _with_id(parsed, "S1"))
    assert _check(tmp_path)[0].passed
    spoiled = _with_id(parsed, "S1")
    spoiled = spoiled.set_column(
        spoiled.schema.get_field_index("currency"),
        "currency",
        pa.array(["US"] * spoiled.num_rows, pa.string()),
    )
    _land(tmp_path, "S1", spoiled)
    result, failed = _check(tmp_path)
    assert not result.passed and failed == {"expect_column_values_to_match_regex"}
    assert (
        _value(result, "validated_by") == "great_expectations" and _value(result, "rows_validated_by_gx") > 0
    )
    # A failed file is never remembered: the next check fails again.
    assert not _check(tmp_path)[0].passed


def test_gx_is_handed_a_bounded_frame(tmp_path: Path, parsed: pa.Table) -> None:
    _land(tmp_path, "S1", _many(_with_id(parsed, "S1"), SAMPLE_ROWS * 5))
    result, _ = _check(tmp_path)
    assert result.passed and _value(result, "rows") == SAMPLE_ROWS * 5
    assert _value(result, "frame_rows") <= SAMPLE_ROWS + 8 * EXAMPLES_PER_RULE
    # A clean frame is proved without GX; a broken one is GX's (test_a_validated_file_replaced_by_a_bad_one...).
    assert (
        _value(result, "validated_by") != "great_expectations" and _value(result, "rows_validated_by_gx") == 0
    )


def test_positional_line_numbers_of_one_settlement_in_two_files_collide(
    tmp_path: Path, parsed: pa.Table
) -> None:
    # As the import writes a V2 file: line numbers left NULL, implied by the row position (unique in a file).
    lines = _replaced(_with_id(parsed, "S1"), "line_number", None)
    _land(tmp_path, "S1", lines)
    assert _check(tmp_path)[0].passed
    _land(tmp_path, "S1", lines, folder="S1-again")
    result, failed = _check(tmp_path)
    assert not result.passed and failed == {"expect_compound_columns_to_be_unique"}
