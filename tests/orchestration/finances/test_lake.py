"""The lake writer: sorted, identical bytes for equal rows, atomic replacement, untouched when unchanged."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from lake.partitions import (
    PART_FILE,
    drop_unchanged,
    partition_name,
    partitions,
    read_partition,
    write_partition,
)

SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string()),
        pa.field("transaction_id", pa.string()),
        pa.field("amount", pa.decimal128(18, 2)),
        pa.field("source_sha256", pa.string()),
    ]
)


def _table(rows: list[tuple[str, str, str, str]]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {"account_id": a, "transaction_id": t, "amount": Decimal(m), "source_sha256": s}
            for a, t, m, s in rows
        ],
        schema=SCHEMA,
    )


def test_partition_names_are_readable_and_cannot_escape_the_dataset() -> None:
    assert partition_name(account_id="demo-na", group="AbC_1") == "account_id=demo-na,group=AbC_1"
    assert partition_name(account_id="../x y") == "account_id=..%2Fx%20y"
    assert "/" not in partition_name(group="a/b/../../c")


def test_equal_rows_in_any_order_give_identical_bytes_and_no_rewrite(tmp_path: Path) -> None:
    rows = [("a", "t2", "1.10", "s"), ("a", "t1", "-0.30", "s"), ("a", "t3", "0.20", "s")]
    first = write_partition(tmp_path, "ds", "p", _table(rows), sort_keys=("account_id", "transaction_id"))
    path = tmp_path / "ds" / "p" / PART_FILE
    before = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    second = write_partition(
        tmp_path, "ds", "p", _table(list(reversed(rows))), sort_keys=("account_id", "transaction_id")
    )
    assert first.changed and not second.changed
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime
    stored = pq.read_table(path)
    assert stored["transaction_id"].to_pylist() == ["t1", "t2", "t3"]
    assert stored["amount"].to_pylist() == [Decimal("-0.30"), Decimal("1.10"), Decimal("0.20")]
    assert stored.schema.field("amount").type == pa.decimal128(18, 2)


def test_a_changed_partition_is_replaced_and_no_scratch_file_is_left(tmp_path: Path) -> None:
    write_partition(tmp_path, "ds", "p", _table([("a", "t1", "1.00", "s")]))
    written = write_partition(tmp_path, "ds", "p", _table([("a", "t1", "2.00", "s")]))
    assert written.changed
    table = read_partition(tmp_path, "ds", "p", SCHEMA)
    assert table is not None and table["amount"].to_pylist() == [Decimal("2.00")]
    assert sorted(p.name for p in (tmp_path / "ds" / "p").iterdir()) == [PART_FILE]


def test_an_empty_table_removes_the_partition(tmp_path: Path) -> None:
    write_partition(tmp_path, "ds", "p", _table([("a", "t1", "1.00", "s")]))
    assert partitions(tmp_path, "ds") == ["p"]
    removed = write_partition(tmp_path, "ds", "p", SCHEMA.empty_table())
    assert removed.changed and partitions(tmp_path, "ds") == []
    assert read_partition(tmp_path, "ds", "p", SCHEMA) is None


def test_drop_unchanged_keeps_only_entities_that_differ_beyond_their_page() -> None:
    stored = _table(
        [("a", "t1", "1.00", "page-1"), ("a", "t2", "2.00", "page-1"), ("a", "t2", "0.50", "page-1")]
    )
    reread = _table(
        [
            ("a", "t1", "1.00", "page-9"),  # same money, other page: unchanged
            ("a", "t2", "2.00", "page-9"),  # one of t2's two rows is gone: changed
            ("a", "t4", "4.00", "page-9"),  # new
        ]
    )
    kept = drop_unchanged(stored, reread, ("account_id", "transaction_id"))
    assert kept["transaction_id"].to_pylist() == ["t2", "t4"]
    assert drop_unchanged(None, reread, ("account_id", "transaction_id")).num_rows == 3
