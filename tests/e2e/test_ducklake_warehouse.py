"""The warehouse as a DuckLake catalog (README "Scale-out"), against the machine's PostgreSQL (a fresh database)
and an S3 API served by moto on loopback, with real `acorn` processes and real dbt.

The demo's lake, built into the catalog, equals the embedded warehouse the demo built, row for row and to the
cent, in every mart; a second build replaces, never duplicates; while a build runs, a second build stops at once
naming it and a reader sees the last published build, complete; `acorn doctor` names the catalog; and neither the
catalog's password nor the object store's secret key appears in any output or file.

Marked `cluster` (several minutes: a demo and two DuckLake builds): `make test-cluster`, not `make test`.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from acorn_process import REPO_ROOT, acorn, start_acorn
from demo_runs import run_demo
from pause_hook import pause_env, wait_until_paused
from postgres_server import fresh_database
from warehouse_marts import all_marts

from acorn_cli.loopback_s3 import LoopbackS3, loopback_s3

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

PASSWORD = f"pw-{uuid.uuid4().hex}"  # trust auth ignores it; it must never be shown
SECRET_KEY = f"sk-{uuid.uuid4().hex}"
BUCKET = "acorn-warehouse"


@pytest.fixture(scope="module")
def object_store() -> Iterator[LoopbackS3]:
    """moto's S3 server on loopback, with an empty bucket (acorn_cli/loopback_s3.py, shared with the cluster demo)."""
    pytest.importorskip("moto")
    with loopback_s3(BUCKET, SECRET_KEY) as server:
        yield server


@pytest.fixture(scope="module")
def scale_out_env(object_store: LoopbackS3) -> Iterator[dict[str, str]]:
    with fresh_database(PASSWORD) as url:
        yield {"ACORN_WAREHOUSE_CATALOG_URL": url, **object_store.env("demo")}


