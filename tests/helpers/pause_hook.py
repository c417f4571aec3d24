"""The test hook `ACORN_TEST_PAUSE_AT` (transforms/crash_points.py) from the test's side: the environment that
stops a process at a named point, and the wait until it has stopped there. One copy for every test that kills a
process at a point (crash recovery, PostgreSQL instance, raw archive upload) or runs another command while it is
stopped (concurrency, DuckLake)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

POLL_SECONDS = 0.05


def pause_env(point: str, marker: Path) -> dict[str, str]:
    """The environment that stops a process at `point`, where it writes `marker` (JSON) and waits."""
    return {"ACORN_TEST_PAUSE_AT": point, "ACORN_TEST_PAUSE_MARKER": str(marker)}


def wait_until_paused(
    process: subprocess.Popen[str] | subprocess.Popen[bytes],
    marker: Path,
    point: str,
    *,
    timeout: float,
    log: Path | None = None,
) -> dict[str, object]:
    """Wait until `process` (started with `pause_env(point, marker)`) has stopped at `point`: the marker's JSON
    (the hook writes it whole, by a rename). Fails, naming the point, when the process ends first or `timeout`
    seconds pass; a process still running then is killed, and its output (`log`, the file it writes to, or its
    pipes) ends the message."""
    deadline = time.monotonic() + timeout
    while not marker.exists():
        ended = process.poll() is not None
        if ended or time.monotonic() > deadline:
            if not ended:
                process.kill()
            raise AssertionError(
                f"{' '.join(map(str, process.args))[-200:]}: "  # type: ignore[arg-type]
                f"{'ended before' if ended else 'never reached'} {point}: {_output(process, log)[-3000:]}"
            )
        time.sleep(POLL_SECONDS)
    found: dict[str, object] = json.loads(marker.read_text(encoding="utf-8"))
    return found


def _output(process: subprocess.Popen[str] | subprocess.Popen[bytes], log: Path | None) -> str:
    if log is not None:
        return log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    if process.stdout is None and process.stderr is None:
        return ""
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        return ""
    return "".join(
        part.decode(errors="replace") if isinstance(part, bytes) else part for part in (out, err) if part
    )
