"""Other processes that hold the warehouse, for the tests: run as `python warehouse_processes.py <role> ...`.

DuckDB shares one database instance per file within a process, so its file locks only show between processes.
Every role prints one JSON line per step on stdout and reads its next command from stdin:

- `reader <db> <sql>`: a read-only connection (an analyst, a BI tool); prints `<sql>`'s first value on connect;
  then `query` prints it again on the same connection, `reconnect` closes it and opens a new one, `quit` ends;
- `read-write <db>`: a read-write connection (e.g. `duckdb data/warehouse.duckdb` in a shell); `quit` ends;
- `build <warehouse> <run_id> <sql>`: `build_and_publish`, running `<sql>` in its copy; prints `holding` with the
  copy's path, then `publish` ends the build normally and `quit` raises inside it.

`Process` starts one from a test and talks to it.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

REPO_ROOT = Path(__file__).resolve().parents[3]


class Process:
    """A helper process from warehouse_processes.py: send it commands, wait for its JSON lines."""

    def __init__(self, *args: str) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, __file__, *args],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.pid = self.popen.pid
        self.lines: queue.Queue[str] = queue.Queue()
        assert self.popen.stdout is not None
        self.pump = threading.Thread(target=self._pump, args=(self.popen.stdout,), daemon=True)
        self.pump.start()

    def _pump(self, stream: Any) -> None:
        for line in stream:
            self.lines.put(line)

    def expect(self, event: str, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                message: dict[str, Any] = json.loads(self.lines.get(timeout=0.2))
                break
            except queue.Empty:
                if self.popen.poll() is not None:
                    self.pump.join(timeout=5)  # it may still be reading the last lines
                exited = self.popen.poll() is not None and self.lines.empty()
                if exited or time.monotonic() > deadline:
                    self.popen.kill()
                    stderr = self.popen.stderr.read() if self.popen.stderr else ""
                    raise AssertionError(f"no '{event}' from {self.popen.args}: {stderr[-3000:]}") from None
        assert message["event"] == event, message
        return message

    def send(self, command: str) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(command + "\n")
        self.popen.stdin.flush()

    def ask(self, command: str) -> Any:
        self.send(command)
        return self.expect(command)["value"]

    def finish(self, command: str = "quit") -> int:
        if self.popen.poll() is None:
            self.send(command)
        return self.popen.wait(timeout=60)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(timeout=60)


def _say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def _commands() -> Iterator[str]:
    for line in iter(sys.stdin.readline, ""):
        yield line.strip()


def reader(db: str, sql: str) -> None:
    connection = duckdb.connect(db, read_only=True)
    _say(event="connected", value=connection.execute(sql).fetchone()[0])  # type: ignore[index]
    for command in _commands():
        if command == "reconnect":
            connection.close()
            connection = duckdb.connect(db, read_only=True)
        if command in ("query", "reconnect"):
            _say(event=command, value=connection.execute(sql).fetchone()[0])  # type: ignore[index]
        if command == "quit":
            break
    connection.close()


def read_write(db: str) -> None:
    with duckdb.connect(db) as connection:
        connection.execute("create table if not exists held (held_at timestamp)")
        connection.execute("insert into held values (now())")
        _say(event="connected")
        for command in _commands():
            if command == "quit":
                break


def build(warehouse: str, run_id: str, sql: str) -> None:
    from orchestration.warehouse.publish import build_and_publish

    with build_and_publish(Path(warehouse), run_id=run_id) as building:
        with duckdb.connect(str(building.path)) as connection:
            connection.execute(sql)
        _say(event="holding", copy=str(building.path))
        for command in _commands():
            if command == "publish":
                break
            if command == "quit":
                raise SystemExit(1)
    _say(event="published")


if __name__ == "__main__":
    role, *args = sys.argv[1:]
    {"reader": reader, "read-write": read_write, "build": build}[role](*args)
