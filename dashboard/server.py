"""Start the dashboard: Streamlit serving dashboard/app.py on 127.0.0.1 (unless told otherwise), offline.

Streamlit's options are given on its command line, so no user or project config file can turn telemetry on or
open it to the network: usage statistics off, headless (no browser opened), no file watcher, no development mode.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = Path(__file__).resolve().with_name("app.py")
DEFAULT_ADDRESS = "127.0.0.1"
DEFAULT_PORT = 8501


def streamlit_command(*, port: int = DEFAULT_PORT, address: str = DEFAULT_ADDRESS) -> list[str]:
    """The command that serves the dashboard (the Python running this, with Streamlit's CLI module)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        address,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--browser.gatherUsageStats",
        "false",
        "--browser.serverAddress",
        address,
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "viewer",
        "--theme.base",
        "light",
    ]


def streamlit_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for the server: telemetry off also through Streamlit's variable, the repo importable."""
    environment = dict(os.environ if base is None else base)
    environment["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    environment["STREAMLIT_SERVER_HEADLESS"] = "true"
    repo = str(APP.parent.parent)
    environment["PYTHONPATH"] = os.pathsep.join(p for p in (repo, environment.get("PYTHONPATH")) if p)
    return environment
