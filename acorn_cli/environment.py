"""Process set-up shared by every `acorn` command: quiet, offline tools and a Dagster home that exists."""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.paths import REPO_ROOT

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
        config.write_text(wanted, encoding="utf-8")
    return home
