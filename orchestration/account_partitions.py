"""Account-level work is partitioned by account: one partition per account of the config.

Every extraction and landing asset (settlement reports, the Finances assets, vendor orders and invoices) shares
`ACCOUNT_PARTITIONS`, a StaticPartitionsDefinition of the config's account ids (ACORN_CONFIG, else the demo's),
read when the code location loads: adding an account to the config adds its partition on the next reload (the
UI's "Reload", a new `acorn` command, a restarted worker). Each asset reads the run's partition keys
(`context.partition_keys`: one for a run of one account, several for a run over a range) and lands those
accounts only, each into its own lake partitions (`account_id=<id>`), so a run or backfill of one account
rewrites no file of another.

Seller and vendor accounts share the one partitions definition (Dagster wants one per job): a seller asset in a
vendor account's partition (or the reverse) lands nothing and says so in its metadata (`not_applicable`).

Within a run over several accounts, an account that fails does not stop the others: they are landed, their
partitions are recorded as materialized, and the step then fails naming the account(s) that failed
(`AccountsFailed`, caused by the first account's error, so the run's exit code follows that cause).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import dagster as dg

from orchestration.configured_accounts import configured_accounts

if TYPE_CHECKING:
    from spapi.config import AccountConfig

# The run tag naming the one account a run is for (`acorn run --account`, `acorn backfill`); Dagster's run
# coordinator can limit runs per unique value of it (README, "Scale-out": rate limits across workers).
ACCOUNT_TAG = "acorn/account"
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def account_partition_keys() -> list[str]:
    """The config's account ids, in the config's order (none when the config does not load: every command
    then stops on the config before it starts a run)."""
    return [str(account["id"]) for account in configured_accounts()]


ACCOUNT_PARTITIONS = dg.StaticPartitionsDefinition(account_partition_keys())


def partition_tags(accounts: Sequence[str] | None = None) -> dict[str, str]:
    """The run tags of a run over `accounts` (one: that partition; None: every account, as one range)."""
    keys = ACCOUNT_PARTITIONS.get_partition_keys()
    if accounts is not None and len(accounts) == 1:
        return {PARTITION_TAG: accounts[0], ACCOUNT_TAG: accounts[0]}
    chosen = list(accounts) if accounts is not None else keys
    if not chosen:
        return {}
    positions = sorted(keys.index(account) for account in chosen)
    if positions != list(range(positions[0], positions[-1] + 1)):
        raise ValueError(f"accounts {', '.join(chosen)} are not one range of the config's order")
    return {RANGE_START_TAG: keys[positions[0]], RANGE_END_TAG: keys[positions[-1]]}


@dataclass
class AccountsRun:
    """The accounts of this run's partitions an asset applies to, and what became of each."""

    applicable: list[AccountConfig]
    not_applicable: list[str]
    done: list[str] = field(default_factory=list)
    failed: dict[str, BaseException] = field(default_factory=dict)

    def metadata(self) -> dict[str, Any]:
        return {
            "accounts_landed": dg.MetadataValue.json(self.done),
            "not_applicable": dg.MetadataValue.json(self.not_applicable),
        }


class AccountsFailed(Exception):
    """One or more accounts of a run over several failed; the others were landed."""


def run_accounts(
    context: dg.AssetExecutionContext,
    accounts: Iterable[AccountConfig],
    applies: Callable[[AccountConfig], bool],
) -> AccountsRun:
    """The configured accounts among the run's partition keys, split by whether the asset applies to them."""
    by_id = {account.id: account for account in accounts}
    keys = run_partition_keys(context) or list(by_id)
    unknown = [key for key in keys if key not in by_id]
    if unknown:
        raise dg.Failure(
            f"partition(s) {', '.join(unknown)} name no account of the config (removed since the code location "
            "loaded?): reload the code location"
        )
    applicable = [by_id[key] for key in keys if applies(by_id[key])]
    skipped = [key for key in keys if not applies(by_id[key])]
    if skipped:
        context.log.info(f"not applicable to {', '.join(skipped)}: nothing to land for them")
    return AccountsRun(applicable, skipped)


def run_partition_keys(context: dg.AssetExecutionContext) -> list[str] | None:
    """The run's account partitions; None for a run without any (a `materialize()` in a test, or an asset
    executed outside a partitioned job), which the assets take as every account of their config."""
    if context.has_partition_key or context.has_partition_key_range:
        return list(context.partition_keys)
    return None


T = TypeVar("T")


def each_account(
    context: dg.AssetExecutionContext, run: AccountsRun, work: Callable[[AccountConfig], T]
) -> Iterator[tuple[AccountConfig, T]]:
    """`work` for each applicable account in turn; a failure is recorded and the next account still runs."""
    for account in run.applicable:
        try:
            result = work(account)
        except Exception as error:
            context.log.error(f"{account.id}: failed: {type(error).__name__}: {error}")
            run.failed[account.id] = error
            continue
        run.done.append(account.id)
        yield account, result


def finish_accounts(context: dg.AssetExecutionContext, run: AccountsRun, keys: Sequence[dg.AssetKey]) -> None:
    """When an account failed: record the partitions that did land (and those the asset does not apply to) as
    materialized, then fail the step naming the failed accounts. Nothing when every account landed."""
    if not run.failed:
        return
    for account_id in [*run.done, *run.not_applicable]:
        for key in keys:
            context.log_event(
                dg.AssetMaterialization(
                    asset_key=key, partition=account_id, metadata={"account_id": account_id}
                )
            )
    first = next(iter(run.failed.values()))
    raise AccountsFailed(
        f"{len(run.failed)} account(s) failed: {', '.join(run.failed)}; landed: {', '.join(run.done) or 'none'} "
        f"(the first failure, of {next(iter(run.failed))}, is the cause)"
    ) from first


def waiting_logger(context: dg.AssetExecutionContext, account_id: str) -> Callable[[str], None]:
    """What a step says when another process holds the account's SP-API lock (spapi/account_lock.py)."""

    def said(holder: str) -> None:
        context.log.info(f"{account_id}: waiting for the account's SP-API lock, held by {holder}")

    return said


def backfill_run_config(since: date, today: date) -> dict[str, Any]:
    """The daily job's run config that makes one account's run re-read everything from `since` to `today`:
    the Finances and vendor assets' `lookback_days` reach back to `since` (their `history_days`, the first
    listing's reach, at least as far)."""
    days = (today - since).days + 1
    finances = {"lookback_days": days, "history_days": max(days, 180)}
    vendor = {"lookback_days": days}
    return {
        "ops": {
            "finances_v0": {"config": finances},
            "finances_transactions": {"config": finances},
            "vendor_purchase_orders": {"config": vendor},
            "vendor_invoices": {"config": vendor},
        }
    }
