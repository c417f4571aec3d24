"""`acorn import` and `acorn build`, as a person runs them on files downloaded from Seller Central.

Every real settlement sample imports; a malformed file is quarantined and a foreign file rejected (exit 1, `success`
false, each named among the problems); importing the same bytes again is `duplicate` and changes nothing; `acorn
build --json` then reports every named check, flags the Airbyte fixture (whose total does not match its lines) as
not reconciled (an ERROR check: exit 1), and leaves the real Amazon.ca settlements reconciled.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from acorn_process import SAMPLES, acorn

AIRBYTE_SETTLEMENT = "airbyte_GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE.csv"
NAMED_CHECKS = {
    "settlement_schema_drift",
    "payout_amount_anomaly",
    "fee_rate_anomaly",
    "refund_rate_anomaly",
    "settlement_reconciles",
    "settlement_freshness",
    "unknown_fee_descriptions",
    "transaction_breakdowns_sum",
    "settlement_sources_agree",
    "deferred_balance_matches",
    "deferred_release_overdue",
}

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("import_cli")]


def test_import_quarantine_duplicate_then_build(tmp_path: Path) -> None:
    samples = sorted(SAMPLES.glob("*"))
    assert len(samples) == 5
    malformed = tmp_path / "malformed_v2.txt"
    lines = (SAMPLES / "xieyi138_US_v2_synthetic_settlement-sample.txt").read_text().splitlines()
    fields = lines[5].split("\t")
    fields[14] = "12,3x"  # the amount column of the sixth line of the file
    lines[5] = "\t".join(fields)
    malformed.write_text("\n".join(lines).replace("28471003921", "28471003999") + "\n")
    foreign = tmp_path / "orders.csv"
    foreign.write_text("order-id,sku,quantity\n111-1,ABC,1\n")

    # The samples name Amazon.com and Amazon.ca or no marketplace at all: say whose they are.
    first = acorn(
        tmp_path, "import", "--json", "--account", "demo-na", *map(str, samples), str(malformed), str(foreign)
    )
    assert first.returncode == 1, first.stderr[-2000:]
    first_report = json.loads(first.stdout)
    assert first_report["success"] is False and first_report["exit_code"] == 1
    assert any(malformed.name in p and "quarantined" in p for p in first_report["problems"])
    assert any(foreign.name in p and "rejected" in p for p in first_report["problems"])
    outcomes = {Path(o["file"]).name: o for o in first_report["files"]}
    assert all(set(o) >= {"file", "status", "settlement_id", "rows", "message"} for o in outcomes.values())
    for sample in samples:
        assert outcomes[sample.name]["status"] == "imported", outcomes[sample.name]
        assert outcomes[sample.name]["rows"] > 0
    assert outcomes[malformed.name]["status"] == "quarantined"
    assert "line 6" in outcomes[malformed.name]["message"]
    assert outcomes[foreign.name]["status"] == "rejected"
    assert list((tmp_path / "data" / "quarantine").glob("*.json")), "no quarantine sidecar written"

    lake = tmp_path / "data" / "lake" / "settlement_lines"
    before = {p: p.read_bytes() for p in lake.rglob("*.parquet")}
    again = acorn(tmp_path, "import", "--json", "--account", "demo-na", *map(str, samples))
    assert again.returncode == 0, again.stderr[-2000:]
    again_report = json.loads(again.stdout)
    assert again_report["success"] is True and again_report["problems"] == []
    assert {o["status"] for o in again_report["files"]} == {"duplicate"}
    assert {p: p.read_bytes() for p in lake.rglob("*.parquet")} == before

    build = acorn(tmp_path, "build", "--json")
    report = json.loads(build.stdout)
    # The Airbyte settlement does not reconcile: an ERROR check failed, so the build says so and exits 1.
    assert build.returncode == 1, build.stderr[-2000:]
    assert report["success"] is False and report["outcome"] == "data_problem"
    assert "ERROR check failed: settlement_reconciles on warehouse/fct_payouts" in report["problems"]
    names = {check["name"] for check in report["checks"]}
    assert names >= NAMED_CHECKS, sorted(NAMED_CHECKS - names)
    reconciles = [c for c in report["checks"] if c["name"] == "settlement_reconciles"]
    assert reconciles and not reconciles[0]["passed"]

    with duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True) as connection:
        payouts = dict(
            connection.execute("select settlement_id, is_reconciled from marts.fct_payouts").fetchall()
        )
    airbyte_id = outcomes[AIRBYTE_SETTLEMENT]["settlement_id"]
    assert payouts.pop(airbyte_id) is False
    assert payouts and all(payouts.values()), payouts  # the real Amazon.ca files and the V2 sample reconcile
