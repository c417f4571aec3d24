"""Readers see only published lake files; leftovers of interrupted runs are found, finished or removed, and
never while another writer is active (lake/layout.py, transforms/recovery.py)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from lake.layout import published_files, published_pattern, staging_root, writing
from transforms.recovery import find_leftovers, recover
from transforms.settlement import import_settlement_file
from transforms.settlement import lake as settlement_lake


def _parquet(path: Path, value: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"value": [value]}), path)
    return path


def test_readers_see_only_published_partitions(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    published = _parquet(lake / "ds" / "p=1" / "part-0.parquet", "published")
    _parquet(lake / "ds" / ".tmp-abc" / "part-0.parquet", "staged by an older version")
    (lake / "ds" / ".tmp-def").mkdir()
    (lake / "ds" / ".tmp-def" / "part-0.parquet").write_bytes(b"PAR1 half written")
    _parquet(lake / "ds" / "_empty" / "part-0.parquet", "helper")
    _parquet(lake / "ds" / "p=1" / ".part-0.parquet", "hidden")
    assert published_files(lake, "ds") == [published]
    with duckdb.connect() as connection:
        rows = connection.execute(
            f"select value from read_parquet('{published_pattern(lake, 'ds')}')"
        ).fetchall()
    assert rows == [("published",)]


def test_leftovers_are_reported_and_removed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    staged = staging_root(data) / "settlement-0123"
    _parquet(staged / "settlement_lines.parquet")
    (data / "raw" / "objects" / "ab").mkdir(parents=True)
    (data / "raw" / "objects" / ".tmp-1").write_bytes(b"half a copy")
    (data / "raw" / "objects" / "ab" / ".tmp-2").write_bytes(b"half a page")
    (data / "tmp").mkdir()
    (data / "tmp" / "download.part").write_bytes(b"12345")
    (data / ".settlement-x").mkdir()
    _parquet(data / "lake" / "settlement_lines" / ".tmp-old" / "part-0.parquet")
    kept = _parquet(data / "lake" / "settlement_lines" / "settlement_id=1" / "part-0.parquet")

    found = find_leftovers(data)
    assert len(found) == 6
    assert all(item.size >= 0 for item in found)
    assert any(
        "staging/settlement-0123" in item.describe(data) and "never published" in item.what for item in found
    )

    recovery = recover(data)
    assert len(recovery.removed) == 6 and not recovery.finished and not recovery.skipped
    assert all(line.startswith("recovered: removed ") for line in recovery.lines())
    assert find_leftovers(data) == []
    assert kept.exists() and (data / "raw" / "objects" / "ab").is_dir()


def test_no_clean_up_while_another_writer_is_staging(tmp_path: Path) -> None:
    data = tmp_path / "data"
    staged = _parquet(staging_root(data) / "settlement-live" / "settlement_lines.parquet")
    with writing(data):  # a live import (another open file description: flock treats it as another writer)
        recovery = recover(data)
    assert staged.exists() and not recovery.removed and len(recovery.skipped) == 1
    assert recovery.lines()[0].startswith("another ACORN process is writing to ")
    # And from another process too.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from lake.layout import writing\n"
            f"with writing(Path({str(data)!r})):\n    print('held', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert recover(data).skipped and staged.exists()
    finally:
        holder.kill()
        holder.wait()
    assert recover(data).removed and not staged.exists()


def test_a_journaled_publish_is_finished_once(v2, write_file, tmp_path: Path, monkeypatch) -> None:
    data = tmp_path / "data"
    lake = data / "lake"
    path = write_file(v2.render([v2.line("1.00"), v2.line("2.00")], total="3.00"))
    publish = settlement_lake.publish
    interrupted: list[Path] = []

    def killed_after_the_journal(lake_dir: Path, staging: Path) -> bool:
        interrupted.append(staging)  # the journal is written; the process "dies" before any rename
        raise KeyboardInterrupt

    monkeypatch.setattr(settlement_lake, "publish", killed_after_the_journal)
    monkeypatch.setattr("shutil.rmtree", lambda *args, **kwargs: None)  # a killed process cleans nothing
    with contextlib.suppress(KeyboardInterrupt):
        import_settlement_file(path, data_dir=data)
    monkeypatch.undo()
    [staging] = interrupted
    assert (staging / settlement_lake.JOURNAL).exists()
    assert published_files(lake, "settlements") == []  # not landed: nothing published yet

    [leftover] = find_leftovers(data)
    assert leftover.settlement_id is not None
    recovery = recover(data)
    assert [item.settlement_id for item in recovery.finished] == [leftover.settlement_id]
    assert recovery.lines()[0].startswith("recovered: finished publishing staging/settlement-")
    assert (
        len(published_files(lake, "settlements")) == 1 and len(published_files(lake, "settlement_lines")) == 1
    )
    assert publish(lake, staging) is False  # (gone: nothing more to do)
    events = [
        json.loads(line)["event"] for line in (lake / settlement_lake.VERSIONS_LOG).read_text().splitlines()
    ]
    assert events == ["imported"]
    again = import_settlement_file(path, data_dir=data)
    assert again.status == "duplicate"


def test_staged_files_reach_the_disk_before_the_journal_names_them(
    v2, write_file, tmp_path: Path, monkeypatch
) -> None:
    """A power cut keeps only what was fsynced: every staged file and the staging folder are flushed before the
    journal exists, and each partition folder right after the rename into it."""
    import os

    import lake.layout as lake_layout

    data = tmp_path / "data"
    path = write_file(v2.render([v2.line("1.00"), v2.line("2.00")], total="3.00"))
    flushed: list[tuple[str, bool]] = []  # (path fsynced, whether a publish journal existed then)
    real_fsync = os.fsync

    def recording_fsync(descriptor: int) -> None:
        name = os.readlink(f"/proc/self/fd/{descriptor}")
        journals = list((data / "staging").glob(f"*/{settlement_lake.JOURNAL}"))
        flushed.append((name, bool(journals)))
        real_fsync(descriptor)

    monkeypatch.setattr(lake_layout.os, "fsync", recording_fsync)
    outcome = import_settlement_file(path, data_dir=data)
    monkeypatch.undo()
    assert outcome.status == "imported"
    staged = [(name, journal) for name, journal in flushed if "/staging/settlement-" in name]
    staged_files = {Path(name).name for name, journal in staged if name.endswith(".parquet") and not journal}
    assert staged_files == {settlement_lake.STAGED_LINES, settlement_lake.STAGED_ROW}, flushed
    assert any(Path(name).name.startswith("settlement-") and not journal for name, journal in staged)
    lake = data / "lake"
    for dataset in (settlement_lake.LINES, settlement_lake.SETTLEMENTS):
        [published] = published_files(lake, dataset)
        assert str(published.parent) in {name for name, _ in flushed}, dataset


def test_a_torn_versions_log_record_does_not_swallow_the_next(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    lake.mkdir()
    (lake / settlement_lake.VERSIONS_LOG).write_text('{"raw_sha256": "aaa", "event": "imp')
    settlement_lake.log_version(lake, {"raw_sha256": "bbb", "settlement_id": "1", "event": "imported"})
    assert set(settlement_lake.known_versions(lake)) == {"bbb"}
