"""`acorn import` chooses the account (inferred from the marketplace with the bundled config), refuses to land
the same bytes for another account silently, and `--reattribute` moves the settlement, as a person runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = (
    REPO_ROOT
    / "tests"
    / "fixtures"
    / "shared"
    / "settlement-samples"
    / "xieyi138_US_v2_synthetic_settlement-sample.txt"
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("import_cli")]


def _import(workdir: Path, *args: str) -> tuple[int, dict]:
    env = {
        **os.environ,
        "ACORN_DATA_DIR": str(workdir / "data"),
        "DAGSTER_HOME": str(workdir / "dagster_home"),
    }
    env.pop("ACORN_CONFIG", None)  # the bundled config: demo-na (Amazon.com, Amazon.ca), demo-eu, a vendor
    done = subprocess.run(
        [sys.executable, "-m", "acorn_cli.main", "import", "--json", *args, str(SAMPLE)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
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
