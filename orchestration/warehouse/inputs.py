"""What a dbt build reads and whether a build now would find nothing new, without dbt or dagster-dbt: `acorn
build` asks before it loads the definitions (acorn_cli/dbt_core.py), and the dbt step asks again under the
writer lock (assets.py)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestration.books_settings import books_dbt_vars
from orchestration.configured_accounts import configured_accounts
from orchestration.paths import DBT_PROJECT_DIR, DataPaths
from orchestration.resources import business_now
from orchestration.warehouse.dbt_command import WORKING_COPY_ENV
from orchestration.warehouse.lake_views import lake_datasets
from orchestration.warehouse.last_build import (
    LastBuild,
    combined_fingerprint,
    dataset_fingerprints,
    project_fingerprint,
    read_last_build,
)
from orchestration.warehouse_catalog import configured_warehouse

# The build's business day (`business_day_vars`) and the environment variable that passes it to dbt (`build_env`).
BUSINESS_DAY_VAR = "vendor_as_of_date"
BUSINESS_DAY_ENV = "ACORN_VENDOR_AS_OF_DATE"

# Unit tests check the SQL, not the data: they run with the test suite (tests/dbt), not in every build.
BUILD_ARGS = ["build", "--exclude-resource-type", "unit_test"]
# dbt writes no JSON artifacts in a build: by default it writes `manifest.json` (6 MB) into the run folder twice,
# after its parse and again after the last node, and `run_results.json` at the end, about 0.4-0.6 s of a daily
# build's dbt process that nothing reads (docs/performance.md, round `lead-dbt`): Dagster learns each node's
# result from dbt's event stream, which is also what the build checks its scope against (assets.py). Kept out
# of BUILD_ARGS, which the build's fingerprint includes: how dbt reports is not an input of the warehouse.
NO_ARTIFACT_ARGS = ["--no-write-json"]
# dbt's log file of a build (dbt.log in the invocation's target folder): dbt writes it at debug level by default,
# every SQL statement and connection event as a JSON line (about 3,600 lines and 4 MB per daily build, against
# 300 at info), which cost a daily build at H = 78 about 1-1.5 CPU s (docs/performance.md, round
# `h-daily`). A build writes it at info level; DBT_LOG_LEVEL_FILE=debug in the environment brings the statements
# back (dbt reads it; a build then adds no flag).
DBT_FILE_LOG_LEVEL_ENV = "DBT_LOG_LEVEL_FILE"


def file_log_args() -> list[str]:
    """dbt's `--log-level-file` for a build: info, unless DBT_FILE_LOG_LEVEL_ENV chooses another level."""
    return [] if DBT_FILE_LOG_LEVEL_ENV in os.environ else ["--log-level-file", "info"]


def build_settings() -> dict[str, Any]:
    """What the config and the day say a build is: the configured accounts (dim_account lists them), the books'
    settings (orchestration/books_settings.py) and the business day. Read once per build: the same values make
    its fingerprint and its dbt vars, so a build never records one day or config and builds another."""
    return {"accounts": configured_accounts(), **books_dbt_vars(), **business_day_vars()}


def build_vars(settings: dict[str, Any]) -> str:
    """The `--vars` of a build: its settings but the business day (`build_env`).

    Passed on the command line rather than through the environment; only the business day goes through the
    environment, set for the moment dbt's process starts (`dbt_process_environment`). No path: dbt re-parses
    the whole project when a var changes, so the warehouse copy dbt writes is named by the environment, with
    the same relative name from every data dir (dbt_command.py).
    """
    return json.dumps({k: v for k, v in settings.items() if k != BUSINESS_DAY_VAR})


def build_env(settings: dict[str, Any], working_copy: Path | None = None) -> dict[str, str]:
    """The environment variables of a build's dbt process: the business day (dbt_project.yml's var
    `vendor_as_of_date` reads it) and the warehouse copy it writes (`working_copy`, absolute; none for the
    DuckLake catalog). The day is not a `--vars` entry: dbt re-parses the whole project when any var changes,
    which the day does on every daily build (a full parse costs about 3.5 CPU s more than a partial one here),
    while a changed environment variable re-parses only the files that read it."""
    env = {BUSINESS_DAY_ENV: str(settings.get(BUSINESS_DAY_VAR) or "")}
    if working_copy is not None:
        env[WORKING_COPY_ENV] = str(working_copy)
    return env


_environment_lock = threading.Lock()


@contextmanager
def dbt_process_environment(variables: dict[str, str]) -> Iterator[None]:
    """`variables` in os.environ while the dbt process starts (dagster-dbt's `dbt.cli()` starts it with a copy of
    os.environ and takes no environment of its own), restored as they were right after: the process's
    environment is not changed for anything else it runs."""
    with _environment_lock:
        before = {name: os.environ.get(name) for name in variables}
        os.environ.update(variables)
        try:
            yield
        finally:
            for name, value in before.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@dataclass(frozen=True)
class BuildInputs:
    """What a build with `settings` reads: the project's digest, each lake dataset's, and the fingerprint of
    them all with the command (last_build.py). The parts are recorded so the next build can run only the dbt
    nodes that read what changed (scope.py)."""

    settings: dict[str, Any]
    project: str
    datasets: dict[str, str]
    fingerprint: str


def build_inputs(lake: Path, settings: dict[str, Any]) -> BuildInputs:
    """The inputs of a build with `settings`. The accounts, the books' settings and the business day change what
    dbt builds: a change of them is a change of the command (a new day rebuilds what reads the day)."""
    command = [*BUILD_ARGS, json.dumps(settings, sort_keys=True)]
    project = project_fingerprint(DBT_PROJECT_DIR)
    datasets = dataset_fingerprints(lake, lake_datasets())
    return BuildInputs(settings, project, datasets, combined_fingerprint(command, project, datasets))


def build_fingerprint(lake: Path, settings: dict[str, Any]) -> str:
    """The fingerprint of what a build with `settings` would read (last_build.py)."""
    return build_inputs(lake, settings).fingerprint


def unchanged_since(paths: DataPaths) -> LastBuild | None:
    """The record of the build that made the published warehouse, when a build now would find nothing new (the
    same fingerprint, the same published file); None when it would run dbt. Read without the writer lock: the
    dbt step takes it and decides again, so this only tells a caller what to expect. Never with a DuckLake
    catalog configured: a catalog build always runs dbt, whatever an embedded file beside it records."""
    if configured_warehouse(paths.warehouse) is not None:
        return None
    last = read_last_build(paths.warehouse)
    if last is None or not paths.warehouse.exists():
        return None
    return last if last.describes(paths.warehouse, build_fingerprint(paths.lake, build_settings())) else None


def business_day_vars() -> dict[str, str]:
    """The business day the build ages vendor invoices against (days past due, days left to dispute): the
    simulated day when the bundled simulator stands in for Amazon, else today (UTC)."""
    return {BUSINESS_DAY_VAR: business_now().date().isoformat()}
