"""An `acorn` command's own process loads the definitions without dbt-core (it runs dbt, if at all, as a process
of its own), and they are exactly the definitions the UI loads with it (acorn_cli/dbt_core.py); a build without
dbt-core records what a build with it does (tests/orchestration/warehouse/test_scoped_build.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from acorn_cli.dbt_core import LOAD_DBT_CORE_ENV

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


def _load(mode: str, **env: str) -> dict[str, object]:
    environment = {**{name: value for name, value in os.environ.items() if name != LOAD_DBT_CORE_ENV}, **env}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode], check=True, capture_output=True, text=True, env=environment
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_definitions_without_dbt_core_are_the_ones_the_ui_loads_with_it() -> None:
    without = _load("own")
    with_core = _load("called")  # not acorn's own process (a test calling the commands): nothing hidden
    assert without["hidden"] is True and without["dbt_core_loaded"] is False
    assert with_core["hidden"] is False and with_core["dbt_core_loaded"] is True
    assert "warehouse_build" in without["jobs"] and "settlement_import" in without["jobs"]
    # Every job, asset, check, resource and schedule, serialised as the UI receives them: the same bytes.
    assert without["snapshot"] == with_core["snapshot"]


def test_an_acorn_process_loads_dbt_core_when_asked() -> None:
    asked = _load("own", **{LOAD_DBT_CORE_ENV: "1"})
    assert asked["hidden"] is False and asked["dbt_core_loaded"] is True
