"""`acorn import`'s forked archive copy (transforms/prestage.py): the first file copied, hashed and scanned by a
child process forked before Dagster loads, taken over by the step. What lands, what is archived and what is
quarantined is exactly what the step alone makes; a copy nobody takes, or a command interrupted or killed,
leaves nothing but what the next command's clean-up removes.

The tests in this process use `ForkedCopy` directly (pytest's process has threads, so `forked_copy` refuses
to fork here); what `acorn import` itself does runs in fresh processes."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from transforms import prestage
from transforms.archive import RawArchive
from transforms.recovery import find_leftovers, recover
from transforms.settlement import import_settlement_file
from transforms.settlement.line_scan import LineScan

ACCOUNT = "acme-us"
REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "tests/fixtures/shared/settlement-samples/xieyi138_US_v2_synthetic_settlement-sample.txt"


def lake_rows(data_dir: Path) -> dict[str, list[dict]]:
    return {
        dataset: [
            row
            for part in sorted((data_dir / "lake" / dataset).rglob("*.parquet"))
            for row in pq.read_table(part).to_pylist()
        ]
        for dataset in ("settlement_lines", "settlements")
    }


def archived(data_dir: Path) -> dict[str, bytes]:
    objects = data_dir / "raw" / "objects"
    return {path.name: path.read_bytes() for path in objects.glob("*/*") if not path.name.startswith(".")}


def copies(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "raw").rglob(".tmp-*"))


def gone(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True  # reaped already (by the code under test)
    return False


@pytest.fixture
def forked() -> Iterator[list[prestage.ForkedCopy]]:
    """ForkedCopy objects started in this test, registered for `claim` as `forked_copy` does."""
    started: list[prestage.ForkedCopy] = []
    yield started
    for copy in started:
        copy.close()
        if copy in prestage._ACTIVE:
            prestage._ACTIVE.remove(copy)


def fork_copy(started: list[prestage.ForkedCopy], src: Path, data_dir: Path) -> prestage.ForkedCopy:
    copy = prestage.ForkedCopy(src, data_dir)
    copy.start()
    started.append(copy)
    prestage._ACTIVE.append(copy)
    return copy


@pytest.fixture
def no_own_copy(monkeypatch) -> list[Path]:
    """Records every copy the step makes itself (stage_file)."""
    calls: list[Path] = []
    real = RawArchive.stage_file

    def stage_file(self, src, **kwargs):
        calls.append(Path(src))
        return real(self, src, **kwargs)

    monkeypatch.setattr(RawArchive, "stage_file", stage_file)
    return calls


def test_the_step_takes_the_forked_copy_and_lands_and_archives_what_it_alone_does(
    v2, write_file, tmp_path: Path, forked, no_own_copy
) -> None:
    path = write_file(v2.render([v2.line("10.00"), v2.line("-2.55"), v2.line("0.05")], total="7.50"))
    alone = import_settlement_file(path, data_dir=tmp_path / "alone", account_id=ACCOUNT)
    assert len(no_own_copy) == 1
    copy = fork_copy(forked, path, tmp_path / "forked")
    child = copy.pid
    assert copy.path is not None and copy.path.parent == (tmp_path / "forked" / "raw" / "objects").resolve()
    outcome = import_settlement_file(path, data_dir=tmp_path / "forked", account_id=ACCOUNT)
    assert len(no_own_copy) == 1  # the step took the child's copy
    assert child is not None and gone(child)
    assert (outcome.status, outcome.rows, outcome.sha256, outcome.message) == (
        alone.status,
        alone.rows,
        alone.sha256,
        alone.message,
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert outcome.sha256 == digest
    assert archived(tmp_path / "forked") == {digest: path.read_bytes()} == archived(tmp_path / "alone")
    assert lake_rows(tmp_path / "forked") == lake_rows(tmp_path / "alone")
    copy.close()
    assert copies(tmp_path / "forked") == []


def test_the_childs_line_scan_is_the_steps(v2, write_file, tmp_path: Path, forked) -> None:
    lines = [v2.line("1.00") for _ in range(3)]
    path = write_file(v2.render(lines, total="3.00", trailing="\n\n").encode() + b"x" * (2 << 20) + b"\0\n")
    copy = fork_copy(forked, path, tmp_path / "d")
    taken = prestage.claim(path, tmp_path / "d")
    assert taken is not None
    staged, scan = taken
    assert vars(scan) == vars(LineScan.of_file(path))
    assert scan.long_line is not None and scan.nul_line is not None
    assert (staged.sha256, staged.size) == (
        hashlib.sha256(path.read_bytes()).hexdigest(),
        path.stat().st_size,
    )
    assert staged.path.read_bytes() == path.read_bytes()
    copy.close()
    assert staged.path.exists()  # the step's now (it commits or drops it), not removed by the close


def test_a_bad_file_is_quarantined_naming_file_and_line_as_without_the_fork(
    v2, write_file, tmp_path: Path, forked, no_own_copy
) -> None:
    text = v2.render([v2.line("1.00"), v2.line("2.00"), v2.line("3.00")], total="6.00")
    path = write_file(text.replace("2.00", "2.0\0", 1).encode())
    alone = import_settlement_file(path, data_dir=tmp_path / "alone", account_id=ACCOUNT)
    fork_copy(forked, path, tmp_path / "forked")
    outcome = import_settlement_file(path, data_dir=tmp_path / "forked", account_id=ACCOUNT)
    assert len(no_own_copy) == 1  # the alone import's only
    assert outcome.status == alone.status == "quarantined"
    assert outcome.message == alone.message and "line 4" in outcome.message and path.name in outcome.message
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert archived(tmp_path / "forked") == {digest: path.read_bytes()}
    quarantined = sorted(p.name for p in (tmp_path / "forked" / "quarantine").iterdir())
    assert quarantined == sorted(p.name for p in (tmp_path / "alone" / "quarantine").iterdir())
    assert copies(tmp_path / "forked") == []


def test_a_file_changed_after_the_fork_is_copied_again(
    v2, write_file, tmp_path: Path, forked, no_own_copy
) -> None:
    path = write_file(v2.render([v2.line("10.00")], total="10.00"))
    copy = fork_copy(forked, path, tmp_path / "d")
    first_copy = copy.path
    assert first_copy is not None
    while not gone_or_done(copy):
        time.sleep(0.01)
    changed = v2.render([v2.line("10.00"), v2.line("5.00")], total="15.00")
    path.write_text(changed)  # same inode, other size and time
    outcome = import_settlement_file(path, data_dir=tmp_path / "d", account_id=ACCOUNT)
    assert no_own_copy == [path]  # copied again by the step
    assert outcome.status == "imported" and outcome.rows == 2
    assert outcome.sha256 == hashlib.sha256(changed.encode()).hexdigest()
    assert archived(tmp_path / "d") == {outcome.sha256: changed.encode()}
    copy.close()  # (no step will take it: the import ends)
    assert not first_copy.exists()
    assert copies(tmp_path / "d") == []


def gone_or_done(copy: prestage.ForkedCopy) -> bool:
    """Whether the child has exited (without reaping it)."""
    assert copy.pid is not None
    return os.waitid(os.P_PID, copy.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def test_another_file_gets_no_copy_and_the_untaken_copy_is_removed(
    v2, write_file, tmp_path: Path, forked, no_own_copy
) -> None:
    first = write_file(v2.render([v2.line("1.00")], total="1.00"))
    other = write_file(v2.render([v2.line("2.00")], total="2.00"))
    copy = fork_copy(forked, first, tmp_path / "d")
    child = copy.pid
    assert import_settlement_file(other, data_dir=tmp_path / "d", account_id=ACCOUNT).status == "imported"
    assert no_own_copy == [other]
    assert copy.path is not None and copy.path.exists()
    copy.close()
    assert child is not None and gone(child)
    assert copies(tmp_path / "d") == []


def test_a_duplicate_is_found_with_the_forked_copy_and_the_copy_dropped(
    v2, write_file, tmp_path: Path, forked
) -> None:
    path = write_file(v2.render([v2.line("1.00")], total="1.00"))
    assert import_settlement_file(path, data_dir=tmp_path / "d", account_id=ACCOUNT).status == "imported"
    fork_copy(forked, path, tmp_path / "d")
    again = import_settlement_file(path, data_dir=tmp_path / "d", account_id=ACCOUNT)
    assert again.status == "duplicate" and again.rows == 0
    assert copies(tmp_path / "d") == []
    assert len(archived(tmp_path / "d")) == 1


def test_the_clean_up_leaves_a_held_copy_alone_and_removes_it_once_its_command_is_killed(
    v2, write_file, tmp_path: Path, forked
) -> None:
    path = write_file(v2.render([v2.line("1.00")], total="1.00"))
    data_dir = tmp_path / "d"
    copy = fork_copy(forked, path, data_dir)
    stray = data_dir / "raw" / "objects" / ".tmp-stray"  # an interrupted run's, held by nobody
    stray.write_bytes(b"x")
    done = recover(data_dir)
    assert [item.path for item in done.removed] == [stray] and done.skipped == []
    assert copy.path is not None and copy.path.exists()
    assert copy.path not in [item.path for item in find_leftovers(data_dir)]
    copy.close()
    # A command killed after forking leaves its copy unheld: an ordinary leftover the next command removes.
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from transforms import prestage
        copy = prestage.ForkedCopy({str(path)!r}, {str(data_dir)!r})
        copy.start()
        os.waitid(os.P_PID, copy.pid, os.WEXITED | os.WNOWAIT)
        print(copy.path, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    killed = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = Path(killed.stdout.strip())
    assert left.exists() and copies(data_dir) == [left]
    assert [item.path for item in recover(data_dir).removed] == [left]
    assert copies(data_dir) == []


# Each copy step 0.4 s slower, in the script's process and so in the child it forks: a copy still going when the
# test kills or interrupts the command.
SLOW_COPY = textwrap.dedent(
    """
    import time
    from transforms import archive, prestage
    step = archive._copy_step
    def slow(*args):
        time.sleep(0.4)
        return step(*args)
    archive._copy_step = slow
    """
)


def _big_file(tmp_path: Path) -> Path:
    """128 MiB of lines: 8 copy steps."""
    src = tmp_path / "big.txt"
    with open(src, "wb") as out:
        out.write(b"a\tb\n" * (128 << 18))
    return src


def test_the_child_stops_by_itself_when_its_command_is_killed(tmp_path: Path) -> None:
    src = _big_file(tmp_path)
    script = SLOW_COPY + textwrap.dedent(
        f"""
        import os, signal
        copy = prestage.ForkedCopy({str(src)!r}, {str(tmp_path / "d")!r})
        copy.start()
        print(copy.pid, flush=True)
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    killed = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    child = int(killed.stdout.strip())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.05)
    assert not _alive(child)
    assert [item.path.name.startswith(".tmp-") for item in recover(tmp_path / "d").removed] == [True]


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, ended and not yet reaped by whoever adopted it, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"ACORN_EXECUTOR": "celery", "ACORN_CELERY_BROKER_URL": "redis://127.0.0.1:6379/5"}, "Celery"),
        ({"ACORN_TEST_PAUSE_AT": "archive"}, "crash test hook"),
        ({"ACORN_OBJECT_STORE_URL": "s3://bucket/acorn"}, "object store"),
        ({"ACORN_EXECUTOR": "nonsense"}, "misconfigured"),
    ],
)
def test_no_fork_for_celery_steps_object_stores_and_crash_hooks(
    tmp_path: Path, env: dict[str, str], reason: str, monkeypatch
) -> None:
    monkeypatch.setattr(prestage, "MIN_FORK_BYTES", 0)
    path = tmp_path / "f.txt"
    path.write_text("x\n")
    assert reason in (prestage.fork_refused(path, env) or "")


