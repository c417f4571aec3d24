"""`acorn import` chooses the account (inferred from the marketplace with the bundled config), refuses to land
the same bytes for another account silently, and `--reattribute` moves the settlement, as a person runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from acorn_process import SAMPLES, acorn

SAMPLE = SAMPLES / "xieyi138_US_v2_synthetic_settlement-sample.txt"

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("import_cli")]


def _import(workdir: Path, *args: str) -> tuple[int, dict]:
    # The bundled config (no ACORN_CONFIG): demo-na (Amazon.com, Amazon.ca), demo-eu, a vendor.
    done = acorn(workdir, "import", "--json", *args, str(SAMPLE))
    printed = json.loads(done.stdout)
    files = printed["files"] if isinstance(printed, dict) else printed
    [outcome] = files
    return done.returncode, outcome


def _lake_accounts(workdir: Path) -> set[str | None]:
    lake = workdir / "data" / "lake"
    files = [*lake.glob("settlements/*/*.parquet"), *lake.glob("settlement_lines/*/*.parquet")]
    return {row["account_id"] for f in files for row in pq.read_table(f, columns=["account_id"]).to_pylist()}


def test_inferred_then_refused_for_another_account_then_reattributed(tmp_path: Path) -> None:
    code, first = _import(tmp_path)
    assert (code, first["status"]) == (0, "imported"), first
    assert "'demo-na' inferred from the file's marketplace Amazon.com" in first["message"]
    assert _lake_accounts(tmp_path) == {"demo-na"}

    code, other = _import(tmp_path, "--account", "demo-eu")
    assert (code, other["status"]) == (1, "rejected"), other
    assert "already imported for account 'demo-na'" in other["message"]
    assert "acorn import --reattribute --account demo-eu" in other["message"]
    assert _lake_accounts(tmp_path) == {"demo-na"}

    code, moved = _import(tmp_path, "--reattribute", "--account", "demo-eu")
    assert (code, moved["status"]) == (0, "imported"), moved
    assert "re-attributed from account 'demo-na' to 'demo-eu'" in moved["message"]
    assert _lake_accounts(tmp_path) == {"demo-eu"}
