"""Silence is an alert: what a daily schedule nobody watches should have produced, and did not.

Two kinds of silence, per configured account:

- **runs** (every account): the Dagster job `acorn_daily` has not succeeded for the account for more than
  `failed_run_days` (default 2). A run covers an account when it has no `acorn/accounts` tag (all accounts) or
  the tag's comma-separated value names it. The clock starts at the account's last successful run, or at its
  first run when none ever succeeded; an account no run ever covered is not judged. `runs_failing` means runs
  were attempted and failed or were canceled; `runs_stopped` means none was attempted at all (the schedule is
  off or the daemon is down). A run still in progress, started less than a day ago, postpones the verdict.
- **Amazon silent** (seller accounts): no new settlement (`settlements_silent`) or no new Finances event group
  (`event_groups_silent`) in the lake for longer than the account's usual cycle plus `cycle_margin_days`
  (default 3). The usual cycle is the median gap between consecutive settlement period ends (`default_cycle_days`,
  14, with fewer than two). An account with nothing in the lake is judged from its first run.

Thresholds come from an optional `[alerts]` table of the accounts config (`config/accounts.example.toml`). The lake
is read with DuckDB aggregates over two small datasets; nothing is loaded whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lake.read import register
from orchestration.account_groups import ACCOUNTS_TAG  # a run without it covers every account
from spapi.config import Config
from spapi.errors import ConfigError

DAILY_JOB = "acorn_daily"
SETTLEMENTS = "settlements"
EVENT_GROUPS = "financial_event_groups"

RUNS_FAILING = "runs_failing"
RUNS_STOPPED = "runs_stopped"
SETTLEMENTS_SILENT = "settlements_silent"
EVENT_GROUPS_SILENT = "event_groups_silent"

FAILED = frozenset({dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED})
# A run younger than this that has not finished yet may still succeed: the runs verdict waits for it.
IN_PROGRESS_GRACE = timedelta(days=1)
_PAGE = 200
_DAY = 86400.0


class SilenceThresholds(BaseModel):
    """The `[alerts]` table of the accounts config; every key optional."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    failed_run_days: int = Field(default=2, ge=1)
    cycle_margin_days: int = Field(default=3, ge=0)
    default_cycle_days: int = Field(default=14, ge=1)


def alert_thresholds(config: Config, *, source: str = "<config>") -> SilenceThresholds:
    """The config's `[alerts]` thresholds (defaults for what it leaves out); ConfigError names a bad key."""
    table = config.extra.get("alerts", {})
    if not isinstance(table, Mapping):
        raise ConfigError(f"{source}: alerts: must be a table, e.g. [alerts] failed_run_days = 2")
    try:
        return SilenceThresholds.model_validate(dict(table))
    except ValidationError as error:
        problems = "; ".join(
            f"alerts.{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}"
            for issue in error.errors()
        )
        raise ConfigError(f"{source}: {problems}") from None


@dataclass(frozen=True)
class SilenceFinding:
    """One account gone quiet: `kind` is one of RUNS_FAILING, RUNS_STOPPED, SETTLEMENTS_SILENT,
    EVENT_GROUPS_SILENT; `days` how long (whole days); `message` names the numbers and what to do."""

    account_id: str
    kind: str
    message: str
    days: int


def silence_findings(
    instance: dg.DagsterInstance,
    config: Config,
    lake_dir: Path,
    now: datetime | None = None,
    *,
    thresholds: SilenceThresholds | None = None,
) -> list[SilenceFinding]:
    """Every silence of the configured accounts as of `now` (default: the wall clock), runs first.

    `instance` holds the run history (e.g. `dg.DagsterInstance.get()`), `lake_dir` is `<data>/lake`; the
    thresholds are the config's `[alerts]` table unless given.
    """
    now = _utc(now or datetime.now(UTC))
    limits = thresholds or alert_thresholds(config)
    account_ids = [account.id for account in config.accounts]
    histories = run_histories(instance, account_ids)
    findings = [
        finding
        for account_id in account_ids
        if (finding := _runs_finding(account_id, histories[account_id], now, limits)) is not None
    ]
    sellers = [account.id for account in config.accounts if account.kind == "seller"]
    if sellers:
        findings.extend(_amazon_findings(sellers, histories, lake_dir, now, limits))
    return findings


