"""Account-level work is partitioned by account: the partition set follows the config, a run of one account's
partition rewrites no file of another, an account that fails in a run over several leaves the others landed (and
recorded as materialized), and an asset in a partition it does not apply to lands nothing and says so.

The runs are real Dagster runs of the finance and vendor assets against the bundled simulator (the demo config:
demo-na and demo-eu sellers, demo-vendor a vendor)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest

from orchestration.account_partitions import (
    ACCOUNT_PARTITIONS,
    RANGE_END_TAG,
    RANGE_START_TAG,
    partition_tags,
)
from orchestration.finances import assets as finance_assets
from orchestration.paths import REPO_ROOT
from orchestration.resources import DataDirResource, SpApiResource
from orchestration.step_failures import step_failure
from orchestration.vendor_orders import assets as vendor_assets
from spapi.config import AccountConfig
from spapi.errors import SpApiServerError

FAST = {"lookback_days": 7, "history_days": 30}


class FailingSpApi(SpApiResource):
    """The bundled simulator, except that one account's every call fails as Amazon's 503 after retries would."""

    failing_account: str = ""

    @contextmanager
    def client(self, account: AccountConfig, on_wait: object = None) -> Iterator:  # type: ignore[override]
        if account.id == self.failing_account:
            raise SpApiServerError(
                "listFinancialEventGroups",
                account.id,
                503,
                "ServiceUnavailable",
                f"simulated outage of {account.id}",
                None,
            )
        with super().client(account) as client:
            yield client


def _v0_run(
    data: Path,
    instance: dg.DagsterInstance,
    *,
    partition: str | None = None,
    tags: dict[str, str] | None = None,
    failing: str = "",
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*finance_assets.external_specs, finance_assets.finances_v0],
        partition_key=partition,
        tags=tags,
        resources={
            "spapi": FailingSpApi(failing_account=failing),
            "data": DataDirResource(data_dir=str(data)),
        },
        run_config={"ops": {"finances_v0": {"config": FAST}}},
        instance=instance,
        raise_on_error=False,
    )


def _files_of(lake: Path, account: str) -> dict[str, tuple[str, int]]:
    """Each lake file of one account's partitions: its bytes' digest and when it was last written."""
    return {
        str(path.relative_to(lake)): (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
        for path in sorted(lake.rglob("*.parquet"))
        if f"account_id={account}" in str(path)
    }


def _materialized_partitions(instance: dg.DagsterInstance, key: dg.AssetKey) -> set[str]:
    return set(instance.get_materialized_partitions(key))


def test_the_demo_configs_accounts_are_the_partitions() -> None:
    assert ACCOUNT_PARTITIONS.get_partition_keys() == ["demo-na", "demo-eu", "demo-vendor"]
    for job in ("acorn_daily", "settlement_import"):
        from orchestration.definitions import defs

        assert defs.resolve_job_def(job).partitions_def == ACCOUNT_PARTITIONS
    assert partition_tags(["demo-eu"]) == {"dagster/partition": "demo-eu", "acorn/account": "demo-eu"}
    assert partition_tags(None) == {RANGE_START_TAG: "demo-na", RANGE_END_TAG: "demo-vendor"}
    assert partition_tags(["demo-eu", "demo-na"]) == {RANGE_START_TAG: "demo-na", RANGE_END_TAG: "demo-eu"}
    with pytest.raises(ValueError, match="not one range"):
        partition_tags(["demo-na", "demo-vendor"])


def test_adding_an_account_to_the_config_adds_its_partition(tmp_path: Path) -> None:
    config = tmp_path / "accounts.toml"
    config.write_text('[[accounts]]\nid = "shop-a"\nregion = "na"\n')
    probe = (
        "from orchestration.definitions import defs; "
        "print(','.join(defs.resolve_job_def('acorn_daily').partitions_def.get_partition_keys()))"
    )

    def keys() -> str:
        env = {**os.environ, "ACORN_CONFIG": str(config)}
        done = subprocess.run(
            [sys.executable, "-c", probe], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip().splitlines()[-1]

    assert keys() == "shop-a"
    config.write_text(config.read_text() + '\n[[accounts]]\nid = "shop-b"\nregion = "eu"\nkind = "vendor"\n')
    assert keys() == "shop-a,shop-b"  # the next load of the code location (a reload, a new process)


@pytest.mark.slow
def test_a_failing_account_leaves_the_others_landed_and_a_rerun_of_one_touches_no_other(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    lake = data / "lake"
    groups = finance_assets.FINANCIAL_EVENT_GROUPS
    with dg.instance_for_test() as instance:
        # One run over both sellers' range; demo-eu's SP-API is down.
        both = {RANGE_START_TAG: "demo-na", RANGE_END_TAG: "demo-eu"}
        failed = _v0_run(data, instance, tags=both, failing="demo-eu")
        assert not failed.success
        [failure] = [e for e in failed.all_events if e.is_step_failure]
        # The report `acorn run` prints names the failed account, then the cause, which sets the exit code.
        reported = step_failure(failure)
        assert reported.could_not_run
        headline = reported.headline()
        assert headline.startswith(
            "finances_v0: SpApiServerError: 1 account(s) failed: demo-eu; landed: demo-na"
        )
        assert "simulated outage of demo-eu" in headline
        # demo-na landed, and is recorded as such; demo-eu has nothing, and is not.
        assert _files_of(lake, "demo-na") and not _files_of(lake, "demo-eu")
        assert _materialized_partitions(instance, groups) == {"demo-na"}
        landed_na = _files_of(lake, "demo-na")

        # demo-eu's own run, still failing, fails alone and rewrites none of demo-na's files.
        assert not _v0_run(data, instance, partition="demo-eu", failing="demo-eu").success
        assert _files_of(lake, "demo-na") == landed_na

        # Amazon is back: demo-eu's re-run lands it, and demo-na's files are byte for byte (and write time) as
        # they were.
        again = _v0_run(data, instance, partition="demo-eu")
        assert again.success
        assert _files_of(lake, "demo-eu")
        assert _files_of(lake, "demo-na") == landed_na
        assert _materialized_partitions(instance, groups) == {"demo-na", "demo-eu"}
        [record] = [m for m in again.asset_materializations_for_node("finances_v0") if m.asset_key == groups]
        assert record.partition == "demo-eu"
        assert record.metadata["accounts_landed"].value == ["demo-eu"]  # type: ignore[attr-defined]

        # And a re-run of demo-na leaves demo-eu's files untouched.
        landed_eu = _files_of(lake, "demo-eu")
        assert _v0_run(data, instance, partition="demo-na").success
        assert _files_of(lake, "demo-eu") == landed_eu


@pytest.mark.slow
def test_an_asset_in_a_partition_it_does_not_apply_to_lands_nothing_and_says_so(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with dg.instance_for_test() as instance:
        # A vendor account's partition of a seller asset, and a seller's of a vendor asset.
        seller_asset = _v0_run(data, instance, partition="demo-vendor")
        vendor_asset = dg.materialize(
            [vendor_assets.spapi_vendor_orders, vendor_assets.vendor_purchase_orders],
            partition_key="demo-na",
            resources={"spapi": SpApiResource(), "data": DataDirResource(data_dir=str(data))},
            instance=instance,
        )
    assert seller_asset.success and vendor_asset.success
    assert not list((data / "lake").rglob("*.parquet"))
    for result, node in ((seller_asset, "finances_v0"), (vendor_asset, "vendor_purchase_orders")):
        first = result.asset_materializations_for_node(node)[0]
        assert first.metadata["accounts_landed"].value == []  # type: ignore[attr-defined]
        assert first.metadata["not_applicable"].value == [first.partition]  # type: ignore[attr-defined]
