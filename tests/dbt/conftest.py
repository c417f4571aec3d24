"""dbt tests run the real dbt CLI, which dagster-dbt (orchestration.warehouse) looks for on PATH."""

from __future__ import annotations

import os
import sys
from pathlib import Path

_venv_bin = str(Path(sys.executable).parent)
if _venv_bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join([_venv_bin, os.environ.get("PATH", "")])

# The small-lake helper is imported by name (the project runs pytest with --import-mode=importlib).
sys.path.insert(0, str(Path(__file__).parent))
