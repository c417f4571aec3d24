"""`acorn demo` in a subprocess on a fresh data dir: what the e2e tests that read a demo's results share."""

from __future__ import annotations

import shutil
from pathlib import Path

from acorn_process import acorn


def run_demo(workdir: Path, profile: str, extra_env: dict[str, str]) -> dict[str, object]:
    data_dir = workdir / "data"
    home = workdir / "dagster_home"
    request_log = workdir / "requests.jsonl"
    completed = acorn(workdir, "demo", "--profile", profile, "--request-log", str(request_log), env=extra_env)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return {
        "workdir": workdir,
        "data_dir": data_dir,
        "home": home,
        "request_log": request_log,
        "output": completed.stdout + completed.stderr,
        "completed": completed,
    }


def copy_demo(demo: dict[str, object], workdir: Path) -> Path:
    """A private copy of a finished demo's work dir (data dir and Dagster home), for a test that runs more
    commands on it: the copy is what the demo left, and the shared demo stays as it was for the tests that
    only read it. No process has the demo's files open once it has ended, so a file copy is consistent."""
    shutil.copytree(Path(str(demo["workdir"])), workdir, symlinks=True, dirs_exist_ok=True)
    return workdir