# --- runs ---------------------------------------------------------------------------------------------------


@dataclass
class RunHistory:
    """What the `acorn_daily` runs covering one account say: its last success and what came after it."""

    last_success: datetime | None = None
    first_run: datetime | None = None
    # (time, run id, status) of every run seen that did not succeed (since_reference keeps the recent ones).
    others: list[tuple[datetime, str, dg.DagsterRunStatus]] = field(default_factory=list)

    def add(self, at: datetime, run_id: str, status: dg.DagsterRunStatus) -> None:
        self.first_run = at if self.first_run is None else min(self.first_run, at)
        if status == dg.DagsterRunStatus.SUCCESS:
            self.last_success = at if self.last_success is None else max(self.last_success, at)
        else:
            self.others.append((at, run_id, status))

    def since_reference(self) -> list[tuple[datetime, str, dg.DagsterRunStatus]]:
        """The runs that did not succeed after the last success (all of them when none ever did), newest first."""
        after = self.last_success
        return sorted(
            (run for run in self.others if after is None or run[0] > after),
            key=lambda run: run[0],
            reverse=True,
        )


def covered_accounts(tags: Mapping[str, str], account_ids: Iterable[str]) -> list[str]:
    """The accounts a run covers: all of them without an `acorn/accounts` tag, else those the tag names."""
    ids = list(account_ids)
    if ACCOUNTS_TAG not in tags:
        return ids
    named = {part.strip() for part in tags[ACCOUNTS_TAG].split(",") if part.strip()}
    return [account_id for account_id in ids if account_id in named]


def run_histories(instance: dg.DagsterInstance, account_ids: list[str]) -> dict[str, RunHistory]:
    """Each account's `acorn_daily` history, read newest first in pages until every account has a success."""
    histories = {account_id: RunHistory() for account_id in account_ids}
    cursor: str | None = None
    while True:
        page = instance.get_run_records(filters=dg.RunsFilter(job_name=DAILY_JOB), limit=_PAGE, cursor=cursor)
        for record in page:
            run = record.dagster_run
            at = _run_time(record)
            for account_id in covered_accounts(run.tags, account_ids):
                histories[account_id].add(at, run.run_id, run.status)
        if len(page) < _PAGE or all(h.last_success is not None for h in histories.values()):
            return histories
        cursor = page[-1].dagster_run.run_id


def _run_time(record: dg.RunRecord) -> datetime:
    """When a run last said something: its end, else its start, else its creation."""
    moment = record.end_time if record.end_time is not None else record.start_time
    return datetime.fromtimestamp(moment, UTC) if moment is not None else _utc(record.create_timestamp)


