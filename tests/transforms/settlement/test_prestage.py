"""`acorn import`'s prestage (transforms/settlement/prestage.py): the first file's archive copy and parse made
on a thread while Dagster starts, taken over by the step. What lands, what is archived and what is quarantined
is exactly what the step alone makes; a prestage nobody takes leaves nothing behind."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq

from transforms.recovery import find_leftovers, recover
from transforms.settlement import import_settlement_file
from transforms.settlement import importer as importer_module
from transforms.settlement.prestage import IN_USE, Prestage

ACCOUNT = "acme-us"


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


def leftovers(data_dir: Path) -> list[Path]:
    staging = data_dir / "staging"
    staged = list(staging.iterdir()) if staging.is_dir() else []
    return staged + list((data_dir / "raw").rglob(".tmp-*"))


def counting_convert(monkeypatch) -> list[Path]:
    """Records the step's own convert_lines calls (the prestage's go through its own import)."""
    calls: list[Path] = []
    real = importer_module.convert_lines

    def convert(path, *args, **kwargs):
        calls.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(importer_module, "convert_lines", convert)
    return calls


def test_a_prestaged_import_lands_and_archives_what_the_step_alone_does(
    v2, write_file, tmp_path: Path, monkeypatch
) -> None:
    path = write_file(v2.render([v2.line("10.00"), v2.line("-2.55"), v2.line("0.05")], total="7.50"))
    step_parses = counting_convert(monkeypatch)
    alone = import_settlement_file(path, data_dir=tmp_path / "alone", account_id=ACCOUNT)
    assert len(step_parses) == 1
    with Prestage(path, tmp_path / "pre", account_id=ACCOUNT):
        prestaged = import_settlement_file(path, data_dir=tmp_path / "pre", account_id=ACCOUNT)
    assert len(step_parses) == 1  # the step took the prestage's parse
    assert (prestaged.status, prestaged.rows, prestaged.sha256) == (alone.status, alone.rows, alone.sha256)
    assert prestaged.message == alone.message
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert archived(tmp_path / "pre") == archived(tmp_path / "alone") == {digest: path.read_bytes()}
    rows, expected = lake_rows(tmp_path / "pre"), lake_rows(tmp_path / "alone")
    assert rows["settlement_lines"] == expected["settlement_lines"]
    ignored = {"imported_at", "archived_at"}
    assert [{k: v for k, v in r.items() if k not in ignored} for r in rows["settlements"]] == [
        {k: v for k, v in r.items() if k not in ignored} for r in expected["settlements"]
    ]
    assert leftovers(tmp_path / "pre") == [] and not IN_USE
    # Imported again (prestaged again): a duplicate, nothing more archived or staged.
    with Prestage(path, tmp_path / "pre", account_id=ACCOUNT):
        again = import_settlement_file(path, data_dir=tmp_path / "pre", account_id=ACCOUNT)
    assert again.status == "duplicate"
    assert archived(tmp_path / "pre") == {digest: path.read_bytes()}
    assert leftovers(tmp_path / "pre") == [] and not IN_USE


def test_a_bad_line_is_quarantined_naming_it_and_the_bytes_are_archived_verified(
    v2, write_file, tmp_path: Path
) -> None:
    lines = [v2.line("1.00"), v2.line("2.00"), v2.line("3.0O"), v2.line("4.00")]
    path = write_file(v2.render(lines, total="10.00"))
    data_dir = tmp_path / "data"
    with Prestage(path, data_dir, account_id=ACCOUNT):
        outcome = import_settlement_file(path, data_dir=data_dir, account_id=ACCOUNT)
    assert outcome.status == "quarantined", outcome
    assert "line 5" in outcome.message
    [sidecar] = [json.loads(p.read_text()) for p in (data_dir / "quarantine").glob("*.json")]
    assert (sidecar["line"], sidecar["column"], sidecar["file"]) == (5, "amount", path.name)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert outcome.sha256 == sidecar["sha256"] == digest
    # The raw archive holds the bytes under their sha256, verified by reading them back.
    assert archived(data_dir) == {digest: path.read_bytes()}
    assert (
        hashlib.sha256((data_dir / "raw" / "objects" / digest[:2] / digest).read_bytes()).hexdigest()
        == digest
    )
    assert (data_dir / "quarantine" / sidecar["quarantined_file"]).read_bytes() == path.read_bytes()
    assert not list((data_dir / "lake").rglob("*.parquet"))
    assert leftovers(data_dir) == [] and not IN_USE


def test_a_prestage_no_step_takes_leaves_nothing(v2, write_file, tmp_path: Path) -> None:
    path = write_file(v2.render([v2.line("1.00")], total="1.00"))
    data_dir = tmp_path / "data"
    with Prestage(path, data_dir, account_id=ACCOUNT) as prestage:
        assert prestage._thread is not None
        prestage._thread.join()
        held = leftovers(data_dir)
        assert len(held) == 2  # the archive copy and the parsed lines' staging folder
        # The start-of-run clean-up of this process leaves them alone, and says nothing of them.
        assert find_leftovers(data_dir) == []
        assert recover(data_dir).lines() == []
    assert leftovers(data_dir) == [] and not IN_USE
    assert archived(data_dir) == {}
    # What a killed prestage leaves (its copy) is an ordinary leftover for the next command.
    killed = data_dir / "raw" / "objects" / ".tmp-killed"
    killed.write_bytes(path.read_bytes())
    assert [item.path for item in recover(data_dir).removed] == [killed]


def test_a_file_changed_after_its_prestage_is_archived_as_it_is_when_the_step_reads_it(
    v2, write_file, tmp_path: Path, monkeypatch
) -> None:
    path = write_file(v2.render([v2.line("1.00")], total="1.00"))
    data_dir = tmp_path / "data"
    step_parses = counting_convert(monkeypatch)
    with Prestage(path, data_dir, account_id=ACCOUNT) as prestage:
        assert prestage._thread is not None
        prestage._thread.join()
        path.write_text(v2.render([v2.line("1.00"), v2.line("2.00")], total="3.00"))
        outcome = import_settlement_file(path, data_dir=data_dir, account_id=ACCOUNT)
    assert (outcome.status, outcome.rows) == ("imported", 2)
    assert len(step_parses) == 1  # parsed again, by the step
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert outcome.sha256 == digest and archived(data_dir) == {digest: path.read_bytes()}
    assert leftovers(data_dir) == [] and not IN_USE


def test_an_account_the_step_chooses_otherwise_is_parsed_again(
    v2, write_file, tmp_path: Path, monkeypatch
) -> None:
    path = write_file(v2.render([v2.line("1.00")], total="1.00"))
    data_dir = tmp_path / "data"
    step_parses = counting_convert(monkeypatch)
    with Prestage(path, data_dir, account_id="someone-else"):
        outcome = import_settlement_file(path, data_dir=data_dir, account_id=ACCOUNT)
    assert outcome.status == "imported" and len(step_parses) == 1
    [line] = lake_rows(data_dir)["settlement_lines"]
    assert line["account_id"] == ACCOUNT
    assert leftovers(data_dir) == [] and not IN_USE


def test_the_copy_being_made_is_left_alone_by_the_run_start_clean_up(
    v2, write_file, tmp_path: Path, monkeypatch
) -> None:
    """The run's start-of-run clean-up may list the archive while the prestage is still copying."""
    import threading

    from transforms import archive as archive_module

    path = write_file(v2.render([v2.line("1.00")], total="1.00"))
    data_dir = tmp_path / "data"
    copying, finish = threading.Event(), threading.Event()
    real = archive_module._copy_and_hash

    def slow_copy(*args, **kwargs):
        copying.set()
        assert finish.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(archive_module, "_copy_and_hash", slow_copy)
    with Prestage(path, data_dir, account_id=ACCOUNT):
        assert copying.wait(30)
        assert len(list((data_dir / "raw").rglob(".tmp-*"))) == 1  # the copy under way
        assert find_leftovers(data_dir) == [] and recover(data_dir).lines() == []
        finish.set()
        outcome = import_settlement_file(path, data_dir=data_dir, account_id=ACCOUNT)
    assert outcome.status == "imported"
    assert leftovers(data_dir) == [] and not IN_USE
