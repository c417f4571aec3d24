"""`acorn demo` in a subprocess on a fresh data dir: what the e2e tests that read a demo's results share."""

from __future__ import annotations

from pathlib import Path

from acorn_process import acorn


def run_demo(workdir: Path, profile: str, extra_env: dict[str, str]) -> dict[str, object]:
    data_dir = workdir / "data"
    home = workdir / "dagster_home"
    request_log = workdir / "requests.jsonl"
    completed = acorn(workdir, "demo", "--profile", profile, "--request-log", str(request_log), env=extra_env)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return {
        "data_dir": data_dir,
        "home": home,
        "request_log": request_log,
        "output": completed.stdout + completed.stderr,
    }