def test_no_fork_for_a_pipe_a_small_file_or_a_process_with_threads(tmp_path: Path) -> None:
    small = tmp_path / "small.txt"
    small.write_bytes(b"x" * (prestage.MIN_FORK_BYTES - 1))
    assert prestage.fork_refused(small, {}) == "a small file"
    read_end, write_end = os.pipe()
    try:
        assert prestage.fork_refused(Path(f"/dev/fd/{read_end}"), {}) == "not a regular file"
    finally:
        os.close(read_end)
        os.close(write_end)
    path = tmp_path / "f.txt"
    path.write_text("x\n")
    script = textwrap.dedent(
        f"""
        import threading, time
        from pathlib import Path
        from transforms import prestage
        prestage.MIN_FORK_BYTES = 0
        print(prestage.fork_refused(Path({str(path)!r}), {{}}))
        threading.Thread(target=time.sleep, args=(1,)).start()
        print(prestage.fork_refused(Path({str(path)!r}), {{}}))
        """
    )
    shown = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert shown.stdout.splitlines() == ["None", "the process has more than one thread"]
    assert not [t for t in threading.enumerate() if t.name == "acorn-prestage"]


def acorn_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ACORN_", "DAGSTER_"))}
    return {**env, "ACORN_DATA_DIR": str(tmp_path / "data"), "DAGSTER_HOME": str(tmp_path / "dagster")}


