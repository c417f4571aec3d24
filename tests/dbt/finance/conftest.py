"""The finance pipeline on the real simulator, then real dbt over the lake it leaves (no Dagster, no stubs).

One module-scoped build is shared by the assertions of test_finance_marts.py (kept on one xdist worker),
because landing months of demo history and running dbt takes a while.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from dbt_runner import run_dbt
from finance_testkit import REPO_ROOT, Landing, landing_on_simulator

from orchestration.finances import transactions_landing as tx
from orchestration.finances import v0_landing as v0
from orchestration.finances.assets import known_settlement_ids
from orchestration.vendor_orders import invoices_landing as vendor_invoices
from orchestration.vendor_orders import landing as vendor
from orchestration.warehouse.lake_views import register_lake_views
from simulator.clock import default_start
from simulator.ledger import Ledger, SettlementInfo
from spapi.config import load_config
from spapi.windows import FINANCES_SAFE_LAG
from transforms.settlement import import_settlement_file

LOOKBACK_DAYS = 14
HISTORY_DAYS = 180
SETTLEMENT_REPORT_TYPES = ("GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",)
# The models this layer owns, with everything upstream of them (other engineers' marts are tested elsewhere).
DBT_SELECTION = [
    "+path:models/staging/finance",
    "+path:models/intermediate/finance",
    "+path:models/marts/finance",
    "+path:models/marts/vendor",
    "+fct_payouts",
]


def land_settlement_reports(landing: Landing, account_id: str) -> None:
    """What the settlements domain does: getReports, each document, the importer (archive, parse, land)."""
    scratch = landing.root / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    with landing.client(account_id) as client:
        since = client.options.now() - timedelta(days=90)
        for page in client.iter_reports(SETTLEMENT_REPORT_TYPES, created_since=since):
            for report in page.items:
                downloaded = client.download_report_document(report["reportDocumentId"], scratch)
                try:
                    outcome = import_settlement_file(
                        downloaded.path,
                        data_dir=landing.root,
                        account_id=account_id,
                        origin=f"spapi:{account_id}:report/{report['reportId']}",
                        charset_hint=downloaded.charset,
                    )
                finally:
                    downloaded.path.unlink(missing_ok=True)
                assert outcome.status in ("imported", "duplicate"), outcome


def land_finances(landing: Landing) -> None:
    """One run of the finance and vendor assets' work, account by account, as the Dagster assets do it."""
    for account in landing.accounts.values():
        with landing.client(account.id) as client:
            now = client.options.now()
            if account.kind == "vendor":
                vendor.land_vendor_orders(
                    client, account, lake=landing.lake, archive=landing.archive, now=now, lookback_days=7
                )
                vendor_invoices.land_vendor_invoices(
                    client, account, lake=landing.lake, archive=landing.archive, now=now, lookback_days=7
                )
                vendor_invoices.land_vendor_shipments(
                    client, account, lake=landing.lake, archive=landing.archive, now=now, lookback_days=7
                )
                continue
            v0.land_v0(
                client,
                account,
                lake=landing.lake,
                archive=landing.archive,
                now=now,
                lookback_days=LOOKBACK_DAYS,
                history_days=HISTORY_DAYS,
            )
            if not account.reads_transactions:
                continue
            tx.land_transactions(
                client,
                account,
                lake=landing.lake,
                archive=landing.archive,
                now=now,
                lookback_days=LOOKBACK_DAYS,
                history_days=HISTORY_DAYS,
            )
            tx.land_balances(client, account, lake=landing.lake, archive=landing.archive, now=now)
            tx.land_settlement_summaries(
                client,
                account,
                known_settlement_ids(landing.lake, account.id),
                lake=landing.lake,
                archive=landing.archive,
            )
            tx.land_expected_payouts(client, account, lake=landing.lake, archive=landing.archive)


