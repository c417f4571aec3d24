"""A data dir that holds the bundled simulator's data of one simulated day, run again on the next day.

The simulator builds each day's history afresh from (seed, day), so day 2's data is not day 1's plus a day:
landed in one data dir, day 1's deferred money is never released and the deferred-balance checks fail
(EUR -20.78 on demo-eu, 2026-12-05 then 12-06). `acorn run`/`acorn demo` refuse such a data dir (exit 3) and
name the fix, instead of failing ERROR checks on data no real account serves.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from acorn_process import acorn

from orchestration.resources import claim_simulated_data_dir, simulated_start
from spapi.bundled_simulator import SIMULATED_DAY_FILE


def test_next_simulated_day_in_the_same_data_dir_is_refused_and_names_the_fix(tmp_path: Path) -> None:
    # Day D's run records its day as its first step (tests/spapi/test_simulated_day.py proves the record, and a
    # full run costs a minute): the data dir is as a run of day D left it.
    day = simulated_start().date()  # the date sweep's day, else today
    claim_simulated_data_dir(data_root=tmp_path / "data")  # the demo config's simulator, its seed

    next_day = (day + timedelta(days=1)).isoformat()
    second = acorn(tmp_path, "run", "--account", "demo-eu", env={"ACORN_SIMULATOR_START": next_day})
    assert second.returncode == 3, second.stdout[-3000:] + second.stderr[-3000:]
    said = " ".join(second.stderr.split())
    assert f"simulated day {day.isoformat()}" in said
    assert f"serves {next_day}" in said
    assert f"ACORN_SIMULATOR_START={day.isoformat()}" in said
    assert "ACORN_DATA_DIR=" in said
    # Nothing ran: no check failed about data the user never had, no Dagster run; the recorded day is unchanged.
    assert "deferred_balance_matches" not in second.stdout + second.stderr
    assert "Dagster run" not in second.stderr
    assert (tmp_path / "data" / SIMULATED_DAY_FILE).read_text().split()[0] == day.isoformat()
