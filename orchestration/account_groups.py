"""The daily job over several accounts on Celery workers: one run per group of neighbouring accounts, then one
build run (README "Scale-out", runs per group of accounts). Shared by `acorn run` (acorn_cli/runs.py, which
executes the runs itself) and the daemon's schedule (orchestration/scheduled_groups.py, which requests them).

- `answering_workers`: the Celery workers that answer a ping (as many groups as answered);
- `account_groups`: the config's accounts cut into that many groups of neighbours (each one partition range);
- `group_run_tags`: a group run's tags (its partition or partition range, and `acorn/accounts`);
- `daily_parts`: the daily job split into its account-partitioned assets (the group runs) and the rest (the build
  run: the warehouse and every check).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from orchestration.account_partitions import partition_tags

# How long a ping waits for the workers' answers.
WORKER_PING_SECONDS = 3.0
# The run tag naming the accounts a run covers, comma-separated (group runs, `acorn run --account`); the silence
# alert reads it (orchestration/quality/silence.py).
ACCOUNTS_TAG = "acorn/accounts"


@dataclass(frozen=True)
class RunSubset:
    """Part of a job, as the UI runs it when a person selects some of its assets or checks: these assets (none:
    a run of checks alone) and these checks."""

    assets: frozenset[dg.AssetKey]
    checks: frozenset[dg.AssetCheckKey]
    # Tags of the run beside the command's (`acorn build`'s scoped run: orchestration/warehouse/scoped_run.py).
    tags: Mapping[str, str] = field(default_factory=dict)


def answering_workers(timeout: float = WORKER_PING_SECONDS) -> list[str]:
    """The names of the Celery workers that answer a ping on the configured broker (none when it is down). A worker
    busy with a step (the solo pool) cannot answer."""
    from orchestration.celery_app import app

    try:
        replies = app.control.ping(timeout=timeout) or []
    except Exception:  # the broker is down or refuses: no worker can be reached through it
        return []
    return sorted(name for reply in replies for name in reply)


def account_groups(accounts: Sequence[str], groups: int) -> list[list[str]]:
    """`accounts` (in the config's order) cut into `groups` runs of neighbours (each one partition range), their
    sizes differing by one at most, the larger first; never an empty group."""
    count = max(1, min(groups, len(accounts)))
    size, larger = divmod(len(accounts), count)
    cut: list[list[str]] = []
    start = 0
    for index in range(count):
        end = start + size + (1 if index < larger else 0)
        cut.append(list(accounts[start:end]))
        start = end
    return cut


def group_run_tags(group: Sequence[str]) -> dict[str, str]:
    """A group run's tags: its accounts' partition (one account) or partition range, and the accounts it covers."""
    return {**partition_tags(list(group)), ACCOUNTS_TAG: ",".join(group)}


def daily_parts(job: Any) -> tuple[RunSubset, RunSubset]:
    """An asset job split in two: its account-partitioned assets (the extraction and landing, without their
    checks), and the rest (the unpartitioned assets, the warehouse build, and every check of the job)."""
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    assets = job.selection.resolve(graph)
    partitioned = frozenset(key for key in assets if graph.get(key).partitions_def is not None)
    checks = frozenset(job.selection.resolve_checks(graph))
    return RunSubset(partitioned, frozenset()), RunSubset(frozenset(assets) - partitioned, checks)