def test_acorn_import_forks_before_dagster_and_its_step_takes_the_copy(tmp_path: Path) -> None:
    record = tmp_path / "record.jsonl"
    script = textwrap.dedent(
        f"""
        import atexit, json, os, sys
        from transforms import prestage
        prestage.MIN_FORK_BYTES = 0  # (the sample is 4 KB)
        def note(**row):
            with open({str(record)!r}, "a") as out:
                out.write(json.dumps(row) + "\\n")
        atexit.register(lambda: note(atexit=os.getpid()))  # the child must never run it
        refused, claim = prestage.fork_refused, prestage.claim
        def fork_refused(first, env=None):
            note(dagster="dagster" in sys.modules, refused=refused(first, env), parent=os.getpid())
            return refused(first, env)
        def claimed(src, data_dir):
            taken = claim(src, data_dir)
            note(taken=taken is not None, child_left=[c.pid for c in prestage._ACTIVE])
            return taken
        prestage.fork_refused, prestage.claim = fork_refused, claimed
        from acorn_cli.main import main
        sys.argv = ["acorn", "import", {str(SAMPLE)!r}]
        main()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=acorn_env(tmp_path), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "imported" in done.stdout
    rows = [json.loads(line) for line in record.read_text().splitlines()]
    parent = rows[0]["parent"]
    assert rows[0] == {"dagster": False, "refused": None, "parent": parent}
    assert rows[1] == {"taken": True, "child_left": [None]}  # taken, the child reaped
    assert rows[2:] == [{"atexit": parent}]  # the parent's own, once
    digest = hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    assert archived(tmp_path / "data") == {digest: SAMPLE.read_bytes()}
    assert copies(tmp_path / "data") == []


@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_command_stops_its_child_and_removes_its_copy(tmp_path: Path, sent: int) -> None:
    src = _big_file(tmp_path)
    script = SLOW_COPY + textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        try:
            with prestage.forked_copy(Path({str(src)!r}), Path({str(tmp_path / "d")!r})) as copy:
                print(copy.pid, copy.path, flush=True)
                time.sleep(60)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(130)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    child, path = process.stdout.readline().split()
    assert Path(path).exists()
    process.send_signal(sent)
    out, err = process.communicate(timeout=30)
    if sent == signal.SIGINT:
        assert (process.returncode, out.strip()) == (130, "interrupted"), err
    else:  # ended by the signal, as without a copy
        assert (process.returncode, out.strip()) == (-signal.SIGTERM, ""), err
    assert not Path(path).exists() and copies(tmp_path / "d") == []
    assert not _alive(int(child))  # stopped and reaped (no zombie left behind)
