"""Finances v0 into the lake: event groups of every seller account, and their events for accounts reading v0.

Lake layout (one folder level under each dataset):
- `financial_event_groups/account_id=<id>/`: the latest state of each group;
- `financial_event_group_history/account_id=<id>/`: one row per distinct state of a group (status changes);
- `financial_events/account_id=<id>,group=<group id>/`: every money component of the group's events;
- `financial_events_unknown/account_id=<id>,group=<group id>/`: events of unknown lists, verbatim.
A group's events partition is rebuilt from all its pages whenever the group is re-read (selection.py says
when), so late-posting events are added and nothing is ever counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from lake.partitions import (
    partition_name,
    read_partition,
    write_partition,
)
from lake.read import LakeSource, connect, register
from orchestration.finances.selection import KnownGroup, groups_listing_start, groups_to_read
from orchestration.raw_pages import archive_page
from spapi.calls import FinancesV0Calls
from spapi.config import AccountConfig
from transforms.archive import RawArchive
from transforms.finances.event_groups import (
    FINANCIAL_EVENT_GROUP_HISTORY_SCHEMA,
    FINANCIAL_EVENT_GROUPS_SCHEMA,
    financial_event_groups_table,
    merge_event_groups,
)
from transforms.finances.v0_events import (
    FINANCIAL_EVENTS_SCHEMA,
    FINANCIAL_EVENTS_UNKNOWN_SCHEMA,
    financial_events_tables,
)

GROUPS = "financial_event_groups"
GROUP_HISTORY = "financial_event_group_history"
EVENTS = "financial_events"
EVENTS_UNKNOWN = "financial_events_unknown"

GROUP_SORT = ("account_id", "financial_event_group_id")
HISTORY_SORT = ("account_id", "financial_event_group_id", "first_observed_at", "processing_status")
EVENT_SORT = ("source_sha256", "component_key")
UNKNOWN_SORT = ("source_sha256", "event_list", "event_index")


@dataclass
class V0Outcome:
    """What one account's v0 run did (Dagster metadata)."""

    account_id: str
    groups_listed: int = 0
    groups_read: list[str] = field(default_factory=list)
    pages: int = 0
    event_rows: int = 0
    unknown_rows: int = 0
    partitions_changed: int = 0


def account_partition(account_id: str) -> str:
    return partition_name(account_id=account_id)


def group_partition(account_id: str, group_id: str) -> str:
    return partition_name(account_id=account_id, group=group_id)


def landed_groups(lake: Path, account_id: str) -> dict[str, KnownGroup]:
    """The groups whose events are already in the lake, with the state they had when they were read.

    A group counts as landed only when both its latest state and its events partition (possibly empty, which
    is written as no partition) were written by a run that finished the group.
    """
    latest = read_partition(lake, GROUPS, account_partition(account_id), FINANCIAL_EVENT_GROUPS_SCHEMA)
    if latest is None:
        return {}
    return {
        row["financial_event_group_id"]: KnownGroup(
            row["financial_event_group_id"], row["processing_status"], row["ended_at"]
        )
        for row in latest.to_pylist()
    }


