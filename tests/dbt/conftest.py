"""dbt tests run the real dbt CLI, which dagster-dbt (orchestration.warehouse) looks for on PATH."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

_venv_bin = str(Path(sys.executable).parent)
if _venv_bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join([_venv_bin, os.environ.get("PATH", "")])


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where `small_lake.demo_settlements()` was built once per session (per xdist worker) with
    `dbt build --exclude-resource-type unit_test` (seeds, models and data tests): the tests that start from that
    build each take a copy (`small_lake.copy_built_warehouse`) instead of running the same build again. Never
    changed after it is built."""
    from small_lake import build_warehouse, demo_settlements

    workdir = tmp_path_factory.mktemp("demo-build")
    build_warehouse(workdir, demo_settlements(), "--exclude-resource-type", "unit_test")
    return workdir
