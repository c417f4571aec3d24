"""The per-account SP-API lock across hosts (scale-out, orchestration/account_locks.py): with
ACORN_DAGSTER_POSTGRES_URL set it is a PostgreSQL session advisory lock, so workers that share no disk never call
one account at once. Real processes against the machine's PostgreSQL (127.0.0.1:5432, a fresh database per test;
skipped, saying why, where none answers, except in CI): a second process waits and is told who holds the account,
another account is free all along, a holder killed with SIGKILL frees it, and without the variable the lock is
still the data dir's flock."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres_server import fresh_database

from orchestration.account_locks import POSTGRES_URL_VAR, SERVER_KEEPALIVES, lock_key, spapi_account_lock
from orchestration.outcomes import CouldNotRun

HOLDER = """
import sys
from pathlib import Path
from orchestration.account_locks import spapi_account_lock
with spapi_account_lock(Path(sys.argv[1]), sys.argv[2]):
    print("held", flush=True)
    sys.stdin.readline()  # until the test says to let go
"""


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with fresh_database("not-shown-pw") as url:
        monkeypatch.setenv(POSTGRES_URL_VAR, url)
        yield url


def _holder(locks: Path, account: str) -> subprocess.Popen[str]:
    """Another process (its own host, as far as the lock knows: its lock directory is private) holding `account`."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(locks), account],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


def test_a_process_elsewhere_holds_the_account_and_the_waiter_is_told_who(
    tmp_path: Path, database: str
) -> None:
    holder = _holder(tmp_path / "host-a", "sim-na-001")  # no file shared with this "host"
    try:
        told_other: list[str] = []
        with spapi_account_lock(tmp_path / "host-b", "sim-eu-002", told_other.append):
            pass
        assert told_other == []

        told: list[str] = []
        told_event, acquired = threading.Event(), threading.Event()

        def wanted() -> None:
            def on_wait(who: str) -> None:
                told.append(who)
                told_event.set()

            with spapi_account_lock(tmp_path / "host-b", "sim-na-001", on_wait):
                acquired.set()

        waiter = threading.Thread(target=wanted)
        waiter.start()
        assert told_event.wait(30)
        assert told == [f"pid {holder.pid} on {socket.gethostname()}"]
        assert not acquired.wait(1.0)  # still waiting: the holder has not let go
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        waiter.join(30)
        assert acquired.is_set()
        assert not (tmp_path / "host-b").exists()  # no flock file: the lock is PostgreSQL's
    finally:
        holder.kill()
        holder.wait()


def test_a_killed_holder_frees_the_account(tmp_path: Path, database: str) -> None:
    holder = _holder(tmp_path / "host-a", "sim-na-001")
    holder.kill()  # SIGKILL: no clean-up runs; PostgreSQL ends the session when the socket closes
    holder.wait()
    told: list[str] = []
    acquired = threading.Event()

    def wanted() -> None:
        with spapi_account_lock(tmp_path / "host-b", "sim-na-001", told.append):
            acquired.set()

    waiter = threading.Thread(target=wanted, daemon=True)
    waiter.start()
    waiter.join(30)
    assert acquired.is_set()
    # (the server may notice the dead socket a moment after the kill: a waiter is told, then gets it)
    assert all(who.startswith(("pid", "another process")) for who in told)


def test_the_lock_session_asks_the_server_to_probe_a_vanished_holder_within_a_minute(database: str) -> None:
    # A host that vanishes sends no FIN: the server frees its lock when its keepalive probes fail. The lock's
    # connection sets them for its session, as the database's own (non-superuser) role may.
    import psycopg2

    connection = psycopg2.connect(database, options=SERVER_KEEPALIVES)
    try:
        with connection.cursor() as cursor:
            values = []
            for name in ("tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count"):
                cursor.execute(f"show {name}")
                values.append(cursor.fetchone()[0])
    finally:
        connection.close()
    idle, interval, count = (int(value.rstrip("s")) for value in values)
    assert min(idle, interval, count) > 0 and idle + interval * count <= 60  # 0 would mean the OS's default


def test_the_key_is_stable_and_per_account() -> None:
    assert lock_key("sim-na-001") == lock_key("sim-na-001")
    assert lock_key("sim-na-001") != lock_key("sim-na-0010")
    assert -(2**63) <= lock_key("x") < 2**63
    # sha256("acorn spapi account:demo-na")[:8] as a signed big-endian integer: every host and release agrees.
    assert lock_key("demo-na") == -8806170600517263837


def test_without_the_instance_url_the_lock_is_the_data_dirs_flock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(POSTGRES_URL_VAR, raising=False)
    with spapi_account_lock(tmp_path, "demo-na"):
        assert (tmp_path / "spapi-demo-na.lock").exists()


def test_an_unreachable_postgres_stops_the_step_without_its_password(tmp_path: Path) -> None:
    url = "postgresql://acorn:s3cret-pw@127.0.0.1:1/acorn"
    with (
        pytest.raises(CouldNotRun) as raised,
        spapi_account_lock(tmp_path, "demo-na", env={POSTGRES_URL_VAR: url}),
    ):
        pass
    assert "s3cret-pw" not in str(raised.value)
    assert "postgresql://acorn:***@127.0.0.1:1/acorn" in str(raised.value)


SPENDER = """
import sys
from pathlib import Path
from orchestration.account_locks import spapi_account_lock
from spapi.ratelimit import RateLimiterRegistry
registry = RateLimiterRegistry()
with spapi_account_lock(Path(sys.argv[1]), sys.argv[2], buckets=registry):
    for _ in range(int(sys.argv[3])):
        registry.bucket(sys.argv[2], "getReports").acquire()
"""


def test_the_lock_hands_the_accounts_buckets_to_the_next_holder_on_another_host(
    tmp_path: Path, database: str
) -> None:
    from spapi.ratelimit import PUBLISHED_LIMITS, RateLimiterRegistry

    burst = PUBLISHED_LIMITS[
        "getReports"
    ].burst  # 10, refilled at 0.0222 per second: none back within the test
    spent = burst - 3
    # A process on "another host" (its own lock directory) spends most of the account's getReports burst.
    subprocess.run(
        [sys.executable, "-c", SPENDER, str(tmp_path / "host-a"), "sim-na-001", str(spent)],
        check=True,
        env=dict(os.environ),
    )
    registry = RateLimiterRegistry()  # this process: a full burst of its own until it takes the account over
    assert registry.bucket("sim-na-001", "getReports").available() == burst
    with spapi_account_lock(tmp_path / "host-b", "sim-na-001", buckets=registry):
        # It continues from what the other left (3 tokens and what refilled since), not from a full burst that
        # Amazon's bucket, shared by both, no longer holds.
        left = registry.bucket("sim-na-001", "getReports").available()
        assert burst - spent <= left < burst - spent + 1
        assert registry.bucket("sim-eu-002", "getReports").available() == burst  # another account: untouched
        registry.bucket("sim-na-001", "getReports").acquire()
    # and hands over what it left in turn
    other = RateLimiterRegistry()
    with spapi_account_lock(tmp_path / "host-c", "sim-na-001", buckets=other):
        assert other.bucket("sim-na-001", "getReports").available() < burst - spent
