"""The lines check counts its rules from the files' Parquet footers only where the footers prove the counts:
whatever a footer proves is exactly what the pass over the lines counts, and anything a footer cannot prove
(missing or inexact statistics, two values in a column, a column the file lacks) is read from the lines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from expectations.settlement_lines_scan import (
    _Footers,
    _per_file,
    _rules,
    _settlement_ids,
    lines_view,
)
from transforms.settlement import parse_settlement


@pytest.fixture(scope="module")
def parsed(shared_fixtures: Path) -> pa.Table:
    sample = shared_fixtures / "settlement-samples" / "xieyi138_US_v2_synthetic_settlement-sample.txt"
    lines = parse_settlement(sample).lines
    rows = 600  # several row groups of 100 rows below
    lines = pa.concat_tables([lines] * (rows // lines.num_rows + 1)).slice(0, rows)
    return _set(lines, "raw_sha256", ["0" * 64] * rows)


def _set(table: pa.Table, column: str, values: list) -> pa.Table:
    field = table.schema.field(column)
    return table.set_column(table.schema.get_field_index(column), field, pa.array(values, field.type))


def _at(table: pa.Table, column: str, where: Callable[[int], bool], value: object) -> pa.Table:
    old = table.column(column).to_pylist()
    return _set(table, column, [value if where(i) else v for i, v in enumerate(old)])


def _write_duckdb(table: pa.Table, target: Path) -> None:
    with duckdb.connect() as connection:
        connection.register("t", table)
        connection.execute(f"copy t to '{target}' (format parquet, compression zstd, row_group_size 100)")


def _write_arrow(table: pa.Table, target: Path, **options: object) -> None:
    pq.write_table(table, target, row_group_size=100, **options)  # type: ignore[arg-type]


def _variants(parsed: pa.Table) -> dict[str, tuple[pa.Table, bool]]:
    """name -> (table, whether its footer proves every count)"""
    rows = parsed.num_rows
    positional = _set(parsed, "line_number", [None] * rows)
    return {
        "clean": (parsed, True),
        "positional line numbers": (positional, True),
        "some line numbers stored": (_at(positional, "line_number", lambda i: i > 450, 7), True),
        "a NULL currency far past the start": (_at(parsed, "currency", lambda i: i == 555, None), True),
        "every currency NULL": (_set(parsed, "currency", [None] * rows), True),
        "a bad currency everywhere": (_set(parsed, "currency", ["usd"] * rows), True),
        "a bad currency on one line": (_at(parsed, "currency", lambda i: i == 555, "usd"), False),
        "two currencies in one row group": (_at(parsed, "currency", lambda i: i == 42, "EUR"), False),
        "another layout in one row group": (_at(parsed, "source_layout", lambda i: i == 300, "xml"), False),
        "a NULL raw_sha256": (_at(parsed, "raw_sha256", lambda i: i == 599, None), True),
        "a NULL amount": (_at(parsed, "amount", lambda i: i == 1, None), True),
        "two settlement ids": (_at(parsed, "settlement_id", lambda i: i == 333, "S2"), False),
        "a NULL settlement id": (_at(parsed, "settlement_id", lambda i: i == 333, None), True),
        "no currency column (so no currency rule)": (parsed.drop_columns(["currency"]), True),
    }


def _counts(connection: duckdb.DuckDBPyConnection, files: list[str], footers: _Footers | None) -> tuple:
    rules = _rules(lines_view(connection, files))
    return _settlement_ids(connection, files, footers), _per_file(connection, rules, files, footers)


@pytest.mark.parametrize("writer", ["duckdb", "arrow", "arrow without statistics"])
def test_footers_prove_only_what_the_lines_count(tmp_path: Path, parsed: pa.Table, writer: str) -> None:
    for name, (table, provable) in _variants(parsed).items():
        target = tmp_path / f"{name}.{writer}.parquet"
        if writer == "duckdb":
            _write_duckdb(table, target)
        else:
            _write_arrow(table, target, write_statistics=writer == "arrow")
        files = [str(target)]
        with duckdb.connect() as connection:
            read = _counts(connection, files, None)
            footers = _Footers(connection)
            assert _counts(connection, files, footers) == read, name
            columns = {
                n: str(k)
                for n, k in connection.execute(
                    "select column_name, column_type from (describe lines)"
                ).fetchall()
            }
            proved = footers.settlement_ids(files), footers.per_file(files, _rules(columns))
        if writer == "arrow without statistics":
            assert proved == (None, None), name
        elif provable:
            assert proved == read, name
        else:
            assert None in proved, name


def test_one_unproved_file_sends_every_file_to_the_lines(tmp_path: Path, parsed: pa.Table) -> None:
    clean, unproved = tmp_path / "clean.parquet", tmp_path / "unproved.parquet"
    _write_duckdb(parsed, clean)
    _write_arrow(parsed, unproved, write_statistics=False)
    files = [str(clean), str(unproved)]
    with duckdb.connect() as connection:
        footers = _Footers(connection)
        assert footers.settlement_ids([str(clean)]) is not None
        assert footers.settlement_ids(files) is None
        assert _counts(connection, files, footers) == _counts(connection, files, None)


def test_a_file_without_a_rule_column_beside_one_with_it_is_read(tmp_path: Path, parsed: pa.Table) -> None:
    """The lines view fills the column the second file lacks with NULLs: counted from its lines."""
    clean, without = tmp_path / "clean.parquet", tmp_path / "without.parquet"
    _write_duckdb(parsed, clean)
    _write_duckdb(parsed.drop_columns(["currency"]), without)
    files = [str(clean), str(without)]
    with duckdb.connect() as connection:
        read = _counts(connection, files, None)
        footers = _Footers(connection)
        assert _counts(connection, files, footers) == read
        assert read[1][str(without)]["null currency"] == parsed.num_rows
        columns = {
            n: str(k)
            for n, k in connection.execute("select column_name, column_type from (describe lines)").fetchall()
        }
        assert footers.per_file(files, _rules(columns)) is None
