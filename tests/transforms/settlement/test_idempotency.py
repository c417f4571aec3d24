"""Importing is idempotent: same bytes are a duplicate; a re-issued settlement replaces the older one."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from transforms.archive import RawArchive
from transforms.settlement import import_settlement_file


def snapshot(lake: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p.relative_to(lake)): (p.stat().st_mtime_ns, p.read_bytes()) for p in lake.rglob("*.parquet")}


def lake_rows(lake: Path, dataset: str) -> list[dict]:
    files = sorted((lake / dataset).glob("*/*.parquet"))
    return [row for f in files for row in pq.read_table(f).to_pylist()]


def test_same_bytes_twice_is_a_duplicate_and_changes_nothing(v2, write_file, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    path = write_file(v2.render([v2.line("1.00"), v2.line("2.00")], total="3.00"))
    first = import_settlement_file(path, data_dir=data_dir)
    before = snapshot(data_dir / "lake")
    manifest_before = (data_dir / "raw/manifest.jsonl").read_bytes()
    second = import_settlement_file(path, data_dir=data_dir, display_name="again.txt")
    assert (first.status, second.status) == ("imported", "duplicate")
    assert second.settlement_id == v2.settlement_id and second.rows == 0
    assert snapshot(data_dir / "lake") == before
    assert (data_dir / "raw/manifest.jsonl").read_bytes() == manifest_before


def test_same_bytes_under_another_name_are_still_a_duplicate(v2, write_file, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    text = v2.render([v2.line("1.00")], total="1.00")
    assert import_settlement_file(write_file(text, name="a.txt"), data_dir=data_dir).status == "imported"
    assert import_settlement_file(write_file(text, name="b.txt"), data_dir=data_dir).status == "duplicate"
    assert len(lake_rows(data_dir / "lake", "settlement_lines")) == 1


def test_reissued_settlement_replaces_the_older_document(v2, write_file, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    lake = data_dir / "lake"
    old = write_file(v2.render([v2.line("1.00"), v2.line("2.00")], total="3.50"), name="old.txt")
    new = write_file(v2.render([v2.line("1.00"), v2.line("2.50")], total="3.50"), name="new.txt")
    first = import_settlement_file(
        old, data_dir=data_dir, document_created_at=datetime(2026, 7, 1, tzinfo=UTC)
    )
    second = import_settlement_file(
        new, data_dir=data_dir, document_created_at=datetime(2026, 7, 9, tzinfo=UTC)
    )
    assert (first.status, second.status) == ("imported", "imported")
    assert "replaces old.txt" in second.message
    lines = lake_rows(lake, "settlement_lines")
    assert [r["amount"] for r in lines] == [Decimal("1.00"), Decimal("2.50")]  # never both versions
    [summary] = lake_rows(lake, "settlements")
    assert summary["raw_sha256"] == second.sha256 and summary["lines_total"] == Decimal("3.50")
    log = [json.loads(line) for line in (lake / "settlement_versions.jsonl").read_text().splitlines()]
    superseded = [r for r in log if r["event"] == "superseded"]
    assert [(r["raw_sha256"], r["superseded_by"]) for r in superseded] == [(first.sha256, second.sha256)]
    # The superseded bytes stay in the raw archive.
    assert RawArchive(data_dir / "raw").path_for(str(first.sha256)).read_bytes() == old.read_bytes()


def test_an_older_document_arriving_later_does_not_replace_the_newer(v2, write_file, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    newer = write_file(v2.render([v2.line("5.00")], total="5.00"), name="newer.txt")
    older = write_file(v2.render([v2.line("4.00")], total="4.00"), name="older.txt")
    import_settlement_file(newer, data_dir=data_dir, document_created_at=datetime(2026, 7, 9, tzinfo=UTC))
    late = import_settlement_file(
        older, data_dir=data_dir, document_created_at=datetime(2026, 7, 1, tzinfo=UTC)
    )
    assert late.status == "duplicate" and "keeps the newer" in late.message
    assert [r["amount"] for r in lake_rows(data_dir / "lake", "settlement_lines")] == [Decimal("5.00")]


def test_without_creation_times_the_later_import_wins(v2, write_file, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    import_settlement_file(write_file(v2.render([v2.line("5.00")], total="5.00")), data_dir=data_dir)
    import_settlement_file(write_file(v2.render([v2.line("4.00")], total="4.00")), data_dir=data_dir)
    assert [r["amount"] for r in lake_rows(data_dir / "lake", "settlement_lines")] == [Decimal("4.00")]


def test_quarantined_bytes_again_stay_quarantined_once(v2, write_file, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    path = write_file(v2.render([v2.line("x")], total="1.00"))
    first = import_settlement_file(path, data_dir=data_dir)
    second = import_settlement_file(path, data_dir=data_dir)
    assert (first.status, second.status) == ("quarantined", "quarantined")
    assert len(list((data_dir / "quarantine").glob("*.json"))) == 1


def test_lake_tables_read_back_through_duckdb(v2, write_file, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    import_settlement_file(write_file(v2.render([v2.line("1.00")], total="1.00")), data_dir=data_dir)
    pattern = str(data_dir / "lake/settlement_lines/*/*.parquet")
    with duckdb.connect() as connection:
        types = dict(
            connection.execute(f"describe select * from read_parquet('{pattern}')").fetchall()[i][:2]
            for i in range(26)
        )
    assert types["amount"] == "DECIMAL(18,2)"
    assert types["posted_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["posted_date"] == "DATE" and types["quantity"] == "INTEGER"
    assert not list((data_dir / "lake").rglob(".tmp-*"))  # no staging leftovers


def test_a_file_changed_while_it_is_imported_lands_as_archived(
    v2, write_file, tmp_path: Path, monkeypatch
) -> None:
    # The import parses the archive's copy of the bytes, not the file: a file rewritten once it was copied
    # (a download still being written, a user saving over it) lands exactly as archived, under that hash.
    data_dir = tmp_path / "data"
    first = v2.render([v2.line("1.00"), v2.line("2.00")], total="3.00").encode()
    path = write_file(first)
    stage_file = RawArchive.stage_file

    def stage_then_rewrite(self, src, **kwargs):
        staged = stage_file(self, src, **kwargs)
        src.write_bytes(v2.render([v2.line("9.00")], total="9.00").encode())
        return staged

    monkeypatch.setattr(RawArchive, "stage_file", stage_then_rewrite)
    outcome = import_settlement_file(path, data_dir=data_dir)

    archived_sha = hashlib.sha256(first).hexdigest()
    assert outcome.status == "imported" and outcome.sha256 == archived_sha
    lines = lake_rows(data_dir / "lake", "settlement_lines")
    assert [row["amount"] for row in lines] == [Decimal("1.00"), Decimal("2.00")]
    assert {row["raw_sha256"] for row in lines} == {archived_sha}
    archive = RawArchive(data_dir / "raw")
    assert [row["sha256"] for row in archive.manifest()] == [archived_sha]
    assert archive.path_for(archived_sha).read_bytes() == first
    assert not list((data_dir / "raw" / "objects").glob(".tmp-*")), "a staged copy was left behind"
    assert not list((data_dir / "lake" / "settlement_lines").glob(".tmp-*")), "a staged parse was left behind"
