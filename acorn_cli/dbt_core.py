"""Loading ACORN's definitions without dbt-core in an `acorn` process that runs no dbt.

The code location's definitions include the dbt models as assets (dagster-dbt, read from dbt's manifest). When
dbt-core is importable, dagster-dbt imports it (about 1.5 CPU s: dbt's artifact classes) and uses it only to
select the manifest's nodes; without it (dagster-dbt's mode for dbt Fusion, which has no Python package) it
reads the same nodes from the manifest. ACORN's definitions come out byte for byte the same either way: every
job, asset, check and resource the UI shows (tests/acorn_cli/test_dbt_core.py compares the serialised
repository snapshots).

So a process that will not run dbt (`acorn import`; `acorn build` when nothing is new, which runs only the
checks beside dbt) loads dagster-dbt with dbt-core hidden: `dbt.version` cannot be imported while dagster-dbt
is, and only then. A process that runs dbt loads it as usual. `acorn build` decides before loading the
definitions and checks again when it creates its run; should the lake have changed in between (an import
landed meanwhile), it starts again as a process that loads dbt-core (`ReloadWithDbtCore`).
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

# Only in a process `acorn` started (its entry point, `main`), never in one that calls the commands in process
# (tests with click's CliRunner): dagster-dbt is imported once per process, and a test process goes on to run dbt.
_OWN_PROCESS: list[bool] = []

# dagster-dbt's test of whether dbt-core is installed (dagster_dbt/compat.py: `from dbt.version import ...`).
_PROBED_MODULE = "dbt.version"


class _HiddenDbtCore(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname == _PROBED_MODULE:
            raise ModuleNotFoundError(f"not loaded by this acorn process: {fullname}", name=fullname)
        return None


class ReloadWithDbtCore(Exception):
    """This process loaded dagster-dbt without dbt-core but must run dbt: start it again with dbt-core."""


def own_process() -> None:
    """Called by `acorn`'s entry point: this process is an `acorn` command's own, and may load dagster-dbt
    without dbt-core."""
    _OWN_PROCESS.append(True)


def is_own_process() -> bool:
    """Whether this process is an `acorn` command's own (see `own_process`)."""
    return bool(_OWN_PROCESS)


def import_dagster_dbt_without_dbt_core() -> bool:
    """Import dagster-dbt with dbt-core hidden, in an `acorn` command's own process, unless either is imported
    already. True when this process's dagster-dbt runs without dbt-core (now or before)."""
    if _OWN_PROCESS and "dagster_dbt" not in sys.modules and _PROBED_MODULE not in sys.modules:
        finder = _HiddenDbtCore()
        sys.meta_path.insert(0, finder)
        try:
            importlib.import_module("dagster_dbt")
        finally:
            sys.meta_path.remove(finder)
    return dbt_core_hidden()


def dbt_core_hidden() -> bool:
    """Whether this process's dagster-dbt was loaded without dbt-core (it cannot run dbt-core's commands then)."""
    compat = sys.modules.get("dagster_dbt.compat")
    return compat is not None and getattr(compat, "DBT_PYTHON_VERSION", None) is None
