"""`acorn import FILE` on a Celery worker that shares no disk with the importing host (README "Scale-out"): two
data dirs stand for two hosts. A real `acorn worker` process has a data dir and a Dagster home of its own; `acorn
import` runs from another data dir and Dagster home, with the file in a folder only it reads. The file reaches the
worker through the object store (moto's S3 server on loopback) by its sha256: the worker archives and lands it
(the submitting host archives and lands nothing), a second import of the same file is a duplicate and sends
nothing more, a malformed file is quarantined whole on the worker naming its file and line, and the store's
secret key is in no output, no run config or tag, and no file.

Marked `cluster` (PostgreSQL on 127.0.0.1:5432 for the Dagster instance, a database named with `storeimport`;
Redis on 6379, db 11): `make test-cluster`, not `make test`.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from acorn_cli.cluster_demo import (
    ACORN,
    REDIS_URL,
    Cluster,
    base_env,
    empty_redis_database,
    fresh_postgres_database,
    secret_leaks,
)
from acorn_cli.loopback_s3 import loopback_s3
from transforms.archive import ObjectStoreCopy, RawArchive

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

REDIS_DB = 10  # its own: 11 is `make demo-cluster`'s default, 12 to 15 the other cluster tests'
SAMPLE = (
    Path(__file__).resolve().parents[1]
    / "fixtures/shared/settlement-samples/xieyi138_US_v2_synthetic_settlement-sample.txt"
)
CONFIG = '[[accounts]]\nid = "store-na"\nregion = "na"\nmarketplaces = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]\n'


def _import(env: dict[str, str], *files: Path) -> tuple[int, dict, str]:
    done = subprocess.run(
        [str(ACORN), "import", "--json", *map(str, files)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        report = {}
    return done.returncode, report, done.stdout + done.stderr


def _runs_config_and_tags(postgres_url: str) -> str:
    import psycopg2

    with (
        contextlib.closing(psycopg2.connect(postgres_url, connect_timeout=5)) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute("select run_body from runs")
        bodies = [row[0] for row in cursor.fetchall()]
        cursor.execute("select key, value from run_tags")
        tags = cursor.fetchall()
    return json.dumps({"runs": bodies, "tags": tags}, default=str)


def test_acorn_import_lands_on_a_worker_that_shares_no_disk(tmp_path: Path) -> None:
    config = tmp_path / "accounts.toml"
    config.write_text(CONFIG)
    downloads = tmp_path / "submit-downloads"  # only the submitting host has these files
    downloads.mkdir()
    good = downloads / SAMPLE.name
    shutil.copyfile(SAMPLE, good)
    lines = SAMPLE.read_text(encoding="utf-8").split("\n")
    lines[4] = lines[4].rsplit("\t", 3)[0]  # line 5 loses its last three fields
    bad = downloads / "bad.txt"
    bad.write_text("\n".join(lines), encoding="utf-8")
    broker = f"{REDIS_URL}/{REDIS_DB}"
    empty_redis_database(broker)
    secret = f"sk-{uuid.uuid4().hex}"
    with (
        loopback_s3("acorn-storeimport", secret) as store,
        fresh_postgres_database(prefix="acorn_storeimport") as instance_url,
    ):
        env = {
            **base_env(tmp_path, config, "2026-01-01T00:00:00Z"),
            "DAGSTER_HOME": str(tmp_path / "submit-home"),
            "ACORN_DATA_DIR": str(tmp_path / "submit-data"),
            "ACORN_EXECUTOR": "celery",
            "ACORN_CELERY_BROKER_URL": broker,
            "ACORN_DAGSTER_POSTGRES_URL": instance_url,
            **store.env("storeimport"),
        }
        Path(env["DAGSTER_HOME"]).mkdir()
        logs = tmp_path / "logs"
        logs.mkdir()
        cluster = Cluster(env, logs)  # one worker, data dir cluster-w1-data and Dagster home of its own
        try:
            cluster.start(1)
            code, report, output = _import(env, good)
            assert code == 0, output
            [landed] = report["files"]
            assert landed["status"] == "imported" and landed["file"] == SAMPLE.name, landed
            again_code, again, again_output = _import(env, good)
            assert again_code == 0, again_output
            assert [f["status"] for f in again["files"]] == ["duplicate"], again
            bad_code, quarantined, bad_output = _import(env, bad)
            assert bad_code == 1, bad_output
            [bad_outcome] = quarantined["files"]
            assert bad_outcome["status"] == "quarantined", bad_outcome
            assert bad_outcome["message"].startswith("bad.txt (line 5): row has 21 fields"), bad_outcome
            runs = _runs_config_and_tags(instance_url)
        finally:
            cluster.stop()
            empty_redis_database(broker)
        # The worker archived and landed the file; the submitting host only carried its bytes to the store.
        worker = tmp_path / "cluster-w1-data"
        digest = __import__("hashlib").sha256(SAMPLE.read_bytes()).hexdigest()
        rows = list(RawArchive(worker / "raw", store=False).manifest())
        assert digest in {row["sha256"] for row in rows}
        assert list((worker / "lake" / "settlement_lines").rglob("*.parquet"))
        assert list((worker / "quarantine").glob("*.json"))  # bad.txt, quarantined on the worker
        submit = tmp_path / "submit-data"
        assert list(RawArchive(submit / "raw", store=False).manifest()) == []
        assert not list((submit / "lake").rglob("*.parquet"))
        # On the store: the two files' bytes once each, and the manifest rows the worker's archiving wrote.
        copy = ObjectStoreCopy.from_env(env)
        assert copy is not None
        assert len(copy.object_keys()) == 2
        assert copy.verify(RawArchive(worker / "raw", store=False)) == []
        # The runs named the files by sha256, with no credential.
        assert digest in runs and "stored_files" in runs
        for shown in (runs, output, again_output, bad_output):
            assert secret not in shown
        assert secret_leaks(tmp_path, secret) == []
