"""The lake's Parquet on S3-compatible object storage (scale-out, README "Scale-out"; lake/store.py), against
moto's S3 server on loopback (in this process: no service needed): each landing publishes its partition under
`<prefix>/lake/`, replaced atomically for readers (a new file under a fresh key, then the partition's pointer),
a re-run converges without duplicates, a landing the store missed is caught up, a settlement's two partitions
follow its local publish, and the warehouse's `lake.*` views read the store's files (no local lake needed)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from moto_store import PARTITION_SCHEMA, SECRET_KEY, lake_store, partition_table

from lake.partitions import parquet_bytes, write_partition
from lake.store import LakeStore, LakeStoreError
from orchestration.warehouse.lake_views import create_store_lake_views
from orchestration.warehouse_catalog import DuckLakeWarehouse, connection_config
from transforms.settlement import import_settlement_file

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REPO_ROOT / "tests/fixtures/shared/settlement-samples/xieyi138_US_v2_synthetic_settlement-sample.txt"


def _reader(lake_env: dict[str, str]) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the S3 secret the DuckLake catalog's connections create (and nothing local)."""
    warehouse = DuckLakeWarehouse(
        catalog_url="postgresql://u@127.0.0.1:1/unused",
        data_path=None,
        s3_endpoint_url=lake_env["ACORN_S3_ENDPOINT_URL"],
        s3_credentials={
            "key_id": lake_env["AWS_ACCESS_KEY_ID"],
            "secret": lake_env["AWS_SECRET_ACCESS_KEY"],
            "region": lake_env["AWS_REGION"],
        },
    )
    connection = duckdb.connect(config=connection_config())
    [s3_secret] = [sql for sql in warehouse.secret_sql() if "(type s3" in sql]
    connection.execute(s3_secret)
    return connection


def test_only_an_s3_url_configures_the_lake_store(tmp_path: Path) -> None:
    assert LakeStore.from_env({}) is None
    assert LakeStore.from_env({"ACORN_OBJECT_STORE_URL": str(tmp_path)}) is None
    store = LakeStore.from_env({"ACORN_OBJECT_STORE_URL": "s3://bucket/some/prefix/"})
    assert store is not None and store.url == "s3://bucket/some/prefix/lake/"


def test_a_landing_publishes_its_partition_and_replaces_it_atomically(
    tmp_path: Path, lake_env: dict[str, str]
) -> None:
    store = lake_store(lake_env)
    lake = tmp_path / "data" / "lake"
    first = partition_table(("a", "2", "2.00"), ("a", "1", "1.10"))
    written = write_partition(lake, "payments", "account_id=a", first, sort_keys=["id"])
    assert written.changed
    pointer = store.pointer("payments", "account_id=a")
    assert pointer is not None and pointer["rows"] == 2
    # The store's file is the local file, byte for byte, under its content's name.
    local = written.path.read_bytes()
    assert store._read(store.data_key("payments", "account_id=a", pointer["sha256"])) == local
    assert store.current_files() == {
        "payments": [f"s3://{store.base}/payments/account_id=a/{pointer['sha256']}.parquet"]
    }

    # A re-run with the same rows sends nothing: no new object, the same pointer.
    objects = store.object_count()
    assert not write_partition(lake, "payments", "account_id=a", first, sort_keys=["id"]).changed
    assert store.object_count() == objects and store.pointer("payments", "account_id=a") == pointer

    # New rows: a new file under a fresh key, then the pointer names it; readers see the new rows only.
    second = partition_table(("a", "1", "1.10"), ("a", "3", "3.33"))
    write_partition(lake, "payments", "account_id=a", second, sort_keys=["id"])
    replaced = store.pointer("payments", "account_id=a")
    assert replaced is not None and replaced["sha256"] != pointer["sha256"]
    [url] = store.current_files()["payments"]
    with _reader(lake_env) as reader:
        rows = reader.execute(f"select id, amount from read_parquet('{url}') order by id").fetchall()
    assert rows == [("1", Decimal("1.10")), ("3", Decimal("3.33"))]
    # The superseded file stays for a reader that listed it before the switch.
    assert store.size_of(store.data_key("payments", "account_id=a", pointer["sha256"])) == len(local)

    # An empty table removes the partition for readers.
    write_partition(lake, "payments", "account_id=a", PARTITION_SCHEMA.empty_table())
    assert store.pointer("payments", "account_id=a") is None
    assert store.current_files() == {}


