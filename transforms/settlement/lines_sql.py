"""The SQL that reads a settlement file's lines with DuckDB and types and validates them into the lake's
settlement_lines rows (raising on any bad value), and the DuckDB connection it runs on."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import duckdb

from transforms.settlement import values
from transforms.settlement.file_shape import (
    FileShape,
    normalise,
)
from transforms.settlement.schema import (
    LAYOUT_V2,
    SETTLEMENT_LINES_SCHEMA,
    SHARED_COLUMNS,
    SHARED_TEXT_COLUMNS,
    V1_AMOUNT_COLUMNS,
    V1_DEFAULT_DESCRIPTIONS,
    V1_LINE_COLUMNS,
    V2_LINE_COLUMNS,
)
from transforms.settlement.values import sql_literal, sql_text


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
        # The usual-format pass copies the text and checks it once written (convert.py, _copy_lines): a tenth of the
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
            return values.sql_from_utc(column, sql_type)
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


def read_csv(
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


def _parsed_positions(shape: FileShape) -> set[int]:
    parsed_names = {"settlement-id", "posted-date", "posted-date-time", "quantity-purchased", "amount"}
    parsed_names |= {amount for amount, _, _ in V1_AMOUNT_COLUMNS}
    return {position for name, position in shape.columns.items() if name in parsed_names}


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
        rows = f"select {cleaned} from {read_csv(source, width, skip=2, typed=typed)}"
        return f"with src as ({rows}) select {_select_list(expr)} from src"

    keep = "source_line > 2"
    if has_blank_lines:
        keep += f" and not ({' and '.join(f'c{i} is null' for i in range(width))})"
    numbered = (
        f"select source_line, {cleaned} from "
        f"(select row_number() over () + 1 as source_line, * from {read_csv(source, width, typed=typed)})"
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
