"""Real dbt on the real project, for the tests that build the warehouse."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

from orchestration.paths import DBT_PROJECT_DIR

PARTIAL_PARSE = "partial_parse.msgpack"
WAREHOUSE = "warehouse.duckdb"  # relative to dbt's working directory, `workdir`

# dbt's saved parse (target/partial_parse.msgpack) of the last successful run in this process, per `--vars`.
# Every test has its own target/, where dbt would otherwise find no saved parse and parse the whole project
# (about 4 CPU s); seeded with one, dbt re-parses only what changed. dbt itself decides whether the saved parse
# is still valid (each file's hash, the command line's vars, the profile's rendered connection values, the env
# vars the project reads) and parses in full when it is not, so a seed can cost a full parse but never make a
# wrong one. The profile's warehouse path is one of those values: dbt runs in `workdir` with the relative path
# `warehouse.duckdb`, the same string for every test (an absolute path would differ, and re-parse, per test).
_saved_parses: dict[tuple[str, ...], bytes] = {}


def _vars_key(args: tuple[str, ...]) -> tuple[str, ...]:
    """What makes a saved parse valid for a command besides the project's files: its `--vars` (and target)."""
    return tuple(
        value for flag, value in itertools.pairwise(args) if flag in ("--vars", "--target", "--profile")
    )


def run_dbt(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Real dbt on the real project, with target/ and logs/ in `workdir` (so parallel tests never collide) and
    the warehouse at `workdir/warehouse.duckdb`; a failed command fails the test with dbt's output."""
    env = {
        **os.environ,
        "ACORN_WAREHOUSE_PATH": WAREHOUSE,
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    target = workdir / "target"
    command = [
        sys.executable, "-m", "dbt.cli.main", *args,
        "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(target), "--log-path", str(workdir / "logs"),
    ]  # fmt: skip
    key = _vars_key(args)
    saved = target / PARTIAL_PARSE
    if key in _saved_parses and not saved.exists():
        target.mkdir(parents=True, exist_ok=True)
        saved.write_bytes(_saved_parses[key])
    result = subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if result.returncode != 0:
        output = f"{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{output}")
    if saved.exists():
        _saved_parses[key] = saved.read_bytes()
    return result