def test_a_partition_the_store_missed_is_caught_up_and_never_duplicated(
    tmp_path: Path, lake_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = tmp_path / "data" / "lake"
    table = partition_table(("b", "1", "5.00"))
    # A landing killed after its local publish and before the store's: the store lacks the partition.
    for name in lake_env:
        monkeypatch.delenv(name)
    write_partition(lake, "payments", "account_id=b", table)
    store = lake_store(lake_env)
    assert store.partitions() == {}
    assert store.copy_missing(lake, ["payments"]) == 1
    assert store.copy_missing(lake, ["payments"]) == 0
    # Its next landing (unchanged locally) finds the store current and sends nothing.
    for name, value in lake_env.items():
        monkeypatch.setenv(name, value)
    objects = store.object_count()
    assert not write_partition(lake, "payments", "account_id=b", table).changed
    assert store.object_count() == objects
    # The local partition changed while the store lagged: the next landing publishes what it lands.
    store.publish("payments", "account_id=b", parquet_bytes(partition_table(("b", "1", "4.00"))), 1)
    write_partition(lake, "payments", "account_id=b", table)
    pointer = store.pointer("payments", "account_id=b")
    assert pointer is not None
    assert store._read(store.data_key("payments", "account_id=b", pointer["sha256"])) == parquet_bytes(table)


def test_a_failed_upload_publishes_nothing_and_names_no_secret(
    tmp_path: Path, lake_env: dict[str, str]
) -> None:
    store = lake_store(lake_env)
    key = store.pointer_key("payments", "account_id=c")

    class Broken(bytes):
        def __len__(self) -> int:  # the store receives fewer bytes than the writer meant to send
            return 10_000

    with pytest.raises(LakeStoreError, match="not 10000"):
        store._put(key, Broken(b"{}"))
    assert store.size_of(key) is None and store.object_count() == 0

    broken = LakeStore.from_env({**lake_env, "ACORN_OBJECT_STORE_URL": "s3://no-such-bucket/x"})
    assert broken is not None
    with pytest.raises(LakeStoreError) as error:
        broken.publish("payments", "account_id=c", b"data", 1)
    assert SECRET_KEY not in str(error.value) and "no-such-bucket" in str(error.value)


def test_a_settlement_is_published_with_its_lines_and_read_through_the_lake_views(
    tmp_path: Path, lake_env: dict[str, str]
) -> None:
    store = lake_store(lake_env)
    data_dir = tmp_path / "data"
    outcome = import_settlement_file(SAMPLE, data_dir=data_dir)
    assert outcome.status == "imported"
    partition = f"settlement_id={outcome.settlement_id}"
    lake = data_dir / "lake"
    assert store.partitions() == {"settlement_lines": {partition}, "settlements": {partition}}
    for dataset in ("settlement_lines", "settlements"):
        pointer = store.pointer(dataset, partition)
        assert pointer is not None
        local = (lake / dataset / partition / "part-0.parquet").read_bytes()
        assert store._read(store.data_key(dataset, partition, pointer["sha256"])) == local
    # Importing the same file again: a duplicate, nothing sent.
    objects = store.object_count()
    assert import_settlement_file(SAMPLE, data_dir=data_dir).status == "duplicate"
    assert store.object_count() == objects

    # The warehouse's views read the store alone: the local lake moved away, the rows are the same.
    local_lines = pq.read_table(lake / "settlement_lines" / partition / "part-0.parquet").num_rows
    lake.rename(tmp_path / "moved-away")
    datasets = {"settlement_lines": None, "settlements": None, "payments": PARTITION_SCHEMA}
    from orchestration.warehouse.lake_views import lake_datasets

    schemas = {name: schema or lake_datasets()[name] for name, schema in datasets.items()}
    with _reader(lake_env) as reader:
        assert create_store_lake_views(reader, store, schemas) == list(schemas)
        [(lines, numbered)] = reader.execute(
            "select count(*), count(line_number) from lake.settlement_lines"
        ).fetchall()
        assert lines == numbered == local_lines > 0
        assert reader.execute("select count(*) from lake.settlements").fetchall() == [(1,)]
        assert reader.execute("select count(*) from lake.payments").fetchall() == [(0,)]  # nothing landed
        [(sql,)] = reader.execute(
            "select sql from duckdb_views() where schema_name = 'lake' and view_name = 'settlements'"
        ).fetchall()
    assert f"s3://{store.base}/settlements/{partition}/" in sql and str(tmp_path) not in sql
