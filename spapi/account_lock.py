"""One caller per account at a time, across processes: the per-account lock every SP-API client is opened under.

The client's own limiter (spapi/ratelimit.py) paces one process's calls to Amazon's published rates; it cannot
see another process. Two workers (Celery steps, a run from the UI beside a cron `acorn run`) calling one account
at once would each spend the account's whole budget. So the orchestration opens an account's client only while
holding that account's lock, an exclusive `flock` on `<dir>/spapi-<account>.lock` (the data dir's `.acorn-locks/`,
which every worker shares): a second process wanting the same account waits until the first closes its client,
and says whom it waits for. Different accounts never wait for each other. The kernel frees the lock when its
holder dies (kill -9 included), so a dead worker never leaves an account locked.

The lock also hands the account's client-side buckets over (`buckets`): Amazon meters an account with one bucket
per operation whichever process calls, so the next holder continues from the tokens the last one left (saved in
`spapi-<account>.buckets.json` beside the lock when it lets go), not from a full burst the last one has spent.

flock holds between processes on one host and, on most network file systems (NFS v4 with lock support), across
hosts sharing the data dir. In scale-out (ACORN_DAGSTER_POSTGRES_URL set) workers share no file system and the
lock is a PostgreSQL advisory lock instead (orchestration/account_locks.py chooses; README, "Scale-out").
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from spapi.ratelimit import RateLimiterRegistry

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def lock_path(directory: Path, account_id: str) -> Path:
    return Path(directory) / f"spapi-{_UNSAFE.sub('_', account_id)}.lock"


def buckets_path(directory: Path, account_id: str) -> Path:
    return Path(directory) / f"spapi-{_UNSAFE.sub('_', account_id)}.buckets.json"


def read_bucket_states(path: Path) -> dict[str, Any]:
    """The buckets the last holder handed over (RateLimiterRegistry.hand_over), {} when none or unreadable."""
    try:
        states = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return states if isinstance(states, dict) else {}


def write_bucket_states(path: Path, states: dict[str, Any]) -> None:
    """Save the buckets for the next holder, whole or not at all (a rename)."""
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps(states, sort_keys=True), encoding="utf-8")
    partial.replace(path)


@contextlib.contextmanager
def account_lock(
    directory: Path,
    account_id: str,
    on_wait: Callable[[str], None] | None = None,
    buckets: RateLimiterRegistry | None = None,
) -> Iterator[None]:
    """Hold `account_id`'s lock for the block; when another process holds it, call `on_wait` with who holds
    it (pid and host, as the holder wrote them) and wait for it. With `buckets`, the account's buckets in it
    continue from what the last holder left, and are left for the next one when the block ends."""
    path = lock_path(directory, account_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                handle.seek(0)
                holder = handle.read().decode("utf-8", "replace").strip() or "another process"
                on_wait(holder)
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} on {socket.gethostname()}".encode())
            handle.flush()
            if buckets is not None:
                buckets.take_over(account_id, read_bucket_states(buckets_path(directory, account_id)))
            try:
                yield
            finally:
                if buckets is not None:
                    write_bucket_states(buckets_path(directory, account_id), buckets.hand_over(account_id))
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
