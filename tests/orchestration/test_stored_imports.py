"""`acorn import FILE` and the inbox sensor on Celery workers that share no disk (README "Scale-out"): the host
where the file is sends it to the object store (moto's server on loopback, in this process: no service), the run's
config names it by sha256, and the step, run here with a data dir of its own standing for a worker's host,
downloads it, checks its hash and imports it as a local import would."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner
from moto_store import SECRET_KEY, module_server, store_env
from pause_hook import pause_env, wait_until_paused

from acorn_cli.loopback_s3 import LoopbackS3
from acorn_cli.main import _import_sources, cli
from orchestration.resources import DataDirResource, SpApiResource
from orchestration.settlements.assets import SETTLEMENT_LINES, outcomes_from_metadata, settlement_reports
from orchestration.settlements.sensors import settlement_inbox_sensor
from orchestration.settlements.stored_imports import files_travel_by_store
from transforms.archive import ObjectStoreCopy, RawArchive

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "shared" / "settlement-samples"
V2_SAMPLE = SAMPLES / "xieyi138_US_v2_synthetic_settlement-sample.txt"
CONFIG = '[[accounts]]\nid = "store-na"\nregion = "na"\nmarketplaces = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]\n'


@pytest.fixture(scope="module")
def s3(request: pytest.FixtureRequest) -> Iterator[LoopbackS3]:
    yield from module_server(request)


@pytest.fixture
def env(s3: LoopbackS3, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The scale-out variables with the steps on Celery (the executor itself is not used: the step runs here)."""
    monkeypatch.setenv("ACORN_EXECUTOR", "celery")
    monkeypatch.setenv("ACORN_CELERY_BROKER_URL", "redis://127.0.0.1:1/11")
    return store_env(s3, monkeypatch)


def _store() -> ObjectStoreCopy:
    store = ObjectStoreCopy.from_env()
    assert store is not None
    return store