def _catalog_marts(env: dict[str, str], data_dir: Path) -> dict[str, list[tuple[Any, ...]]]:
    """The marts as a reader in another process sees them: the last published build in the catalog."""
    script = (
        "import os, pickle, sys\n"
        "from pathlib import Path\n"
        "from orchestration.published_warehouse import read_only\n"
        "sys.path.insert(0, 'tests/helpers')\n"
        "from warehouse_marts import all_marts\n"
        "with read_only(Path(os.environ['ACORN_DATA_DIR']) / 'warehouse.duckdb') as connection:\n"
        "    sys.stdout.buffer.write(pickle.dumps(all_marts(connection)))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env={**os.environ, **env, "ACORN_DATA_DIR": str(data_dir)},
        capture_output=True,
        check=False,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr.decode()[-3000:]
    marts: dict[str, list[tuple[Any, ...]]] = pickle.loads(completed.stdout)
    return marts


def _catalog_query(env: dict[str, str], data_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    """`sql` run by a reader in another process at the catalog's last published build, with `data_dir` as its
    data dir (an empty one: a host without the lake)."""
    script = (
        "import os, pickle, sys\n"
        "from pathlib import Path\n"
        "from orchestration.published_warehouse import read_only\n"
        "with read_only(Path(os.environ['ACORN_DATA_DIR']) / 'warehouse.duckdb') as connection:\n"
        "    sys.stdout.buffer.write(pickle.dumps(connection.execute(sys.argv[1]).fetchall()))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, sql],
        cwd=REPO_ROOT,
        env={**os.environ, **env, "ACORN_DATA_DIR": str(data_dir)},
        capture_output=True,
        check=False,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr.decode()[-3000:]
    rows: list[tuple[Any, ...]] = pickle.loads(completed.stdout)
    return rows


def _stored_objects(env: dict[str, str], folder: str = "warehouse") -> int:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=env["ACORN_S3_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_REGION"],
    )
    return int(client.list_objects_v2(Bucket=BUCKET, Prefix=f"demo/{folder}/")["KeyCount"])


def _assert_no_secret(texts: list[str], folders: list[Path]) -> None:
    for secret in (PASSWORD, SECRET_KEY):
        for text in texts:
            assert secret not in text
        for folder in folders:
            for path in folder.rglob("*"):
                if path.is_file() and not path.is_symlink():
                    assert secret.encode() not in path.read_bytes(), f"{secret[:3]}… in {path}"


def test_the_demo_built_into_ducklake_equals_the_embedded_warehouse(
    scale_out_env: dict[str, str], tmp_path: Path
) -> None:
    demo = run_demo(tmp_path, "clean", {})
    data_dir = Path(str(demo["data_dir"]))
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as connection:
        embedded = all_marts(connection)
    assert embedded["fct_payouts"] and embedded["fct_settlement_lines"]
    outputs: list[str] = []

    first = acorn(tmp_path, "build", env=scale_out_env)
    outputs += [first.stdout, first.stderr]
    # 1: the demo's deliberate ERROR on a drifted settlement file (the lake's check, as in an embedded rebuild).
    assert first.returncode in (0, 1), first.stderr[-3000:]
    assert "dbt build" in first.stderr and "✓ dbt build" in first.stderr, first.stderr[-3000:]
    catalog = _catalog_marts(scale_out_env, data_dir)
    assert catalog.keys() == embedded.keys()
    for name, rows in embedded.items():
        assert catalog[name] == rows, name
    assert any(isinstance(value, Decimal) for value in catalog["fct_payouts"][0])  # money stays DECIMAL
    assert _stored_objects(scale_out_env) > 0, "the catalog's Parquet files are not in the object store"
    # The lake is on the store too (the demo landed it before the store was set: the build copied it), and the
    # catalog's lake views read it there: a reader on a host without the lake reads the same rows.
    assert _stored_objects(scale_out_env, "lake") > 0, "the lake's Parquet is not in the object store"
    lake_counts = (
        "select (select count(*) from lake.settlement_lines), (select count(*) from lake.settlements), "
        "(select count(*) from lake.transactions)"
    )
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as connection:
        local_counts = connection.execute(lake_counts).fetchall()
    assert local_counts[0][0] > 0
    elsewhere = tmp_path / "a-host-without-the-lake"
    elsewhere.mkdir()
    assert _catalog_query(scale_out_env, elsewhere, lake_counts) == local_counts
    [(view_sql,)] = _catalog_query(
        scale_out_env,
        elsewhere,
        "select sql from duckdb_views() where schema_name = 'lake' and view_name = 'settlements'",
    )
    assert "s3://" in view_sql and str(data_dir) not in view_sql

    # A second build, stopped while dbt writes the catalog: a third build stops at once naming it, and a reader
    # sees the first build's marts, complete.
    marker = tmp_path / "paused.json"
    paused = start_acorn(
        tmp_path,
        "build",
        env={**scale_out_env, **pause_env("dbt-build", marker)},
    )
    try:
        wait_until_paused(paused, marker, "dbt-build", timeout=600)
        refused = acorn(tmp_path, "build", env=scale_out_env)
        outputs += [refused.stdout, refused.stderr]
        assert refused.returncode == 3, refused.stderr[-3000:]
        assert "Another build is writing the warehouse" in refused.stderr
        assert f"acorn build pid {paused.pid}" in refused.stderr
        during = _catalog_marts(scale_out_env, data_dir)
        for name, rows in embedded.items():
            assert during[name] == rows, name
    finally:
        marker.unlink(missing_ok=True)  # let it go on
        out, err = paused.communicate(timeout=900)
    outputs += [out, err]
    assert paused.returncode in (0, 1), err[-3000:]

    again = _catalog_marts(scale_out_env, data_dir)
    for name, rows in embedded.items():
        assert again[name] == rows, f"{name} after a second build"

    doctor = acorn(tmp_path, "doctor", env=scale_out_env)
    outputs += [doctor.stdout, doctor.stderr]
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    [line] = [line for line in doctor.stdout.splitlines() if line.startswith("ok   warehouse")]
    assert "DuckLake catalog postgresql://postgres:***@127.0.0.1:5432/" in line
    assert "last build published by run" in line

    # `acorn docs` documents the catalog at its last published build (generated only: no server here).
    catalog_json = REPO_ROOT / "dbt_project" / "target" / "catalog.json"
    catalog_json.unlink(missing_ok=True)
    docs = acorn(tmp_path, "docs", "--no-serve", env=scale_out_env)
    outputs += [docs.stdout, docs.stderr]
    assert docs.returncode == 0, docs.stderr[-3000:]
    assert "at its last published build" in docs.stderr
    documented = json.loads(catalog_json.read_text(encoding="utf-8"))
    nodes = {node["metadata"]["name"] for node in documented["nodes"].values()}
    assert {"fct_payouts", "fct_settlement_lines"} <= nodes
    assert documented["nodes"]["model.acorn.fct_payouts"]["metadata"]["database"] == "warehouse"

    _assert_no_secret(outputs, [tmp_path, REPO_ROOT / "dbt_project" / "target"])
