"""Workers that share no disk (scale-out, README "Scale-out"; lake/refresh.py, orchestration/lake_refresh.py): with
an s3:// object store each host's data dir is a private cache and the store's pointers are the truth. Two data
dirs stand for two hosts, against moto's S3 server on loopback (in this process: no service needed): a partition
another host landed is downloaded before this host merges into it, one another host removed is removed, one the
store never had is kept (a lake landed before the store was set), a settlement another host landed makes this
host's import of the same bytes a duplicate and of an older document history, and a stale publish journal is
judged against the store's version."""

from __future__ import annotations

import hashlib
import shutil
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from moto_store import PARTITION_SCHEMA, lake_store, partition_table

from lake.layout import reading
from lake.partitions import read_partition, write_partition
from lake.refresh import MARKER, refresh
from orchestration.lake_refresh import refresh_account, refresh_lake
from transforms.settlement import import_settlement_file

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REPO_ROOT / "tests/fixtures/shared/settlement-samples/xieyi138_US_v2_synthetic_settlement-sample.txt"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_partition_another_host_landed_is_downloaded_before_this_host_reads_it(
    tmp_path: Path, lake_env: dict[str, str]
) -> None:
    host_a, host_b = tmp_path / "a" / "lake", tmp_path / "b" / "lake"
    write_partition(
        host_a, "payments", "account_id=acc-1", partition_table(("acc-1", "p1", "1.10")), sort_keys=["id"]
    )
    # Host B lands a second version (its cache first brought to the store's: p1 is kept by the merge).
    assert refresh_account(host_b, "acc-1") is not None
    before = read_partition(host_b, "payments", "account_id=acc-1", PARTITION_SCHEMA)
    assert before is not None and before.column("id").to_pylist() == ["p1"]
    merged = pa.concat_tables([before, partition_table(("acc-1", "p2", "2.20"))])
    write_partition(host_b, "payments", "account_id=acc-1", merged, sort_keys=["id"])
    # Host A's copy is stale (p1 only) until it refreshes; then it is the store's bytes exactly.
    stale = host_a / "payments" / "account_id=acc-1" / "part-0.parquet"
    assert pq.read_table(stale).num_rows == 1
    counts = refresh_account(host_a, "acc-1")
    assert counts is not None and counts.downloaded == 1
    assert pq.read_table(stale).column("id").to_pylist() == ["p1", "p2"]
    pointer = lake_store(lake_env).pointer("payments", "account_id=acc-1")
    assert pointer is not None and _sha(stale) == pointer["sha256"]
    # Nothing changed since: a refresh downloads nothing and leaves the file (and its mtime) alone.
    mtime = stale.stat().st_mtime_ns
    again = refresh_account(host_a, "acc-1")
    assert again is not None and (again.downloaded, again.removed) == (0, 0)
    assert stale.stat().st_mtime_ns == mtime


def test_only_the_accounts_partitions_are_refreshed_and_a_removal_follows_the_store(
    tmp_path: Path, lake_env: dict[str, str]
) -> None:
    host_a, host_b = tmp_path / "a" / "lake", tmp_path / "b" / "lake"
    write_partition(host_a, "payments", "account_id=acc-1", partition_table(("acc-1", "p1", "1.00")))
    write_partition(host_a, "payments", "account_id=acc-10", partition_table(("acc-10", "q1", "3.00")))
    write_partition(host_a, "events", "account_id=acc-1,group=G1", partition_table(("acc-1", "e1", "5.00")))
    refresh_account(host_b, "acc-1")
    # acc-1's partitions (every dataset, any sub-partition), not acc-10's (a prefix of the name is not enough).
    assert sorted(p.parent.name for p in host_b.glob("*/*/part-0.parquet")) == [
        "account_id=acc-1",
        "account_id=acc-1,group=G1",
    ]
    # Host A empties a partition: the store drops its pointer, and host B's copy goes at its next refresh.
    write_partition(host_a, "events", "account_id=acc-1,group=G1", partition_table())
    counts = refresh_account(host_b, "acc-1")
    assert counts is not None and counts.removed == 1
    assert not (host_b / "events" / "account_id=acc-1,group=G1").exists()
    assert (host_b / "payments" / "account_id=acc-1" / MARKER).exists()


def test_a_partition_the_store_never_had_is_kept_for_copy_missing(
    tmp_path: Path, lake_env: dict[str, str]
) -> None:
    lake = tmp_path / "data" / "lake"
    # Landed before the store was set: no pointer, no marker.
    folder = lake / "payments" / "account_id=acc-1"
    folder.mkdir(parents=True)
    pq.write_table(partition_table(("acc-1", "p1", "1.00")), folder / "part-0.parquet")
    counts = refresh_lake(lake)
    assert counts is not None and counts.removed == 0
    assert (folder / "part-0.parquet").exists()
    store = lake_store(lake_env)
    assert store.copy_missing(lake, ["payments"]) == 1


def test_a_download_that_does_not_match_its_pointer_is_refused(
    tmp_path: Path, lake_env: dict[str, str]
) -> None:
    store = lake_store(lake_env)
    host_a, host_b = tmp_path / "a" / "lake", tmp_path / "b" / "lake"
    write_partition(host_a, "payments", "account_id=acc-1", partition_table(("acc-1", "p1", "1.00")))
    pointer = store.pointer("payments", "account_id=acc-1")
    assert pointer is not None
    store._put(store.data_key("payments", "account_id=acc-1", pointer["sha256"]), b"not the bytes")
    with pytest.raises(store.error, match="does not match its pointer"):
        refresh(store, host_b, lambda dataset, partition: True)
    assert not (host_b / "payments" / "account_id=acc-1" / "part-0.parquet").exists()


