"""`acorn run` on Celery workers is one run per account, so the accounts' steps spread over the workers (README
"Scale-out", per-account runs): with 2 workers and 3 simulated sellers, one of them refused by Amazon's token
endpoint, the account runs' steps were executed by both workers, the refused account fails alone (exit 3, its
cause named), the other two are landed and recorded for their partitions, and the build is not started from a
partial lake, as in one run over every account.

Marked `cluster` (PostgreSQL on 127.0.0.1:5432 and Redis on 6379): `make test-cluster`, not `make test`.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from acorn_cli.cluster_demo import (
    REDIS_URL,
    Cluster,
    _run_acorn,
    account_steps_by_worker,
    accounts_config,
    base_env,
    empty_redis_database,
    fresh_postgres_database,
)
from spapi.credentials import refresh_token_var

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

ACCOUNTS = ["sim-na-001", "sim-eu-002", "sim-na-003"]
REFUSED = "sim-eu-002"


def _materialized_partitions(postgres_url: str, asset: str) -> set[str]:
    import psycopg2

    with (
        contextlib.closing(psycopg2.connect(postgres_url, connect_timeout=5)) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "select distinct partition from event_logs where dagster_event_type = 'ASSET_MATERIALIZATION' "
            "and asset_key = %s",
            [json.dumps(asset.split("/"))],  # how Dagster keys an asset in its event log
        )
        return {partition for (partition,) in cursor.fetchall()}


def test_one_run_per_account_spreads_over_the_workers_and_a_refused_account_fails_alone(
    tmp_path: Path,
) -> None:
    config = tmp_path / "accounts.toml"
    config.write_text(accounts_config(len(ACCOUNTS)), encoding="utf-8")
    logs = tmp_path / "logs"
    logs.mkdir()
    broker = f"{REDIS_URL}/15"
    empty_redis_database(broker)
    day = datetime.now(UTC).strftime("%Y-%m-%dT00:00:00Z")
    with fresh_postgres_database() as instance_url:
        env = {
            **base_env(tmp_path, config, day),
            "DAGSTER_HOME": str(tmp_path / "home"),
            "ACORN_DATA_DIR": str(tmp_path / "data"),
            "ACORN_EXECUTOR": "celery",
            "ACORN_CELERY_BROKER_URL": broker,
            "ACORN_DAGSTER_POSTGRES_URL": instance_url,
            # The simulator's token endpoint refuses a refresh token starting with "invalid" (invalid_grant).
            refresh_token_var(REFUSED): "invalid-for-this-test",
        }
        Path(env["DAGSTER_HOME"]).mkdir()
        cluster = Cluster(env, logs)
        try:
            cluster.start(2)
            code, report, _ = _run_acorn(env, logs / "run.log")
            placed = account_steps_by_worker(instance_url, report.get("runs") or [])
            landed = _materialized_partitions(instance_url, "lake/settlement_lines")
        finally:
            cluster.stop()
            empty_redis_database(broker)

    # One report, the exit code of the refused credentials (3), the refused account named in every problem.
    assert code == 3, report
    assert report["exit_code"] == 3
    problems = report["problems"]
    assert problems and all(REFUSED in problem for problem in problems), problems
    assert not any(other in problem for problem in problems for other in set(ACCOUNTS) - {REFUSED})
    # One run per account (tagged with it), and no build run: the lake is not complete.
    assert len(report["runs"]) == len(ACCOUNTS)
    assert sorted(placed) == sorted(ACCOUNTS), placed
    # The accounts' steps were executed by both workers.
    assert {worker for workers in placed.values() for worker in workers} == {"cluster-w1", "cluster-w2"}, (
        placed
    )
    # The other accounts were landed and recorded for their partitions; the refused one was not.
    assert landed == set(ACCOUNTS) - {REFUSED}
    for account in set(ACCOUNTS) - {REFUSED}:
        assert list((tmp_path / "data").glob(f"lake/**/account_id={account}/**/*.parquet")), account
