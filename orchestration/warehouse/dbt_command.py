"""`acorn-dbt`: dbt's own command line, started in the folder of the warehouse copy a build writes, which the
profile then names by its file name alone.

dbt keeps a project's parse (`partial_parse.msgpack`) only while the profile's connection values and the
command's `--vars` are those it was saved under: they are hashed, and a change re-parses the whole project
(about 3-3.5 CPU s here). A build's warehouse copy lives in its data dir, so an absolute path made every data
dir's build (tests, several accounts' data dirs) re-parse the whole project after another's. Started in the
copy's folder, dbt sees the same relative path, `warehouse.duckdb.building-copy`, from every data dir, and one
saved parse serves them all; DuckDB puts the copy's `.wal` and its spill folder (`<path>.tmp`) beside it as
before. dbt still checks the saved parse itself and parses in full when it is not valid, never wrongly.

A build sets `WORKING_COPY_ENV` (the copy's absolute path) for the moment dbt starts (inputs.py). The paths
dagster-dbt and a person give dbt relative to the folder dbt was started in (the project, log and target paths)
are made absolute first, so they name what they named. Without `WORKING_COPY_ENV` this is plain dbt (the
DuckLake target, whose profile names no file).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

WORKING_COPY_ENV = "ACORN_DBT_WORKING_COPY"
# The socket of the dbt process `acorn build` started ahead (dbt_prestart.py; named here so that this module, which
# every dbt start imports, need not import that one).
PRESTARTED_DBT_ENV = "ACORN_PRESTARTED_DBT"
# profiles.yml reads the local target's path from it (a person's dbt or the tests give it themselves).
WAREHOUSE_PATH_ENV = "ACORN_WAREHOUSE_PATH"

_PATH_ENV = ("DBT_PROJECT_DIR", "DBT_PROFILES_DIR", "DBT_TARGET_PATH", "DBT_LOG_PATH")
_PATH_FLAGS = ("--project-dir", "--profiles-dir", "--target-path", "--log-path")


@dataclass(frozen=True)
class DbtStart:
    """Where dbt runs, with which arguments and environment."""

    cwd: Path
    args: list[str]
    env: dict[str, str]


def _absolute(value: str, base: Path) -> str:
    return value if not value or Path(value).is_absolute() else str(base / value)


def dbt_start(args: Sequence[str], env: Mapping[str, str], cwd: Path) -> DbtStart:
    """How to start dbt for `args` given in `cwd` with `env`: in the working copy's folder when `env` names one
    (its file name then the profile's path), else as given."""
    copy = env.get(WORKING_COPY_ENV, "")
    if not copy:
        return DbtStart(cwd, list(args), dict(env))
    working_copy = Path(copy)
    if not working_copy.is_absolute():
        raise ValueError(f"{WORKING_COPY_ENV} must be an absolute path (got {copy!r})")
    started = {name: value for name, value in env.items() if name != WORKING_COPY_ENV}
    # dbt's defaults that read the folder it starts in: the project there, and its profiles.yml when it has one.
    started.setdefault("DBT_PROJECT_DIR", str(cwd))
    if "DBT_PROFILES_DIR" not in started and (cwd / "profiles.yml").exists():
        started["DBT_PROFILES_DIR"] = str(cwd)
    for name in _PATH_ENV:
        if name in started:
            started[name] = _absolute(started[name], cwd)
    absolute_args: list[str] = []
    flag_before = ""
    for arg in args:
        flag, equals, value = arg.partition("=")
        if flag_before in _PATH_FLAGS:
            absolute_args.append(_absolute(arg, cwd))
            flag_before = ""
            continue
        if equals and flag in _PATH_FLAGS:
            arg = f"{flag}={_absolute(value, cwd)}"
        absolute_args.append(arg)
        flag_before = arg
    started[WAREHOUSE_PATH_ENV] = working_copy.name
    return DbtStart(working_copy.parent, absolute_args, started)


def run_dbt(start: DbtStart, program: str) -> int:
    """Run dbt's command line in this process as `start` says; its exit code."""
    os.chdir(start.cwd)
    os.environ.clear()
    os.environ.update(start.env)
    sys.argv = [program, *start.args]
    from dbt.cli.main import cli

    try:
        cli()
    except SystemExit as finished:  # click's standalone mode ends every command this way
        code = finished.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


def main() -> None:
    start = dbt_start(sys.argv[1:], os.environ, Path.cwd())
    # `acorn build` may have started dbt ahead (dbt_prestart.py): hand it this command when it is there.
    prestarted = start.env.pop(PRESTARTED_DBT_ENV, "")
    if prestarted:
        from orchestration.warehouse.dbt_prestart import run_in_prestarted

        code = run_in_prestarted(prestarted, start, sys.argv[0])
        if code is not None:
            sys.exit(code)
    sys.exit(run_dbt(start, sys.argv[0]))


if __name__ == "__main__":
    main()
