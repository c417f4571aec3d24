"""`acorn demo` in a subprocess on a fresh data dir: what the e2e tests that read a demo's results share."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import IO

from acorn_process import TIMEOUT_SECONDS, acorn, start_acorn

# Known fake secrets in the hostile demo's environment: the tests look for them wherever the demo writes.
FAKE_SECRETS = {
    "SPAPI_LWA_CLIENT_ID": "amzn1.application-oa2-client.e2e-fake-client-id-5f1c",
    "SPAPI_LWA_CLIENT_SECRET": "e2e-fake-client-secret-9b7d2a61c4",
    "SPAPI_REFRESH_TOKEN": "Atzr|e2e-fake-refresh-token-3e8f0c2b",
}


def run_demo(workdir: Path, profile: str, extra_env: dict[str, str]) -> dict[str, object]:
    completed = acorn(workdir, *_demo_args(workdir, profile), env=extra_env)
    return _finished(workdir, completed)


class BackgroundDemo:
    """`acorn demo` started without waiting, its output in files (a pipe nobody reads would stop it once full):
    for a demo that spends most of its time waiting (the hostile one, throttled and backing off), so that the
    tests run meanwhile. `result()` waits for it and is what `run_demo` returns; `stop()` kills it if it still
    runs (a session that never asked for the result)."""

    def __init__(self, workdir: Path, profile: str, extra_env: dict[str, str]) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self._stdout = (workdir / "demo.stdout").open("w+", encoding="utf-8")
        self._stderr = (workdir / "demo.stderr").open("w+", encoding="utf-8")
        self.process = start_acorn(
            workdir, *_demo_args(workdir, profile), env=extra_env, stdout=self._stdout, stderr=self._stderr
        )
        self._result: dict[str, object] | None = None

    def result(self) -> dict[str, object]:
        if self._result is None:
            try:
                returncode = self.process.wait(timeout=TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.stop()
                raise
            completed = subprocess.CompletedProcess(
                self.process.args, returncode, _read(self._stdout), _read(self._stderr)
            )
            self._result = _finished(self.workdir, completed)
        return self._result

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._stdout.close()
        self._stderr.close()


def _demo_args(workdir: Path, profile: str) -> list[str]:
    return ["demo", "--profile", profile, "--request-log", str(workdir / "requests.jsonl")]


def _read(output: IO[str]) -> str:
    output.seek(0)
    return output.read()


def _finished(workdir: Path, completed: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return {
        "workdir": workdir,
        "data_dir": workdir / "data",
        "home": workdir / "dagster_home",
        "request_log": workdir / "requests.jsonl",
        "output": completed.stdout + completed.stderr,
        "completed": completed,
    }


def copy_demo(demo: dict[str, object], workdir: Path) -> Path:
    """A private copy of a finished demo's work dir (data dir and Dagster home), for a test that runs more
    commands on it: the copy is what the demo left, and the shared demo stays as it was for the tests that
    only read it. No process has the demo's files open once it has ended, so a file copy is consistent."""
    shutil.copytree(Path(str(demo["workdir"])), workdir, symlinks=True, dirs_exist_ok=True)
    return workdir
