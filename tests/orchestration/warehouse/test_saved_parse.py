"""dbt's saved parse serves the builds of every data dir: a build in one data dir after a build in another
re-parses only what changed (no whole-project parse, about 3-3.5 CPU s), and writes its own data dir's
warehouse only; dbt runs in the folder of the warehouse copy, which the profile names by its file name."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest
from acorn_process import acorn

from orchestration.paths import DBT_PROJECT_DIR
from orchestration.warehouse import project
from orchestration.warehouse.dbt_command import WAREHOUSE_PATH_ENV, WORKING_COPY_ENV, dbt_start

# dbt's words in its debug log: a saved parse reused (some files re-parsed, or none), or the whole project parsed.
REUSED = ("Partial parsing enabled", "Nothing changed, skipping partial parsing")
WHOLE = ("Unable to do partial parsing", "Partial parse save file not found")


def test_dbt_starts_in_the_working_copys_folder_with_the_paths_it_was_given() -> None:
    project = Path("/repo/dbt_project")
    copy = Path("/data/a/warehouse.duckdb.building-copy")
    env = {WORKING_COPY_ENV: str(copy), "DBT_TARGET_PATH": "target/run-1", "DBT_LOG_PATH": "target/run-1"}
    start = dbt_start(["build", "--log-path", "logs", "--profiles-dir=.", "--vars", "{}"], env, project)
    assert start.cwd == copy.parent
    assert start.args == [
        "build",
        "--log-path",
        f"{project}/logs",
        f"--profiles-dir={project}",
        "--vars",
        "{}",
    ]
    assert start.env == {
        "DBT_PROJECT_DIR": str(project),
        "DBT_TARGET_PATH": f"{project}/target/run-1",
        "DBT_LOG_PATH": f"{project}/target/run-1",
        WAREHOUSE_PATH_ENV: "warehouse.duckdb.building-copy",
    }
    # Without a working copy (the DuckLake target), plain dbt.
    plain = dbt_start(["build"], {"DBT_LOG_PATH": "target/run-1"}, project)
    assert (plain.cwd, plain.args, plain.env) == (project, ["build"], {"DBT_LOG_PATH": "target/run-1"})
    with pytest.raises(ValueError, match="absolute"):
        dbt_start(["build"], {WORKING_COPY_ENV: "warehouse.duckdb.building-copy"}, project)


def _build(workdir: Path) -> tuple[str, str]:
    """`acorn build` of `workdir`'s data dir, dbt logging at debug level; its run id and dbt's log."""
    completed = acorn(workdir, "build", "--json", env={"DBT_LOG_LEVEL_FILE": "debug"})
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-3000:]
    run_id = json.loads(completed.stdout)["run_id"]
    [run_folder] = (DBT_PROJECT_DIR / "target").glob(f"acorn_dbt_models-{run_id[:7]}-*")
    # dbt writes no JSON artifacts in a build (inputs.NO_ARTIFACT_ARGS); its log and its saved parse it does.
    assert not [name for name in ("manifest.json", "run_results.json") if (run_folder / name).exists()]
    assert (run_folder / "partial_parse.msgpack").exists()
    return run_id, (run_folder / "dbt.log").read_text(encoding="utf-8")


def _tables(warehouse: Path) -> set[tuple[str, str]]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return set(connection.sql("select schema_name, table_name from duckdb_tables()").fetchall())


def _stray_files() -> set[Path]:
    """Database, WAL and spill files in the dbt project, where a relative path dbt resolved wrongly would land."""
    return {path for pattern in ("*.duckdb*", "*.wal", "*.tmp") for path in DBT_PROJECT_DIR.glob(pattern)}


@pytest.mark.slow
def test_a_build_after_another_data_dirs_build_reuses_dbts_saved_parse(tmp_path: Path) -> None:
    stray_before = _stray_files()
    _build(tmp_path / "a")
    warehouse_a = tmp_path / "a" / "data" / "warehouse.duckdb"
    published_a = warehouse_a.stat()
    _, log_b = _build(tmp_path / "b")
    assert any(words in log_b for words in REUSED), "dbt did not report a partial parse"
    assert not [words for words in WHOLE if words in log_b]
    # Each data dir has its own whole warehouse: b's build wrote b's, left a's as it was, and nothing elsewhere.
    warehouse_b = tmp_path / "b" / "data" / "warehouse.duckdb"
    assert _tables(warehouse_b) == _tables(warehouse_a) != set()
    assert (warehouse_a.stat().st_ino, warehouse_a.stat().st_mtime_ns) == (
        published_a.st_ino,
        published_a.st_mtime_ns,
    )
    assert _stray_files() == stray_before
    for data in (tmp_path / "a" / "data", tmp_path / "b" / "data"):
        assert not list(data.glob("warehouse.duckdb.building-copy*"))


def test_saved_parses_are_kept_per_key_the_latest_eight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(project, "SAVED_PARSES_DIR", tmp_path / "saved")
    run = tmp_path / "run"
    run.mkdir()
    keys = [project.parse_key("local", "warehouse.duckdb.building-copy", f'{{"n": {n}}}') for n in range(10)]
    assert len(set(keys)) == 10
    for n, key in enumerate(keys):
        (run / "partial_parse.msgpack").write_text(f"parse {n}")
        project.keep_partial_parse(run, key)
        os.utime(project.SAVED_PARSES_DIR / f"{key}.msgpack", (1_000_000 + n, 1_000_000 + n))
    # The 8 latest are kept; a build of an older key's settings starts without one (a full parse).
    assert sorted(path.stem for path in project.SAVED_PARSES_DIR.iterdir()) == sorted(keys[-8:])
    next_run = tmp_path / "next"
    assert project.seed_partial_parse(next_run, keys[-1])
    assert (next_run / "partial_parse.msgpack").read_text() == "parse 9"
    assert not project.seed_partial_parse(tmp_path / "other", keys[0])
    assert not (tmp_path / "other" / "partial_parse.msgpack").exists()
