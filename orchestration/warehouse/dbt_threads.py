"""How many models dbt runs at once on the local warehouse: one (profiles.yml), or two for a build scoped to a
small change.

Why two there: a daily build runs a hundred small nodes (one new settlement's rows), and each costs dbt's own
Python (compiling, hooks, results: about a third of the node's time, on one core under the GIL) beside its
DuckDB statements. With one thread the machine's other core waits out that Python; with two, one node's
statements run while the next node's Python does. On a quiet 2-core machine the daily build at H = 78 took
12.8-14.3 s with two threads against 16.3-18.3 s with one (docs/performance.md, round `lead-threads`). On a
busy machine two threads gain nothing (no idle core) and cost nothing either.

Why only there: two large models at once share the one DuckDB database's memory limit, and on a first build of
three years two of them ran out of it where either alone spills and finishes. So two threads only when the
build is scoped (not a first build, a full refresh or a changed project) and the lake holds at most
`SMALL_CHANGE_BYTES` written since the published warehouse's last build (a few new settlements: 100k lines are
about 3 MB of Parquet). DuckDB runs concurrent transactions of one database (dbt-duckdb gives each thread its
own cursor): the models' hooks write the shared change logs by appends and by deletes of their own model's rows
only, which do not conflict. dbt still runs each node after every node it reads.

ACORN_DBT_THREADS: a whole number sets the threads of every local build (1: always one at a time); unset, the
rule above. The DuckLake catalog always runs one (profiles.yml).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from orchestration.paths import lake_written_since_last_build

THREADS_ENV = "ACORN_DBT_THREADS"
# New lake bytes since the last build under which a scoped build runs two models at once.
SMALL_CHANGE_BYTES = 16 << 20


@dataclass(frozen=True)
class DbtThreads:
    threads: int
    why: str

    def args(self) -> list[str]:
        """dbt's `--threads` when not profiles.yml's one."""
        return [] if self.threads == 1 else ["--threads", str(self.threads)]


def lake_bytes_since_last_build(warehouse: Path, lake: Path) -> int | None:
    """Bytes of the lake's files written since the published warehouse's build record, or None without one."""
    written = lake_written_since_last_build(warehouse, lake)
    if written is None:
        return None
    return sum(
        entry.stat(follow_symlinks=False).st_size
        for entry in written
        if not entry.is_dir(follow_symlinks=False)
    )


def dbt_threads(*, scoped: bool, warehouse: Path, lake: Path) -> DbtThreads:
    """The threads of a local build (see the module's doc)."""
    configured = os.environ.get(THREADS_ENV, "").strip()
    if configured:
        if not configured.isdigit() or int(configured) < 1:
            raise ValueError(
                f"{THREADS_ENV}={configured!r}: give a whole number of threads (1 or more), or unset it"
            )
        return DbtThreads(int(configured), f"{THREADS_ENV}={configured}")
    if not scoped:
        return DbtThreads(1, "a build of every node runs one model at a time")
    if len(os.sched_getaffinity(0)) < 2:
        return DbtThreads(1, "one core")
    written = lake_bytes_since_last_build(warehouse, lake)
    if written is None or written > SMALL_CHANGE_BYTES:
        return DbtThreads(1, "more than a small change since the last build")
    return DbtThreads(2, f"a small change since the last build ({written / (1 << 20):.1f} MiB of lake files)")
