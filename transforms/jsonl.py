"""Append-only JSON Lines logs (`raw/manifest.jsonl`, `lake/settlement_versions.jsonl`): one JSON object per
line, appended whole, never rewritten.

A crash (or a full disk) in the middle of an append leaves a torn last line: bytes with no newline after them.
Readers skip a line without its newline (and any line that is not a JSON object). Writers repair it before
appending: `append_line` finishes a torn line with a newline, so the next record starts on a line of its own
instead of being glued to the torn bytes (and lost with them).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def append_line(log: IO[bytes], line: str | bytes, *, sync: bool = True) -> None:
    """Append one record to a log opened in binary append mode ("a+b"), with a single write, on a line of its
    own: a torn last line is ended first. Callers serialise writers (a lock) when several may append."""
    data = line.encode("utf-8") if isinstance(line, str) else line
    if not data.endswith(b"\n"):
        data += b"\n"
    log.seek(0, os.SEEK_END)
    if log.tell() > 0:
        log.seek(-1, os.SEEK_END)
        if log.read(1) != b"\n":
            data = b"\n" + data  # finish a torn line so this record starts on its own line
        log.seek(0, os.SEEK_END)
    log.write(data)
    log.flush()
    if sync:
        os.fsync(log.fileno())


def read_records(path: Path) -> Iterator[dict]:
    """Every complete record of a log, oldest first: a torn last line (no newline) and lines that are not a
    JSON object are skipped."""
    if not path.exists():
        return
    with open(path, "rb") as lines:
        for raw in lines:
            if not raw.endswith(b"\n"):
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield record
