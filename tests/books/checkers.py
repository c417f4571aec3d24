"""The real checkers of the plain-text formats: beancount's `bean-check` (a dev dependency, beside the test's
Python) and hledger's `hledger check` (the Debian package; .ci/run installs it, and tests skip naming it when it
is absent outside CI)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def bean_check(path: Path) -> subprocess.CompletedProcess[str]:
    checker = Path(sys.executable).parent / "bean-check"
    return subprocess.run([str(checker), str(path)], capture_output=True, text=True, timeout=120)


def hledger_or_skip() -> str:
    found = shutil.which("hledger")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("hledger is not installed: .ci/run installs it (apt-get install hledger)")
        pytest.skip("hledger is not installed (Debian: apt-get install hledger); CI installs it")
    return found


def hledger_check(path: Path) -> subprocess.CompletedProcess[str]:
    # --strict: every account and commodity declared; ordereddates: transactions in date order.
    return subprocess.run(
        [hledger_or_skip(), "-f", str(path), "check", "--strict", "ordereddates"],
        capture_output=True,
        text=True,
        timeout=120,
    )


def ledger_check(path: Path) -> subprocess.CompletedProcess[str]:
    """ledger (Debian's `ledger`) reading the hledger export strictly (every account and commodity declared,
    balance assertions checked): skipped like hledger when absent."""
    found = shutil.which("ledger")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("ledger is not installed: .ci/run installs it (apt-get install ledger)")
        pytest.skip("ledger is not installed (Debian: apt-get install ledger); CI installs it")
    return subprocess.run(
        [found, "-f", str(path), "--strict", "--pedantic", "balance"],
        capture_output=True,
        text=True,
        timeout=120,
    )
