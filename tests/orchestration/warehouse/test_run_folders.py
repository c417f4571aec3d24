"""orchestration/warehouse/run_folders.py: a build removes dagster-dbt's older run folders, never its own, a young
one (a build that has not locked its folder yet) or one a build holds in use (another process's lock)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from orchestration.warehouse.run_folders import (
    IN_USE,
    KEEP_YOUNGER_THAN_SECONDS,
    remove_old_run_folders,
    run_folder_in_use,
)

OLD = time.time() - KEEP_YOUNGER_THAN_SECONDS - 600


def _folder(target: Path, name: str, *, written: float | None = None) -> Path:
    folder = target / name
    (folder / "compiled").mkdir(parents=True)
    (folder / "dbt.log").write_text("log\n", encoding="utf-8")
    (folder / "compiled" / "model.sql").write_text("select 1\n", encoding="utf-8")
    if written is not None:
        for path in (folder / "dbt.log", folder / "compiled" / "model.sql", folder / "compiled", folder):
            os.utime(path, (written, written))
    return folder


def test_older_folders_go_the_current_young_and_other_ops_stay(tmp_path: Path) -> None:
    current = _folder(tmp_path, "acorn_dbt_models-bbbbbbb-2222222", written=OLD)  # its own stays, however old
    old = _folder(tmp_path, "acorn_dbt_models-aaaaaaa-1111111", written=OLD)
    young = _folder(tmp_path, "acorn_dbt_models-ccccccc-3333333")
    other_op = _folder(tmp_path, "other_op-aaaaaaa-1111111", written=OLD)
    (tmp_path / "partial_parse.msgpack").write_bytes(b"kept")
    assert remove_old_run_folders(current) == [old]
    assert not old.exists()
    assert current.exists() and young.exists() and other_op.exists()
    assert (tmp_path / "partial_parse.msgpack").read_bytes() == b"kept"
    # Once old enough, the young one goes too (the next build's cleanup).
    assert remove_old_run_folders(current, now=time.time() + KEEP_YOUNGER_THAN_SECONDS + 60) == [young]


def test_a_folder_held_in_use_by_another_build_stays(tmp_path: Path) -> None:
    current = _folder(tmp_path, "acorn_dbt_models-bbbbbbb-2222222")
    held = _folder(tmp_path, "acorn_dbt_models-aaaaaaa-1111111", written=OLD)
    # Another build (process) holding its folder, as the dbt step does while dbt runs and its results are read.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; "
            "from orchestration.warehouse.run_folders import run_folder_in_use\n"
            f"with run_folder_in_use(Path({str(held)!r})):\n"
            "    print('held', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        os.utime(held / IN_USE, (OLD, OLD))
        os.utime(held, (OLD, OLD))
        assert remove_old_run_folders(current) == []
        assert (held / "dbt.log").exists()
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert remove_old_run_folders(current) == [held]


def test_own_lock_is_shared(tmp_path: Path) -> None:
    """Two holders of one folder (the step and a retry of it) do not block each other."""
    folder = _folder(tmp_path, "acorn_dbt_models-aaaaaaa-1111111")
    with run_folder_in_use(folder), run_folder_in_use(folder):
        assert (folder / IN_USE).exists()
