"""Reading the head of a settlement file (its first few MB): what the file is (compressed, binary, UTF-16, text),
its encoding, header, layout, summary row and, when the head shows it, its decimal style."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path

from transforms.settlement import values
from transforms.settlement.decimal_style import StyleVote
from transforms.settlement.encoding import MixedEncodingError, detect_encoding
from transforms.settlement.errors import EmptySettlementFile, SettlementFileError
from transforms.settlement.file_shape import (
    EXPECTED,
    FileShape,
    SettlementSummary,
    amount_columns_of,
    normalise,
)
from transforms.settlement.line_scan import (
    CHUNK,
    MAX_LINE_BYTES,
    LineScan,
    byte_size,
)
from transforms.settlement.schema import (
    LAYOUT_V1,
    LAYOUT_V2,
    REQUIRED_COMMON,
    REQUIRED_V1,
    REQUIRED_V2,
    SUMMARY_DATE_COLUMNS,
)
from transforms.settlement.values import DecimalStyle

HEAD_BYTES = 4 << 20


def inspect_head(
    path: Path, *, charset_hint: str | None, file: str, scan: LineScan | None = None
) -> FileShape:
    """Encoding, layout, header, summary row and decimal style, from the first few MB of the file.

    First, what the file is: compressed, binary, UTF-16, a line longer than MAX_LINE_BYTES or a NUL byte
    (`scan`, the LineScan of the whole file, when given; else the head's) each raise a SettlementFileError
    saying so."""
    size = path.stat().st_size
    with open(path, "rb") as stream:
        head = stream.read(HEAD_BYTES)
    complete = len(head) >= size
    if not head.strip() and (complete or _all_whitespace(path)):
        raise EmptySettlementFile(file)
    sniff(head, file=file)
    _check_lines(scan or LineScan.of_bytes(head), file=file)
    try:
        encoding = detect_encoding(head, hint=charset_hint, complete=complete)
    except MixedEncodingError as error:
        line = head[: error.offset].count(b"\n") + 1
        raise SettlementFileError(
            f"line is not valid UTF-8, though the file {error}", file=file, line=line
        ) from error
    text = _decode_head(head, encoding, complete=complete, file=file)
    lines = text.split("\n")
    if not complete:
        lines = lines[:-1]  # the last one may be cut off
    if not lines:
        raise SettlementFileError(
            f"the first line is longer than {byte_size(HEAD_BYTES)} (a settlement header is a few hundred bytes)",
            file=file,
            line=1,
        )
    lines = [line.removesuffix("\r") for line in lines]
    header_line = lines[0].lstrip("\ufeff")

    stripped = header_line.lstrip()
    if stripped.startswith("<"):
        if "settlement" in text[:4096].lower():
            raise SettlementFileError("XML layout not supported yet", file=file, line=1, kind="unsupported")
        raise SettlementFileError(
            f"this is XML/HTML, expected {EXPECTED}", file=file, line=1, kind="not_settlement"
        )
    header = tuple(header_line.split("\t"))
    columns: dict[str, int] = {}
    for position, name in enumerate(header):
        key = normalise(name)
        if key in columns and key:
            raise SettlementFileError(f"header names {name!r} twice", file=file, line=1, column=name)
        columns[key] = position
    if "settlement-id" not in columns:
        raise SettlementFileError(
            f"not a settlement report: expected {EXPECTED}", file=file, line=1, kind="not_settlement"
        )
    required: tuple[str, ...]
    if "amount-type" in columns or "amount" in columns:
        layout, required = LAYOUT_V2, REQUIRED_V2
    elif any(name in columns for name in REQUIRED_V1):
        layout, required = LAYOUT_V1, REQUIRED_V1
    else:
        raise SettlementFileError(
            "header has neither the V2 amount columns (amount-type, amount-description, amount) nor the "
            "older layout's (price-type, price-amount, item-related-fee-type, ...)",
            file=file,
            line=1,
        )
    missing = [name for name in (*REQUIRED_COMMON, *required) if name not in columns]
    if missing:
        raise SettlementFileError(
            f"required column(s) missing from the header: {', '.join(missing)}",
            file=file,
            line=1,
            column=missing[0],
        )

    body = lines[1:]
    if complete and body and not any(row.strip() for row in body):
        # The header ends with a newline and nothing follows it: Amazon's report for nothing. (A header cut
        # off before its newline is a truncated download, below.)
        raise EmptySettlementFile(file, "a header and no rows: nothing to import")
    if not body or not body[0].strip():
        raise SettlementFileError("no summary row after the header (truncated file?)", file=file, line=2)
    amount_columns = amount_columns_of(layout, columns)

    def head_rows() -> Iterator[tuple[int, list[str]]]:
        """(physical line, fields) of the head's rows, read only as far as they are needed."""
        for offset, row in enumerate(body):
            fields = row.split("\t")
            if len(fields) == len(header):  # other rows are reported precisely by the full pass
                yield offset + 2, fields

    samples = (
        (line, name, text)
        for line, fields in head_rows()
        for name in ("total-amount", *amount_columns)
        if (text := fields[columns[name]].strip())
    )
    vote = StyleVote(file=file)
    vote.add_all(samples, stop_at_strong=True)
    found = vote.strong_style
    # Without evidence in the head the summary's total is read with a decimal point for now; once the whole
    # file has decided, convert_lines reads it again in the style decided.
    style: DecimalStyle = found or "point"
    summary = _parse_summary(body[0], header, columns, style, file=file)
    if complete and not any(row.strip() for row in body[1:]):
        if summary.total_amount != 0:
            raise SettlementFileError(
                f"the summary row's total-amount is {summary.total_amount} but no transaction line follows it "
                "(truncated file?)",
                file=file,
                line=3,
            )
        raise EmptySettlementFile(
            file,
            f"settlement {summary.settlement_id}: a summary row of total 0 and no transaction lines: nothing "
            "to import",
            settlement_id=summary.settlement_id,
        )
    usual: dict[str, str | None] = {}
    for name in ("posted-date", "posted-date-time"):
        if name in columns:
            position = columns[name]
            first = next((f[position] for line, f in head_rows() if line > 2 and f[position].strip()), "")
            usual[name] = values.usual_format(first) if first else None
    return FileShape(
        encoding,
        layout,
        header,
        columns,
        style,
        summary,
        usual,
        decimal_style_settled=found is not None or (complete and not vote.ambiguous),
        marketplace_names=_head_values(body[1:], columns.get("marketplace-name")),
    )


# Leading bytes of formats people download instead of the flat file: (magic, what it is, what to do).
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"\x1f\x8b", "gzip-compressed", "decompress it first (`gunzip -k FILE`) and import the file inside"),
    (b"PK\x03\x04", "a ZIP archive (or an Excel .xlsx workbook)", "extract the .txt report first"),
    (b"BZh", "bzip2-compressed", "decompress it first (`bunzip2 -k FILE`)"),
    (b"\xfd7zXZ\x00", "xz-compressed", "decompress it first (`xz -dk FILE`)"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed", "decompress it first (`zstd -d FILE`)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "extract the .txt report first"),
    (b"%PDF-", "a PDF document", "download the settlement report as a flat file (.txt) instead"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel .xls workbook", "download the flat file (.txt) instead"),
)
# Bytes that no text file has (C0 controls but tab, newline, form feed and carriage return; DEL).
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F])
_NOT_CONTROL = bytes(sorted(set(range(256)) - set(_CONTROL_BYTES)))
SNIFF_BYTES = 64 << 10


