"""dbt tests run the real dbt CLI, which dagster-dbt (orchestration.warehouse) looks for on PATH."""

from __future__ import annotations

import os
import sys
from pathlib import Path

_venv_bin = str(Path(sys.executable).parent)
if _venv_bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join([_venv_bin, os.environ.get("PATH", "")])
