"""The settlement inbox sensor, evaluated as Dagster evaluates it (a real sensor context over a real data dir):
one run per file dropped, none for partial downloads or hidden files, none again for a file already requested,
one again for a file that changed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

from orchestration.resources import DataDirResource
from orchestration.settlements.sensors import settlement_inbox_sensor


def _tick(data_dir: Path, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        cursor=cursor, resources={"data": DataDirResource(data_dir=str(data_dir))}
    )
    result = settlement_inbox_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def _files(result: dg.SensorResult) -> list[str]:
    return [
        Path(request.run_config["ops"]["settlement_reports"]["config"]["import_files"][0]).name
        for request in result.run_requests or []
    ]


def test_each_dropped_file_is_requested_once_and_again_when_it_changes(tmp_path: Path) -> None:
    inbox = DataDirResource(data_dir=str(tmp_path)).paths().inbox
    (inbox / "b.txt").write_text("settlement b\n")
    (inbox / "a.txt").write_text("settlement a\n")
    (inbox / "c.txt.crdownload").write_text("still downloading\n")
    (inbox / ".hidden.txt").write_text("an editor's swap file\n")
    (inbox / "folder").mkdir()

    first = _tick(tmp_path, None)
    assert _files(first) == ["a.txt", "b.txt"]
    requests = first.run_requests or []
    # A file's account is known once it is read: each import is a run over every account's partition.
    every_account = {
        "acorn/source": "inbox",
        "dagster/asset_partition_range_start": "demo-na",
        "dagster/asset_partition_range_end": "demo-vendor",
    }
    assert all(request.tags == every_account for request in requests)
    assert len({request.run_key for request in requests}) == 2
    assert set(json.loads(first.cursor or "{}")) == {"a.txt", "b.txt"}

    assert _files(_tick(tmp_path, first.cursor)) == []  # nothing new

    (inbox / "c.txt.crdownload").rename(inbox / "c.txt")  # the download finished
    (inbox / "a.txt").write_text("settlement a, downloaded again and longer\n")
    os.utime(inbox / "a.txt", ns=(1, 1))  # a different mtime as well as a different size
    third = _tick(tmp_path, first.cursor)
    assert _files(third) == ["a.txt", "c.txt"]
    assert not {r.run_key for r in third.run_requests or []} & {r.run_key for r in requests}