def sniff(head: bytes, *, file: str) -> None:
    """Refuse what is not text before reading it as a settlement: compressed or archived files (never
    decompressed: a gzip bomb costs nothing), binary content and UTF-16 text, with a message saying what the
    file looks like. Compressed, archived and binary files are `rejected`; UTF-16 is quarantined (unsupported)."""
    for magic, what, fix in _MAGIC:
        if head.startswith(magic):
            raise SettlementFileError(
                f"{what}, not a settlement report as text: {fix}", file=file, line=1, kind="not_settlement"
            )
    pairs = head[: min(len(head), 4096) // 2 * 2]
    utf16_without_bom = len(pairs) >= 8 and (not pairs[0::2].strip(b"\0") or not pairs[1::2].strip(b"\0"))
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or utf16_without_bom:
        raise SettlementFileError(
            "UTF-16 text (as Excel's 'Unicode Text' saves it): not supported; save it as UTF-8 or download the "
            "report again",
            file=file,
            line=1,
            kind="unsupported",
        )
    sample = head[:SNIFF_BYTES]
    controls = len(sample.translate(None, _NOT_CONTROL))  # every other byte deleted
    first_line = sample.split(b"\n", 1)[0]
    if b"\0" in first_line or controls * 100 > len(sample):
        share = (
            f"{100 * controls / len(sample):.0f}%" if controls * 100 >= len(sample) else f"{controls} bytes"
        )
        raise SettlementFileError(
            f"binary, not text ({share} of its first {byte_size(len(sample))} are control bytes or NULs): expected "
            f"{EXPECTED}",
            file=file,
            line=1,
            kind="not_settlement",
        )


def _check_lines(scan: LineScan, *, file: str) -> None:
    if scan.long_line is not None:
        line, length = scan.long_line
        raise SettlementFileError(
            f"a line of {byte_size(length)} exceeds the {byte_size(MAX_LINE_BYTES)} limit (settlement lines are a few "
            "hundred bytes: a damaged file, or not a settlement report)",
            file=file,
            line=line,
        )
    if scan.nul_line is not None:
        raise SettlementFileError(
            "the line holds a NUL byte (0x00), which a settlement report (text) never has: a damaged file",
            file=file,
            line=scan.nul_line,
        )


def _head_values(rows: list[str], position: int | None) -> tuple[str, ...]:
    """The distinct (trimmed) values of one column in `rows`, sorted; () when there is no such column."""
    if position is None:
        return ()
    found = set()
    for row in rows:
        parts = row.split("\t", position + 1)
        if len(parts) > position:
            found.add(parts[position].strip())
    return tuple(sorted(found))


def _all_whitespace(path: Path) -> bool:
    with open(path, "rb") as stream:
        return all(not chunk.strip() for chunk in iter(lambda: stream.read(CHUNK), b""))


def _decode_head(head: bytes, encoding: str, *, complete: bool, file: str) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        return decoder.decode(head, final=complete)
    except UnicodeDecodeError as error:
        line = head[: error.start].count(b"\n") + 1
        raise SettlementFileError(
            f"bytes at offset {error.start} are not valid {encoding}", file=file, line=line
        ) from error


def _parse_summary(
    row: str, header: tuple[str, ...], columns: dict[str, int], style: DecimalStyle, *, file: str
) -> SettlementSummary:
    fields = row.split("\t")
    if len(fields) != len(header):
        raise SettlementFileError(
            f"summary row has {len(fields)} fields, the header has {len(header)}", file=file, line=2
        )

    def field(name: str) -> str | None:
        position = columns.get(name)
        value = fields[position].strip() if position is not None else ""
        return value or None

    settlement_id = field("settlement-id")
    if settlement_id is None:
        raise SettlementFileError(
            "summary row has no settlement-id", file=file, line=2, column="settlement-id"
        )
    total_text = field("total-amount")
    if total_text is None:
        raise SettlementFileError("summary row has no total-amount", file=file, line=2, column="total-amount")
    try:
        total = values.parse_amount(total_text, style)
        dates = {
            name: values.parse_timestamp(text) if (text := field(name)) else None
            for name in SUMMARY_DATE_COLUMNS
        }
    except values.ValueError_ as error:
        bad = next(
            (
                name
                for name in ("total-amount", *SUMMARY_DATE_COLUMNS)
                if not _parses_summary_field(field(name), name, style)
            ),
            None,
        )
        raise SettlementFileError(str(error), file=file, line=2, column=bad) from error
    return SettlementSummary(
        settlement_id=settlement_id,
        period_start_at=dates["settlement-start-date"],
        period_end_at=dates["settlement-end-date"],
        deposit_at=dates["deposit-date"],
        total_amount=total,
        currency=field("currency"),
        total_text=total_text,
    )


def _parses_summary_field(text: str | None, name: str, style: DecimalStyle) -> bool:
    if text is None:
        return True
    try:
        if name == "total-amount":
            values.parse_amount(text, style)
        else:
            values.parse_timestamp(text)
    except values.ValueError_:
        return False
    return True
