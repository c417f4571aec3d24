"""Helpers for the silence tests: `acorn_daily` runs backdated through their start and end events on a real
Dagster instance, and settlements and event groups written to a lake as Parquet."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
from dagster._core.events import DagsterEvent, DagsterEventType
from dagster._core.utils import make_new_run_id

from orchestration.quality.silence import ACCOUNTS_TAG
from transforms.finances.event_groups import FINANCIAL_EVENT_GROUPS_SCHEMA
from transforms.settlement import SETTLEMENTS_SCHEMA

END_EVENTS = {
    dg.DagsterRunStatus.SUCCESS: DagsterEventType.PIPELINE_SUCCESS,
    dg.DagsterRunStatus.FAILURE: DagsterEventType.PIPELINE_FAILURE,
    dg.DagsterRunStatus.CANCELED: DagsterEventType.PIPELINE_CANCELED,
}


def add_run(
    instance: dg.DagsterInstance,
    status: dg.DagsterRunStatus,
    at: datetime,
    accounts: str | None = None,
    job: str = "acorn_daily",
) -> str:
    """A run of `job` that started 10 minutes before `at` and ended at `at` with `status` (or is still going)."""
    tags = {} if accounts is None else {ACCOUNTS_TAG: accounts}
    run = instance.add_run(dg.DagsterRun(job_name=job, run_id=make_new_run_id(), tags=tags))
    start = DagsterEvent(event_type_value=DagsterEventType.PIPELINE_START.value, job_name=job)
    instance.report_dagster_event(start, run.run_id, timestamp=(at - timedelta(minutes=10)).timestamp())
    if status in END_EVENTS:
        end = DagsterEvent(event_type_value=END_EVENTS[status].value, job_name=job)
        instance.report_dagster_event(end, run.run_id, timestamp=at.timestamp())
    assert instance.get_run_by_id(run.run_id).status == status  # type: ignore[union-attr]
    return run.run_id


def write_settlements(
    lake: Path, account_id: str, ends: list[datetime], cycle: int = 14, marketplace: str = "com"
) -> None:
    """One partition per settlement, as the importer writes them (only the columns that matter filled in)."""
    for index, end in enumerate(ends):
        settlement_id = f"{account_id}-{marketplace}-{index}"
        row = {
            "settlement_id": settlement_id,
            "account_id": account_id,
            "source_layout": "flat_file_v2",
            "currency": "USD",
            "period_start_at": end - timedelta(days=cycle),
            "period_end_at": end,
            "raw_sha256": f"sha-{settlement_id}",
        }
        folder = lake / "settlements" / f"settlement_id={settlement_id}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist([row], schema=SETTLEMENTS_SCHEMA), folder / "part-0.parquet")


def write_event_groups(lake: Path, account_id: str, starts: list[datetime]) -> None:
    rows = [
        {
            "account_id": account_id,
            "financial_event_group_id": f"{account_id}-group-{index}",
            "processing_status": "Open" if index == len(starts) - 1 else "Closed",
            "started_at": start,
            "observed_at": starts[-1],
            "source_sha256": "sha",
        }
        for index, start in enumerate(starts)
    ]
    folder = lake / "financial_event_groups" / f"account_id={account_id}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.Table.from_pylist(rows, schema=FINANCIAL_EVENT_GROUPS_SCHEMA), folder / "part-0.parquet"
    )
