"""Settlement flat file -> typed Parquet, streaming through DuckDB.

Python reads only the head of the file (head.py): it detects the encoding, matches the header by name, tells
the layouts apart, parses the summary row and decides the decimal style (decimal_style.py). DuckDB then reads
every line as text (tab-separated, no quoting: Amazon does not quote) and validates and casts in SQL
(lines_sql.py) while writing Parquet, so memory stays flat however large the file. Any bad value makes the SQL
raise; only then does a (slower) Python pass walk the file to name the first bad line and column
(diagnosis.py). No per-row Python loop runs on the happy path.
"""

from __future__ import annotations

import codecs
import tempfile
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import duckdb

from transforms.settlement import values
from transforms.settlement.decimal_style import decimal_style_of_whole_file
from transforms.settlement.diagnosis import diagnose
from transforms.settlement.encoding import UTF8, UTF8_BOM
from transforms.settlement.errors import SettlementFileError
from transforms.settlement.file_shape import (
    ConvertedLines,
    FileShape,
)
from transforms.settlement.line_scan import (
    CHUNK,
    LineScan,
    fill_blank_lines,
    has_blank_line_inside,
)
from transforms.settlement.lines_sql import (
    connect,
    lines_select_sql,
    numbered_by_position,
    usual_formats_known,
)
from transforms.settlement.schema import (
    LAYOUT_V1,
    LAYOUT_V2,
    POSITIONAL_NUMBERING,
    POSITIONAL_NUMBERING_KEY,
)
from transforms.settlement.values import sql_literal


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


def _filled_copy(source: Path, shape: FileShape, scratch: str) -> Path:
    filled = Path(scratch) / "filled.tsv"
    fill_blank_lines(source, filled, width=len(shape.header))
    return filled


@dataclass(frozen=True)
class _Written:
    """What one read of the written Parquet tells: rows, exact amount total, marketplaces (most lines first),
    and how many rows carry another settlement id than the summary row's."""

    rows: int
    total: Decimal
    marketplaces: list[str]
    other_settlement_ids: int


def _written(connection: duckdb.DuckDBPyConnection, parquet: Path, settlement_id: str) -> _Written:
    """One pass over the written file's settlement_id, marketplace_name and amount columns (instead of one read
    per question): grouped by marketplace, a handful of rows."""
    groups = connection.execute(
        "select marketplace_name, count(*), coalesce(sum(amount), 0), "
        f"count(*) filter (where settlement_id is distinct from {sql_literal(settlement_id)}) "
        f"from read_parquet({sql_literal(str(parquet))}) group by 1"
    ).fetchall()
    named = sorted(((-int(rows), name) for name, rows, _, _ in groups if name is not None))
    return _Written(
        rows=sum(int(rows) for _, rows, _, _ in groups),
        total=sum((Decimal(total) for _, _, total, _ in groups), Decimal(0)),
        marketplaces=[name for _, name in named],
        other_settlement_ids=sum(int(others) for _, _, _, others in groups),
    )


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
) -> tuple[int, _Written]:
    """COPY the lines to Parquet; returns the number of rows read (summary row included) and what the written
    file holds.

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
        written = _written(connection, out_parquet, shape.summary.settlement_id)
        if usual_only and written.other_settlement_ids:
            continue  # padded (the general pass trims it) or another settlement's (it names the line)
        break
    return (int(copied[0]) + 1 if copied else 1), written


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
            style = decimal_style_of_whole_file(
                source, shape.encoding if source == path else UTF8, shape, file
            )
            summary = replace(
                shape.summary, total_amount=values.parse_amount(shape.summary.total_text, style)
            )
            shape = replace(shape, decimal_style=style, decimal_style_settled=True, summary=summary)
        with connect() as connection:

            def copy(source: Path) -> tuple[int, _Written]:
                return _copy_lines(
                    connection,
                    source,
                    shape,
                    out_parquet,
                    file=file,
                    account_id=account_id,
                    raw_sha256=raw_sha256,
                    path=path,
                )

            # The older layout's row count is not its line count, so check for blank lines up front there.
            if shape.layout == LAYOUT_V1 and has_blank_line_inside(source):
                source = _filled_copy(source, shape, scratch)
            rows, written = copy(source)
            # A V2 file with blank lines between rows (DuckDB skips them) is read again with them filled.
            if (
                shape.layout == LAYOUT_V2
                and source.name != "filled.tsv"
                and rows + 1 != (line_scan or LineScan.of_file(source)).last_content_line
            ):
                source = _filled_copy(source, shape, scratch)
                rows, written = copy(source)
            marketplaces = written.marketplaces
    return ConvertedLines(
        shape=shape,
        line_count=written.rows,
        lines_total=written.total.quantize(Decimal("0.01")),
        marketplace_name=marketplaces[0] if marketplaces else None,
        marketplace_names=tuple(sorted(marketplaces)),
    )
