"""Settlement flat file -> typed Parquet, streaming through DuckDB.

Python reads only the head of the file: it detects the encoding, matches the header by name, tells the layouts
apart, parses the summary row and decides the decimal style. DuckDB then reads every line as text
(tab-separated, no quoting: Amazon does not quote) and validates and casts in SQL while writing Parquet, so
memory stays flat however large the file. Any bad value makes the SQL raise; only then does a (slower) Python
pass walk the file to name the first bad line and column. No per-row Python loop runs on the happy path.
"""

from __future__ import annotations

import codecs
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

import duckdb
import numpy as np

from transforms.settlement import values
from transforms.settlement.encoding import UTF8, UTF8_BOM, MixedEncodingError, detect_encoding
from transforms.settlement.errors import EmptySettlementFile, SettlementFileError
from transforms.settlement.schema import (
    LAYOUT_V1,
    LAYOUT_V2,
    POSITIONAL_NUMBERING,
    POSITIONAL_NUMBERING_KEY,
    REQUIRED_COMMON,
    REQUIRED_V1,
    REQUIRED_V2,
    SETTLEMENT_LINES_SCHEMA,
    SHARED_COLUMNS,
    SHARED_TEXT_COLUMNS,
    SUMMARY_DATE_COLUMNS,
    V1_AMOUNT_COLUMNS,
    V1_DEFAULT_DESCRIPTIONS,
    V1_LINE_COLUMNS,
    V2_LINE_COLUMNS,
)
from transforms.settlement.values import DecimalStyle, sql_literal, sql_text

HEAD_BYTES = 4 << 20
CHUNK = 1 << 20
# A settlement line is a few hundred bytes; a longer line than this is not one (and would cost memory to read).
MAX_LINE_BYTES = 1 << 20
EXPECTED = (
    "a tab-separated Amazon settlement report (GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2 or "
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE) whose header starts with settlement-id"
)
_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_NEWLINE = ord("\n")


@dataclass(frozen=True)
class SettlementSummary:
    settlement_id: str
    period_start_at: datetime | None
    period_end_at: datetime | None
    deposit_at: datetime | None
    total_amount: Decimal
    currency: str | None
    total_text: str = ""  # as written: its reading depends on the decimal style


@dataclass(frozen=True)
class FileShape:
    """What the head of a file says about all of it."""

    encoding: str
    layout: str
    header: tuple[str, ...]  # as written
    columns: dict[str, int]  # normalised header name -> position
    decimal_style: DecimalStyle
    summary: SettlementSummary
    usual_formats: dict[str, str | None]  # date column -> the strptime format its first value has
    # False when the head had no amount with a decimal separator: convert_lines then looks through the whole
    # file (as UTF-8, after any transcoding) before it converts.
    decimal_style_settled: bool = True
    # The distinct marketplace-name values of the head's lines (blank ones included as ""); empty when the
    # header has no marketplace-name column. The account an import infers starts from them.
    marketplace_names: tuple[str, ...] = ()

    def has(self, name: str) -> bool:
        return name in self.columns

    @property
    def amount_columns(self) -> list[str]:
        return _amount_columns(self.layout, self.columns)


def _amount_columns(layout: str, columns: dict[str, int]) -> list[str]:
    return ["amount"] if layout == LAYOUT_V2 else [c for c, _, _ in V1_AMOUNT_COLUMNS if c in columns]


@dataclass(frozen=True)
class ConvertedLines:
    shape: FileShape
    line_count: int
    lines_total: Decimal
    marketplace_name: str | None  # the most frequent one
    marketplace_names: tuple[str, ...] = ()  # every distinct non-blank one in the file


