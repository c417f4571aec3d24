"""The lake's checks read the object store's current files in place (scale-out, README "Scale-out";
orchestration/lake_refresh.py `lake_files`, lake/read.py `StoreFiles`), against moto's S3 server on loopback in
this process: the four lake checks give the same verdicts, with the same numbers, as on a local copy of the same
lake, and a host whose data dir is empty downloads nothing to give them."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa
import pytest
from moto_store import SECRET_KEY, lake_store

import lake.refresh
from lake.partitions import write_partition
from lake.read import StoreFiles
from orchestration.finances import checks as finance_checks
from orchestration.lake_refresh import lake_files, refresh_account
from orchestration.quality import checks as quality_checks
from orchestration.resources import DataDirResource
from orchestration.verdict import evaluate
from spapi.endpoints import parse_json
from transforms.finances.transactions import TRANSACTION_TOTALS_SCHEMA
from transforms.finances.v0_events import financial_events_tables
from transforms.settlement import import_settlement_file, parse_settlement

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT / "tests/fixtures/shared"
SAMPLE = SHARED / "settlement-samples/xieyi138_US_v2_synthetic_settlement-sample.txt"
LAKE_CHECKS = [
    quality_checks.settlement_lines_schema_check,
    quality_checks.settlement_schema_drift_check,
    finance_checks.transaction_breakdowns_sum,
    finance_checks.financial_events_unknown_types,
]
STORE_VARIABLES = ("ACORN_OBJECT_STORE_URL", "ACORN_S3_ENDPOINT_URL")


def _totals(rows: list[tuple[str, str, str, bool]]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {"account_id": "acct", "transaction_id": t, "transaction_type": "Shipment",
             "transaction_status": "RELEASED", "posted_at": None, "total_amount": Decimal(total),
             "currency": "USD", "breakdown_source": "breakdowns", "counted_rows": 1,
             "breakdowns_sum": Decimal(leaves), "breakdowns_agree": agree, "subtotals_agree": True,
             "source_sha256": "x"}
            for t, total, leaves, agree in rows
        ],
        schema=TRANSACTION_TOTALS_SCHEMA,
    )  # fmt: skip


def _unknown_events() -> pa.Table:
    events = parse_json((SHARED / "spapi-examples/listFinancialEventsByGroupId.json").read_bytes())
    body = {"payload": {"FinancialEvents": {
        **events["payload"]["FinancialEvents"],
        "QuantumRebateEventList": [{"PostedDate": "2026-11-01T00:00:00Z", "RebateAmount": {
            "CurrencyCode": "USD", "CurrencyAmount": Decimal("1.23")}}],
    }}}  # fmt: skip
    _, unknown = financial_events_tables(body, account_id="acct", source_sha256="b" * 64)
    assert unknown.num_rows == 1
    return unknown


def _land(data_dir: Path) -> None:
    """A lake every check has something to say about, published to the store as it lands: a settlement imported,
    a second settlement's lines with a lower-case currency (the blocking suite fails), a transaction off by a
    cent, an unknown v0 event list."""
    lake = data_dir / "lake"
    assert import_settlement_file(SAMPLE, data_dir=data_dir).status == "imported"
    lines = parse_settlement(SAMPLE).lines
    for name, values in (("settlement_id", ["S-BAD"]), ("currency", ["usd"]), ("raw_sha256", ["0" * 64])):
        position = lines.schema.get_field_index(name)
        lines = lines.set_column(position, name, pa.array(values * lines.num_rows, pa.string()))
    write_partition(lake, "settlement_lines", "settlement_id=S-BAD", lines)
    write_partition(
        lake,
        "transaction_totals",
        "account_id=acct",
        _totals([("T1", "5.00", "5.00", True), ("T2", "5.00", "4.99", False)]),
    )
    write_partition(lake, "financial_events_unknown", "account_id=acct,group=G1", _unknown_events())


def _plain(value: Any) -> Any:
    value = getattr(value, "value", getattr(value, "data", value))
    return json.loads(json.dumps(value, default=str))


def _verdicts(data_dir: Path) -> list[tuple[str, bool, dg.AssetCheckSeverity, dict[str, Any]]]:
    resource = DataDirResource(data_dir=str(data_dir))
    found = []
    for check in LAKE_CHECKS:
        result = evaluate(check, data=resource)
        metadata = {key: _plain(value) for key, value in result.metadata.items()}
        found.append((check.check_key.name, result.passed, result.severity, metadata))
    return found


def _lake_files_in(data_dir: Path) -> list[Path]:
    return [path for path in (data_dir / "lake").rglob("*") if path.is_file()]


def test_the_lake_checks_read_the_store_in_place_with_the_local_verdicts(
    tmp_path: Path, lake_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    landed, worker = tmp_path / "landed", tmp_path / "worker"
    _land(landed)

    # Nothing of the lake reaches the worker's disk: no refresh, no download.
    def no_refresh(*args: object, **kwargs: object) -> None:
        raise AssertionError("a lake check refreshed the local lake")

    monkeypatch.setattr(lake.refresh, "_sync", no_refresh)
    from_store = [_verdicts(worker), _verdicts(worker)]  # the second: every file remembered as validated
    assert _lake_files_in(worker) == []

    # The same checks on the landing host's own lake, read locally (no store configured).
    for name in STORE_VARIABLES:
        monkeypatch.delenv(name)
    from_local = [_verdicts(landed), _verdicts(landed)]
    assert from_store == from_local
    verdicts = {name: (passed, metadata) for name, passed, _, metadata in from_store[0]}
    assert verdicts["settlement_lines_schema"][0] is False  # the lower-case currency
    assert verdicts["settlement_lines_schema"][1]["files_checked"] == 2
    assert verdicts["transaction_breakdowns_sum"][0] is False
    assert verdicts["transaction_breakdowns_sum"][1]["transactions_not_adding_up"] == 1
    assert verdicts["financial_events_unknown_types"][1]["rows_by_event_list"] == {
        "QuantumRebateEventList": 1
    }
    assert verdicts["settlement_schema_drift"][1] == from_local[0][1][3]
    assert from_store[1][0][3]["files_checked"] == 2  # a failed file is not remembered, here as there


def test_the_checks_file_list_is_the_stores_plus_what_only_this_host_ever_held(
    tmp_path: Path, lake_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = lake_store(lake_env)
    worker = tmp_path / "worker" / "lake"
    write_partition(tmp_path / "landed" / "lake", "transaction_totals", "account_id=acct", _totals([]))
    write_partition(
        tmp_path / "landed" / "lake",
        "transaction_totals",
        "account_id=a2",
        _totals([("T9", "1.00", "1.00", True)]),
    )
    # This host holds a partition landed before the store was set (no marker: read from here, as a refresh would
    # keep it) and one it once exchanged with the store, which the store has since removed (not read).
    for name in STORE_VARIABLES:
        monkeypatch.delenv(name)
    write_partition(worker, "transaction_totals", "account_id=old", _totals([("T0", "2.00", "2.00", True)]))
    write_partition(worker, "transaction_totals", "account_id=gone", _totals([("T8", "3.00", "3.00", True)]))
    (worker / "transaction_totals" / "account_id=gone" / lake.refresh.MARKER).write_text("f" * 64)
    monkeypatch.setenv("ACORN_OBJECT_STORE_URL", lake_env["ACORN_OBJECT_STORE_URL"])
    monkeypatch.setenv("ACORN_S3_ENDPOINT_URL", lake_env["ACORN_S3_ENDPOINT_URL"])

    source = lake_files(worker)
    assert isinstance(source, StoreFiles)
    pointer = store.pointer("transaction_totals", "account_id=a2")
    assert pointer is not None
    assert source.files == {
        "transaction_totals": tuple(
            sorted(
                [
                    f"s3://{store.base}/transaction_totals/account_id=a2/{pointer['file']}",
                    str(worker / "transaction_totals" / "account_id=old" / "part-0.parquet"),
                ]
            )
        )
    }
    assert SECRET_KEY not in repr(source)
    data = DataDirResource(data_dir=str(worker.parent))
    result = evaluate(finance_checks.transaction_breakdowns_sum, data=data)
    assert result.passed and _plain(result.metadata["transactions"]) == 2  # T9 from the store, T0 from here

    # A store file that passed the blocking suite is remembered by its URL (its content's sha256): not read again.
    assert import_settlement_file(SAMPLE, data_dir=tmp_path / "landed").status == "imported"
    first = evaluate(quality_checks.settlement_lines_schema_check, data=data)
    again = evaluate(quality_checks.settlement_lines_schema_check, data=data)
    assert first.passed and _plain(first.metadata["files_checked"]) == 1
    assert again.passed and _plain(again.metadata["files_checked"]) == 0
    assert _plain(again.metadata["files_already_validated"]) == 1
    assert not (worker / "settlement_lines").exists()


def test_an_account_step_lists_the_store_once(
    tmp_path: Path, lake_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    landed = tmp_path / "landed"
    assert import_settlement_file(SAMPLE, data_dir=landed).status == "imported"
    write_partition(
        landed / "lake", "transaction_totals", "account_id=acct", _totals([("T1", "1.00", "1.00", True)])
    )
    store = lake_store(lake_env)
    listings = []
    listed = type(store).pointer_keys

    def counted(self: Any) -> list[str]:
        listings.append(1)
        return listed(self)

    monkeypatch.setattr(type(store), "pointer_keys", counted)
    worker = tmp_path / "worker" / "lake"
    counts = refresh_account(worker, "acct")
    assert counts is not None and counts.downloaded == 1
    assert len(listings) == 1
    # Both the account's partition and the settlement's two were brought here.
    assert sorted(path.parent.parent.name for path in worker.rglob("part-0.parquet")) == [
        "settlement_lines",
        "settlements",
        "transaction_totals",
    ]
