"""The raw archive's copy on S3-compatible object storage (scale-out, README "Scale-out"), against moto's S3 server
on loopback (in this process: no service needed): every object once per sha256, one write-once object per
manifest row, the bytes sent before anything is parsed, never a partial object under its key (an exception
mid-upload, a writer killed with SIGKILL mid-upload), and a re-run that converges without duplicating."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto_store import SECRET_KEY
from pause_hook import pause_env, wait_until_paused

from acorn_cli.loopback_s3 import LoopbackS3
from transforms.archive import ArchiveCopyError, ObjectStoreCopy, RawArchive

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(s3: LoopbackS3) -> dict[str, str]:
    return s3.env(f"t-{uuid.uuid4().hex[:8]}")  # a prefix of its own per test


def _store(env: dict[str, str]) -> ObjectStoreCopy:
    store = ObjectStoreCopy.from_env(env)
    assert store is not None
    return store


def test_only_an_s3_url_configures_a_copy(tmp_path: Path) -> None:
    assert ObjectStoreCopy.from_env({}) is None
    assert ObjectStoreCopy.from_env({"ACORN_OBJECT_STORE_URL": str(tmp_path)}) is None
    store = ObjectStoreCopy.from_env({"ACORN_OBJECT_STORE_URL": "s3://bucket/some/prefix/"})
    assert store is not None and store.url == "s3://bucket/some/prefix/raw/"
    # The default comes from the environment: unset there (as in the embedded suite), no copy.
    assert RawArchive(tmp_path / "raw").store is None or os.environ.get("ACORN_OBJECT_STORE_URL")


def test_pages_are_kept_once_with_one_row_object_each(tmp_path: Path, env: dict[str, str]) -> None:
    store = _store(env)
    archive = RawArchive(tmp_path / "raw", store)
    pages = [b'{"page": 1}', b'{"page": 2}', b'{"page": 1}']
    for number, page in enumerate(pages):
        archive.put_bytes(page, kind="listTransactions", source=f"spapi:a:page/{number}")
    shas = sorted({hashlib.sha256(page).hexdigest() for page in pages})
    assert store.object_keys() == sorted(store.object_key(sha) for sha in shas)
    for page in pages:
        assert store.read(store.object_key(hashlib.sha256(page).hexdigest())) == page
    # One row object per distinct object, equal to the local manifest's row (the first archiving).
    assert sorted(store.rows(), key=lambda r: r["sha256"]) == sorted(
        archive.manifest(), key=lambda r: r["sha256"]
    )
    assert [row["source"] for row in store.rows() if row["sha256"] == shas[0]] in (
        ["spapi:a:page/0"],
        ["spapi:a:page/1"],
    )
    assert store.verify(archive) == []
    assert archive.copy_missing() == 0  # nothing left to copy


def test_a_settlement_file_is_in_the_store_before_it_is_parsed(tmp_path: Path, env: dict[str, str]) -> None:
    store = _store(env)
    archive = RawArchive(tmp_path / "raw", store)
    src = tmp_path / "report.txt"
    src.write_bytes(b"settlement-id\ttotal-amount\n" + b"1\t2.00\n" * 1000)
    staged = archive.stage_file(src)  # what the import parses next
    assert store.read(store.object_key(staged.sha256)) == src.read_bytes()
    assert store.rows() == []  # the row comes with the commit
    archived = archive.commit(staged, kind="settlement_report", source="import:report.txt", meta={"a": "b"})
    [row] = store.rows()
    assert row["sha256"] == archived.sha256 and row["meta"] == {"a": "b"}
    # Re-attribution adds a row object of its own, after the archiving row; nothing is rewritten.
    assert archive.record_account(archived.sha256, "acct-2")
    first, second = store.rows()
    assert first == row and second["meta"]["account_id"] == "acct-2" and second["reattributed_at"]
    assert store.verify(archive) == []


def test_verify_names_an_object_whose_bytes_changed_and_one_that_is_missing(
    tmp_path: Path, env: dict[str, str]
) -> None:
    store = _store(env)
    archive = RawArchive(tmp_path / "raw", store)
    first = archive.put_bytes(b'{"page": 1}', kind="listTransactions", source="spapi:a:page/0")
    second = archive.put_bytes(b'{"page": 2}', kind="listTransactions", source="spapi:a:page/1")
    assert store.verify(archive) == []
    changed = store.object_key(first.sha256)
    with store.filesystem.open_output_stream(changed) as out:  # the same size, other bytes
        out.write(b'{"page": 9}')
    store.filesystem.delete_file(store.object_key(second.sha256))
    problems = store.verify(archive)
    assert f"object {changed} does not hash to its name" in problems
    assert f"object {store.object_key(second.sha256)} missing or of another size" in problems
    assert len(problems) == 2


def test_a_failed_upload_leaves_no_object_under_its_key(tmp_path: Path, env: dict[str, str]) -> None:
    store = _store(env)
    key = store.object_key("ab" * 32)

    def chunks() -> Iterator[bytes]:
        yield b"x" * 1000
        raise ConnectionError("the network went away mid-upload")

    with pytest.raises(ConnectionError):
        store._publish(key, chunks(), 2000)
    assert store.size_of(key) is None
    with pytest.raises(ArchiveCopyError, match="not 3000"):
        store._publish(key, iter([b"y" * 2000]), 3000)  # fewer bytes arrived than were sent: not published
    assert store.size_of(key) is None
    assert store.object_keys() == []


def test_a_writer_killed_mid_upload_leaves_no_partial_object_and_the_rerun_keeps_it_once(
    tmp_path: Path, env: dict[str, str]
) -> None:
    store = _store(env)
    src = tmp_path / "big-report.txt"
    src.write_bytes(os.urandom(20 << 20))  # three upload chunks
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    marker = tmp_path / "paused.json"
    script = (
        "import sys\nfrom pathlib import Path\nfrom transforms.archive import RawArchive\n"
        "RawArchive(Path(sys.argv[1])).put_file(Path(sys.argv[2]), kind='settlement_report', source='import:big')\n"
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path / "raw"), str(src)],
        cwd=REPO_ROOT,
        env={
            **os.environ,
            **env,
            **pause_env("archive-upload", marker),
        },
    )
    try:
        paused = wait_until_paused(writer, marker, "archive-upload", timeout=120)
        assert paused["sent"] == 8 << 20  # stopped with one chunk of three sent
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert store.size_of(store.object_key(sha)) is None
    assert store.object_keys() == [] and store.rows() == []

    archive = RawArchive(tmp_path / "raw", store)
    for _ in range(2):  # the re-run, then once more: kept once
        archive.put_file(src, kind="settlement_report", source="import:big")
    assert store.object_keys() == [store.object_key(sha)]
    assert len(store.rows()) == 1
    assert store.verify(archive) == []


def test_writers_on_many_hosts_keep_each_object_and_row_once(tmp_path: Path, env: dict[str, str]) -> None:
    # Each "host" has its own local archive (its own disk and manifest.jsonl); they share only the store.
    store = _store(env)
    payloads = [f"page {i % 4}".encode() for i in range(24)]
    archives = [RawArchive(tmp_path / f"host-{n}" / "raw", _store(env)) for n in range(3)]
    threads = [
        threading.Thread(
            target=archives[i % 3].put_bytes, args=(payload,), kwargs={"kind": "k", "source": f"s{i}"}
        )
        for i, payload in enumerate(payloads)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    shas = sorted({hashlib.sha256(p).hexdigest() for p in payloads})
    assert store.object_keys() == [store.object_key(sha) for sha in shas]
    rows = store.rows()
    assert sorted(row["sha256"] for row in rows) == shas  # one row object per sha, whoever wrote it first
    assert all(store.verify(archive) == [] for archive in archives)
    assert not [key for key in store.object_keys() if "/.tmp/" in key]


def test_a_lost_copy_is_caught_up_and_errors_show_no_secret(tmp_path: Path, env: dict[str, str]) -> None:
    # A writer that died between the local commit and the copy: the local archive has it, the store not.
    archive = RawArchive(tmp_path / "raw", store=None)
    archive.put_bytes(b"only local", kind="k", source="s")
    store = _store(env)
    with_store = RawArchive(tmp_path / "raw", store)
    assert store.verify(with_store) != []
    assert with_store.copy_missing() == 1
    assert store.verify(with_store) == [] and with_store.copy_missing() == 0

    broken = ObjectStoreCopy.from_env({**env, "ACORN_OBJECT_STORE_URL": "s3://no-such-bucket/x"})
    assert broken is not None
    with pytest.raises(ArchiveCopyError) as error:
        RawArchive(tmp_path / "raw2", broken).put_bytes(b"data", kind="k", source="s")
    assert SECRET_KEY not in str(error.value) and "no-such-bucket" in str(error.value)
