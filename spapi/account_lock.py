"""One caller per account at a time, across processes: the per-account lock every SP-API client is opened under.

The client's own limiter (spapi/ratelimit.py) paces one process's calls to Amazon's published rates; it cannot
see another process. Two workers (Celery steps, a run from the UI beside a cron `acorn run`) calling one account
at once would each spend the account's whole budget. So the orchestration opens an account's client only while
holding that account's lock, an exclusive `flock` on `<dir>/spapi-<account>.lock` (the data dir's `.acorn-locks/`,
which every worker shares): a second process wanting the same account waits until the first closes its client,
and says whom it waits for. Different accounts never wait for each other. The kernel frees the lock when its
holder dies (kill -9 included), so a dead worker never leaves an account locked.

flock holds between processes on one host and, on most network file systems (NFS v4 with lock support), across
hosts sharing the data dir. In scale-out (ACORN_DAGSTER_POSTGRES_URL set) workers share no file system and the
lock is a PostgreSQL advisory lock instead (orchestration/account_locks.py chooses; README, "Scale-out").
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def lock_path(directory: Path, account_id: str) -> Path:
    return Path(directory) / f"spapi-{_UNSAFE.sub('_', account_id)}.lock"


@contextlib.contextmanager
def account_lock(
    directory: Path, account_id: str, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold `account_id`'s lock for the block; when another process holds it, call `on_wait` with who holds
    it (pid and host, as the holder wrote them) and wait for it."""
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
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
