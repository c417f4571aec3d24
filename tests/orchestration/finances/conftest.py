"""A real simulator and real SP-API clients for the finance landing tests (loopback only, no stubs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from finance_testkit import Landing, landing_on_simulator


@pytest.fixture
def landing(tmp_path: Path) -> Iterator[Landing]:
    with landing_on_simulator(tmp_path) as handle:
        yield handle
