"""Shared test fixtures: where the public fixtures live, and a quiet, offline environment for every test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# A byte-identical copy of ../shared/fixtures (see its PROVENANCE.md), so a clone tests on its own.
SHARED_FIXTURES = REPO_ROOT / "tests" / "fixtures" / "shared"

for _name, _value in {
    "DO_NOT_TRACK": "1",
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "GX_ANALYTICS_ENABLED": "false",
    "TQDM_DISABLE": "1",
}.items():
    os.environ.setdefault(_name, _value)


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """The public fixtures (Amazon's models and examples, real settlement files) beside the repo."""
    if not SHARED_FIXTURES.is_dir():
        pytest.fail(f"shared fixtures not found at {SHARED_FIXTURES}")
    return SHARED_FIXTURES
