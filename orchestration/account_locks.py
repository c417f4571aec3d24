"""Which per-account SP-API lock a process takes: `flock` on one host, a PostgreSQL advisory lock across hosts.

Embedded (the default), the lock is spapi/account_lock.py's `flock` under `<data>/.acorn-locks/`: every process
that can call an account shares that data dir. In scale-out (`ACORN_DAGSTER_POSTGRES_URL` set: the Dagster
instance every worker reaches) workers on different hosts share no file system, so the lock is a PostgreSQL
**session advisory lock** in that database instead, held on a connection of its own for the block:

- the key is a stable 64-bit number, the first 8 bytes of sha256("acorn spapi account:" + account id), the same
  on every host and in every release; different accounts never wait for each other (a 64-bit collision between
  two configured accounts is negligible, and would only serialise them);
- the connection's `application_name` says `acorn pid <pid> on <host> spapi <account>`: a process that has to
  wait reads it from `pg_locks`/`pg_stat_activity` and tells `on_wait` who holds the account;
- PostgreSQL releases the lock when the holder's session ends: the block's end (the connection is closed), or
  the holder dying (kill -9: the server sees the socket close; a host that vanished: the server's keepalive
  probes, set short for this session, find it gone within about a minute), so a dead worker never leaves an
  account locked.

The lock hands the account's client-side buckets over to the next holder (`buckets`, the process's
RateLimiterRegistry): Amazon meters an account per operation whichever process calls, so a process taking the account
over continues from the tokens the last holder left instead of a full burst it may have spent. Embedded they are a
JSON file beside the flock file; in scale-out a row of `acorn_spapi_buckets` in the same database, read after the
lock is taken and written before it is let go. A holder killed before it let go leaves the previous state (the
next holder may then send up to a burst too early, and the client's 429 handling slows it down).

A PostgreSQL that cannot be reached stops the step with `CouldNotRun` naming the URL without its password.
Embedded mode costs one look at the environment.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from orchestration.outcomes import CouldNotRun
from orchestration.shown_urls import redacted, scrubbed, url_secrets
from spapi.account_lock import account_lock
from spapi.ratelimit import RateLimiterRegistry

POSTGRES_URL_VAR = "ACORN_DAGSTER_POSTGRES_URL"
CONNECT_TIMEOUT_SECONDS = 10
KEY_NAMESPACE = b"acorn spapi account:"
# The server probes this session's socket after 30 s of silence, every 10 s, 3 times: a holder whose host vanished
# (power lost, network cut: no FIN ever arrives) loses the lock within about a minute, not after the kernel's
# default two hours. Session settings any user may set.
SERVER_KEEPALIVES = "-c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3"


def lock_key(account_id: str) -> int:
    """The account's advisory lock key: a signed 64-bit integer (PostgreSQL's bigint), stable across hosts."""
    digest = hashlib.sha256(KEY_NAMESPACE + account_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def holder_name(account_id: str) -> str:
    """This process's `application_name` while it holds an account (PostgreSQL keeps 63 bytes of it)."""
    name = f"acorn pid {os.getpid()} on {socket.gethostname()} spapi {account_id}"
    return name.encode("utf-8")[:63].decode("utf-8", "ignore")


@contextlib.contextmanager
def spapi_account_lock(
    locks_dir: Path,
    account_id: str,
    on_wait: Callable[[str], None] | None = None,
    env: Mapping[str, str] | None = None,
    buckets: RateLimiterRegistry | None = None,
) -> Iterator[None]:
    """Hold the account's SP-API lock for the block: PostgreSQL's in scale-out, `flock` in `locks_dir` else;
    with `buckets`, the account's buckets handed over from the last holder and to the next (see the module)."""
    url = ((os.environ if env is None else env).get(POSTGRES_URL_VAR) or "").strip()
    if not url:
        with account_lock(locks_dir, account_id, on_wait, buckets):
            yield
        return
    with postgres_account_lock(url, account_id, on_wait, buckets):
        yield


