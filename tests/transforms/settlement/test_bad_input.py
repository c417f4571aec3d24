"""Issue 14: bad input never crashes. Whatever the bytes (any line length, binary, compressed, NUL bytes, a
pipe), the import ends with a status, a sidecar and a message saying what the file looks like."""

from __future__ import annotations

import gzip
import json
import os
import random
import threading
import zlib
from pathlib import Path

import pytest

from transforms.settlement import import_settlement_file, parse_settlement
from transforms.settlement import importer as importer_module
from transforms.settlement.errors import SettlementFileError
from transforms.settlement.line_scan import MAX_LINE_BYTES, LineScan


def sidecars(data_dir: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((data_dir / "quarantine").glob("*.json"))]


def refused(path: Path, data_dir: Path, status: str, *, line: int | None, reason: str) -> dict:
    outcome = import_settlement_file(path, data_dir=data_dir)
    assert outcome.status == status, outcome
    assert reason in outcome.message
    [sidecar] = sidecars(data_dir)
    assert (sidecar["status"], sidecar["line"]) == (status, line)
    assert reason in sidecar["reason"] and sidecar["sha256"] == outcome.sha256
    assert (data_dir / "quarantine" / sidecar["quarantined_file"]).read_bytes() == path.read_bytes()
    assert not list((data_dir / "lake").rglob("*.parquet"))
    return sidecar


@pytest.fixture
def good(v2) -> str:
    return v2.render([v2.line("10.00"), v2.line("2.50")], total="12.50")


def test_random_bytes_are_binary_not_text(write_file, tmp_path: Path) -> None:
    data = random.Random(14).randbytes(100_000)
    sidecar = refused(write_file(data), tmp_path / "d", "rejected", line=1, reason="binary, not text")
    assert "expected a tab-separated Amazon settlement report" in sidecar["reason"]
    assert "UTF-8" not in sidecar["reason"]


def test_a_gzip_file_is_refused_not_decompressed(write_file, good, tmp_path: Path) -> None:
    path = write_file(gzip.compress(good.encode()), name="settlement.txt.gz")
    refused(
        path, tmp_path / "d", "rejected", line=1, reason="gzip-compressed, not a settlement report as text"
    )
    assert "gunzip" in sidecars(tmp_path / "d")[0]["reason"]


def test_a_gzip_bomb_is_never_decompressed(write_file, tmp_path: Path, monkeypatch) -> None:
    # 1 GiB of zeros in about 1 MB (16 gzip members); decompressing it is never attempted.
    bomb = gzip.compress(b"\0" * (64 << 20), compresslevel=9) * 16
    for name in ("decompress", "open", "GzipFile"):
        monkeypatch.setattr(gzip, name, lambda *a, **k: pytest.fail("decompressed"))
    monkeypatch.setattr(zlib, "decompressobj", lambda *a, **k: pytest.fail("decompressed"))
    refused(write_file(bomb), tmp_path / "d", "rejected", line=1, reason="gzip-compressed")


@pytest.mark.parametrize(
    ("magic", "what"),
    [
        (b"PK\x03\x04", "ZIP archive"),
        (b"%PDF-1.7\n", "PDF"),
        (b"BZh91AY&SY", "bzip2"),
        (b"\xfd7zXZ\x00", "xz"),
    ],
)
def test_other_containers_say_what_they_are(write_file, tmp_path: Path, magic: bytes, what: str) -> None:
    refused(write_file(magic + bytes(200)), tmp_path / "d", "rejected", line=1, reason=what)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_text_is_quarantined_as_unsupported(write_file, good, tmp_path: Path, codec: str) -> None:
    refused(write_file(good.encode(codec)), tmp_path / "d", "quarantined", line=1, reason="UTF-16 text")


def test_a_first_line_longer_than_the_head(write_file, good, tmp_path: Path) -> None:
    # 5 MiB of header-less bytes: used to crash with an IndexError (no outcome, no sidecar).
    path = write_file(b"x" * (5 << 20) + b"\n" + good.encode())
    refused(path, tmp_path / "d", "quarantined", line=1, reason="a line of 5 MiB exceeds the 1 MiB limit")


def test_a_first_line_without_any_newline(write_file, tmp_path: Path) -> None:
    path = write_file(b"settlement-id\t" * (400 << 10))
    refused(path, tmp_path / "d", "quarantined", line=1, reason="exceeds the 1 MiB limit")


def test_a_10_mb_field(v2, write_file, tmp_path: Path) -> None:
    # Used to say "CSV Error on Line: 3".
    lines = [v2.line("10.00", sku="A" * (10 << 20)), v2.line("2.50")]
    path = write_file(v2.render(lines, total="12.50"))
    refused(path, tmp_path / "d", "quarantined", line=3, reason="a line of 10 MiB exceeds the 1 MiB limit")


