"""An `acorn` process that runs no dbt loads the definitions without dbt-core, and they are exactly the
definitions the UI loads with it (acorn_cli/dbt_core.py)."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import hashlib, json, sys
from acorn_cli import dbt_core
if sys.argv[1] == "own":
    dbt_core.own_process()
hidden = dbt_core.import_dagster_dbt_without_dbt_core()
from dagster._core.remote_representation.external_data import RepositorySnap
from dagster._serdes import serialize_value
from orchestration.definitions import defs
repository = defs.get_repository_def()
print(json.dumps({
    "hidden": hidden,
    "dbt_core_loaded": any(name.startswith(("dbt.contracts", "dbt.adapters")) for name in sys.modules),
    "jobs": sorted(job.name for job in repository.get_all_jobs()),
    "snapshot": hashlib.sha256(serialize_value(RepositorySnap.from_def(repository)).encode()).hexdigest(),
}))
"""


def _load(mode: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PROBE, mode], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_definitions_without_dbt_core_are_the_ones_the_ui_loads_with_it() -> None:
    without = _load("own")
    with_core = _load("called")  # not acorn's own process (a test calling the commands): nothing hidden
    assert without["hidden"] is True and without["dbt_core_loaded"] is False
    assert with_core["hidden"] is False and with_core["dbt_core_loaded"] is True
    assert "warehouse_build" in without["jobs"] and "settlement_import" in without["jobs"]
    # Every job, asset, check, resource and schedule, serialised as the UI receives them: the same bytes.
    assert without["snapshot"] == with_core["snapshot"]
