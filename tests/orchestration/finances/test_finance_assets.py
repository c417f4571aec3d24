"""The finance assets and lake checks run as Dagster runs them: resources from the demo config, whose accounts talk
to the simulator the resource starts, with the run's clock aligned to the simulator's."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lake.layout import published_files
from orchestration.finances import assets, checks
from orchestration.resources import DataDirResource, SpApiResource


@pytest.mark.slow
def test_finance_assets_materialise_and_their_lake_checks_pass(tmp_path: Path) -> None:
    result = dg.materialize(
        [
            *assets.external_specs,
            assets.finances_v0,
            assets.finances_transactions,
            checks.transaction_breakdowns_sum,
            checks.financial_events_unknown_types,
        ],
        resources={"spapi": SpApiResource(), "data": DataDirResource(data_dir=str(tmp_path))},
        run_config={"ops": {"finances_transactions": {"config": {"lookback_days": 14, "history_days": 60}}}},
    )
    assert result.success
    materialized = {
        event.asset_key.to_user_string(): event.materialization.metadata  # type: ignore[union-attr]
        for event in result.get_asset_materialization_events()
    }
    assert {"lake/transactions", "lake/financial_event_groups", "lake/balances"} <= materialized.keys()
    # Dagster's standard table metadata on every lake asset: the rows published (read back from the lake here)
    # and the columns.
    lake = tmp_path / "lake"
    for key, metadata in materialized.items():
        dataset = key.split("/")[-1]
        files = [str(path) for path in published_files(lake, dataset)]
        with duckdb.connect() as connection:
            [(published,)] = (
                connection.execute("select count(*) from read_parquet(?)", [files]).fetchall()
                if files
                else [(0,)]
            )
        assert metadata["dagster/row_count"].value == published, key
        if published:
            columns = {column.name for column in metadata["dagster/column_schema"].value.columns}
            assert "account_id" in columns, (key, columns)
    assert materialized["lake/transactions"]["dagster/row_count"].value > 0
    per_account = {a["account_id"]: a for a in materialized["lake/transactions"]["accounts"].value}
    # demo-na and demo-eu read transactions; the vendor account is not a seller.
    assert per_account.keys() == {"demo-na", "demo-eu"}
    for outcome in per_account.values():
        assert set(outcome["status_counts"]) == {"RELEASED", "DEFERRED", "DEFERRED_RELEASED"}
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert evaluations[checks.TRANSACTION_BREAKDOWNS_SUM].passed
    assert evaluations[checks.FINANCIAL_EVENTS_UNKNOWN_TYPES].passed
    assert (tmp_path / "raw").is_dir() and any((tmp_path / "raw").rglob("*"))
    # Deferred transactions and the DEFERRED balance describe the same moment.
    with duckdb.connect() as connection:
        rows = connection.execute(
            f"""
            with deferred as (
                select account_id, currency, sum(total_amount) as amount
                from read_parquet('{lake}/transaction_totals/*/*.parquet')
                where transaction_status = 'DEFERRED' group by all
            ),
            balance as (
                select account_id, currency, sum(amount) as amount
                from read_parquet('{lake}/balances/*/*.parquet') where balance_type = 'DEFERRED' group by all
            )
            select balance.account_id, balance.currency, deferred.amount, balance.amount
            from balance left join deferred using (account_id, currency)
            """
        ).fetchall()
    assert len(rows) == 3 and all(schedule == balance for _, _, schedule, balance in rows), rows


def test_the_run_clock_is_the_simulators_when_the_resource_started_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import UTC, datetime, timedelta

    for name in ("SPAPI_LWA_CLIENT_ID", "SPAPI_LWA_CLIENT_SECRET", "SPAPI_REFRESH_TOKEN"):
        monkeypatch.setenv(name, f"test-{name.lower()}")

    from orchestration.clock import amazon_now
    from simulator import SimClock

    start = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    resource = SpApiResource()
    account = resource.accounts("seller")[0]
    # No request is made: only the clients' clock is looked at.
    with resource.client(account) as client:
        assert abs(amazon_now(client) - datetime.now(UTC)) < timedelta(minutes=1)  # live: wall clock

    class _Handle:  # what the resource keeps while its simulator runs: the handle, with its clock
        clock = SimClock(start=start, time_scale=1.0)

    resource._simulator = _Handle()
    try:
        with resource.client(account) as client:
            simulated = amazon_now(client)
            assert start <= simulated < start + timedelta(minutes=1)
            # The client's posted-date windows end at the simulator's now too.
            assert abs(client.options.now() - simulated) < timedelta(minutes=1)
    finally:
        resource._simulator = None