def test_a_settlement_another_host_landed_is_a_duplicate_here(
    tmp_path: Path, lake_env: dict[str, str]
) -> None:
    first = import_settlement_file(SAMPLE, data_dir=tmp_path / "a")
    assert first.status == "imported"
    # Host B has never seen the bytes (its own archive and versions log are empty): the lake's current version,
    # refreshed from the store under the settlements lock, says they landed.
    second = import_settlement_file(SAMPLE, data_dir=tmp_path / "b")
    assert second.status == "duplicate", second.message
    partition = f"settlement_id={first.settlement_id}"
    for dataset in ("settlement_lines", "settlements"):
        local_a = tmp_path / "a" / "lake" / dataset / partition / "part-0.parquet"
        local_b = tmp_path / "b" / "lake" / dataset / partition / "part-0.parquet"
        assert local_a.read_bytes() == local_b.read_bytes()
    # A third host's step for any account brings every settlement's partitions (the lookups of an account's
    # settlements read them all) under the settlements lock, without waiting for itself.
    host_c = tmp_path / "c" / "lake"
    counts = refresh_account(host_c, "another-account")
    assert counts is not None
    for dataset in ("settlement_lines", "settlements"):
        local_a = tmp_path / "a" / "lake" / dataset / partition / "part-0.parquet"
        assert (host_c / dataset / partition / "part-0.parquet").read_bytes() == local_a.read_bytes()
    # The store still names host A's files: host B sent nothing.
    pointer = lake_store(lake_env).pointer("settlements", partition)
    assert pointer is not None
    assert pointer["sha256"] == _sha(tmp_path / "a" / "lake" / "settlements" / partition / "part-0.parquet")


def test_a_check_on_a_current_lake_does_not_wait_for_a_build_reading_it(
    tmp_path: Path, lake_env: dict[str, str]
) -> None:
    # A build on this host holds the lake still (`reading`) while dbt runs; the next build's lake checks refresh
    # the lake first. With nothing to change they take no writer's lock, so they never wait for the build (which,
    # paused, would wait for them: seen as a hang of a second build beside a first).
    first = import_settlement_file(SAMPLE, data_dir=tmp_path / "a")
    assert first.status == "imported"
    host_b = tmp_path / "b" / "lake"
    assert refresh_lake(host_b) is not None  # the settlement downloaded once
    partition = host_b / "settlements" / f"settlement_id={first.settlement_id}" / "part-0.parquet"
    assert partition.exists()
    finished = threading.Event()

    def check() -> None:
        refresh_lake(host_b)
        finished.set()

    with reading(host_b.parent):
        threading.Thread(target=check, daemon=True).start()
        assert finished.wait(60), "the refresh of an unchanged lake waited for the build reading it"
    # A lake that did change still waits for the build, then is brought to the store's version.
    partition.unlink()
    finished.clear()
    with reading(host_b.parent):
        threading.Thread(target=check, daemon=True).start()
        assert not finished.wait(2)
    assert finished.wait(60)
    assert partition.exists()


def test_without_an_s3_store_nothing_is_refreshed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACORN_OBJECT_STORE_URL", raising=False)
    lake = tmp_path / "lake"
    write_partition(lake, "payments", "account_id=acc-1", partition_table(("acc-1", "p1", "1.00")))
    assert refresh_account(lake, "acc-1") is None
    assert refresh_lake(lake) is None
    assert not (lake / "payments" / "account_id=acc-1" / MARKER).exists()
    shutil.rmtree(lake)


def test_a_build_on_a_stale_host_does_not_bring_back_a_removed_partition(
    tmp_path: Path, lake_env: dict[str, str]
) -> None:
    store = lake_store(lake_env)
    host_a, host_b = tmp_path / "a" / "lake", tmp_path / "b" / "lake"
    write_partition(host_a, "payments", "account_id=acc-1", partition_table(("acc-1", "p1", "1.00")))
    refresh_account(host_b, "acc-1")
    write_partition(
        host_a, "payments", "account_id=acc-1", partition_table()
    )  # removed on the store by host A
    # Host B has not refreshed since; the catalog build's catch-up copy must not publish its stale copy.
    assert (host_b / "payments" / "account_id=acc-1" / "part-0.parquet").exists()
    assert store.copy_missing(host_b, ["payments"]) == 0
    assert store.pointer("payments", "account_id=acc-1") is None


def test_a_document_another_host_landed_is_not_downloaded_again_here(
    tmp_path: Path, lake_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`landed_documents` (what a daily run skips downloading) reads the store's manifest for the account's
    settlements whose bytes this host never archived."""
    from orchestration.settlements.landed import landed_documents

    source = "spapi:acc-1:report/42"
    landed = import_settlement_file(SAMPLE, data_dir=tmp_path / "a", account_id="acc-1", origin=source)
    assert landed.status == "imported"
    assert landed_documents(tmp_path / "a", "acc-1") == {source}
    host_b = tmp_path / "b"
    assert refresh_account(host_b / "lake", "acc-1") is not None  # as the account's client does first
    assert not (host_b / "raw").exists()  # host B never archived (nor downloaded) the document
    assert landed_documents(host_b, "acc-1") == {source}
    assert landed_documents(host_b, "acc-2") == set()  # another account's settlements are not looked up
    # Without the store (or with one that does not answer) the local answer stands: downloaded once more,
    # then found a duplicate, as before.
    monkeypatch.setenv("ACORN_S3_ENDPOINT_URL", "http://127.0.0.1:1")
    assert landed_documents(host_b, "acc-1") == set()
    monkeypatch.delenv("ACORN_OBJECT_STORE_URL")
    assert landed_documents(host_b, "acc-1") == set()
