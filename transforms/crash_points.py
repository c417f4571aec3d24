"""TEST HOOK ONLY: stop a process at a named point, so a test can kill it there, or run another command while
it is stopped there (tests/e2e/test_crash_recovery.py, tests/e2e/test_concurrency.py).

With `ACORN_TEST_PAUSE_AT=<point>` set, the process reaching that point writes the file named by
`ACORN_TEST_PAUSE_MARKER` (JSON: the point, the pid, and what it was doing) and then stops until the test kills
it or lets it go on: `pause_at` sleeps until the marker file is removed; `pause_with_half_written` (a point inside a
write) first cuts the written file to the half a kill mid-write leaves. A process stops at its point
once. Unset, as in every real run, each call is one dictionary lookup and does nothing.

Points of `acorn import`: `archive` (the raw copy half made), `parquet` (the lines' Parquet half written),
`staged` (the lines complete in the staging area, nothing published), `publish` (the lines published, the
settlements row not yet), `versions-log` (both published, the versions log's record half written).
Scale-out: `archive-upload` (a raw object's upload to the object store, one chunk sent;
tests/transforms/test_archive_object_store.py), `archive-download` (a Celery worker reading an imported file
from the store by its sha256, one chunk received; tests/orchestration/test_stored_imports.py).
Points of `acorn run`, `demo` and `build`: `finances-landing` (a finances partition staged, not yet renamed
into the lake), `dbt-build` (dbt building models in the warehouse's private copy), `warehouse-publish` (the copy
built and flushed, not yet renamed onto the warehouse).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

ENV_POINT = "ACORN_TEST_PAUSE_AT"
ENV_MARKER = "ACORN_TEST_PAUSE_MARKER"
PAUSE_SECONDS = 600.0
POLL_SECONDS = 0.05
_passed: set[str] = set()  # points this process stopped at and was let go from


def armed(point: str) -> bool:
    """Whether the test hook asks to stop at `point` (always False in a real run)."""
    return os.environ.get(ENV_POINT) == point and point not in _passed


def pause_at(point: str, **info: object) -> None:
    """Stop here when the test hook names `point`; nothing otherwise."""
    if not armed(point):
        return
    _passed.add(point)
    marker = _mark(point, info)
    deadline = time.monotonic() + PAUSE_SECONDS
    while time.monotonic() < deadline and (marker is None or marker.exists()):
        time.sleep(POLL_SECONDS)


def pause_with_half_written(point: str, path: Path) -> None:
    """When the test hook names `point`: leave `path` as a kill in the middle of its write would, then stop
    there (as `pause_at`); nothing otherwise. Call it just after the write ends.

    A SIGKILL mid-write leaves the first bytes of the file and no footer. Catching a fast writer in that
    instant from a watching thread is a race a loaded machine loses, so the hook makes the same state itself:
    it cuts the complete file to half its size. A process let go writes the rest back, as the writer would have."""
    if not armed(point):
        return
    with open(path, "r+b") as handle:
        half = os.fstat(handle.fileno()).st_size // 2
        handle.seek(half)
        rest = handle.read()
        handle.truncate(half)
        os.fsync(handle.fileno())
    pause_at(point, path=str(path), size=half)
    with open(path, "ab") as handle:
        handle.write(rest)
        os.fsync(handle.fileno())


def _mark(point: str, info: dict[str, object]) -> Path | None:
    marker = os.environ.get(ENV_MARKER)
    if not marker:
        return None
    tmp = Path(marker + ".tmp")
    tmp.write_text(json.dumps({"point": point, "pid": os.getpid(), **info}, default=str), encoding="utf-8")
    os.replace(tmp, marker)
    return Path(marker)
