"""`acorn import`'s arguments: pipes the shell opened are read; a directory, a named pipe, a device
or a missing path is a usage error with its own message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from acorn_cli.main import cli, import_path_argument, import_path_problem

REPO_ROOT = Path(__file__).resolve().parents[2]
V2_TEXT = (
    REPO_ROOT / "tests/fixtures/shared/settlement-samples/xieyi138_US_v2_synthetic_settlement-sample.txt"
).read_text()


def test_a_regular_file_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "s.txt"
    path.write_text("x")
    assert import_path_problem(path) is None
    assert import_path_argument(path) == str(path.resolve())


def test_a_missing_path_is_no_such_file(tmp_path: Path) -> None:
    assert import_path_problem(tmp_path / "nope.txt") == f"no such file: {tmp_path / 'nope.txt'}"


def test_a_directory_says_so(tmp_path: Path) -> None:
    problem = import_path_problem(tmp_path)
    assert problem is not None and problem.startswith(f"{tmp_path} is a directory")
    assert "*.txt" in problem


def test_a_named_pipe_says_so(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    problem = import_path_problem(fifo)
    assert problem is not None and "is a named pipe (FIFO)" in problem and "<(cat" in problem


def test_a_device_says_so() -> None:
    assert import_path_problem(Path("/dev/null")) == "/dev/null is a device, not a settlement file"


def test_an_unreadable_file_says_so(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads everything")
    path = tmp_path / "locked.txt"
    path.write_text("x")
    path.chmod(0)
    assert import_path_problem(path) == f"cannot read {path}: permission denied"


def test_a_pipe_from_the_shell_is_accepted() -> None:
    read_end, write_end = os.pipe()
    try:
        path = Path(f"/dev/fd/{read_end}")
        assert import_path_problem(path) is None
        # Not resolved: /dev/fd/N resolves to "pipe:[...]", which is no path.
        assert import_path_argument(path) == f"/dev/fd/{read_end}"
    finally:
        os.close(read_end)
        os.close(write_end)


def test_usage_errors_name_every_bad_path(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    result = CliRunner().invoke(cli, ["import", str(tmp_path), str(fifo), str(tmp_path / "gone.txt")])
    assert result.exit_code == 2
    assert "is a directory" in result.output and "named pipe (FIFO)" in result.output
    assert f"no such file: {tmp_path / 'gone.txt'}" in result.output


@pytest.mark.slow
@pytest.mark.xdist_group("import_cli")
def test_import_from_process_substitution_and_bad_files_alongside(tmp_path: Path) -> None:
    # `acorn import <(cat file) random.bin long.txt good.txt`: every file gets its outcome, the pipe lands.
    good = tmp_path / "good.txt"
    good.write_text(V2_TEXT)
    random_bytes = tmp_path / "random.bin"
    random_bytes.write_bytes(os.urandom(50_000))
    long_line = tmp_path / "long.txt"
    long_line.write_bytes(b"x" * (5 << 20) + b"\n")
    other = tmp_path / "other.txt"
    other.write_text(V2_TEXT.replace("28471003921", "28471003922"))
    env = {**os.environ, "ACORN_DATA_DIR": str(tmp_path / "data"), "DAGSTER_HOME": str(tmp_path / "dh")}
    script = (
        f'"{sys.executable}" -m acorn_cli.main import --json --account demo-na '
        f'<(cat "{good}") "{random_bytes}" "{long_line}" "{other}"'
    )  # 63 is the pipe's name
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    printed = json.loads(result.stdout)
    # The run is tagged with the outcome the command exits with (on the run's own instance, before it closes).
    with dg.DagsterInstance.from_config(str(tmp_path / "dh")) as instance:
        run = instance.get_run_by_id(printed["run_id"])
        assert run is not None and run.tags["acorn/outcome"] == printed["outcome"] == "data_problem"
    files = {entry["file"]: entry for entry in printed["files"]}
    assert len(files) == 4
    [pipe] = [name for name in files if name.startswith("/dev/fd/")]
    assert files[pipe]["status"] == "imported"
    statuses = sorted(entry["status"] for entry in files.values())
    assert statuses == ["imported", "imported", "quarantined", "rejected"], files
    assert "binary, not text" in files["random.bin"]["message"]
    assert "exceeds the 1 MiB limit" in files["long.txt"]["message"]
