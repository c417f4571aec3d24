"""Process set-up shared by every `acorn` command: quiet, offline tools and a Dagster home that exists.

Several `acorn` commands may start at once on one Dagster home (two imports, cron's `acorn run` while a person
imports). Everything that creates the home's shared files is therefore done under one lock file in the home
(`.acorn-instance.lock`): writing `dagster.yaml` (atomically, so no process reads it half written), and the
first creation of the instance's SQLite storage, whose tables Dagster creates without a lock of its own (the
second of two first runs used to fail with "table secondary_indexes already exists").
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from lake.layout import held_flock
from orchestration.paths import REPO_ROOT

if TYPE_CHECKING:
    import dagster as dg

INSTANCE_LOCK = ".acorn-instance.lock"

QUIET_OFFLINE = {
    "DO_NOT_TRACK": "1",
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "GX_ANALYTICS_ENABLED": "false",
    "UV_PYTHON_DOWNLOADS": "never",
    "TQDM_DISABLE": "1",
}

DAGSTER_YAML = """\
# Written by `acorn`; the instance keeps its run history here (SQLite) unless ACORN_DAGSTER_POSTGRES_URL is set.
telemetry:
  enabled: false
# The daemon (`acorn ui`) fails runs that never started and runs whose worker it sees gone; runs of an `acorn`
# command that was killed are marked failed by the next `acorn` command and by the next run's first step.
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  cancel_timeout_seconds: 180
  max_resume_run_attempts: 0
  poll_interval_seconds: 60
"""

DAGSTER_YAML_POSTGRES = (
    DAGSTER_YAML
    + """\
storage:
  postgres:
    postgres_url:
      env: ACORN_DAGSTER_POSTGRES_URL
"""
)


def prepare_environment() -> Path:
    """Set the quiet/offline variables (without overriding the user's) and make sure DAGSTER_HOME is usable."""
    for name, value in QUIET_OFFLINE.items():
        os.environ.setdefault(name, value)
    home = Path(os.environ.get("DAGSTER_HOME") or REPO_ROOT / ".dagster_home").resolve()
    os.environ["DAGSTER_HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    wanted = DAGSTER_YAML_POSTGRES if os.environ.get("ACORN_DAGSTER_POSTGRES_URL") else DAGSTER_YAML
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text(encoding="utf-8") != wanted:
        with instance_lock(home):
            scratch = home / f".dagster.yaml.{os.getpid()}.tmp"
            scratch.write_text(wanted, encoding="utf-8")
            os.replace(scratch, config)
    return home


@contextlib.contextmanager
def instance_lock(home: Path) -> Iterator[None]:
    """Hold the Dagster home's set-up lock (waiting for another `acorn` process that holds it)."""
    with held_flock(home, INSTANCE_LOCK, fcntl.LOCK_EX):
        yield


@contextlib.contextmanager
def dagster_instance() -> Iterator[dg.DagsterInstance]:
    """The Dagster instance of DAGSTER_HOME, its storage created (on a fresh home) by one process at a time."""
    import dagster as dg

    home = Path(os.environ["DAGSTER_HOME"])
    with instance_lock(home):
        # Creating the instance creates (or migrates) every storage's tables: done once, under the lock.
        instance = dg.DagsterInstance.get()
    with instance:
        yield instance