class LineScan:
    """Counts lines in one pass over the raw bytes, fed chunk by chunk (the archive's copy pass does that).

    DuckDB skips blank lines, so a row's position is its physical line only when no blank line sits between
    rows. `last_content_line` lets the import check that cheaply afterwards: rows read + header must equal it.
    A file that fails the check is read again through a copy whose blank lines are rows of empty fields (real
    files do have them). UTF-8 is not checked here: DuckDB rejects invalid UTF-8 in every line it reads, and
    the head (header and summary row) is decoded strictly by inspect_head."""

    def __init__(self) -> None:
        self.newlines = 0
        self.last_content_line = 0
        # The first line longer than MAX_LINE_BYTES: (line, its length in bytes), and the first line holding a
        # NUL byte. Both cost two memchr calls a chunk.
        self.long_line: tuple[int, int] | None = None
        self.nul_line: int | None = None
        self._open_line = 0  # bytes of the line not ended yet

    def feed(self, chunk: bytes) -> None:
        # numpy counts 3x faster than bytes.count (a third of the archive pass on a large file).
        as_array = np.frombuffer(chunk, dtype=np.uint8)
        newlines = int(np.count_nonzero(as_array == _NEWLINE))
        before = self.newlines
        content = len(chunk.rstrip(b"\r\n"))
        if content:
            trailing = chunk.count(b"\n", content)
            self.last_content_line = self.newlines + newlines - trailing + 1
        self.newlines += newlines
        if self.nul_line is None and (nul := chunk.find(b"\0")) >= 0:
            self.nul_line = before + chunk.count(b"\n", 0, nul) + 1
        first = chunk.find(b"\n")
        if first < 0:
            self._open_line += len(chunk)
        else:
            self._long(self._open_line + first, before + 1)
            if len(chunk) - first > MAX_LINE_BYTES and self.long_line is None:
                ends = np.flatnonzero(as_array == _NEWLINE)
                lengths = np.diff(ends) - 1
                over = np.flatnonzero(lengths > MAX_LINE_BYTES)
                if over.size:
                    self._long(int(lengths[over[0]]), before + int(over[0]) + 2)
            self._open_line = len(chunk) - chunk.rfind(b"\n") - 1
        self._long(self._open_line, self.newlines + 1)

    def _long(self, length: int, line: int) -> None:
        if length > MAX_LINE_BYTES and (self.long_line is None or self.long_line[0] == line):
            self.long_line = (line, length)

    @classmethod
    def of_file(cls, path: Path) -> LineScan:
        scan = cls()
        with open(path, "rb") as stream:
            while chunk := stream.read(CHUNK):
                scan.feed(chunk)
        return scan

    @classmethod
    def of_bytes(cls, data: bytes) -> LineScan:
        scan = cls()
        for start in range(0, len(data), CHUNK):
            scan.feed(data[start : start + CHUNK])
        return scan


def has_blank_line_inside(path: Path) -> bool:
    """Whether a blank line comes before the last non-blank one (a second pass; used for the older layout)."""
    previous_blank = False
    with open(path, "rb") as stream:
        for line in stream:
            blank = not line.strip(b"\r\n")
            if previous_blank and not blank:
                return True
            previous_blank = blank
    return False


def normalise(name: str) -> str:
    return name.strip().strip('"').strip().lower()


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
            f"the first line is longer than {_size(HEAD_BYTES)} (a settlement header is a few hundred bytes)",
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
    amount_columns = _amount_columns(layout, columns)

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
            f"binary, not text ({share} of its first {_size(len(sample))} are control bytes or NULs): expected "
            f"{EXPECTED}",
            file=file,
            line=1,
            kind="not_settlement",
        )


