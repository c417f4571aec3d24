"""Loading ACORN's definitions without dbt-core in an `acorn` command's own process.

The code location's definitions include the dbt models as assets (dagster-dbt, read from dbt's manifest). When
dbt-core is importable, dagster-dbt imports it (about 1.5 CPU s: dbt's artifact classes) and uses it only to
select the manifest's nodes and, in a run, to build an in-process dbt adapter and to ask dbt's version; without
it (dagster-dbt's mode for dbt Fusion, which has no Python package) it reads the same nodes from the manifest.
ACORN's definitions come out byte for byte the same either way: every job, asset, check and resource the UI
shows (tests/acorn_cli/test_dbt_core.py compares the serialised repository snapshots). dbt itself never runs in
that process: the dbt resource (orchestration/warehouse/resource.py) runs `acorn-dbt` as a process of its own,
with no in-process adapter and the version the installed package states, and dagster-dbt turns dbt's JSON log
into Dagster events with its own copies of dbt's status names (the same strings) when dbt-core is not loaded.

So every `acorn` command's own process (`import`, `build`, `run`, ...) loads dagster-dbt with dbt-core hidden
(`dbt.version` cannot be imported while dagster-dbt is, and only then), before it loads the definitions. A build
with and without dbt-core records the same events and publishes the same warehouse
(tests/orchestration/warehouse/test_scoped_build.py builds one of each). `ACORN_LOAD_DBT_CORE=1` loads dbt-core
as before (as the UI's code location and the Celery workers always do), should a dagster-dbt upgrade need it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

# Only in a process `acorn` started (its entry point, `main`), never in one that calls the commands in process
# (tests with click's CliRunner): dagster-dbt is imported once per process, and a test process goes on to run dbt.
_OWN_PROCESS: list[bool] = []

# dagster-dbt's test of whether dbt-core is installed (dagster_dbt/compat.py: `from dbt.version import ...`).
_PROBED_MODULE = "dbt.version"
# Set to 1: load dagster-dbt with dbt-core in an `acorn` process too.
LOAD_DBT_CORE_ENV = "ACORN_LOAD_DBT_CORE"


class _HiddenDbtCore(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname == _PROBED_MODULE:
            raise ModuleNotFoundError(f"not loaded by this acorn process: {fullname}", name=fullname)
        return None


def own_process() -> None:
    """Called by `acorn`'s entry point: this process is an `acorn` command's own, and may load dagster-dbt
    without dbt-core."""
    _OWN_PROCESS.append(True)


def is_own_process() -> bool:
    """Whether this process is an `acorn` command's own (see `own_process`)."""
    return bool(_OWN_PROCESS)


def import_dagster_dbt_without_dbt_core() -> bool:
    """Import dagster-dbt with dbt-core hidden, in an `acorn` command's own process, unless either is imported
    already, or ACORN_LOAD_DBT_CORE=1. True when this process's dagster-dbt runs without dbt-core (now or
    before)."""
    loaded = "dagster_dbt" in sys.modules or _PROBED_MODULE in sys.modules
    if _OWN_PROCESS and os.environ.get(LOAD_DBT_CORE_ENV) != "1" and not loaded:
        finder = _HiddenDbtCore()
        sys.meta_path.insert(0, finder)
        try:
            importlib.import_module("dagster_dbt")
        finally:
            sys.meta_path.remove(finder)
    return dbt_core_hidden()


def dbt_core_hidden() -> bool:
    """Whether this process's dagster-dbt was loaded without dbt-core."""
    compat = sys.modules.get("dagster_dbt.compat")
    return compat is not None and getattr(compat, "DBT_PYTHON_VERSION", None) is None
