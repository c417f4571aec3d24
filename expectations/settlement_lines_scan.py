"""The `settlement_lines_schema` suite over the lake's Parquet without loading the lake into memory.

The suite is Great Expectations on a pandas frame; the lake's settlement lines are millions of rows. DuckDB
therefore reads the files (SQL over Parquet, streamed) and finds every row that breaks one of the suite's rules;
GX then validates a bounded frame: a sample of the files plus up to `EXAMPLES_PER_RULE` offending rows of each
rule that has any (for a duplicated key, the rows that share it). Each physical row is in the frame at most once,
so the frame has a duplicated key exactly when the files do, and a missing column or a non-DECIMAL amount shows
in the frame as it does in the files. The SQL flags a superset of what GX rejects (a stricter currency pattern,
every NULL), so GX's verdict on the frame is its verdict on the files, with the same expectations failing.

Only files not yet validated are read: a file that passed is remembered by its path and identity (size,
modification time, inode; a re-imported settlement is a new file; a file on the object store, lake/store.py, is
named by its sha256 and never rewritten, so its URL is its identity), so a daily run checks the new settlement,
not the history. The files are the local lake's or, in scale-out, the store's current ones (lake/read.py
`LakeSource`), read in place. The key's uniqueness across files holds because a settlement's lines sit in one partition;
a settlement id found in a second file brings that file back into the check.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from expectations import settlement_lines_schema as contract
from lake.read import LakeSource, connect, file_list, scan_sql, source_files

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

DATASET = "settlement_lines"
SAMPLE_ROWS = 1_000
EXAMPLES_PER_RULE = 20
# Identifies the rules a remembered pass was made under: a changed contract checks every file again.
CONTRACT_FINGERPRINT = hashlib.sha256(
    json.dumps(
        [
            contract.EXPECTED_COLUMNS,
            list(contract.NOT_NULL),
            contract.SOURCE_LAYOUTS,
            contract.CURRENCY_REGEX,
            contract.KEY,
        ]
    ).encode()
).hexdigest()[:16]


@dataclass(frozen=True)
class LinesSample:
    table: (
        pa.Table | None
    )  # what is judged: the sample and every rule's offending rows (None: no file to read)
    rows_checked: int  # lines in the files read this time
    files_checked: list[str]  # local paths or s3:// URLs
    files_already_valid: int
    lines_in_lake: int

    @property
    def frame_rows(self) -> int:
        return 0 if self.table is None else self.table.num_rows

    @cached_property
    def frame(self) -> pd.DataFrame:
        """What GX validates: the table as pandas (made only when asked: a clean table is proved without it,
        settlement_lines_schema.passed_without_gx_table). to_pandas keeps decimal128 as Python Decimal objects
        (object dtype): exact, as the suite expects."""
        import pandas as pd

        if self.table is None:
            return pd.DataFrame(columns=contract.EXPECTED_COLUMNS)
        return self.table.to_pandas()


def file_identity(path: Path | str) -> str:
    """What changes when the file does: a local file's size, modification time and inode; a store file's URL
    (its key is its content's sha256, never rewritten)."""
    if "://" in str(path):
        return f"content:{str(path).rsplit('/', 1)[-1]}"
    status = Path(path).stat()
    return f"{status.st_size}:{status.st_mtime_ns}:{status.st_ino}"


class ValidatedFiles:
    """The settlement-lines files that passed the suite, with their identity, settlement ids and line count.

    Kept as one small JSON file beside the lake (`<data>/checks/`), replaced atomically; losing it only means
    the next check reads every file again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files: dict[str, dict] = {}
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(stored, dict) and stored.get("contract") == CONTRACT_FINGERPRINT:
            self.files = {str(k): v for k, v in stored.get("files", {}).items() if isinstance(v, dict)}

    def still_valid(self, path: Path | str) -> bool:
        known = self.files.get(str(path))
        return known is not None and known.get("identity") == file_identity(path)

    def remember(self, entries: dict[str, dict], present: Iterable[Path | str]) -> None:
        kept = {str(path) for path in present}
        files = {key: value for key, value in {**self.files, **entries}.items() if key in kept}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        scratch = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        scratch.write_text(json.dumps({"contract": CONTRACT_FINGERPRINT, "files": files}), encoding="utf-8")
        os.replace(scratch, self.path)
        self.files = files


def validated_files_path(lake: Path) -> Path:
    return Path(lake).parent / "checks" / f"{contract.SUITE_NAME}.json"


def sample_lake(lake: LakeSource, validated: ValidatedFiles) -> tuple[LinesSample, dict[str, dict]] | None:
    """The table judged for the files not yet validated (None when the lake has no lines), and what to
    remember about those files if the suite passes them."""
    files = source_files(lake, DATASET)
    if not files:
        return None
    todo = [path for path in files if not validated.still_valid(path)]
    with connect(lake) as connection:
        footers = _Footers(connection)
        ids = _settlement_ids(connection, todo, footers)
        todo_names = {str(path) for path in todo}
        # A settlement id in a new file and in a remembered one: both are checked, so the key stays unique.
        new_ids = {sid for path in todo for sid in ids[str(path)]}
        todo += [
            path
            for path in files
            if str(path) not in todo_names
            and new_ids.intersection(validated.files.get(str(path), {}).get("settlement_ids", []))
        ]
        already = len(files) - len(todo)
        remembered_lines = sum(
            int(validated.files[str(path)].get("rows", 0)) for path in files if path not in todo
        )
        if not todo:
            return LinesSample(None, 0, [], already, remembered_lines), {}
        columns = lines_view(connection, todo)
        rules = _rules(columns)
        per_file = _per_file(connection, rules, todo, footers)
        rows_by_file = {name: counts["rows"] for name, counts in per_file.items()}
        counts = {rule: sum(found[rule] for found in per_file.values()) for rule in rules}
        # Positional line numbers are unique within their file by construction: the key is grouped only over
        # files that store numbers, or share a settlement with another file.
        shared = {
            sid for sid in new_ids if sum(sid in ids_of for ids_of in _ids_in_scope(ids, validated, todo)) > 1
        }
        keyed = [
            path
            for path in todo
            if per_file.get(str(path), {}).get("stored_numbers")
            or shared.intersection(_ids_in_scope(ids, validated, [path])[0])
        ]
        table = _frame(connection, columns, rules, counts, keyed)
    rows_checked = sum(rows_by_file.values())
    entries = {
        str(path): {
            "identity": file_identity(path),
            "rows": int(rows_by_file.get(str(path), 0)),
            "settlement_ids": sorted(_ids_in_scope(ids, validated, [path])[0]),
        }
        for path in todo
    }
    sample = LinesSample(table, rows_checked, todo, already, remembered_lines + rows_checked)
    return sample, entries


def lines_view(connection: duckdb.DuckDBPyConnection, files: list[str]) -> dict[str, str]:
    """The temporary view `lines` over `files` (the lake's reading of them, with each row's file), and its
    columns' types by name."""
    connection.execute(
        f"create or replace temp view lines as {scan_sql(DATASET, file_list(files), provenance=True)}"
    )
    return {
        name: str(kind)
        for name, kind in connection.execute(
            "select column_name, column_type from (describe lines)"
        ).fetchall()
    }


def _settlement_ids(
    connection: duckdb.DuckDBPyConnection, files: list[str], footers: _Footers | None = None
) -> dict[str, list[str]]:
    """Each file's distinct settlement ids: from the files' footers when they prove them (`_Footers`), else
    read from the lines."""
    found: dict[str, list[str]] = {str(path): [] for path in files}
    if not files:
        return found
    proved = footers.settlement_ids(files) if footers is not None else None
    if proved is not None:
        return proved
    rows = connection.execute(
        "select filename, list(distinct settlement_id) filter (where settlement_id is not null) "
        f"from ({scan_sql(DATASET, file_list(files), provenance=True)}) group by filename"
    ).fetchall()
    for name, ids in rows:
        found[str(name)] = [str(sid) for sid in ids or []]
    return found


def _ids_in_scope(ids: dict[str, list[str]], validated: ValidatedFiles, files: list[str]) -> list[set[str]]:
    """Each file's settlement ids: read this time, or remembered from when it passed."""
    return [
        set(ids.get(str(path)) or validated.files.get(str(path), {}).get("settlement_ids", []))
        for path in files
    ]


def _per_file(
    connection: duckdb.DuckDBPyConnection,
    rules: dict[str, str],
    files: list[str] | None = None,
    footers: _Footers | None = None,
) -> dict[str, dict[str, int]]:
    """Per file (of the `lines` view, over `files`), its rows, how many store their line number, and each
    rule's count: from the files' footers when they prove every count (`_Footers`), else one pass over the
    lines."""
    if files and footers is not None:
        proved = footers.per_file(files, rules)
        if proved is not None:
            return proved
    selects = ", ".join(
        ["count(*)", "count(*) filter (where line_number_stored)"]
        + [f"count(*) filter (where {condition})" for condition in rules.values()]
    )
    found: dict[str, dict[str, int]] = {}
    for name, rows, stored, *broken in connection.execute(
        f"select filename, {selects} from lines group by filename"
    ).fetchall():
        found[str(name)] = {"rows": int(rows), "stored_numbers": int(stored)}
        found[str(name)].update(zip(rules, (int(count) for count in broken), strict=True))
    return found


def _rules(columns: dict[str, str]) -> dict[str, str]:
    """Each rule's SQL condition for an offending row, over the columns the files have (a missing column is the
    frame's to show: GX then fails the column-set and that column's expectations, as on the whole table)."""
    rules = {f"null {name}": f'"{name}" is null' for name in contract.NOT_NULL if name in columns}
    if "source_layout" in columns:
        layouts = ", ".join(f"'{layout}'" for layout in contract.SOURCE_LAYOUTS)
        rules["unknown source_layout"] = f"source_layout not in ({layouts})"
    if "currency" in columns:
        # RE2's full match of [A-Z]{3} accepts no value Python's `^[A-Z]{3}$` rejects (it also rejects a
        # trailing newline, which GX then judges itself): nothing GX would fail is left out of the frame.
        rules["currency pattern"] = "not regexp_full_match(currency::varchar, '[A-Z]{3}')"
    return rules


def _frame(
    connection: duckdb.DuckDBPyConnection,
    columns: dict[str, str],
    rules: dict[str, str],
    counts: dict[str, int],
    keyed: list[str],
) -> pa.Table:
    """The sample, each broken rule's first offending rows and the rows of duplicated keys, each row once."""
    picks = [f"(select * from lines limit {SAMPLE_ROWS})"]
    picks += [
        f"(select * from lines where {condition} limit {EXAMPLES_PER_RULE})"
        for name, condition in rules.items()
        if counts.get(name)
    ]
    key = [name for name in contract.KEY if name in columns]
    if keyed and len(key) == len(contract.KEY):
        listed = ", ".join("'" + str(path).replace("'", "''") + "'" for path in keyed)
        on = " and ".join(f"lines.{name} is not distinct from duplicated.{name}" for name in key)
        picks.append(
            f"(select lines.* from lines semi join (select {', '.join(key)} from lines "
            f"where filename in ({listed}) group by all having count(*) > 1 limit {EXAMPLES_PER_RULE}) "
            f"as duplicated on {on} where lines.filename in ({listed}) limit {2 * EXAMPLES_PER_RULE})"
        )
    return connection.execute(
        "select * exclude (filename, file_row_number, line_number_stored) from ("
        f"select distinct on (filename, file_row_number) * from ({' union all '.join(picks)})"
        ") order by filename, file_row_number"
    ).to_arrow_table()


# Rules whose condition reads one text column: over a file whose non-NULL values in that column are all one
# value, the count is all those rows or none, as the condition judges that value.
_ONE_COLUMN_RULES = {"unknown source_layout": "source_layout", "currency pattern": "currency"}
# Columns the lines view (lake/read.py scan_sql) fills from the row position where the file holds NULL.
_NEVER_NULL_IN_VIEW = ("line_number", "source_line")


@dataclass(frozen=True)
class _Column:
    """One column of one file, from its footer: NULLs (None when a row group does not say), whether it is
    text (BYTE_ARRAY, UTF8), and its one value when the footer proves every non-NULL value is that value."""

    nulls: int | None
    text: bool
    only_value: str | None


class _Footers:
    """What the files' Parquet footers prove about the lines check's counts, without reading the lines.

    A footer holds each file's row count and, per row group and column, its NULL count and its exact minimum
    and maximum. So a rule "column is NULL" counts the NULL counts; a rule on one text column whose minimum and
    maximum are one and the same exact value in every row group holding values judges that one value; a file's
    settlement ids are that one value of `settlement_id`. ACORN's import writes such files (one settlement, one
    layout, one currency each). Whenever a footer does not prove a count (a statistic missing or inexact, two
    values, a column the file lacks, a rule not listed here) the answer is None and the caller reads the lines,
    as before: nothing is ever counted from a footer that the lines could contradict."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection = connection
        self._read: dict[str, tuple[int, dict[str, _Column]] | None] = {}

    def _files(self, files: list[str]) -> dict[str, tuple[int, dict[str, _Column]]] | None:
        missing = [str(path) for path in files if str(path) not in self._read]
        if missing:
            self._read.update(self._footers(missing))
        found = {str(path): self._read.get(str(path)) for path in files}
        if any(value is None for value in found.values()):
            return None
        return {path: value for path, value in found.items() if value is not None}

    def _footers(self, files: list[str]) -> dict[str, tuple[int, dict[str, _Column]] | None]:
        listed = file_list(files)
        try:
            rows = dict(
                self.connection.execute(
                    f"select file_name, num_rows from parquet_file_metadata({listed})"
                ).fetchall()
            )
            text = {
                (str(name), str(column))
                for name, column in self.connection.execute(
                    f"select file_name, name from parquet_schema({listed}) "
                    "where type = 'BYTE_ARRAY' and converted_type = 'UTF8' and num_children is null"
                ).fetchall()
            }
            stats = self.connection.execute(
                "select file_name, path_in_schema, "
                "count(*) filter (where stats_null_count is null), sum(stats_null_count), "
                # Row groups holding values whose statistics do not give one exact value.
                "count(*) filter (where row_group_num_rows > coalesce(stats_null_count, 0) and ("
                "stats_min_value is null or stats_max_value is null or stats_min_value <> stats_max_value "
                "or not coalesce(min_is_exact and max_is_exact, false))), "
                "count(distinct stats_min_value), min(stats_min_value) "
                f"from parquet_metadata({listed}) group by all"
            ).fetchall()
        except duckdb.Error:
            return dict.fromkeys(files)
        columns: dict[str, dict[str, _Column]] = {str(path): {} for path in files}
        for name, column, unknown_nulls, nulls, unproved, values, value in stats:
            if str(name) not in columns:
                continue
            columns[str(name)][str(column)] = _Column(
                nulls=None if unknown_nulls else int(nulls or 0),
                text=(str(name), str(column)) in text,
                only_value=str(value) if not unproved and values == 1 and value is not None else None,
            )
        return {
            path: (int(rows[path]), columns[path]) if path in rows and rows[path] is not None else None
            for path in columns
        }

    def _values(self, rows: int, column: _Column | None) -> list[str] | None:
        """The column's distinct non-NULL values when the footer proves them (at most one), else None."""
        if column is None or column.nulls is None or not column.text:
            return None
        if column.nulls == rows:
            return []
        return None if column.only_value is None else [column.only_value]

    def settlement_ids(self, files: list[str]) -> dict[str, list[str]] | None:
        read = self._files(files)
        if read is None:
            return None
        found: dict[str, list[str]] = {}
        for path, (rows, columns) in read.items():
            ids = self._values(rows, columns.get("settlement_id"))
            if ids is None:
                return None
            found[path] = ids
        return found

    def per_file(self, files: list[str], rules: dict[str, str]) -> dict[str, dict[str, int]] | None:
        read = self._files(files)
        if read is None:
            return None
        found: dict[str, dict[str, int]] = {}
        for path, (rows, columns) in read.items():
            line_numbers = columns.get("line_number")
            if line_numbers is None or line_numbers.nulls is None:
                return None
            counts = {"rows": rows, "stored_numbers": rows - line_numbers.nulls}
            for rule, condition in rules.items():
                count = self._count(rule, condition, rows, columns)
                if count is None:
                    return None
                counts[rule] = count
            if rows:  # the pass over the lines groups by file: a file without rows has no entry
                found[path] = counts
        return found

    def _count(self, rule: str, condition: str, rows: int, columns: dict[str, _Column]) -> int | None:
        name = rule.removeprefix("null ")
        if rule.startswith("null ") and condition == f'"{name}" is null':
            if name in _NEVER_NULL_IN_VIEW:
                return 0 if name in columns else None
            column = columns.get(name)
            return None if column is None else column.nulls
        name = _ONE_COLUMN_RULES.get(rule, "")
        values = self._values(rows, columns.get(name)) if name else None
        if values is None:
            return None
        if not values:
            return 0
        # A literal, not a parameter: DuckDB's Python client imports pandas to bind one (a clean import loads none).
        literal = "'" + values[0].replace("'", "''") + "'"
        (broken,) = self.connection.execute(
            f'select coalesce({condition}, false) from (select {literal}::varchar as "{name}")'
        ).fetchone() or (None,)
        if broken is None:
            return None
        nulls = columns[name].nulls or 0
        return rows - nulls if broken else 0