@contextlib.contextmanager
def postgres_account_lock(
    url: str,
    account_id: str,
    on_wait: Callable[[str], None] | None = None,
    buckets: RateLimiterRegistry | None = None,
) -> Iterator[None]:
    """Hold `pg_advisory_lock(lock_key(account_id))` on a connection of its own for the block (see the module)."""
    import psycopg2

    key = lock_key(account_id)
    try:
        connection = psycopg2.connect(
            url,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            application_name=holder_name(account_id),
            options=SERVER_KEEPALIVES,
        )
    except psycopg2.Error as error:
        cause = scrubbed(str(error).strip(), url_secrets(url))
        raise CouldNotRun(
            f"the account lock's PostgreSQL at {redacted(url, POSTGRES_URL_VAR)} ({POSTGRES_URL_VAR}) cannot be "
            f"used: {cause}. Fix: start PostgreSQL there or correct the URL"
        ) from None
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("select pg_try_advisory_lock(%s)", [key])
            [(taken,)] = cursor.fetchall()
            if not taken:
                if on_wait is not None:
                    on_wait(_holder(cursor, key))
                cursor.execute("select pg_advisory_lock(%s)", [key])
                cursor.fetchall()
            if buckets is not None:
                buckets.take_over(account_id, _handed_over_buckets(cursor, account_id))
        try:
            yield
        finally:
            if buckets is not None:
                _hand_over_buckets(connection, account_id, buckets.hand_over(account_id))
    finally:
        connection.close()  # ends the session: PostgreSQL releases the lock


BUCKETS_TABLE = "acorn_spapi_buckets"


def _handed_over_buckets(cursor: Any, account_id: str) -> dict[str, Any]:
    """The buckets the last holder of the account left (see the module), {} when none."""
    import psycopg2

    # Another host's lock may create it at the same moment.
    with contextlib.suppress(psycopg2.errors.UniqueViolation, psycopg2.errors.DuplicateTable):
        cursor.execute(
            f"create table if not exists {BUCKETS_TABLE} (account_id text primary key, states text not null, "
            "saved_at timestamptz not null default now())"
        )
    cursor.execute(f"select states from {BUCKETS_TABLE} where account_id = %s", [account_id])
    row = cursor.fetchone()
    try:
        states = json.loads(row[0]) if row else {}
    except ValueError:
        return {}
    return states if isinstance(states, dict) else {}


def _hand_over_buckets(connection: Any, account_id: str, states: dict[str, Any]) -> None:
    """Leave the account's buckets for its next holder, still under the lock."""
    import psycopg2

    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"insert into {BUCKETS_TABLE} (account_id, states) values (%s, %s) on conflict (account_id) "
                "do update set states = excluded.states, saved_at = now()",
                [account_id, json.dumps(states, sort_keys=True)],
            )
    except psycopg2.Error:
        pass  # the server went away: the next holder starts from the previous state (see the module)


def _holder(cursor: object, key: int) -> str:
    """Who holds `key` (its application_name, else its server pid), as pg_locks shows a bigint key: the high 32
    bits in classid, the low 32 in objid, objsubid 1."""
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    cursor.execute(  # type: ignore[attr-defined]
        "select a.application_name, l.pid from pg_locks l left join pg_stat_activity a on a.pid = l.pid "
        "where l.locktype = 'advisory' and l.granted and l.classid = %s and l.objid = %s and l.objsubid = 1 "
        "and l.database = (select oid from pg_database where datname = current_database())",
        [unsigned >> 32, unsigned & 0xFFFFFFFF],
    )
    rows = cursor.fetchall()  # type: ignore[attr-defined]
    if not rows:
        return "another process (which has just let go)"
    name, pid = rows[0]
    return str(name).removeprefix("acorn ").rsplit(" spapi ", 1)[0] if name else f"server process {pid}"
