"""Upkeep of the lake's copy on the object store (lake/store_upkeep.py, `acorn lake verify` and `acorn lake prune`),
against moto's S3 server on loopback in this process: the prune keeps every current file, every young one (a
landing may be about to name it), every file superseded less than the retention ago and every file the warehouse's
lake views name, and deletes the old superseded ones; verify names a missing and a corrupt file; the commands'
exit codes."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from moto_store import SECRET_KEY, lake_store, partition_table

from acorn_cli.main import cli
from lake import store_upkeep
from lake.partitions import parquet_bytes, write_partition
from lake.store import TOMBSTONE, LakeStore
from lake.store_upkeep import StoredObject, apply_prune, listing, plan_prune, verify

RETENTION = timedelta(days=7)


def _versions(lake: Path, partition: str, count: int) -> None:
    for number in range(1, count + 1):
        table = partition_table(*[("a", f"{row}", f"{row}.00") for row in range(number)])
        write_partition(lake, "payments", partition, table, sort_keys=["id"])


def _aged(objects: list[StoredObject], *, except_keys: set[str], days: int = 10) -> list[StoredObject]:
    """The listing as it would be `days` later for every object but `except_keys` (moto dates objects now)."""
    return [
        item
        if item.key in except_keys
        else dataclasses.replace(item, modified=item.modified - timedelta(days=days))
        for item in objects
    ]


def _data_keys(store: LakeStore) -> set[str]:
    return {
        item.key for item in listing(store) if item.key.endswith(".parquet") and "/_empty/" not in item.key
    }


def test_prune_deletes_only_old_superseded_files(tmp_path: Path, lake_env: dict[str, str]) -> None:
    store = lake_store(lake_env)
    lake = tmp_path / "data" / "lake"
    _versions(lake, "account_id=old", 3)  # two superseded files, long ago
    _versions(lake, "account_id=recent", 2)  # one superseded file, its pointer replaced just now
    _versions(lake, "account_id=viewed", 2)  # one superseded file the published build's views still name
    write_partition(lake, "payments", "account_id=removed", partition_table(("a", "1", "1.00")))
    write_partition(lake, "payments", "account_id=removed", partition_table())  # removed: a tombstone
    # A concurrent landing: its file uploaded, its pointer not written yet.
    young = parquet_bytes(partition_table(("a", "9", "9.00")))
    young_key = store.data_key("payments", "account_id=old", "f" * 64)
    store._put(young_key, young)

    current = {
        store.data_key("payments", partition, store.pointer("payments", partition)["sha256"])  # type: ignore[index]
        for partition in ("account_id=old", "account_id=recent", "account_id=viewed")
    }
    before = _data_keys(store)
    viewed_old = next(key for key in before if "account_id=viewed" in key and key not in current)
    recent_old = next(key for key in before if "account_id=recent" in key and key not in current)
    old_superseded = {key for key in before if "account_id=old" in key and key not in current | {young_key}}
    removed_files = {key for key in before if "account_id=removed" in key}
    assert len(old_superseded) == 2 and len(removed_files) == 1
    assert store.size_of(f"{store.base}/payments/account_id=removed/{TOMBSTONE}") is not None

    recent_pointer = store.pointer_key("payments", "account_id=recent")
    objects = _aged(listing(store), except_keys={young_key, recent_pointer})
    plan = plan_prune(store, retention=RETENTION, keep_urls={f"s3://{viewed_old}"}, objects=objects)
    assert {item.key for item in plan.delete} == old_superseded | removed_files
    kept = dict(plan.kept)
    assert "younger" in kept[young_key] and "less than the retention" in kept[recent_old]
    assert "lake views" in kept[viewed_old]
    assert plan.current == 3
    assert _data_keys(store) == before  # planning deletes nothing

    apply_prune(store, plan)
    assert _data_keys(store) == before - old_superseded - removed_files
    assert current <= _data_keys(store)
    assert verify(store) == []  # every pointer's file is still there


def test_prune_never_deletes_a_file_a_pointer_names_again(tmp_path: Path, lake_env: dict[str, str]) -> None:
    store = lake_store(lake_env)
    lake = tmp_path / "data" / "lake"
    first = partition_table(("a", "1", "1.00"))
    write_partition(lake, "payments", "account_id=a", first)
    write_partition(lake, "payments", "account_id=a", partition_table(("a", "2", "2.00")))
    plan = plan_prune(store, retention=RETENTION, objects=_aged(listing(store), except_keys=set()))
    [planned] = plan.delete
    # A landing names the older file again between the plan and the delete (the same bytes landed again).
    write_partition(lake, "payments", "account_id=a", first)
    apply_prune(store, plan)
    assert plan.deleted == [] and "pointer again" in dict(plan.kept)[planned.key]
    assert verify(store) == []


def test_a_publish_sends_again_a_file_a_prune_deleted_meanwhile(
    lake_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = lake_store(lake_env)
    payload = parquet_bytes(partition_table(("a", "1", "1.00")))
    store.publish("payments", "account_id=a", payload, 1)
    store.publish("payments", "account_id=a", parquet_bytes(partition_table(("a", "2", "2.00"))), 1)
    # The first bytes landed again: the file is still there, so only the pointer is written, and a prune deletes
    # the file right after (it had read the previous pointer).
    pointer_key = store.pointer_key("payments", "account_id=a")
    monkeypatch.setattr(LakeStore, "_put", _deleting_after_pointer(LakeStore._put, pointer_key))
    assert store.publish("payments", "account_id=a", payload, 1)
    assert verify(store) == []


def _deleting_after_pointer(put, key):  # type: ignore[no-untyped-def]
    def wrapped(self: LakeStore, target: str, body: bytes) -> None:
        put(self, target, body)
        if target == key:
            pointer = self.pointer("payments", "account_id=a")
            assert pointer is not None
            self.filesystem.delete_file(self.data_key("payments", "account_id=a", pointer["sha256"]))

    return wrapped


def test_verify_names_a_missing_and_a_corrupt_file(tmp_path: Path, lake_env: dict[str, str]) -> None:
    store = lake_store(lake_env)
    lake = tmp_path / "data" / "lake"
    write_partition(lake, "payments", "account_id=a", partition_table(("a", "1", "1.00")))
    write_partition(lake, "payments", "account_id=b", partition_table(("b", "1", "2.00")))
    assert verify(store) == []
    missing = store.data_key("payments", "account_id=a", store.pointer("payments", "account_id=a")["sha256"])  # type: ignore[index]
    corrupt = store.data_key("payments", "account_id=b", store.pointer("payments", "account_id=b")["sha256"])  # type: ignore[index]
    store.filesystem.delete_file(missing)
    size = store.size_of(corrupt)
    assert size is not None
    store._put(corrupt, b"x" * size)  # the same size, other bytes
    problems = verify(store)
    assert len(problems) == 2
    assert f"s3://{missing} is missing" in problems[0]
    assert f"s3://{corrupt} does not hash" in problems[1]


def _acorn(args: list[str], env: dict[str, str], tmp_path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli,
        args,
        env={**env, "ACORN_DATA_DIR": str(tmp_path / "data"), "DAGSTER_HOME": str(tmp_path / "home")},
    )
    return result.exit_code, result.output


def test_the_lake_commands_exit_codes(tmp_path: Path, lake_env: dict[str, str]) -> None:
    store = lake_store(lake_env)
    lake = tmp_path / "data" / "lake"
    write_partition(lake, "payments", "account_id=a", partition_table(("a", "1", "1.00")))
    write_partition(lake, "payments", "account_id=a", partition_table(("a", "2", "2.00")))
    env = {**lake_env, "ACORN_WAREHOUSE_CATALOG_URL": ""}
    assert _acorn(["lake", "verify"], env, tmp_path)[0] == 0
    code, output = _acorn(["lake", "prune"], env, tmp_path)  # dry run; nothing old enough yet
    assert code == 0 and "dry run: 0 superseded file(s)" in output and "younger than the retention" in output
    code, output = _acorn(["lake", "prune", "--yes"], env, tmp_path)
    assert code == 0 and "deleted 0 superseded" in output
    pointer = store.pointer("payments", "account_id=a")
    assert pointer is not None
    store.filesystem.delete_file(store.data_key("payments", "account_id=a", pointer["sha256"]))
    code, output = _acorn(["lake", "verify"], env, tmp_path)
    assert code == 1 and "is missing" in output and SECRET_KEY not in output
    no_store = {name: "" for name in lake_env}
    assert _acorn(["lake", "verify"], no_store, tmp_path)[0] == 3
    assert _acorn(["lake", "prune"], no_store, tmp_path)[0] == 3
    unreachable = {**env, "ACORN_S3_ENDPOINT_URL": "http://127.0.0.1:9"}
    code, output = _acorn(["lake", "verify"], unreachable, tmp_path)
    assert code == 3 and SECRET_KEY not in output


def test_the_retention_counts_from_the_pointers_last_change() -> None:
    """A superseded file older than the retention is kept while its partition's pointer changed within it."""
    now = datetime(2026, 12, 6, tzinfo=UTC)
    old = now - timedelta(days=30)
    assert store_upkeep._kept_because(
        StoredObject("k", 1, old), now - timedelta(days=1), now - RETENTION, set()
    )
    assert store_upkeep._kept_because(StoredObject("k", 1, old), None, now - RETENTION, set())
    assert (
        store_upkeep._kept_because(StoredObject("k", 1, old), now - timedelta(days=8), now - RETENTION, set())
        is None
    )
