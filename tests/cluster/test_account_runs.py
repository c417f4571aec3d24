"""`acorn run` on Celery workers is one run per group of neighbouring accounts, as many groups as workers answer,
so the accounts' steps spread over the workers (README "Scale-out", runs per group of accounts): with 2 workers and
3 simulated sellers, one of them refused by Amazon's token endpoint, there are 2 group runs (sim-na-001 and
sim-eu-002, then sim-na-003), their steps were executed by both workers, the refused account fails its group's run
alone (exit 3, its cause named), the two others (its group's neighbour included) are landed and recorded for their
partitions, and the build is not started from a partial lake, as in one run over every account.

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


def _run_tags(postgres_url: str, run_ids: list[str], key: str) -> dict[str, str]:
    import psycopg2

    with (
        contextlib.closing(psycopg2.connect(postgres_url, connect_timeout=5)) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "select run_id, value from run_tags where key = %s and run_id = any(%s)", [key, run_ids]
        )
        return dict(cursor.fetchall())


def test_one_run_per_group_of_accounts_spreads_over_the_workers_and_a_refused_account_fails_alone(
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
            runs = list(report.get("runs") or [])
            placed = account_steps_by_worker(instance_url, runs)
            landed = _materialized_partitions(instance_url, "lake/settlement_lines")
            groups = _run_tags(instance_url, runs, "acorn/accounts")
            outcomes = _run_tags(instance_url, runs, "acorn/outcome")
        finally:
            cluster.stop()
            empty_redis_database(broker)

    # One report, the exit code of the refused credentials (3), the refused account named as the one that failed.
    assert code == 3, report
    assert report["exit_code"] == 3
    problems = report["problems"]
    assert problems and all(f"failed: {REFUSED};" in problem for problem in problems), problems
    # One run per group of neighbours (2 workers answered: 2 groups), and no build run: the lake is not complete.
    assert report["build_run"] is None
    assert [groups[run] for run in runs] == ["sim-na-001,sim-eu-002", "sim-na-003"], groups
    # Each run tagged with its own outcome: the refused account's group could not run, the other group is ok.
    assert [outcomes[run] for run in runs] == ["could_not_run", "ok"], outcomes
    assert sorted(placed) == sorted(ACCOUNTS), placed
    # The groups' steps were executed by both workers.
    assert {worker for workers in placed.values() for worker in workers} == {"cluster-w1", "cluster-w2"}, (
        placed
    )
    # The other accounts (the refused one's neighbour in its group too) were landed and recorded for their
    # partitions; the refused one was not.
    assert landed == set(ACCOUNTS) - {REFUSED}
    for account in set(ACCOUNTS) - {REFUSED}:
        assert list((tmp_path / "data").glob(f"lake/**/account_id={account}/**/*.parquet")), account