def _check_lines(scan: LineScan, *, file: str) -> None:
    if scan.long_line is not None:
        line, length = scan.long_line
        raise SettlementFileError(
            f"a line of {_size(length)} exceeds the {_size(MAX_LINE_BYTES)} limit (settlement lines are a few "
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


def _size(count: int) -> str:
    if count >= 1 << 20:
        return f"{count / (1 << 20):.3g} MiB"
    if count >= 1 << 10:
        return f"{count / (1 << 10):.3g} KiB"
    return f"{count} bytes"


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


class StyleVote:
    """Evidence for a file's decimal style, amount by amount (line, column, text), in file order.

    An amount valid in only one style (`1,234.56`, `12,50`, `5.99`) is strong evidence for it; the first
    amount that is strong evidence for the other style than an earlier one is a mix (SettlementFileError).
    An amount valid in both styles with different values (`10,000`, `2.500`) is ambiguous and decides
    nothing by itself; `decide` then weighs the currency and the settlement total. The sums of every amount
    line read in each style are kept for that (total-amount, line 2, is not summed)."""

    def __init__(self, *, file: str) -> None:
        self.file = file
        self.strong: dict[DecimalStyle, tuple[int, str, str]] = {}
        self.ambiguous: dict[str, tuple[int, str, str]] = {}  # separator -> its first ambiguous amount
        self.sums: dict[DecimalStyle, Decimal] = {"point": Decimal(0), "comma": Decimal(0)}

    @property
    def strong_style(self) -> DecimalStyle | None:
        return next(iter(self.strong), None)

    def add(self, line: int, column: str, text: str) -> None:
        if line > 2:
            for style in values.STYLES:
                self.sums[style] += values.amount_or_none(text, style) or 0
        if not values.has_separator(text):
            return
        strong = values.strong_style(text)
        if strong is not None:
            first = self.strong.setdefault(strong, (line, column, text))
            if len(self.strong) > 1:
                other_line, _, other_text = next(v for k, v in self.strong.items() if k != strong)
                raise SettlementFileError(
                    f"amount {text!r} reads only with a decimal {strong}, but {other_text!r} (line {other_line}) "
                    f"only with a decimal {'comma' if strong == 'point' else 'point'}: amounts mix decimal "
                    "commas and decimal points",
                    file=self.file,
                    line=first[0],
                    column=first[1],
                )
            return
        separator = values.ambiguous_separator(text)
        if separator is not None:
            self.ambiguous.setdefault(separator, (line, column, text))

    def add_all(self, samples: Iterable[tuple[int, str, str]], *, stop_at_strong: bool = False) -> None:
        for sample in samples:
            self.add(*sample)
            if stop_at_strong and self.strong:
                return


def decide_decimal_style(
    *,
    strong: set[DecimalStyle],
    ambiguous: set[str],
    sums: dict[DecimalStyle, Decimal],
    currency: str | None,
    total_text: str,
) -> tuple[DecimalStyle | None, str]:
    """The style the whole file agrees on, from its evidence (see StyleVote): (style, "") when certain, else
    (None, why). Strong evidence for one style decides (both: a mix, reported by the caller). Otherwise an
    ambiguous amount (`10,000`) read as decimals would have 3, more than the currency has (JPY 0, USD 2): that
    reading is implausible. A reading under which the file does not reconcile (total-amount against the sum of
    its lines) while the other does is not certain either; when both remain, reconciling decides."""
    if len(strong) == 1:
        return next(iter(strong)), ""
    if not ambiguous and not values.has_separator(total_text):
        return "point", ""  # no separator anywhere: both readings agree
    if total_text and values.ambiguous_separator(total_text):
        ambiguous = ambiguous | {values.ambiguous_separator(total_text) or ""}
    decimals = values.currency_decimals(currency)
    decimal_of = {style: values.SEPARATORS[style][0] for style in values.STYLES}
    plausible = [
        style
        for style in values.STYLES
        if decimals is None or decimals >= 3 or decimal_of[style] not in ambiguous
    ]
    reconciles = {
        style: (total := values.amount_or_none(total_text, style)) is not None and total == sums[style]
        for style in values.STYLES
    }
    currency_text = (
        f"{currency} has {decimals} decimals" if decimals is not None else "the currency is unknown"
    )
    if len(plausible) == 1:
        style = plausible[0]
        other: DecimalStyle = "comma" if style == "point" else "point"
        if reconciles[style] or not reconciles[other]:
            return style, ""
        return None, (
            f"read with a decimal {style} (as {currency_text}) the file does not reconcile, read with a "
            f"decimal {other} it does"
        )
    if not plausible:
        return None, f"both readings give some amount more decimals than {currency_text.split(' has')[0]} has"
    agreeing = [style for style in values.STYLES if reconciles[style]]
    if len(agreeing) == 1:
        return agreeing[0], ""
    why = "the file reconciles either way" if agreeing else "the file reconciles neither way"
    return None, f"{currency_text} and {why}"


def _ambiguity_error(vote: StyleVote, why: str, shape: FileShape) -> SettlementFileError:
    first = min(vote.ambiguous.values(), default=None)
    if first is None and values.ambiguous_separator(shape.summary.total_text):
        first = (2, "total-amount", shape.summary.total_text)
    line, column, text = first or (2, "total-amount", shape.summary.total_text)
    point, comma = values.amount_or_none(text, "point"), values.amount_or_none(text, "comma")
    return SettlementFileError(
        f"amount {text!r} is ambiguous: {point} with a decimal point (',' grouping thousands) or {comma} with a "
        f"decimal comma, and nothing in the file decides which ({why}); no amount is guessed",
        file=vote.file,
        line=line,
        column=shape.header[shape.columns[column]].strip() if column in shape.columns else column,
    )


def _decimal_style_of_whole_file(source: Path, encoding: str, shape: FileShape, file: str) -> DecimalStyle:
    """The head did not settle the style: read on until an amount decides it (files of whole numbers, such as
    yen, are read to the end). `source` is UTF-8 (convert_lines transcodes other encodings first), so DuckDB
    looks (a Python pass read 1M lines a second); a file DuckDB cannot read as a clean table, a deciding row
    that mixes styles and an ambiguous file get the streaming Python pass, which also names the line."""
    names = shape.amount_columns
    positions = [shape.columns[name] for name in names]
    found = _first_separated_amounts(source, positions, len(shape.header))
    if found is not None and not any(found) and not values.has_separator(shape.summary.total_text):
        return "point"  # no separator anywhere (yen, round prices): both readings agree
    if found is not None:
        first = StyleVote(file=file)
        try:
            first.add_all((3, name, text) for name, text in zip(names, found, strict=True))
        except SettlementFileError:
            first.strong = {"point": (0, "", ""), "comma": (0, "", "")}  # the Python pass names the line
        if len(first.strong) == 1:
            return next(iter(first.strong))
        if not first.strong:
            totals = _whole_file_evidence(source, positions, len(shape.header))
            if totals is not None:
                strong, ambiguous, sums = totals
                style, _ = decide_decimal_style(
                    strong=strong,
                    ambiguous=ambiguous,
                    sums=sums,
                    currency=shape.summary.currency,
                    total_text=shape.summary.total_text,
                )
                if style is not None and len(strong) < 2:
                    return style
    vote = StyleVote(file=file)
    vote.add_all(
        (line, name, fields[shape.columns[name]].strip())
        for line, fields, _ in _iter_rows(source, encoding, file=file)
        if len(fields) == len(shape.header)
        for name in names
        if fields[shape.columns[name]].strip()
    )
    style, why = decide_decimal_style(
        strong=set(vote.strong),
        ambiguous=set(vote.ambiguous),
        sums=vote.sums,
        currency=shape.summary.currency,
        total_text=shape.summary.total_text,
    )
    if style is None:
        raise _ambiguity_error(vote, why, shape)
    return style


def _first_separated_amounts(path: Path, positions: list[int], width: int) -> list[str] | None:
    """The amount fields (trimmed) of the first row in file order where one has a decimal separator; all empty
    when no row has one; None when DuckDB cannot read the file as a clean table."""
    columns = [f"coalesce(trim(c{position}), '')" for position in positions]
    separated = " or ".join(f"contains({c}, ',') or contains({c}, '.')" for c in columns)
    try:
        with connect() as connection:
            row = connection.execute(
                f"select {', '.join(columns)} from {_read_csv(path, width, skip=2)} where {separated} limit 1"
            ).fetchone()
    except duckdb.Error:
        return None
    return [""] * len(positions) if row is None else list(row)


def _whole_file_evidence(
    path: Path, positions: list[int], width: int
) -> tuple[set[DecimalStyle], set[str], dict[DecimalStyle, Decimal]] | None:
    """DuckDB's pass over every line for StyleVote's evidence: the styles some amount is strong evidence for,
    the separators of ambiguous amounts and the sum of the lines read in each style; None when DuckDB cannot
    read the file as a clean table."""
    point, comma = (sql_literal(values.AMOUNT_PATTERNS[style]) for style in values.STYLES)
    parts = []
    for position in positions:
        t = f"trim(c{position})"
        is_point, is_comma = f"regexp_full_match({t}, {point})", f"regexp_full_match({t}, {comma})"
        separated = f"(contains({t}, ',') or contains({t}, '.'))"
        parts += [
            f"bool_or({separated} and {is_point} and not {is_comma})",
            f"bool_or({separated} and {is_comma} and not {is_point})",
            f"bool_or({separated} and {is_point} and {is_comma} and contains({t}, ','))",
            f"bool_or({separated} and {is_point} and {is_comma} and contains({t}, '.'))",
            f"coalesce(sum(case when {is_point} then cast({values.sql_amount_number(t, 'point')} as "
            "decimal(18,2)) end), 0)",
            f"coalesce(sum(case when {is_comma} then cast({values.sql_amount_number(t, 'comma')} as "
            "decimal(18,2)) end), 0)",
        ]
    try:
        with connect() as connection:
            row = connection.execute(
                f"select {', '.join(parts)} from {_read_csv(path, width, skip=2)}"
            ).fetchone()
    except duckdb.Error:
        return None
    if row is None:
        return None
    strong: set[DecimalStyle] = set()
    ambiguous: set[str] = set()
    sums: dict[DecimalStyle, Decimal] = {"point": Decimal(0), "comma": Decimal(0)}
    for index in range(len(positions)):
        strong_point, strong_comma, amb_comma, amb_point, sum_point, sum_comma = row[
            6 * index : 6 * index + 6
        ]
        strong |= {"point"} if strong_point else set()
        strong |= {"comma"} if strong_comma else set()
        ambiguous |= {","} if amb_comma else set()
        ambiguous |= {"."} if amb_point else set()
        sums["point"] += Decimal(sum_point)
        sums["comma"] += Decimal(sum_comma)
    return strong, ambiguous, sums


def _iter_rows(path: Path, encoding: str, *, file: str) -> Iterator[tuple[int, list[str], bool]]:
    """(physical line number, fields, ends with a newline) for every line after the header, decoding
    strictly."""
    with open(path, "rb") as raw:
        number = 0
        while raw_line := raw.readline(MAX_LINE_BYTES + 2):
            number += 1
            if len(raw_line) > MAX_LINE_BYTES and not raw_line.endswith(b"\n"):
                raise SettlementFileError(
                    f"a line longer than {_size(MAX_LINE_BYTES)} (the limit)", file=file, line=number
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


def transcode_to_utf8(path: Path, encoding: str, target: Path, *, file: str, scan: LineScan) -> None:
    """Re-encode a cp1252/cp932/... file as UTF-8 for DuckDB, streaming; a byte that does not decode is an
    error naming its line."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    newlines_before = 0
    with open(path, "rb") as src, open(target, "wb") as out:
        while True:
            chunk = src.read(CHUNK)
            final = not chunk
            try:
                text = decoder.decode(chunk, final=final)
            except UnicodeDecodeError as error:
                line = newlines_before + chunk[: max(error.start, 0)].count(b"\n") + 1
                raise SettlementFileError(f"line is not valid {encoding}", file=file, line=line) from error
            encoded = text.encode("utf-8")
            scan.feed(encoded)
            out.write(encoded)
            newlines_before += chunk.count(b"\n")
            if final:
                break


# --- the SQL pass ------------------------------------------------------------------------------------------


def _col(shape: FileShape, name: str) -> str | None:
    position = shape.columns.get(name)
    return None if position is None else f"c{position}"


def _text(shape: FileShape, name: str) -> str:
    column = _col(shape, name)
    return "cast(NULL as varchar)" if column is None else sql_text(column)


def _line_columns(
    shape: FileShape, *, account_id: str | None, raw_sha256: str | None, usual_only: bool = False
) -> dict[str, str]:
    """SQL for every lake column except the amount ones, keyed by lake column name."""
    sid = shape.summary.settlement_id
    sid_column = _col(shape, "settlement-id")
    expr = {
        # The usual-format pass copies the text and checks it once written (_copy_lines): a tenth of the
        # conversion cheaper than a check on every row.
        "settlement_id": str(sid_column)
        if usual_only
        else f"(case when {sql_text(str(sid_column))} = {sql_literal(sid)} "
        f"then {sql_literal(sid)} "
        f"else {values.sql_fail('settlement-id')} end)",
        "source_line": "source_line",
        "account_id": f"cast({sql_literal(account_id)} as varchar)",
        "source_layout": sql_literal(shape.layout),
        "currency": f"cast({sql_literal(shape.summary.currency)} as varchar)",
        "raw_sha256": f"cast({sql_literal(raw_sha256)} as varchar)",
    }
    for file_name, lake_name in SHARED_TEXT_COLUMNS.items():
        expr[lake_name] = _text(shape, file_name)

    posted_date = _col(shape, "posted-date")
    posted_date_time = _col(shape, "posted-date-time")
    if usual_only:
        _usual_date_columns(shape, expr, posted_date, posted_date_time)
    else:
        _general_date_columns(shape, expr, posted_date, posted_date_time)
    quantity = _col(shape, "quantity-purchased")
    expr["quantity"] = (
        values.sql_quantity(quantity, "quantity-purchased") if quantity else "cast(NULL as integer)"
    )

    known = set(SHARED_COLUMNS) | set(V2_LINE_COLUMNS if shape.layout == LAYOUT_V2 else V1_LINE_COLUMNS)
    unknown = [(name, position) for position, name in enumerate(shape.header) if normalise(name) not in known]
    if unknown:
        pairs = ", ".join(f"{sql_literal(name)}, c{position}" for name, position in unknown)
        expr["extra_columns"] = f"cast(json_object({pairs}) as varchar)"
    else:
        expr["extra_columns"] = "cast(NULL as varchar)"
    return expr


def usual_formats_known(shape: FileShape) -> bool:
    """Whether every date column the file has showed a strptime format in its head (ISO forms do not)."""
    return all(
        shape.usual_formats.get(name) is not None
        for name in ("posted-date", "posted-date-time")
        if _col(shape, name) is not None
    )


def reader_typed_dates(shape: FileShape) -> dict[int, tuple[str, str]]:
    """Date columns that DuckDB's CSV reader types itself on the usual-format pass: position -> (DuckDB type,
    strptime format). Typing while reading is cheaper than strptime on text afterwards (3% of an import); a
    value in another form fails the read, and the import then runs the general pass. The reader takes one
    timestamp format and one date format, so a second column in another format is left to sql_usual."""
    typed: dict[int, tuple[str, str]] = {}
    chosen: dict[str, str] = {}
    for name in ("posted-date-time", "posted-date"):
        position, usual = shape.columns.get(name), shape.usual_formats.get(name)
        if position is None or usual is None:
            continue
        sql_type = "TIMESTAMP" if "%H" in usual else "DATE"
        if chosen.setdefault(sql_type, usual) == usual:
            typed[position] = (sql_type, usual)
    return typed


def _usual_date_columns(
    shape: FileShape, expr: dict[str, str], posted_date: str | None, posted_date_time: str | None
) -> None:
    """posted_date / posted_at reading only the formats the file's head showed (the common, fast case)."""
    typed = {f"c{position}" for position in reader_typed_dates(shape)}

    def usual(column: str, name: str, sql_type: Literal["timestamptz", "date"]) -> str:
        if column in typed:
            return f"cast({column} as {sql_type})"
        return values.sql_usual(column, str(shape.usual_formats[name]), sql_type)

    date_format = shape.usual_formats.get("posted-date")
    expr["posted_date"] = usual(posted_date, "posted-date", "date") if posted_date else "cast(NULL as date)"
    candidates = []
    if posted_date_time:
        candidates.append(usual(posted_date_time, "posted-date-time", "timestamptz"))
    if posted_date and date_format is not None and "%H" in date_format:
        candidates.append(usual(posted_date, "posted-date", "timestamptz"))
    expr["posted_at"] = f"coalesce({', '.join(candidates)})" if candidates else "cast(NULL as timestamptz)"


def _general_date_columns(
    shape: FileShape, expr: dict[str, str], posted_date: str | None, posted_date_time: str | None
) -> None:
    """posted_date / posted_at accepting every supported form, value by value."""
    expr["posted_date"] = (
        values.sql_posted_date(posted_date, "posted-date", shape.usual_formats.get("posted-date"))
        if posted_date
        else "cast(NULL as date)"
    )
    candidates = []
    if posted_date_time:
        candidates.append(
            values.sql_timestamp(
                posted_date_time, "posted-date-time", shape.usual_formats.get("posted-date-time")
            )
        )
    if posted_date:
        has_time = f"strpos(replace({sql_text(posted_date)}, 'T', ' '), ' ') > 0"
        candidates.append(
            f"(case when {has_time} then "
            f"{values.sql_timestamp(posted_date, 'posted-date', shape.usual_formats.get('posted-date'))} end)"
        )
    expr["posted_at"] = f"coalesce({', '.join(candidates)})" if candidates else "cast(NULL as timestamptz)"


def numbered_by_position(shape: FileShape, *, has_blank_lines: bool) -> bool:
    """V2 rows read straight from a file without blank lines: their line numbers are their row positions
    (schema.FIRST_DATA_LINE), so none are written."""
    return shape.layout == LAYOUT_V2 and not has_blank_lines


def _read_csv(
    source: Path, width: int, *, skip: int = 1, typed: dict[int, tuple[str, str]] | None = None
) -> str:
    """Every column as text, except the `typed` ones (position -> (DuckDB type, strptime format))."""
    typed = typed or {}
    columns = ", ".join(f"'c{i}': '{typed[i][0] if i in typed else 'VARCHAR'}'" for i in range(width))
    formats = "".join(
        f"{'timestampformat' if sql_type == 'TIMESTAMP' else 'dateformat'} = {sql_literal(form)}, "
        for sql_type, form in dict(typed.values()).items()
    )
    return (
        f"read_csv({sql_literal(str(source))}, delim = '\t', quote = '', escape = '', header = false, "
        f"skip = {skip}, auto_detect = false, strict_mode = true, null_padding = false, {formats}"
        f"columns = {{{columns}}})"
    )


def _filled_copy(source: Path, shape: FileShape, scratch: str) -> Path:
    filled = Path(scratch) / "filled.tsv"
    fill_blank_lines(source, filled, width=len(shape.header))
    return filled


def _copy_lines(
    connection: duckdb.DuckDBPyConnection,
    source: Path,
    shape: FileShape,
    out_parquet: Path,
    *,
    file: str,
    account_id: str | None,
    raw_sha256: str | None,
    path: Path,
) -> int:
    """COPY the lines to Parquet; returns the number of rows read (summary row included).

    Tries the usual-format SELECT first when the head showed every date format, and the general one when that
    fails for any reason: a date in another form (valid or not), or any bad value, which the general SELECT
    then meets again and the diagnosis names. A valid file lands the same either way."""
    filled = source.name == "filled.tsv"
    positional = numbered_by_position(shape, has_blank_lines=filled)
    metadata = (
        f", kv_metadata {{{sql_literal(POSITIONAL_NUMBERING_KEY)}: {sql_literal(POSITIONAL_NUMBERING)}}}"
        if positional
        else ""
    )
    attempts = [True, False] if usual_formats_known(shape) else [False]
    for usual_only in attempts:
        sql = lines_select_sql(
            source,
            shape,
            account_id=account_id,
            raw_sha256=raw_sha256,
            has_blank_lines=filled,
            usual_only=usual_only,
        )
        try:
            copied = connection.execute(
                f"copy ({sql}) to {sql_literal(str(out_parquet))} (format parquet, compression zstd{metadata})"
            ).fetchone()
        except duckdb.Error as error:
            if usual_only:
                continue
            raise diagnose(path, shape, file=file, fallback=str(error)) from error
        if usual_only and not _one_settlement_id(connection, out_parquet, shape.summary.settlement_id):
            continue  # padded (the general pass trims it) or another settlement's (it names the line)
        break
    return int(copied[0]) + 1 if copied else 1


def _one_settlement_id(connection: duckdb.DuckDBPyConnection, parquet: Path, settlement_id: str) -> bool:
    others = connection.execute(
        f"select count(*) from read_parquet({sql_literal(str(parquet))}) "
        f"where settlement_id is distinct from {sql_literal(settlement_id)}"
    ).fetchone()
    return others is not None and others[0] == 0


def _parsed_positions(shape: FileShape) -> set[int]:
    parsed_names = {"settlement-id", "posted-date", "posted-date-time", "quantity-purchased", "amount"}
    parsed_names |= {amount for amount, _, _ in V1_AMOUNT_COLUMNS}
    return {position for name, position in shape.columns.items() if name in parsed_names}


def fill_blank_lines(source: Path, target: Path, *, width: int) -> None:
    """Copy a file, replacing each blank line by a row of empty fields, so DuckDB (which skips blank lines)
    keeps counting physical lines. Tabs and newlines are single ASCII bytes in every supported encoding."""
    empty_row = b"\t" * (width - 1) + b"\n"
    with open(source, "rb") as src, open(target, "wb") as out:
        for line in src:
            out.write(empty_row if not line.strip(b"\r\n") else line)


def _select_list(expr: dict[str, str]) -> str:
    return ", ".join(f"{expr[field.name]} as {field.name}" for field in SETTLEMENT_LINES_SCHEMA)


def lines_select_sql(
    source: Path,
    shape: FileShape,
    *,
    account_id: str | None,
    raw_sha256: str | None,
    has_blank_lines: bool = False,
    usual_only: bool = False,
) -> str:
    """One SELECT producing the lake's settlement_lines rows, in file order, raising on any bad value.

    `usual_only`: dates are read in the formats the file's head showed (typed by the CSV reader where it can,
    see reader_typed_dates), and any other form fails the SELECT (the caller then runs the general one).

    A V2 file read as is (no blank lines) leaves its line numbers to its row positions (see schema.py's
    FIRST_DATA_LINE): no row counter, so DuckDB reads, types and writes on all its threads."""
    expr = _line_columns(shape, account_id=account_id, raw_sha256=raw_sha256, usual_only=usual_only)
    width = len(shape.header)
    # Only values that are parsed get trimmed (padded amounts are real); text is kept as written, and DuckDB
    # already reads an empty field as NULL. Trimming every column would cost a fifth of the import's time.
    typed = reader_typed_dates(shape) if usual_only else {}
    parsed = _parsed_positions(shape) - set(typed)
    if usual_only:
        parsed.discard(shape.columns["settlement-id"])
    cleaned = ", ".join(
        f"{values.sql_clean(f'c{i}')} as c{i}" if i in parsed else f"c{i}" for i in range(width)
    )
    if shape.layout == LAYOUT_V2:
        expr["amount_type"] = _text(shape, "amount-type")
        expr["amount_description"] = _text(shape, "amount-description")
        expr["amount"] = values.sql_amount(str(_col(shape, "amount")), shape.decimal_style, "amount")

    if numbered_by_position(shape, has_blank_lines=has_blank_lines):
        expr["source_line"] = "cast(NULL as bigint)"
        expr["line_number"] = "cast(NULL as bigint)"
        # Header and summary row skipped: every row read is a settlement line.
        rows = f"select {cleaned} from {_read_csv(source, width, skip=2, typed=typed)}"
        return f"with src as ({rows}) select {_select_list(expr)} from src"

    keep = "source_line > 2"
    if has_blank_lines:
        keep += f" and not ({' and '.join(f'c{i} is null' for i in range(width))})"
    numbered = (
        f"select source_line, {cleaned} from "
        f"(select row_number() over () + 1 as source_line, * from {_read_csv(source, width, typed=typed)})"
    )
    if shape.layout == LAYOUT_V2:
        # A V2 file whose blank lines were filled with empty rows (dropped by `keep`): number what is left.
        expr["line_number"] = "row_number() over (order by source_line)"
        return f"with src as ({numbered}) select {_select_list(expr)} from src where {keep}"

    # Older layout: type the shared columns once, then one line per non-empty amount column, in column order.
    shared = [f.name for f in SETTLEMENT_LINES_SCHEMA if f.name in expr]
    shared_typed = ", ".join(f"{expr[name]} as {name}" for name in shared)
    branches = []
    for rank, (amount_name, amount_type, described_by) in enumerate(V1_AMOUNT_COLUMNS):
        column = _col(shape, amount_name)
        if column is None:
            continue
        if described_by == "transaction-type":
            description = "transaction_type"
        elif described_by is not None and _col(shape, described_by):
            description = _text(shape, described_by)
        else:
            description = f"cast({sql_literal(V1_DEFAULT_DESCRIPTIONS.get(amount_name))} as varchar)"
        branches.append(
            f"select {', '.join(shared)}, {rank} as amount_rank, {sql_literal(amount_type)} as amount_type, "
            f"{description} as amount_description, "
            f"{values.sql_amount(column, shape.decimal_style, amount_name)} as amount "
            f"from typed where {sql_text(column)} is not null"
        )
    raw_description_columns = sorted(
        {c for _, _, d in V1_AMOUNT_COLUMNS if d and d != "transaction-type" and (c := _col(shape, d))}
    )
    raw_amount_columns = [c for name, _, _ in V1_AMOUNT_COLUMNS if (c := _col(shape, name))]
    carried = ", ".join(dict.fromkeys([*raw_amount_columns, *raw_description_columns]))
    final = ", ".join(
        "row_number() over (order by source_line, amount_rank) as line_number"
        if f.name == "line_number"
        else f.name
        for f in SETTLEMENT_LINES_SCHEMA
    )
    return (
        f"with src as ({numbered}), "
        f"typed as (select {shared_typed}, {carried} from src where {keep}), "
        f"unpivoted as ({' union all '.join(branches)}) "
        f"select {final} from unpivoted order by source_line, amount_rank"
    )


def connect(memory_limit: str = "768MB", threads: int | None = None) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(config={"memory_limit": memory_limit, "preserve_insertion_order": True})
    connection.execute("set TimeZone = 'UTC'")
    connection.execute("set enable_progress_bar = false")
    if threads:
        connection.execute(f"set threads = {int(threads)}")
    return connection


def convert_lines(
    path: Path,
    shape: FileShape,
    out_parquet: Path,
    *,
    file: str,
    account_id: str | None,
    raw_sha256: str | None,
    line_scan: LineScan | None = None,
    workdir: Path | None = None,
) -> ConvertedLines:
    """Write the file's lines to `out_parquet` (typed, validated) and return the totals; raise on bad input.

    `line_scan`: the LineScan of the file's bytes (the import's archive pass computes it); None scans the file
    here, when needed."""
    with tempfile.TemporaryDirectory(dir=workdir, prefix=".settlement-") as scratch:
        source = path
        if shape.encoding not in (UTF8, UTF8_BOM):
            source = Path(scratch) / "utf8.tsv"
            transcoded = LineScan()
            transcode_to_utf8(path, shape.encoding, source, file=file, scan=transcoded)
            line_scan = transcoded
        if not shape.decimal_style_settled:
            style = _decimal_style_of_whole_file(
                source, shape.encoding if source == path else UTF8, shape, file
            )
            summary = replace(
                shape.summary, total_amount=values.parse_amount(shape.summary.total_text, style)
            )
            shape = replace(shape, decimal_style=style, decimal_style_settled=True, summary=summary)
        with connect() as connection:
            # The older layout's row count is not its line count, so check for blank lines up front there.
            if shape.layout == LAYOUT_V1 and has_blank_line_inside(source):
                source = _filled_copy(source, shape, scratch)
            rows = _copy_lines(
                connection,
                source,
                shape,
                out_parquet,
                file=file,
                account_id=account_id,
                raw_sha256=raw_sha256,
                path=path,
            )
            # A V2 file with blank lines between rows (DuckDB skips them) is read again with them filled.
            if (
                shape.layout == LAYOUT_V2
                and source.name != "filled.tsv"
                and rows + 1 != (line_scan or LineScan.of_file(source)).last_content_line
            ):
                source = _filled_copy(source, shape, scratch)
                rows = _copy_lines(
                    connection,
                    source,
                    shape,
                    out_parquet,
                    file=file,
                    account_id=account_id,
                    raw_sha256=raw_sha256,
                    path=path,
                )
            parquet = sql_literal(str(out_parquet))
            count, total = connection.execute(
                f"select count(*), coalesce(sum(amount), 0) from read_parquet({parquet})"
            ).fetchone() or (0, Decimal(0))
            marketplaces = [
                name
                for (name,) in connection.execute(
                    f"select marketplace_name from read_parquet({parquet}) where marketplace_name is not null "
                    "group by 1 order by count(*) desc, 1"
                ).fetchall()
            ]
    return ConvertedLines(
        shape=shape,
        line_count=int(count),
        lines_total=Decimal(total).quantize(Decimal("0.01")),
        marketplace_name=marketplaces[0] if marketplaces else None,
        marketplace_names=tuple(sorted(marketplaces)),
    )


# --- finding the first bad line (only when the SQL pass failed) ---------------------------------------------


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
    for number, fields, terminated in _iter_rows(path, shape.encoding, file=file):
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


def extra_columns_json(shape: FileShape) -> list[str]:
    """Header names kept only in extra_columns (for messages and docs)."""
    known = set(SHARED_COLUMNS) | set(V2_LINE_COLUMNS if shape.layout == LAYOUT_V2 else V1_LINE_COLUMNS)
    return [name for name in shape.header if normalise(name) not in known]


__all__ = [
    "ConvertedLines",
    "FileShape",
    "LineScan",
    "SettlementSummary",
    "convert_lines",
    "inspect_head",
]