def test_a_long_line_far_into_the_file(v2, write_file, tmp_path: Path) -> None:
    lines = [v2.line("1.00") for _ in range(20_000)] + [v2.line("1.00", sku="B" * (2 << 20))]
    path = write_file(v2.render(lines, total="20001.00"))
    refused(path, tmp_path / "d", "quarantined", line=20_003, reason="a line of 2 MiB exceeds")


def test_lines_up_to_the_limit_are_fine(v2, write_file) -> None:
    base = len(v2.render([v2.line("1.00", sku="")], total="1.00").splitlines()[2].encode())
    long_sku = "S" * (MAX_LINE_BYTES - base)
    parsed = parse_settlement(write_file(v2.render([v2.line("1.00", sku=long_sku)], total="1.00")))
    assert parsed.lines.column("sku").to_pylist() == [long_sku]


def test_line_scan_finds_the_first_long_line_across_chunks() -> None:
    scan = LineScan()
    data = b"a\n" + b"b" * (MAX_LINE_BYTES + 5) + b"\n" + b"c" * 10 + b"\n" + b"d" * (3 * MAX_LINE_BYTES)
    for start in range(0, len(data), 300_000):
        scan.feed(data[start : start + 300_000])
    assert scan.long_line == (2, MAX_LINE_BYTES + 5)
    whole = LineScan()
    whole.feed(b"x\n" * 10 + b"y" * (MAX_LINE_BYTES + 1) + b"\nz\n" + b"w" * 10)  # one chunk past the limit
    assert whole.long_line == (11, MAX_LINE_BYTES + 1)


def test_a_nul_byte_in_a_text_file(v2, write_file, tmp_path: Path) -> None:
    # Used to import, NUL and all.
    lines = [v2.line("10.00", sku="A\0B"), v2.line("2.50")]
    path = write_file(v2.render(lines, total="12.50"))
    refused(path, tmp_path / "d", "quarantined", line=3, reason="NUL byte")


def test_nul_bytes_from_the_first_line_on_are_binary(v2, write_file, good, tmp_path: Path) -> None:
    refused(write_file(b"\0\0\0\0" + good.encode()), tmp_path / "d", "rejected", line=1, reason="binary")


def test_parse_settlement_gives_the_same_errors(write_file, good) -> None:
    with pytest.raises(SettlementFileError) as raised:
        parse_settlement(write_file(gzip.compress(good.encode())))
    assert raised.value.kind == "not_settlement" and "gzip" in raised.value.reason


def test_an_unexpected_error_is_that_files_quarantine_and_a_retry_lands_it(
    write_file, good, tmp_path: Path, monkeypatch
) -> None:
    data_dir = tmp_path / "d"
    path = write_file(good)

    def broken(*args, **kwargs):
        raise RuntimeError("something no rule foresaw")

    monkeypatch.setattr(importer_module, "convert_lines", broken)
    outcome = import_settlement_file(path, data_dir=data_dir)
    assert outcome.status == "quarantined"
    assert "unexpected error while importing: RuntimeError: something no rule foresaw" in outcome.message
    [sidecar] = sidecars(data_dir)
    assert sidecar["unexpected"] is True and sidecar["sha256"] == outcome.sha256
    monkeypatch.undo()
    # Imported again once the cause is gone: tried again (not "already quarantined"), and it lands.
    again = import_settlement_file(path, data_dir=data_dir)
    assert again.status == "imported", again


def test_a_pipe_is_read(write_file, good, tmp_path: Path) -> None:
    # `acorn import <(cat file)`: the archive reads the pipe once; everything after reads the archived copy.
    read_end, write_end = os.pipe()

    def feed() -> None:
        with os.fdopen(write_end, "wb") as out:
            out.write(good.encode())

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        outcome = import_settlement_file(Path(f"/dev/fd/{read_end}"), data_dir=tmp_path / "d")
    finally:
        writer.join()
        os.close(read_end)
    assert outcome.status == "imported", outcome
    assert outcome.rows == 2


def test_a_failure_while_landing_is_that_files_outcome(write_file, good, tmp_path: Path, monkeypatch) -> None:
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(importer_module, "_land", full_disk)
    outcome = import_settlement_file(write_file(good), data_dir=tmp_path / "d")
    assert outcome.status == "quarantined"
    assert "unexpected error while importing: OSError: [Errno 28] No space left on device" in outcome.message
    assert not list((tmp_path / "d" / "lake").rglob("*.parquet"))
