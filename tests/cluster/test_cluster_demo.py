"""The scale-out mode's proof on this machine (README "Scale-out"): the daily job for many simulated accounts with its
steps on 3 Celery worker processes (Redis broker, Dagster instance in a fresh PostgreSQL database) builds, as a
DuckLake catalog in another fresh PostgreSQL database with its Parquet on moto's S3 server on loopback, the same
warehouse, row for row and to the cent, as the embedded mode builds into its file; every raw object the workers
archived is on the object store too (each one downloaded and hashed); and so it is when one worker is killed
with SIGKILL in the middle of a step: the run notices, executes the step on another worker and completes, with
nothing counted twice. The workers share no disk: each has a data dir and a Dagster home of its own (the object
store holds the lake they land into and read, PostgreSQL their account locks). Every worker calls one simulator
process, which enforces Amazon's limits per account and operation whoever calls and logs every 429: requests from
several workers' processes reached it, none over an account's limit.

Marked `cluster`: left out of `make test` (it needs PostgreSQL on 127.0.0.1:5432 and Redis on 6379, and takes
minutes); `make test-cluster` runs it. Scaled down from `make demo-cluster` in accounts only as far as time asks
(4 sellers, both regions), never in moving parts: 3 workers, the broker, PostgreSQL, the object store, DuckLake,
dbt and every check.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from acorn_cli.cluster_demo import ClusterOutcome, run_cluster_demo
from simulator.ledger.catalog import simulated_seller_id

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

ACCOUNTS = 4
WORKERS = 3


def _assert_identical(outcome: ClusterOutcome) -> None:
    assert outcome.cluster.exit_code != 3, outcome.cluster.report
    assert outcome.differences == []
    assert outcome.cluster.exit_code == outcome.embedded.exit_code
    # Every simulated account reached the marts, in both regions' currencies.
    assert outcome.rows["marts.dim_account"] == ACCOUNTS
    assert outcome.rows["marts.fct_settlement_lines"] > 0
    # The cluster's data were on the object store: the catalog's Parquet, a complete copy of the raw archive and
    # the lake.
    assert outcome.store_problems == []
    assert outcome.store_counts["warehouse files"] > 0
    assert outcome.store_counts["raw objects"] > 0
    assert outcome.store_counts["manifest rows"] >= outcome.store_counts["raw objects"]
    # The lake too: every partition the workers landed is there, each a file and its pointer at least.
    assert outcome.store_counts["lake partitions"] > 0
    assert outcome.store_counts["lake objects"] >= 2 * outcome.store_counts["lake partitions"]


def test_celery_workers_build_the_embedded_warehouse(tmp_path: Path) -> None:
    outcome = run_cluster_demo(accounts=ACCOUNTS, workers=WORKERS, work=tmp_path, redis_db=13)
    _assert_identical(outcome)
    # The steps were spread over the workers: more than one took some (the extraction assets run side by side).
    used = outcome.cluster.steps_by_worker
    assert set(used) <= {f"cluster-w{n}" for n in range(1, WORKERS + 1)}
    assert len(used) >= 2, used
    assert sum(used.values()) >= 10, used
    # `acorn run` was one run per group of accounts (as many as workers answered: 3 groups of 4 accounts), then
    # the build; every account's steps ran on the workers, which between them took steps of several accounts.
    accounts = outcome.cluster.account_steps
    assert sorted(accounts) == sorted(simulated_seller_id(n) for n in range(1, ACCOUNTS + 1)), accounts
    assert len(outcome.cluster.report["runs"]) == WORKERS + 1
    assert outcome.cluster.group_runs == WORKERS
    assert len({worker for workers in accounts.values() for worker in workers}) >= 2, accounts
    # No disk shared: every worker (and the `acorn run` process) had a data dir and a Dagster home of its own,
    # so what one worker landed reached the others through the object store (and the account locks through
    # PostgreSQL: no flock file in any data dir).
    started = sorted(tmp_path.glob("cluster-w*-data"))
    assert outcome.store_counts["worker data dirs"] == len(started) == WORKERS
    assert sorted(tmp_path.glob("cluster-w*-home")) and (tmp_path / "cluster-data").is_dir()
    assert not list(tmp_path.glob("cluster-*/.acorn-locks/spapi-*.lock"))
    # The embedded run's account locks are the data dir's flock files, as before.
    assert list(tmp_path.glob("embedded-data/.acorn-locks/spapi-*.lock"))
    for data_dir in started:
        assert (data_dir / "lake").is_dir(), data_dir
    _assert_one_simulator_within_limits(outcome, tmp_path)


def _assert_one_simulator_within_limits(outcome: ClusterOutcome, work: Path) -> None:
    """One simulator process served every worker's SP-API calls, and no 429 showed two workers overrunning an
    account's limit (README "Scale-out": rate limits across workers)."""
    ledger = outcome.simulator
    assert ledger is not None
    # The workers' config names it (each account's endpoints, a real account's fields), and starts none itself.
    config = (work / "cluster-accounts.toml").read_text()
    assert "shared = true" in config
    assert config.count('lwa_endpoint = "http://127.0.0.1:') == ACCOUNTS
    # Every account's calls reached that one process, from the workers' processes only (their pids), at least two
    # of them; so the limits it enforced were the accounts' across the workers.
    assert sorted(ledger.usage) == sorted(simulated_seller_id(n) for n in range(1, ACCOUNTS + 1)), (
        ledger.usage
    )
    assert all(usage.requests > 0 for usage in ledger.usage.values())
    assert set(ledger.callers.values()) <= {f"cluster-w{n}" for n in range(1, WORKERS + 1)}, ledger.callers
    assert len(ledger.workers_seen) >= 2, ledger.callers
    # Several workers called one account (one after the other, under its lock), handing its buckets over.
    assert any(len({ledger.callers[c] for c in usage.callers}) >= 2 for usage in ledger.usage.values())
    assert sorted(outcome.buckets_handed_over) == sorted(ledger.usage)
    # Zero limit overruns: the clean profile injects no 429, so each one would be callers over the limit.
    assert ledger.over_limit == 0, ledger.overruns()
    assert all(usage.injected_throttles == 0 for usage in ledger.usage.values())
    assert ledger.token_leaks == 0  # the access token went to the SP-API origins only
    assert outcome.limits_held and outcome.exit_code == 0


def test_a_worker_killed_mid_step_is_noticed_by_the_run_which_completes_on_the_others(tmp_path: Path) -> None:
    outcome = run_cluster_demo(
        accounts=ACCOUNTS, workers=WORKERS, work=tmp_path, redis_db=14, kill_worker_at="settlement_reports"
    )
    # After the SIGKILL nothing was sent to `acorn run`: it ended by itself (run_cluster_demo gives it
    # KILLED_RUN_TIMEOUT seconds, else CouldNotStart), having noticed the lost worker and submitted the step again
    # to another one, so it completed on the remaining workers and no re-run was needed.
    assert outcome.interrupted is not None and outcome.killed is not None and outcome.killed_step is not None
    assert outcome.interrupted.exit_code == outcome.embedded.exit_code, outcome.interrupted.report
    [lost] = outcome.lost_messages
    assert outcome.killed in lost and outcome.killed_step[1] in lost and "submitted again" in lost
    first, *others = outcome.killed_step_workers
    assert first == outcome.killed
    assert others and outcome.killed not in others, outcome.killed_step_workers
    # The warehouse built by that run equals the embedded one, nothing counted twice (EXCEPT ALL both ways).
    _assert_identical(outcome)
