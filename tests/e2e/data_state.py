"""What an end-to-end test reads back from a data dir and a Dagster home after `acorn` commands: the lines per
settlement in the lake, every mart's rows, and the runs with why they failed."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from lake.layout import published_files


def settlement_line_counts(data_dir: Path) -> dict[str, int]:
    """Published lines per settlement id (`{}` when none landed)."""
    files = published_files(data_dir / "lake", "settlement_lines")
    if not files:
        return {}
    with duckdb.connect() as connection:
        rows = connection.execute(
            "select settlement_id, count(*) from read_parquet(?, hive_partitioning = false) group by 1",
            [[str(f) for f in files]],
        ).fetchall()
    return dict(rows)


def marts_rows(warehouse: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every mart's rows, sorted. Columns that record when ACORN itself observed a snapshot (`*observed_at`,
    e.g. the wall-clock time a balance was read) are left out: they say when the run happened, not what Amazon
    reported, and two runs minutes apart differ there by design."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        columns: dict[str, list[str]] = {}
        for table, column in connection.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'marts' "
            "order by table_name, ordinal_position"
        ).fetchall():
            if not column.endswith("observed_at"):
                columns.setdefault(table, []).append(f'"{column}"')
        return {
            table: sorted(
                connection.execute(f'select {", ".join(cols)} from marts."{table}"').fetchall(), key=repr
            )
            for table, cols in columns.items()
        }


def runs_with_failures(dagster_home: Path) -> list[tuple[dg.DagsterRun, str]]:
    """Every run of the instance, oldest first, with the message of its run failure event ("" when none)."""
    found = []
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        for run in reversed(instance.get_runs()):
            failures = [
                entry.dagster_event.message or ""
                for entry in instance.all_logs(run.run_id)
                if entry.dagster_event is not None
                and entry.dagster_event.event_type_value == "PIPELINE_FAILURE"
            ]
            found.append((run, " ".join(failures)))
    return found
