"""Issue 14: every append-only JSON Lines log ACORN writes repairs a torn last line (a crash mid-append) the
way the raw archive's manifest does: the next record starts on a line of its own and is read back."""

from __future__ import annotations

import json
from pathlib import Path

from simulator.requestlog import RequestLog, read_request_log
from transforms.archive import RawArchive
from transforms.jsonl import append_line, read_records
from transforms.settlement import import_settlement_file
from transforms.settlement.lake import VERSIONS_LOG, known_versions, log_version

SAMPLE = (
    Path(__file__).resolve().parents[1]
    / "fixtures/shared/settlement-samples/xieyi138_US_v2_synthetic_settlement-sample.txt"
)


def test_append_line_ends_a_torn_line(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_bytes(b'{"n": 1}\n{"n": 2, "tor')
    with open(log, "ab+") as handle:
        append_line(handle, json.dumps({"n": 3}))
    assert log.read_bytes() == b'{"n": 1}\n{"n": 2, "tor\n{"n": 3}\n'
    assert list(read_records(log)) == [{"n": 1}, {"n": 3}]


def test_settlement_versions_log_repairs_a_torn_last_line(tmp_path: Path) -> None:
    # Used to glue the next record to the torn bytes, and lose it with them.
    lake = tmp_path / "lake"
    lake.mkdir()
    (lake / VERSIONS_LOG).write_bytes(b'{"raw_sha256": "aaa", "event": "imported"}\n{"raw_sha256": "bb')
    log_version(lake, {"raw_sha256": "ccc", "settlement_id": "1", "event": "imported"})
    lines = (lake / VERSIONS_LOG).read_bytes().splitlines()
    assert lines[1] == b'{"raw_sha256": "bb' and json.loads(lines[2])["raw_sha256"] == "ccc"
    assert set(known_versions(lake)) == {"aaa", "ccc"}


def test_an_import_after_a_torn_versions_log_is_recorded(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    (data_dir / "lake").mkdir(parents=True)
    (data_dir / "lake" / VERSIONS_LOG).write_bytes(b'{"raw_sha256": "torn')
    outcome = import_settlement_file(SAMPLE, data_dir=data_dir)
    assert outcome.status == "imported"
    assert known_versions(data_dir / "lake")[str(outcome.sha256)]["event"] == "imported"
    again = import_settlement_file(SAMPLE, data_dir=data_dir)
    assert again.status == "duplicate"


def test_raw_manifest_repairs_a_torn_last_line(tmp_path: Path) -> None:
    archive = RawArchive(tmp_path / "raw")
    first = archive.put_bytes(b"one", kind="k", source="s")
    with open(archive.manifest_path, "ab") as manifest:
        manifest.write(b'{"sha256": "torn')
    second = archive.put_bytes(b"two", kind="k", source="s")
    assert [row["sha256"] for row in archive.manifest()] == [first.sha256, second.sha256]


def test_simulator_request_log_repairs_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(b'{"origin": "lwa", "status": 200}\n{"origin": "sp')
    RequestLog(path).record(
        origin="spapi", method="GET", path="/reports", query_string="", header_names=["X"], status=200
    )
    entries = read_request_log(path)
    assert [e["origin"] for e in entries] == ["lwa", "spapi"]
    assert path.read_bytes().splitlines()[1] == b'{"origin": "sp'