def land_v0(
    client: FinancesV0Calls,
    account: AccountConfig,
    *,
    lake: Path,
    archive: RawArchive,
    now: datetime,
    lookback_days: int,
    history_days: int,
) -> V0Outcome:
    """List the account's event groups, (re)read the events of the groups that need it, update the lake."""
    outcome = V0Outcome(account.id)
    before = landed_groups(lake, account.id)
    observed: list[pa.Table] = []
    started_after = groups_listing_start(now=now, history_days=history_days)
    for page in client.iter_financial_event_groups(started_after=started_after):
        sha = archive_page(archive, page, account_id=account.id)
        outcome.pages += 1
        observed.append(
            financial_event_groups_table(page.body, account_id=account.id, source_sha256=sha, observed_at=now)
        )
    listed = pa.concat_tables(observed) if observed else FINANCIAL_EVENT_GROUPS_SCHEMA.empty_table()
    outcome.groups_listed = listed.num_rows

    if account.reads_v0_events:
        listed_groups = [
            KnownGroup(row["financial_event_group_id"], row["processing_status"], row["ended_at"])
            for row in listed.to_pylist()
        ]
        for group_id in groups_to_read(listed_groups, before, now=now, lookback_days=lookback_days):
            _land_group_events(client, account, group_id, lake=lake, archive=archive, outcome=outcome)
            outcome.groups_read.append(group_id)

    # Groups are written last: a group's new state reaches the lake only after its events did, so a run that
    # dies half-way re-reads the groups it did not finish.
    history = read_partition(
        lake, GROUP_HISTORY, account_partition(account.id), FINANCIAL_EVENT_GROUP_HISTORY_SCHEMA
    )
    current = read_partition(lake, GROUPS, account_partition(account.id), FINANCIAL_EVENT_GROUPS_SCHEMA)
    latest, merged_history = merge_event_groups(history, changed_observations(current, listed))
    for dataset, table, keys in (
        (GROUP_HISTORY, merged_history, HISTORY_SORT),
        (GROUPS, latest, GROUP_SORT),
    ):
        written = write_partition(lake, dataset, account_partition(account.id), table, sort_keys=keys)
        outcome.partitions_changed += int(written.changed)
    return outcome


def changed_observations(current: pa.Table | None, listed: pa.Table) -> pa.Table:
    """The listed groups that differ from the lake's latest state in anything but when and where seen.

    An observation that only confirms what the lake already holds is not recorded, so a re-run over unchanged
    groups writes identical Parquet; `observed_at` is thus when a state was first seen.
    """
    if current is None or current.num_rows == 0:
        return listed
    ignored = {"observed_at", "source_sha256"}
    compared = [name for name in FINANCIAL_EVENT_GROUPS_SCHEMA.names if name not in ignored]
    known = {tuple(row[name] for name in compared) for row in current.select(compared).to_pylist()}
    keep = [tuple(row[name] for name in compared) not in known for row in listed.select(compared).to_pylist()]
    return listed.filter(pa.array(keep, type=pa.bool_()))


def _land_group_events(
    client: FinancesV0Calls,
    account: AccountConfig,
    group_id: str,
    *,
    lake: Path,
    archive: RawArchive,
    outcome: V0Outcome,
) -> None:
    events: list[pa.Table] = []
    unknown: list[pa.Table] = []
    for page in client.iter_financial_events_by_group(group_id):
        sha = archive_page(archive, page, account_id=account.id)
        outcome.pages += 1
        known, other = financial_events_tables(
            page.body, account_id=account.id, source_sha256=sha, financial_event_group_id=group_id
        )
        events.append(known)
        unknown.append(other)
    partition = group_partition(account.id, group_id)
    event_table = pa.concat_tables(events) if events else FINANCIAL_EVENTS_SCHEMA.empty_table()
    unknown_table = pa.concat_tables(unknown) if unknown else FINANCIAL_EVENTS_UNKNOWN_SCHEMA.empty_table()
    for dataset, table, keys in (
        (EVENTS, event_table, EVENT_SORT),
        (EVENTS_UNKNOWN, unknown_table, UNKNOWN_SORT),
    ):
        written = write_partition(lake, dataset, partition, table, sort_keys=keys)
        outcome.partitions_changed += int(written.changed)
    outcome.event_rows += event_table.num_rows
    outcome.unknown_rows += unknown_table.num_rows


def unknown_event_lists(lake: LakeSource) -> dict[str, int]:
    """Rows per unknown event list name in the catch-all (for the warning check): the local lake, or the object
    store's current files (lake/read.py `StoreFiles`), counted in DuckDB."""
    with connect(lake) as connection:
        if not register(connection, lake, EVENTS_UNKNOWN, "unknown_events"):
            return {}
        rows = connection.execute(
            "select event_list, count(*) from unknown_events group by event_list order by event_list"
        ).fetchall()
    return {str(name): int(count) for name, count in rows}
