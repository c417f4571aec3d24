"""The demo runs shared by every e2e test that only reads their results (test_demo.py, test_books_export.py,
test_operations.py, test_readme.py): one clean and one hostile demo per test session (per xdist worker; those
tests share the xdist group "demo", so one worker)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from demo_runs import FAKE_SECRETS, BackgroundDemo, run_demo


@pytest.fixture(scope="session")
def hostile_demo_started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundDemo]:
    """The hostile demo (known fake secrets in its environment), started and left running: throttled and
    backing off, it mostly waits, so the tests before the first one that reads it run meanwhile."""
    demo = BackgroundDemo(tmp_path_factory.mktemp("hostile"), "hostile", FAKE_SECRETS)
    try:
        yield demo
    finally:
        demo.stop()


@pytest.fixture(scope="session")
def hostile_demo(hostile_demo_started: BackgroundDemo) -> dict[str, object]:
    return hostile_demo_started.result()


@pytest.fixture(scope="session")
def clean_demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    # When this session also runs a test of the hostile demo, that demo starts first, to run beside this one.
    if any("hostile_demo" in item.fixturenames for item in request.session.items):
        request.getfixturevalue("hostile_demo_started")
    return run_demo(tmp_path_factory.mktemp("clean"), "clean", {})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The hostile demo's readers run last (a stable sort: every other order stays), so that the demo, started in
    # the background by the first test of the clean one, waits beside as many other tests as it can.
    items.sort(key=lambda item: "hostile_demo" in getattr(item, "fixturenames", ()))