def _runs_finding(
    account_id: str, history: RunHistory, now: datetime, limits: SilenceThresholds
) -> SilenceFinding | None:
    if history.first_run is None:
        return None  # no run ever covered the account: nothing to be silent against yet
    reference = history.last_success or history.first_run
    quiet = now - reference
    if quiet <= timedelta(days=limits.failed_run_days):
        return None
    since = history.since_reference()
    pending = [run for run in since if run[2] not in FAILED and now - run[0] < IN_PROGRESS_GRACE]
    if pending:
        return None
    days = int(quiet.total_seconds() // _DAY)
    failed = [run for run in since if run[2] in FAILED]
    if history.last_success is not None:
        head = (
            f"{DAILY_JOB} has not succeeded for {account_id} in {days} days "
            f"(last success {_when(history.last_success)}; alert after {limits.failed_run_days})"
        )
    else:
        head = (
            f"{DAILY_JOB} has never succeeded for {account_id} since its first run {days} days ago "
            f"({_when(history.first_run)}; alert after {limits.failed_run_days})"
        )
    if failed:
        latest_at, latest_id, latest_status = failed[0]
        message = (
            f"{head}: {len(failed)} run(s) failed or were canceled since, the latest {latest_id[:8]} "
            f"({latest_status.value} {_when(latest_at)}). Open that run in the Dagster UI (make ui), fix the "
            f"failing step (`acorn doctor` checks credentials and access), then run {DAILY_JOB} again."
        )
        return SilenceFinding(account_id, RUNS_FAILING, message, days)
    message = (
        f"{head}: no run was attempted since. Turn on acorn_daily_schedule and keep the Dagster daemon "
        f"running (make ui), or run {DAILY_JOB} by hand."
    )
    return SilenceFinding(account_id, RUNS_STOPPED, message, days)


# --- Amazon silent --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LakeLatest:
    last_at: datetime | None
    count: int
    cycle_days: float | None = None


_SETTLEMENTS_SQL = """
with ends as (
    select distinct account_id, period_end_at
    from lake_rows
    where account_id is not null and period_end_at is not null
), gaps as (
    select account_id, period_end_at,
        epoch(period_end_at) - epoch(lag(period_end_at) over (partition by account_id order by period_end_at))
            as gap_seconds
    from ends
)
select account_id, epoch(max(period_end_at)), count(*), median(gap_seconds) / 86400.0
from gaps group by account_id
"""

_EVENT_GROUPS_SQL = """
select account_id, epoch(max(started_at)), count(*)
from lake_rows
where account_id is not null
group by account_id
"""


def _lake_latest(lake_dir: Path, dataset: str, sql: str) -> dict[str, _LakeLatest]:
    with duckdb.connect() as connection:
        if not register(connection, lake_dir, dataset, "lake_rows"):
            return {}
        rows = connection.execute(sql).fetchall()
    return {
        row[0]: _LakeLatest(
            last_at=None if row[1] is None else datetime.fromtimestamp(row[1], UTC),
            count=int(row[2]),
            cycle_days=row[3] if len(row) > 3 and row[3] is not None else None,
        )
        for row in rows
    }


def _amazon_findings(
    sellers: list[str],
    histories: Mapping[str, RunHistory],
    lake_dir: Path,
    now: datetime,
    limits: SilenceThresholds,
) -> list[SilenceFinding]:
    settlements = _lake_latest(lake_dir, SETTLEMENTS, _SETTLEMENTS_SQL)
    groups = _lake_latest(lake_dir, EVENT_GROUPS, _EVENT_GROUPS_SQL)
    findings = []
    for account_id in sellers:
        latest = settlements.get(account_id)
        cycle = float(limits.default_cycle_days)
        if latest is not None and latest.count >= 2 and latest.cycle_days is not None:
            cycle = latest.cycle_days
        allowed = cycle + limits.cycle_margin_days
        first_run = histories[account_id].first_run
        for kind, found, what, newest, fix in (
            (
                SETTLEMENTS_SILENT,
                latest,
                "settlement",
                "its latest settlement period ended",
                "Look for a held or failed disbursement in Seller Central (Payments > Statement view) and at "
                "the acorn_daily run's settlement step; `acorn doctor` checks the account's Reports access.",
            ),
            (
                EVENT_GROUPS_SILENT,
                groups.get(account_id),
                "Finances event group",
                "its latest event group started",
                "Check the account's Finances access with `acorn doctor` and the acorn_daily run's finances_v0 "
                "step; Amazon opens a group each settlement cycle.",
            ),
        ):
            if found is not None and found.last_at is not None:
                quiet = now - found.last_at
                start = f"{newest} {_when(found.last_at)}"
            elif first_run is not None:
                quiet = now - first_run
                start = f"none has landed since its first run {_when(first_run)}"
            else:
                continue
            if quiet.total_seconds() / _DAY <= allowed:
                continue
            days = int(quiet.total_seconds() // _DAY)
            message = (
                f"no new {what} for {account_id} in {days} days ({start}); its usual cycle is "
                f"{cycle:g} days, alert after {allowed:g} (cycle + {limits.cycle_margin_days} days margin). "
                f"{fix}"
            )
            findings.append(SilenceFinding(account_id, kind, message, days))
    return findings


# --- helpers ---------------------------------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
