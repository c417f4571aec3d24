"""CSV text the way the ledgers' importers read it: comma-separated, quoted where needed, CRLF line ends."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence


def csv_text(rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue()


# A journal id and its rows.
Block = tuple[str, list[list[str]]]


def chunked(blocks: list[Block], limit: int, what: str) -> list[list[Block]]:
    """Blocks (a journal id and its rows) packed in order into files of at most `limit` rows, never splitting a
    block; a block longer than `limit` is an error (the importer would refuse it anyway)."""
    files: list[list[Block]] = []
    current: list[Block] = []
    size = 0
    for journal_id, rows in blocks:
        if len(rows) > limit:
            raise ValueError(f"{journal_id} has {len(rows)} {what}, more than the {limit} one file may hold")
        if current and size + len(rows) > limit:
            files.append(current)
            current, size = [], 0
        current.append((journal_id, rows))
        size += len(rows)
    if current:
        files.append(current)
    return files
