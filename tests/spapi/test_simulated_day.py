"""claim_simulated_day: a data dir records the simulated day (and seed) whose data it holds, and refuses another."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from spapi.bundled_simulator import SIMULATED_DAY_FILE, SimulatedDayMismatch, claim_simulated_day


def test_first_claim_records_the_day_and_the_same_day_is_accepted_again(tmp_path: Path) -> None:
    root = tmp_path / "data"
    claim_simulated_day(root, date(2026, 12, 5), 7)
    assert (root / SIMULATED_DAY_FILE).read_text().strip() == "2026-12-05 seed=7"
    claim_simulated_day(root, date(2026, 12, 5), 7)  # a rerun of the same day: fine


@pytest.mark.parametrize(("day", "seed"), [(date(2026, 12, 6), 7), (date(2026, 12, 5), 8)])
def test_another_day_or_seed_is_refused_naming_the_fix(tmp_path: Path, day: date, seed: int) -> None:
    claim_simulated_day(tmp_path, date(2026, 12, 5), 7)
    with pytest.raises(SimulatedDayMismatch) as raised:
        claim_simulated_day(tmp_path, day, seed)
    message = str(raised.value)
    assert "simulated day 2026-12-05 seed=7" in message
    assert f"serves {day.isoformat()} seed={seed}" in message
    assert "ACORN_SIMULATOR_START=2026-12-05" in message
    assert str(tmp_path) in message
    assert (tmp_path / SIMULATED_DAY_FILE).read_text().strip() == "2026-12-05 seed=7"  # unchanged
