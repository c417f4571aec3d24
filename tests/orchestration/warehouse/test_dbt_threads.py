"""How many models dbt runs at once: two only for a build scoped to a small change, else profiles.yml's one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestration.warehouse.dbt_threads import SMALL_CHANGE_BYTES, THREADS_ENV, dbt_threads

two_cores = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="two threads need two cores")


def _data_dir(tmp_path: Path) -> tuple[Path, Path]:
    """A published warehouse with its build record, and a lake holding one file written before the record."""
    lake, warehouse = tmp_path / "lake", tmp_path / "warehouse.duckdb"
    (lake / "settlement_lines").mkdir(parents=True)
    old = lake / "settlement_lines" / "old.parquet"
    old.write_bytes(b"x" * 1000)
    warehouse.write_bytes(b"")
    record = warehouse.with_name(warehouse.name + ".last-build.json")
    record.write_text("{}")
    os.utime(old, ns=(1, 1))  # written long before the record
    return warehouse, lake


def _new_file(lake: Path, name: str, size: int) -> None:
    path = lake / "settlement_lines" / "account=demo-na" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        file.truncate(size)


@two_cores
def test_a_scoped_build_of_a_small_change_runs_two_models_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(THREADS_ENV, raising=False)
    warehouse, lake = _data_dir(tmp_path)
    _new_file(lake, "new.parquet", 3 << 20)
    threads = dbt_threads(scoped=True, warehouse=warehouse, lake=lake)
    assert threads.threads == 2 and threads.args() == ["--threads", "2"]
    assert "3.0 MiB" in threads.why


def test_one_model_at_a_time_otherwise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(THREADS_ENV, raising=False)
    warehouse, lake = _data_dir(tmp_path)
    _new_file(lake, "new.parquet", 1 << 20)
    # A build of every node (a first build, a full refresh, a changed project).
    assert dbt_threads(scoped=False, warehouse=warehouse, lake=lake).args() == []
    # More than a small change since the last build: two large models could share the memory limit.
    _new_file(lake, "large.parquet", SMALL_CHANGE_BYTES)
    threads = dbt_threads(scoped=True, warehouse=warehouse, lake=lake)
    assert threads.threads == 1 and threads.args() == []
    # No record of a last build: nothing says how much changed.
    warehouse.with_name(warehouse.name + ".last-build.json").unlink()
    assert dbt_threads(scoped=True, warehouse=warehouse, lake=lake).threads == 1


def test_the_setting_decides_when_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse, lake = _data_dir(tmp_path)
    monkeypatch.setenv(THREADS_ENV, "1")
    assert dbt_threads(scoped=True, warehouse=warehouse, lake=lake).args() == []
    monkeypatch.setenv(THREADS_ENV, "3")
    assert dbt_threads(scoped=False, warehouse=warehouse, lake=lake).args() == ["--threads", "3"]
    for wrong in ("0", "two", "-1"):
        monkeypatch.setenv(THREADS_ENV, wrong)
        with pytest.raises(ValueError, match=THREADS_ENV):
            dbt_threads(scoped=True, warehouse=warehouse, lake=lake)
