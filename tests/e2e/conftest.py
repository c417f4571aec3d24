"""The clean demo run, shared by every e2e test that only reads its results (test_demo.py, test_books_export.py):
one demo per test session (per xdist worker; those tests share the xdist group "demo", so one worker)."""

from __future__ import annotations

import pytest
from demo_runs import run_demo


@pytest.fixture(scope="session")
def clean_demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    return run_demo(tmp_path_factory.mktemp("clean"), "clean", {})
