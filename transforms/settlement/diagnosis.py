"""Naming the first bad line and column of a settlement file, walking it in Python. Only runs when the SQL pass
has failed: the happy path has no per-row Python loop."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

from transforms.settlement import values
from transforms.settlement.errors import SettlementFileError
from transforms.settlement.file_shape import (
    FileShape,
)
from transforms.settlement.line_scan import (
    MAX_LINE_BYTES,
    byte_size,
)

_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")


def iter_rows(path: Path, encoding: str, *, file: str) -> Iterator[tuple[int, list[str], bool]]:
    """(physical line number, fields, ends with a newline) for every line after the header, decoding
    strictly."""
    with open(path, "rb") as raw:
        number = 0
        while raw_line := raw.readline(MAX_LINE_BYTES + 2):
            number += 1
            if len(raw_line) > MAX_LINE_BYTES and not raw_line.endswith(b"\n"):
                raise SettlementFileError(
                    f"a line longer than {byte_size(MAX_LINE_BYTES)} (the limit)", file=file, line=number
                )
            try:
                line = raw_line.decode(encoding if number > 1 else encoding.replace("-sig", ""))
            except UnicodeDecodeError as error:
                shown = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8"}.get(encoding, encoding)
                raise SettlementFileError(
                    f"line is not valid {shown} (byte {error.start + 1} of the line)",
                    file=file,
                    line=number,
                ) from error
            if number == 1:
                continue
            yield number, line.rstrip("\r\n").split("\t"), line.endswith("\n")


def diagnose(path: Path, shape: FileShape, *, file: str, fallback: str) -> SettlementFileError:
    """Walk the file in Python to name the first bad line and column; `fallback` when nothing is found."""
    try:
        problem = _first_problem(path, shape, file=file)
    except SettlementFileError as error:
        return error
    if problem is not None:
        return problem
    first_line = fallback.strip().splitlines()[0] if fallback.strip() else "unreadable file"
    match = _CSV_LINE.search(fallback)
    return SettlementFileError(first_line, file=file, line=int(match.group(1)) if match else None)


def _first_problem(path: Path, shape: FileShape, *, file: str) -> SettlementFileError | None:
    width = len(shape.header)
    amount_columns = shape.amount_columns
    for number, fields, terminated in iter_rows(path, shape.encoding, file=file):
        if fields == [""]:
            continue  # blank lines carry nothing (real files have them, even between rows)
        if len(fields) != width:
            # A short last row with no newline is what an interrupted download leaves behind.
            cut = (
                "; the file ends inside this row (truncated?)"
                if not terminated and len(fields) < width
                else ""
            )
            return SettlementFileError(
                f"row has {len(fields)} fields, the header has {width}{cut}", file=file, line=number
            )
        if number == 2:
            continue  # the summary row was checked when the head was read
        named = {name: fields[position] for name, position in shape.columns.items()}
        if named["settlement-id"].strip() != shape.summary.settlement_id:
            return SettlementFileError(
                f"settlement-id {named['settlement-id'].strip()!r} differs from the summary row's "
                f"{shape.summary.settlement_id!r} (one settlement per file)",
                file=file,
                line=number,
                column="settlement-id",
            )
        checks: list[tuple[str, Callable[[str], object]]] = [
            (name, lambda v: values.parse_amount(v, shape.decimal_style)) for name in amount_columns
        ]
        checks += [
            ("posted-date", values.parse_posted_date),
            ("posted-date-time", values.parse_timestamp),
            ("quantity-purchased", values.parse_quantity),
        ]
        for name, parse in checks:
            text = named.get(name, "").strip()
            if not text:
                continue
            try:
                parse(text)
            except values.ValueError_ as error:
                return SettlementFileError(
                    str(error), file=file, line=number, column=shape.header[shape.columns[name]].strip()
                )
    return None
