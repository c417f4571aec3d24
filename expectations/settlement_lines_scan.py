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
        ids = _settlement_ids(connection, todo)
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
        connection.execute(f"create temp view lines as {scan_sql(DATASET, file_list(todo), provenance=True)}")
        columns = {
            name: str(kind)
            for name, kind in connection.execute(
                "select column_name, column_type from (describe lines)"
            ).fetchall()
        }
        rules = _rules(columns)
        per_file = _per_file(connection, rules)
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


def _settlement_ids(connection: duckdb.DuckDBPyConnection, files: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {str(path): [] for path in files}
    if not files:
        return found
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


def _per_file(connection: duckdb.DuckDBPyConnection, rules: dict[str, str]) -> dict[str, dict[str, int]]:
    """One pass over the lines: per file, its rows, how many store their line number, and each rule's count."""
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
