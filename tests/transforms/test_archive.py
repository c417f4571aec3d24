"""The content-addressed raw archive: stored once, never rewritten, one manifest row per object."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from transforms.archive import RawArchive


def test_put_bytes_stores_content_addressed_and_dedupes(tmp_path: Path) -> None:
    archive = RawArchive(tmp_path / "raw")
    data = b'{"payload": 1}'
    sha = hashlib.sha256(data).hexdigest()
    first = archive.put_bytes(data, kind="spapi_json:listFinancialEventsByGroupId", source="spapi:a:page/1")
    second = archive.put_bytes(data, kind="spapi_json:listFinancialEventsByGroupId", source="spapi:a:page/2")
    assert (first.sha256, first.is_new, second.is_new) == (sha, True, False)
    assert first.path == tmp_path / "raw" / "objects" / sha[:2] / sha == archive.path_for(sha)
    assert first.path.read_bytes() == data and first.size == len(data)
    rows = list(archive.manifest())
    assert [(r["sha256"], r["source"], r["size"]) for r in rows] == [(sha, "spapi:a:page/1", len(data))]
    assert rows[0]["kind"] == "spapi_json:listFinancialEventsByGroupId" and rows[0]["archived_at"]


def test_put_file_streams_and_can_move(tmp_path: Path) -> None:
    src = tmp_path / "report.txt"
    src.write_bytes(b"x" * 3_000_000)  # several chunks
    seen: list[int] = []
    archived = RawArchive(tmp_path / "raw").put_file(
        src,
        kind="settlement_report",
        source="import:report.txt",
        meta={"a": "b"},
        move=True,
        on_chunk=lambda chunk: seen.append(len(chunk)),
    )
    assert archived.sha256 == hashlib.sha256(b"x" * 3_000_000).hexdigest()
    assert not src.exists() and archived.path.stat().st_size == 3_000_000
    assert sum(seen) == 3_000_000 and len(seen) > 1
    [row] = RawArchive(tmp_path / "raw").manifest()
    assert row["meta"] == {"a": "b"}


def test_torn_manifest_line_is_skipped_and_repaired(tmp_path: Path) -> None:
    archive = RawArchive(tmp_path / "raw")
    archive.put_bytes(b"one", kind="k", source="s1")
    with open(archive.manifest_path, "ab") as manifest:
        manifest.write(b'{"sha256": "torn')  # a crash mid-append
    assert len(list(archive.manifest())) == 1
    archive.put_bytes(b"two", kind="k", source="s2")
    assert [r["source"] for r in archive.manifest()] == ["s1", "s2"]
    lines = archive.manifest_path.read_text().splitlines()
    assert json.loads(lines[-1])["source"] == "s2"


def test_concurrent_writers_leave_one_row_per_object(tmp_path: Path) -> None:
    archive = RawArchive(tmp_path / "raw")
    payloads = [f"page {i % 5}".encode() for i in range(40)]
    threads = [
        threading.Thread(target=archive.put_bytes, args=(p,), kwargs={"kind": "k", "source": f"s{i}"})
        for i, p in enumerate(payloads)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = list(archive.manifest())
    assert sorted(r["sha256"] for r in rows) == sorted({hashlib.sha256(p).hexdigest() for p in payloads})
    assert not list((tmp_path / "raw" / "objects").rglob(".tmp-*"))


def test_a_staged_file_is_private_until_committed(tmp_path: Path) -> None:
    archive = RawArchive(tmp_path / "raw")
    src = tmp_path / "report.txt"
    src.write_bytes(b"a\tb\n" * 10)
    staged = archive.stage_file(src)
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    assert staged.sha256 == sha and staged.path.read_bytes() == src.read_bytes()
    assert not archive.path_for(sha).exists() and list(archive.manifest()) == []

    archived = archive.commit(staged, kind="k", source="s")
    assert archived.is_new and archived.path.read_bytes() == src.read_bytes()
    again = archive.commit(archive.stage_file(src), kind="k", source="s2")
    assert not again.is_new and [row["source"] for row in archive.manifest()] == ["s"]
    assert not list((tmp_path / "raw" / "objects").rglob(".tmp-*")), "the second copy was not dropped"


def test_stage_file_copies_without_copy_file_range(tmp_path: Path, monkeypatch) -> None:
    # copy_file_range is Linux-only and some file systems refuse it (EXDEV across mounts, EOPNOTSUPP, ...);
    # the archive then copies with plain reads and writes, several steps for a large file.
    import errno
    import os

    import transforms.archive as archive_module

    calls: list[int] = []

    def refused(*args, **kwargs):
        calls.append(1)
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "copy_file_range", refused, raising=False)
    monkeypatch.setattr(archive_module, "COPY_STEP", 1 << 16)
    data = bytes(range(256)) * 3000  # 768,000 bytes: many steps
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    chunks: list[bytes] = []
    staged = RawArchive(tmp_path / "raw").stage_file(src, on_chunk=chunks.append)
    assert calls, "copy_file_range was not tried"
    assert staged.path.read_bytes() == data and staged.size == len(data)
    assert staged.sha256 == hashlib.sha256(data).hexdigest() and b"".join(chunks) == data


def test_stage_file_reads_a_pipe(tmp_path: Path) -> None:
    # `acorn import <(curl ...)` hands the import a pipe: no offsets, no copy_file_range; read in order.
    import os

    data = b"settlement-id\ttotal-amount\n" + b"1\t2.00\n" * 200_000  # larger than a pipe's buffer
    read_end, write_end = os.pipe()

    def feed() -> None:
        with os.fdopen(write_end, "wb") as stream:
            stream.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        staged = RawArchive(tmp_path / "raw").stage_file(Path(f"/dev/fd/{read_end}"))
    finally:
        writer.join()
        os.close(read_end)
    assert staged.path.read_bytes() == data and staged.sha256 == hashlib.sha256(data).hexdigest()


def test_on_chunk_sees_the_hashed_bytes_in_order_and_its_error_stops_the_copy(
    tmp_path: Path, monkeypatch
) -> None:
    # The line scan (on_chunk) runs on its own thread behind the hash: it still sees every chunk, in order, and
    # an error it raises is the stage's error, with no copy left behind.
    import transforms.archive as archive_module

    monkeypatch.setattr(archive_module, "COPY_STEP", 1 << 16)
    monkeypatch.setattr(archive_module, "CHUNK_SIZE", 1 << 12)
    monkeypatch.setattr(archive_module, "STEPS_AHEAD", 1)
    data = bytes(range(256)) * 3000
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    chunks: list[bytes] = []
    threads: set[str] = set()

    def seen(chunk: bytes) -> None:
        threads.add(threading.current_thread().name)
        chunks.append(chunk)

    staged = RawArchive(tmp_path / "raw").stage_file(src, on_chunk=seen)
    assert b"".join(chunks) == data and staged.sha256 == hashlib.sha256(data).hexdigest()
    assert len(chunks) == len(data) // (1 << 12) + 1 and threading.current_thread().name not in threads

    def fails(chunk: bytes) -> None:
        if len(chunks) > 40:
            raise ValueError("scan failed")
        chunks.append(chunk)

    chunks.clear()
    staged.path.unlink()
    try:
        RawArchive(tmp_path / "raw").stage_file(src, on_chunk=fails)
    except ValueError as error:
        assert str(error) == "scan failed"
    else:
        raise AssertionError("the scan's error was not raised")
    assert len(chunks) == 41 and b"".join(chunks) == data[: 41 << 12]
    assert not list((tmp_path / "raw" / "objects").glob(".tmp-*"))
