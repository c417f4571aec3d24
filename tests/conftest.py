"""Shared test fixtures: where the public fixtures live, and a quiet, offline environment for every test."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# Real fixtures (Amazon's OpenAPI models, settlement samples), kept in the repo with their sources in PROVENANCE.md.
SHARED_FIXTURES = REPO_ROOT / "tests" / "fixtures" / "shared"

for _name, _value in {
    "DO_NOT_TRACK": "1",
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "GX_ANALYTICS_ENABLED": "false",
    "TQDM_DISABLE": "1",
}.items():
    os.environ.setdefault(_name, _value)


# Folders whose every test is slow (`make test-fast` leaves them out): whole `acorn` processes, demos, crashes.
# Marked here by path so a new test there is slow without saying so; elsewhere `pytestmark`/`@pytest.mark.slow`.
SLOW_FOLDERS = (REPO_ROOT / "tests" / "e2e",)


# The longest tests of `make test` (its --durations on 12-06 and 12-07, 2 idle cores: 115, 76, 65 and 52 s), longest
# first. `--dist loadgroup` hands the xdist groups out largest first, then every other test (a test of its own, or
# a group of one) in collection order; a worker also queues the next two while it runs one. So these start first,
# then the other slow modules, then the quick unit tests, which the two workers share out to the end: neither is
# left running (or holding queued) a long test while the other has nothing left to do.
LONGEST_FIRST = (
    "tests/e2e/test_crash_recovery.py",
    "tests/orchestration/warehouse/test_scoped_build.py",
    "tests/e2e/test_run_crash_recovery.py",
    "tests/orchestration/warehouse/test_unchanged_build.py",
)


def _start_order(modules_with_slow_tests: set[Path]) -> Callable[[pytest.Item], tuple[int, int]]:
    longest = [REPO_ROOT / name for name in LONGEST_FIRST]

    def order(item: pytest.Item) -> tuple[int, int]:
        if item.path in longest:
            return 0, longest.index(item.path)
        return (1 if item.path in modules_with_slow_tests else 2), 0

    return order


# First of the collection hooks: tests/e2e/conftest.py's sort, which puts the hostile demo's readers last, comes after.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if any(item.path.is_relative_to(folder) for folder in SLOW_FOLDERS):
            item.add_marker(pytest.mark.slow)
    # The order tests start in (a stable sort: each module's tests stay together and in their order, so a module's
    # fixtures are made once): the longest first, then the modules with slow tests, then the rest.
    items.sort(key=_start_order({item.path for item in items if item.get_closest_marker("slow")}))
    # The cluster tests need PostgreSQL and Redis and take minutes: only a run that asks for them (`-m cluster`,
    # make test-cluster) collects them, so `make test` and `make test-fast` stay as they were.
    if "cluster" not in (config.option.markexpr or ""):
        left_out = [item for item in items if item.get_closest_marker("cluster")]
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = [item for item in items if not item.get_closest_marker("cluster")]


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """The public fixtures (Amazon's models and examples, real settlement files) beside the repo."""
    if not SHARED_FIXTURES.is_dir():
        pytest.fail(f"shared fixtures not found at {SHARED_FIXTURES}")
    return SHARED_FIXTURES


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    """A webhook on loopback: (its URL, the handler whose `received` lists the JSON bodies posted; set
    `status` to answer otherwise than 200)."""
    handler = type("Receiver", (_Receiver,), {"received": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/acorn", handler
    finally:
        server.shutdown()
        server.server_close()