def _run_step(
    tmp_path: Path, host: str, source: dict, *, succeeds: bool = True
) -> tuple[list[dict], dg.ExecuteInProcessResult]:
    """The import step as a worker on `host` (a data dir of its own) executes it, with `source` as its config."""
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(CONFIG)
    result = dg.materialize(
        [settlement_reports],
        run_config={"ops": {"settlement_reports": {"config": source}}},
        resources={
            "spapi": SpApiResource(config_path=str(accounts)),
            "data": DataDirResource(data_dir=str(tmp_path / host)),
        },
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert result.success is succeeds
    if not succeeds:
        return [], result
    [materialization] = [
        m
        for m in result.asset_materializations_for_node("settlement_reports")
        if m.asset_key == SETTLEMENT_LINES
    ]
    return outcomes_from_metadata(dict(materialization.metadata)), result


def _sent(tmp_path: Path, *files: Path) -> dict:
    """What `acorn import FILES` on the submitting host (data dir `submit`) puts in the run's config."""
    return _import_sources(files, tmp_path / "submit")


def test_a_worker_reads_the_file_by_sha256_and_imports_it_as_a_local_import(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert files_travel_by_store()
    given = tmp_path / "downloads" / V2_SAMPLE.name
    given.parent.mkdir()
    shutil.copyfile(V2_SAMPLE, given)
    sent: list[str] = []
    real_publish = ObjectStoreCopy._publish

    def counting_publish(self: ObjectStoreCopy, key: str, chunks, size: int) -> None:  # type: ignore[no-untyped-def]
        sent.append(key)
        real_publish(self, key, chunks, size)

    monkeypatch.setattr(ObjectStoreCopy, "_publish", counting_publish)
    source = _sent(tmp_path, given)
    [stored] = source["stored_files"]
    data = V2_SAMPLE.read_bytes()
    import hashlib

    assert stored == {
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "name": V2_SAMPLE.name,
        "argument": str(given.resolve()),
    }
    assert "import_files" not in source
    store = _store()
    assert sent == [
        store.object_key(stored["sha256"])
    ]  # the bytes, once; no manifest row: nothing archived yet
    assert store.rows() == []
    # The submitting host only carried the bytes: nothing archived or landed there, no staged copy left.
    submit = tmp_path / "submit"
    assert list(RawArchive(submit / "raw", store=False).manifest()) == []
    assert not [p for p in (submit / "raw" / "objects").rglob("*") if p.is_file()]
    assert not (submit / "lake").exists()
    given.unlink()  # the worker's host never had the file

    [outcome], result = _run_step(tmp_path, "worker-1", source)
    assert outcome["status"] == "imported", outcome
    assert outcome["file"] == V2_SAMPLE.name and outcome["rows"] > 0
    worker = tmp_path / "worker-1"
    archive = RawArchive(worker / "raw", store=False)
    [row] = list(archive.manifest())
    assert row["sha256"] == stored["sha256"] and row["source"] == f"import:{V2_SAMPLE.name}"
    assert archive.path_for(stored["sha256"]).read_bytes() == data
    assert not list((worker / "tmp").iterdir())  # the downloaded copy is gone
    # The worker's archiving found the bytes on the store: sent once in all, and its manifest row added.
    assert sent.count(store.object_key(stored["sha256"])) == 1
    assert [r["sha256"] for r in store.rows()] == [stored["sha256"]]

    # No credential in the run's config or tags (nor the endpoint, whose URL could carry one).
    run = result.dagster_run
    shown = json.dumps({"config": run.run_config, "tags": run.tags}, default=str)
    assert SECRET_KEY not in shown and env["AWS_ACCESS_KEY_ID"] not in shown
    assert env["ACORN_S3_ENDPOINT_URL"] not in shown

    # The same file imported again: not sent again, and a duplicate, on the same worker and on another one.
    shutil.copyfile(V2_SAMPLE, given)
    assert _sent(tmp_path, given) == source
    assert sent.count(store.object_key(stored["sha256"])) == 1
    [again], _ = _run_step(tmp_path, "worker-1", source)
    assert again["status"] == "duplicate", again
    [elsewhere], _ = _run_step(tmp_path, "worker-2", source)
    assert elsewhere["status"] == "duplicate", elsewhere
    assert "already in the lake" in elsewhere["message"]  # landed by worker-1, read from the store


def test_bytes_that_do_not_hash_to_their_name_are_refused(tmp_path: Path, env: dict[str, str]) -> None:
    source = _sent(tmp_path, V2_SAMPLE)
    [stored] = source["stored_files"]
    store = _store()
    key = store.object_key(stored["sha256"])
    tampered = bytearray(V2_SAMPLE.read_bytes())
    tampered[-2] = ord("9") if tampered[-2] != ord("9") else ord("8")  # one byte changed, same size
    with store.filesystem.open_output_stream(key) as out:
        out.write(bytes(tampered))

    [outcome], _ = _run_step(tmp_path, "worker-1", source)
    assert outcome["status"] == "rejected", outcome
    assert "could not be imported (nothing of it reached the lake)" in outcome["message"]
    assert f"not the {stored['size']} bytes of sha256 {stored['sha256']}" in outcome["message"]
    worker = tmp_path / "worker-1"
    assert list(RawArchive(worker / "raw", store=False).manifest()) == []
    assert not (worker / "lake" / "settlement_lines").exists() or not list(
        (worker / "lake" / "settlement_lines").rglob("*.parquet")
    )
    assert not list((worker / "tmp").iterdir())  # no partial download left

    # An object the store never got (or lost) is refused the same way.
    store.filesystem.delete_file(key)
    [missing], _ = _run_step(tmp_path, "worker-1", source)
    assert missing["status"] == "rejected" and "is not on the store" in missing["message"]


def test_a_download_cut_short_leaves_nothing_and_the_next_run_imports(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker stopped mid-download (here an exception after the first chunk) leaves no file behind: the
    scratch copy is removed, nothing is archived or landed; the step executed again imports the file."""
    from transforms import archive as archive_module

    source = _sent(tmp_path, V2_SAMPLE)

    def killed(point: str, **info: object) -> None:
        if point == "archive-download":
            raise KeyboardInterrupt  # stands for the kill: BaseException, not caught as a file's outcome

    with monkeypatch.context() as patch:
        patch.setattr(archive_module, "UPLOAD_CHUNK", 1000)
        patch.setattr(archive_module.crash_points, "pause_at", killed)
        _, stopped = _run_step(tmp_path, "worker-1", source, succeeds=False)
    assert "KeyboardInterrupt" in str(stopped.all_events)
    worker = tmp_path / "worker-1"
    assert not list((worker / "tmp").rglob("*"))
    assert list(RawArchive(worker / "raw", store=False).manifest()) == []
    [outcome], _ = _run_step(tmp_path, "worker-1", source)
    assert outcome["status"] == "imported", outcome


def test_a_worker_killed_mid_download_leaves_only_scratch_that_the_clean_up_removes(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """SIGKILL while the step downloads the file (the test hook `archive-download`): nothing archived or landed,
    only the download's scratch folder under `tmp/`, which the next command's clean-up of leftovers removes;
    the step executed again imports the file."""
    import os
    import signal
    import subprocess
    import sys

    from transforms.recovery import recover

    source = _sent(tmp_path, V2_SAMPLE)
    worker = tmp_path / "worker-1"
    marker = tmp_path / "paused.json"
    script = (
        "import json, sys\nfrom pathlib import Path\n"
        "from orchestration.settlements.stored_imports import StoredFile, fetch_file\n"
        "fetch_file(StoredFile(**json.loads(sys.argv[1])), data_dir=Path(sys.argv[2]))\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script, json.dumps(source["stored_files"][0]), str(worker)],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, **pause_env("archive-download", marker)},
    )
    try:
        wait_until_paused(process, marker, "archive-download", timeout=120)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    [scratch] = list((worker / "tmp").iterdir())  # the killed download's folder
    assert not (worker / "raw").exists() and not (worker / "lake").exists()
    recover(worker)
    assert not list((worker / "tmp").iterdir())
    [outcome], _ = _run_step(tmp_path, "worker-1", source)
    assert outcome["status"] == "imported", outcome
    assert not scratch.exists()


def test_acorn_import_names_cause_and_fix_when_the_store_does_not_answer(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACORN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ACORN_S3_ENDPOINT_URL", "http://127.0.0.1:1")  # nothing listens there
    result = CliRunner().invoke(cli, ["import", str(V2_SAMPLE)])
    assert result.exit_code == 3, result.output
    assert "could not be sent to the object store" in result.output
    assert (
        "Fix: check ACORN_OBJECT_STORE_URL, ACORN_S3_ENDPOINT_URL and the AWS_* credentials" in result.output
    )
    assert SECRET_KEY not in result.output
    assert not list((tmp_path / "data").rglob("*.parquet"))  # nothing was run
    assert not [p for p in (tmp_path / "data" / "raw").rglob("*") if p.is_file()]  # no staged copy left


def test_a_folder_store_or_the_embedded_executor_keeps_reading_the_file_where_it_is(
    tmp_path: Path,
) -> None:
    celery = {"ACORN_EXECUTOR": "celery", "ACORN_CELERY_BROKER_URL": "redis://x"}
    assert not files_travel_by_store({**celery, "ACORN_OBJECT_STORE_URL": "/shared/store"})
    assert not files_travel_by_store({"ACORN_OBJECT_STORE_URL": "s3://bucket/prefix"})
    assert files_travel_by_store({**celery, "ACORN_OBJECT_STORE_URL": "s3://bucket/prefix"})


def _tick(data_dir: Path, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        cursor=cursor, resources={"data": DataDirResource(data_dir=str(data_dir))}
    )
    result = settlement_inbox_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_the_inbox_sensor_sends_the_file_and_its_run_names_it_by_sha256(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox_host = tmp_path / "inbox-host"
    inbox = DataDirResource(data_dir=str(inbox_host)).paths().inbox
    shutil.copyfile(V2_SAMPLE, inbox / "s.txt")

    # The store does not answer: a skip reason naming the fix, and the file left for the next tick.
    monkeypatch.setenv("ACORN_S3_ENDPOINT_URL", "http://127.0.0.1:1")
    refused = _tick(inbox_host, None)
    assert not refused.run_requests
    assert refused.skip_reason is not None
    reason = refused.skip_reason.skip_message or ""
    assert "s.txt could not be sent to the object store" in reason and "Fix:" in reason
    assert SECRET_KEY not in reason
    monkeypatch.setenv("ACORN_S3_ENDPOINT_URL", env["ACORN_S3_ENDPOINT_URL"])

    tick = _tick(inbox_host, refused.cursor)
    [request] = tick.run_requests or []
    config = request.run_config["ops"]["settlement_reports"]["config"]
    [stored] = config["stored_files"]
    assert stored["name"] == "s.txt" and stored["argument"] == str(inbox / "s.txt")
    assert "import_files" not in config
    shown = json.dumps({"config": request.run_config, "tags": request.tags})
    assert SECRET_KEY not in shown and env["ACORN_S3_ENDPOINT_URL"] not in shown
    assert not (_tick(inbox_host, tick.cursor).run_requests)  # requested once

    [outcome], _ = _run_step(tmp_path, "worker-1", config)
    assert outcome["status"] == "imported" and outcome["file"] == "s.txt", outcome


def test_a_pipe_is_sent_as_its_bytes_and_shown_as_given(tmp_path: Path, env: dict[str, str]) -> None:
    """`acorn import <(cmd)`: the pipe is read once, on the submitting host; the worker shows it as given."""
    import os
    import threading

    read_end, write_end = os.pipe()

    def feed() -> None:
        with os.fdopen(write_end, "wb") as out:
            out.write(V2_SAMPLE.read_bytes())

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        source = _sent(tmp_path, Path(f"/dev/fd/{read_end}"))
    finally:
        writer.join()
        os.close(read_end)
    [stored] = source["stored_files"]
    assert stored["argument"] == f"/dev/fd/{read_end}" and stored["size"] == V2_SAMPLE.stat().st_size
    [outcome], _ = _run_step(tmp_path, "worker-1", source)
    assert outcome["status"] == "imported" and outcome["file"] == f"/dev/fd/{read_end}", outcome
