"""Two processes never hold one account's SP-API lock at once: the second waits, told who holds it, and gets it
when the first lets go (or dies); another account's lock is free all along."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from pathlib import Path

from spapi.account_lock import account_lock, lock_path

HOLDER = """
import sys
from pathlib import Path
from spapi.account_lock import account_lock
with account_lock(Path(sys.argv[1]), sys.argv[2]):
    print("held", flush=True)
    sys.stdin.readline()  # until the test says to let go
"""


def _holder(directory: Path, account: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(directory), account],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


def test_a_second_process_waits_for_the_account_and_is_told_who_holds_it(tmp_path: Path) -> None:
    holder = _holder(tmp_path, "demo-na")
    try:
        # Another account is not held up.
        waited_for_other: list[str] = []
        with account_lock(tmp_path, "demo-eu", waited_for_other.append):
            pass
        assert waited_for_other == []

        told: list[str] = []
        told_event = threading.Event()
        acquired = threading.Event()

        def wanted() -> None:
            def on_wait(who: str) -> None:
                told.append(who)
                told_event.set()

            with account_lock(tmp_path, "demo-na", on_wait):
                acquired.set()

        waiter = threading.Thread(target=wanted)
        waiter.start()
        assert told_event.wait(30)
        assert told == [f"pid {holder.pid} on {socket.gethostname()}"]
        assert not acquired.is_set()  # still waiting: the holder has not let go
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        waiter.join(30)
        assert acquired.is_set()
    finally:
        holder.kill()
        holder.wait()


def test_a_killed_holder_frees_the_account(tmp_path: Path) -> None:
    holder = _holder(tmp_path, "demo-na")
    holder.kill()  # SIGKILL: no clean-up runs
    holder.wait()
    told: list[str] = []
    with account_lock(tmp_path, "demo-na", told.append):
        pass
    assert told == []
    assert lock_path(tmp_path, "a/b c").name == "spapi-a_b_c.lock"
