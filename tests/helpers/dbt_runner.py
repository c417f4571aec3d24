"""Real dbt on the real project, for the tests that build the warehouse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from orchestration.paths import DBT_PROJECT_DIR


def run_dbt(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Real dbt on the real project, with target/ and logs/ in `workdir` (so parallel tests never collide) and
    the warehouse at `workdir/warehouse.duckdb`; a failed command fails the test with dbt's output."""
    env = {
        **os.environ,
        "ACORN_WAREHOUSE_PATH": str(workdir / "warehouse.duckdb"),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    command = [
        sys.executable, "-m", "dbt.cli.main", *args,
        "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(workdir / "target"), "--log-path", str(workdir / "logs"),
    ]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        output = f"{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{output}")
    return result
