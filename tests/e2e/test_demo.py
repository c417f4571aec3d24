"""End to end, as a user runs it: `acorn demo` (clean and hostile) in a subprocess, on fresh data dirs.

One clean run and one hostile run (with known fake secrets in the environment) are shared by the tests below,
because each demo takes a while; the assertions are independent.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from data_state import marts_rows
from demo_runs import run_demo

FAKE_SECRETS = {
    "SPAPI_LWA_CLIENT_ID": "amzn1.application-oa2-client.e2e-fake-client-id-5f1c",
    "SPAPI_LWA_CLIENT_SECRET": "e2e-fake-client-secret-9b7d2a61c4",
    "SPAPI_REFRESH_TOKEN": "Atzr|e2e-fake-refresh-token-3e8f0c2b",
}

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]


@pytest.fixture(scope="module")
def hostile_demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    return run_demo(tmp_path_factory.mktemp("hostile"), "hostile", FAKE_SECRETS)


def test_demo_lands_at_least_six_reconciled_payouts(clean_demo: dict[str, object]) -> None:
    warehouse = Path(str(clean_demo["data_dir"])) / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        payouts = connection.execute("select settlement_id, is_reconciled from marts.fct_payouts").fetchall()
        accounts = connection.execute("select count(distinct account_id) from marts.fct_payouts").fetchone()
        marketplaces = connection.execute(
            "select count(distinct marketplace_name) from marts.fct_settlement_lines"
        ).fetchone()
    assert len(payouts) >= 6
    assert all(reconciled for _, reconciled in payouts), payouts
    assert accounts is not None and accounts[0] >= 1
    assert marketplaces is not None and marketplaces[0] >= 2
    output = str(clean_demo["output"])
    header = next(line for line in output.splitlines() if "settlement" in line and "reconciled" in line)
    assert header.split() == [
        "account",
        "marketplace",
        "settlement",
        "deposit",
        "amount",
        "cur",
        "reconciled",
    ]
    assert "marts.fct_payouts:" in output


def test_hostile_demo_leaves_the_same_warehouse(
    clean_demo: dict[str, object], hostile_demo: dict[str, object]
) -> None:
    clean = marts_rows(Path(str(clean_demo["data_dir"])) / "warehouse.duckdb")
    hostile = marts_rows(Path(str(hostile_demo["data_dir"])) / "warehouse.duckdb")
    assert clean.keys() == hostile.keys()
    for table in clean:
        assert clean[table] == hostile[table], f"marts.{table} differs between clean and hostile runs"


def test_hostile_request_log_shows_throttling_and_tokenless_downloads(
    hostile_demo: dict[str, object],
) -> None:
    entries = [json.loads(line) for line in Path(str(hostile_demo["request_log"])).read_text().splitlines()]
    spapi = [e for e in entries if e["origin"] == "spapi"]
    documents = [e for e in entries if e["origin"] == "documents"]
    assert any(e["status"] == 429 for e in spapi), "no throttled call in the hostile run"
    assert documents, "no document download logged"
    for entry in documents:
        names = {name.lower() for name in entry["headers"]}
        assert "x-amz-access-token" not in names and "authorization" not in names, entry
    for entry in entries:
        assert all(isinstance(name, str) and ":" not in name for name in entry["headers"])


def _all_text_under(root: Path) -> list[tuple[Path, bytes]]:
    return [(path, path.read_bytes()) for path in root.rglob("*") if path.is_file()]


def test_no_secret_or_access_token_leaks(hostile_demo: dict[str, object]) -> None:
    needles = [value.encode() for value in FAKE_SECRETS.values()] + [b"Atza|"]
    places = [Path(str(hostile_demo["data_dir"])), Path(str(hostile_demo["home"]))]
    leaks = []
    for place in places:
        for path, content in _all_text_under(place):
            leaks += [f"{path}: {needle!r}" for needle in needles if needle in content]
    output = str(hostile_demo["output"]).encode()
    leaks += [f"output: {needle!r}" for needle in needles if needle in output]
    log = Path(str(hostile_demo["request_log"])).read_bytes()
    leaks += [f"request log: {needle!r}" for needle in needles if needle in log]
    assert not leaks, leaks