def build_warehouse(root: Path, as_of: datetime) -> Path:
    """dbt over the lake, invoices aged as of the simulated `as_of` (as the Dagster build passes its business day)."""
    register_lake_views(root / "warehouse.duckdb", root / "lake")
    # cautious: tests that also reference models outside the selection (other marts) are left to their owners.
    aged = json.dumps({"vendor_as_of_date": as_of.date().isoformat()})
    run_dbt(root, "build", "--select", *DBT_SELECTION, "--indirect-selection", "cautious", "--vars", aged)
    return root / "warehouse.duckdb"


@dataclass
class FinancePipeline:
    landing: Landing
    warehouse: Path
    built_at: datetime


# Session-scoped: the tests that use them share the xdist group "finance_pipeline" (one worker), and a module
# fixture would be built again whenever that worker runs another module's test between two of them.
@pytest.fixture(scope="session")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FinancePipeline]:
    root = tmp_path_factory.mktemp("finance_pipeline")
    with landing_on_simulator(root) as landing:
        for account in landing.accounts.values():
            if account.kind == "seller":
                land_settlement_reports(landing, account.id)
        land_finances(landing)
        warehouse = build_warehouse(root, landing.simulator.clock.data_now())
        yield FinancePipeline(landing, warehouse, landing.simulator.clock.data_now())


@dataclass
class PeriodEndRuns:
    """Two runs of the finance pipeline: a minute after a settlement's period ended, and an hour later."""

    settlement: SettlementInfo  # the settlement that had just closed at the first run
    unlisted: Decimal  # its money posted within Amazon's listing lag before the first run
    first: Path  # the warehouse after the first run
    second: Path  # the warehouse after the second run


def just_closed_settlement(reference: datetime) -> tuple[str, str, datetime]:
    """Chosen by property: among the accounts reading transactions, the settlement with money posted in the
    last minute of its period whose period ended last before `reference` (account, settlement id, end)."""
    ledger = Ledger(seed=7, today=reference.date())
    candidates = []
    for account in load_config(REPO_ROOT / "config" / "demo.toml").accounts:
        if account.kind != "seller" or not account.reads_transactions:
            continue
        for s in ledger.settlements(account.id):
            if s.end > reference:
                continue
            last_minute = ledger.transactions(
                account.id, s.end, posted_after=s.end - timedelta(minutes=1), posted_before=s.end
            )
            if any(_settlement_of(t) == s.settlement_id for t in last_minute):
                candidates.append((s.end, account.id, s.settlement_id))
    end, account_id, settlement_id = max(candidates)
    return account_id, settlement_id, end


def _settlement_of(transaction: dict) -> str | None:
    return next(
        (
            r["relatedIdentifierValue"]
            for r in transaction["relatedIdentifiers"]
            if r["relatedIdentifierName"] == "SETTLEMENT_ID"
        ),
        None,
    )


@pytest.fixture(scope="session")
def period_end_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PeriodEndRuns]:
    root = tmp_path_factory.mktemp("period_end_pipeline")
    account_id, settlement_id, end = just_closed_settlement(default_start())
    start = end + timedelta(minutes=1)  # inside Amazon's listing lag (FINANCES_SAFE_LAG)
    with landing_on_simulator(root, start=start) as landing:
        ledger = landing.simulator.ledger
        [settlement] = [s for s in ledger.settlements(account_id) if s.settlement_id == settlement_id]
        in_lag = ledger.transactions(
            account_id, start, posted_after=start - FINANCES_SAFE_LAG, posted_before=start
        )
        unlisted = sum(
            (
                Decimal(str(t["totalAmount"]["currencyAmount"]))
                for t in in_lag
                if _settlement_of(t) == settlement_id and t["transactionStatus"] != "DEFERRED"
            ),
            Decimal(0),
        )
        for account in landing.accounts.values():
            if account.kind == "seller":
                land_settlement_reports(landing, account.id)
        land_finances(landing)
        first = Path(
            shutil.copy(build_warehouse(root, landing.simulator.clock.data_now()), root / "first_run.duckdb")
        )
        landing.simulator.clock.advance(timedelta(hours=1))
        land_finances(landing)
        yield PeriodEndRuns(
            settlement, unlisted, first, build_warehouse(root, landing.simulator.clock.data_now())
        )
