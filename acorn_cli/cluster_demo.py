"""`make demo-cluster`: the daily job for many simulated accounts on Celery workers, compared with the embedded mode.

What it does (README "Scale-out"), every part real and on this machine:
1. writes an accounts config of N simulated sellers alternating between na and eu (the bundled simulator
   generates each one's history: `[simulator] simulated_sellers`);
2. starts moto's S3 server on loopback (the object store), creates two fresh PostgreSQL databases (the Dagster
   instance and the warehouse's DuckLake catalog) and empties one Redis database for the broker;
3. starts W Celery worker processes (`acorn worker`), each with a data dir and a Dagster home of its own (no disk
   shared: the lake reaches each worker through the object store, the account locks are PostgreSQL's; the
   `acorn run` process has its own too), runs `acorn run` with ACORN_EXECUTOR=celery (extraction,
   landing, the warehouse build and every check), then stops the workers: the warehouse is built as a DuckLake
   catalog (ACORN_WAREHOUSE_CATALOG_URL) with its Parquet on the object store (ACORN_OBJECT_STORE_URL s3://...),
   and every raw object the workers archive is copied there too (transforms/archive.py), as is every lake
   partition they land (lake/store.py), which the catalog's `lake.*` views read;
4. runs the same accounts in the embedded mode (in process, SQLite instance, the warehouse file) in another data
   dir;
5. compares the DuckLake warehouse's last published build with the embedded warehouse file table by table, row for
   row (as multisets: a row counted twice is a difference), money columns exactly (DECIMAL, compared as stored),
   and checks the raw archive's copy on the object store against each worker's local archive (every manifest row,
   every object downloaded and hashed) and the lake's (every worker's partition on the store, every pointer's
   file hashed).
It prints the time of each mode and the steps each worker executed, and exits 0 only when the warehouses are
identical, the archive's copy is complete and both runs ended alike (the simulated accounts carry the demo's
deliberate anomalies, so both end with the same failed checks, exit 1); 1 when they differ; 3 when a part could
not be started.

`--kill-worker-at STEP` SIGKILLs the worker executing the first step whose key contains STEP and sends nothing to
`acorn run`: its run notices the lost worker by itself (orchestration/celery_steps.py) and submits the step again to
another worker, so the run completes on the remaining workers; should it end failed instead (exit 3), a replacement
worker is started and the job runs again. Either way the warehouse must equal the embedded one with nothing counted
twice.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from acorn_cli.loopback_s3 import LoopbackS3Unavailable, loopback_s3
from orchestration.outcomes import ExitCode
from simulator.requestlog import AccountUsage

ADMIN_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379"
# The loopback object store's bucket and the prefix the cluster's data go under (warehouse/ and raw/).
BUCKET = "acorn-cluster"
STORE_PREFIX = "cluster"
ACORN = Path(sys.executable).with_name("acorn")
# The simulated accounts' seed and the simulator's time scale (simulated seconds per real second), in both modes.
SEED = 7
TIME_SCALE = 60.0
# How long a run whose worker was killed may take to end by itself (it must never wait for ever).
KILLED_RUN_TIMEOUT = 1800
# Schemas of the warehouse whose tables are compared (everything dbt builds that analysts read or marts use).
COMPARED_SCHEMAS = ("staging", "intermediate", "marts")
# Columns that name the run which wrote a row, so they differ between any two runs whatever the data: the books
# record the run that posted each line, and the per-settlement SKU sums the dbt invocation that summed them.
# Every other column is compared.
RUN_IDENTITY_COLUMNS = frozenset({"posted_in_run", "built_in_invocation"})
# Per-region templates of the simulated sellers (spapi config): the demo sellers' marketplaces and event sources.
REGION_ACCOUNT = {
    "na": {"marketplaces": ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"], "event_source": "both"},
    "eu": {"marketplaces": ["A1PA6795UKMFR9", "A13V1IB3VIYZZH"], "event_source": "transactions"},
}


class CouldNotStart(RuntimeError):
    """A part of the cluster (PostgreSQL, Redis, a worker) could not be started or reached."""


def accounts_config(
    accounts: int, *, seed: int = SEED, time_scale: float = TIME_SCALE, shared: SharedSimulator | None = None
) -> str:
    """The TOML of `accounts` simulated sellers (sim-na-001, sim-eu-002, ...) on the bundled simulator: each run's
    own, or with `shared` the one simulator every worker calls, named by each account's `spapi_endpoint` and
    `lwa_endpoint` as a real account's config would name Amazon's."""
    from simulator.ledger.catalog import simulated_seller_id

    lines = [
        "# Written by acorn_cli/cluster_demo.py: simulated sellers on the bundled simulator.",
        "[simulator]",
        "enabled = true",
        f"seed = {seed}",
        f"time_scale = {time_scale}",
        f"simulated_sellers = {accounts}",
    ]
    if shared is not None:
        lines.append(
            "shared = true  # one simulator for every worker, at the endpoints below; runs start none"
        )
    for number in range(1, accounts + 1):
        account_id = simulated_seller_id(number)
        region = account_id.split("-")[1]
        template = REGION_ACCOUNT[region]
        lines += [
            "",
            "[[accounts]]",
            f'id = "{account_id}"',
            'kind = "seller"',
            f'region = "{region}"',
            f"marketplaces = {json.dumps(template['marketplaces'])}",
            f'event_source = "{template["event_source"]}"',
        ]
        if shared is not None:
            lines += [
                f'spapi_endpoint = "{shared.spapi_urls[region]}"',
                f'lwa_endpoint = "{shared.lwa_url}"',
            ]
    return "\n".join(lines) + "\n"


@dataclass
class SharedSimulator:
    """The one simulator process every worker's accounts config points at (`acorn simulator`, on loopback)."""

    process: subprocess.Popen[bytes]
    lwa_url: str
    spapi_urls: dict[str, str]
    request_log: Path


@contextlib.contextmanager
def shared_simulator(
    env: Mapping[str, str], logs: Path, *, accounts: int, day: str, timeout: float = 60
) -> Iterator[SharedSimulator]:
    """`acorn simulator` in a process of its own (clean profile, free loopback ports, the demo's seed, time scale
    and simulated sellers, its data as of `day` as a run's own simulator's are), logging every request; stopped
    (SIGTERM) when the block ends."""
    request_log = logs / "shared-simulator-requests.jsonl"
    output = logs / "shared-simulator.log"
    command = [
        str(ACORN), "simulator", "--port", "0", "--profile", "clean", "--seed", str(SEED),
        "--time-scale", str(TIME_SCALE), "--simulated-sellers", str(accounts), "--start", day,
        "--request-log", str(request_log),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, env=dict(env), stdout=output.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + timeout
        while b"  ready" not in output.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise CouldNotStart(f"the shared SP-API simulator did not start (see {output})")
            time.sleep(0.2)
        urls = {}
        for line in output.read_text(encoding="utf-8").splitlines():
            name, _, url = line.strip().partition(": ")
            if url.startswith("http://"):
                urls[name] = url
        yield SharedSimulator(
            process,
            lwa_url=urls["LWA token endpoint"],
            spapi_urls={region: urls[f"SP-API {region}"] for region in ("na", "eu", "fe")},
            request_log=request_log,
        )
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class SimulatorLedger:
    """What the shared simulator answered, from its request log: per account the requests, the 429s its usage
    plans answered (an overrun: with the clean profile, a 429 only answers callers that together sent more than
    the account's bucket held, which the client's limiter and the account lock exist to prevent) and who called."""

    pid: int
    usage: dict[str, AccountUsage]
    # caller (User-Agent) -> the worker whose process it is (its pid), else the caller itself
    callers: dict[str, str]
    workers_seen: list[str]
    # requests to the LWA or documents origins that carried an SP-API access token (it belongs to SP-API only)
    token_leaks: int

    @property
    def requests(self) -> int:
        return sum(usage.requests for usage in self.usage.values())

    @property
    def over_limit(self) -> int:
        return sum(usage.over_limit for usage in self.usage.values())

    def operations_called_by_several(self) -> list[str]:
        """`account operation` for each operation of an account that two or more processes called (one after
        the other, under the account's lock): where the lock's hand-over of the buckets mattered."""
        return [
            f"{account} {operation}"
            for account, usage in self.usage.items()
            for operation, callers in sorted(usage.callers_by_operation.items())
            if len(callers) >= 2
        ]

    def overruns(self) -> list[str]:
        return [
            f"{account} {operation}: {count} requests over the limit (429)"
            for account, usage in self.usage.items()
            for operation, count in sorted(usage.over_limit_by_operation.items())
        ]


def simulator_ledger(shared: SharedSimulator, worker_pids: Mapping[str, int]) -> SimulatorLedger:
    """Read the shared simulator's request log (see SimulatorLedger); `worker_pids`: each worker's process id."""
    from simulator.requestlog import read_request_log, usage_by_account

    entries = read_request_log(shared.request_log) if shared.request_log.exists() else []
    usage = usage_by_account(entries)
    by_pid = {str(pid): name for name, pid in worker_pids.items()}
    callers: dict[str, str] = {}
    for caller in sorted({caller for seen in usage.values() for caller in seen.callers}):
        pid = caller.partition("Process=")[2].partition("@")[0]
        callers[caller] = by_pid.get(pid, caller)
    leaks = sum(
        1
        for entry in entries
        if entry.get("origin") in ("lwa", "documents") and "x-amz-access-token" in entry.get("headers", ())
    )
    workers_seen = sorted({name for name in callers.values() if name in worker_pids})
    return SimulatorLedger(shared.process.pid, usage, callers, workers_seen, leaks)


@contextlib.contextmanager
def fresh_postgres_database(
    admin_url: str = ADMIN_POSTGRES_URL, *, prefix: str = "acorn_cluster"
) -> Iterator[str]:
    """A new database on the server of `admin_url` for this run (the Dagster instance, the warehouse's catalog),
    named `prefix` and a random suffix; dropped afterwards."""
    import psycopg2

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg2.connect(admin_url, connect_timeout=5)
    except psycopg2.OperationalError as error:
        raise CouldNotStart(
            f"PostgreSQL for the Dagster instance and the catalog cannot be reached: {error}".strip()
        ) from None
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'create database "{name}"')
    base, _, _ = admin_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'drop database if exists "{name}" with (force)')
        admin.close()


def empty_redis_database(url: str) -> None:
    """Empty the broker's Redis database, so no task of an earlier run is taken by this run's workers."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=5).flushdb()
    except redis.RedisError as error:
        raise CouldNotStart(f"Redis for the Celery broker cannot be used at {url}: {error}") from None


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class ModeResult:
    mode: str
    exit_code: int
    seconds: float
    report: dict[str, Any]
    steps_by_worker: dict[str, int] = field(default_factory=dict)
    # `acorn run` on Celery is one run per group of accounts, then the build (README, Scale-out): each account's
    # group run's steps by worker, the number of group runs, and the seconds from the first group run's start to
    # the last one's end, then of the build.
    account_steps: dict[str, dict[str, int]] = field(default_factory=dict)
    extraction_seconds: float | None = None
    build_seconds: float | None = None
    group_runs: int = 0


def worker_env(env: Mapping[str, str], name: str) -> dict[str, str]:
    """A worker's environment: the cluster's, with a data dir and a Dagster home of its own when the lake is on an
    s3:// object store (no two workers, nor the `acorn run` process, share a disk: the object store and
    PostgreSQL are what they share); without one the workers share the cluster's data dir, as they must."""
    if not (env.get("ACORN_OBJECT_STORE_URL") or "").startswith("s3://"):
        return dict(env)
    work = Path(env["ACORN_DATA_DIR"]).parent
    return {
        **env,
        "ACORN_DATA_DIR": str(work / f"{name}-data"),
        "DAGSTER_HOME": str(work / f"{name}-home"),
    }


def worker_data_dirs(env: Mapping[str, str]) -> list[Path]:
    """The data dirs the cluster's workers used (one each with an s3:// store, `worker_env`; else the shared one)."""
    if not (env.get("ACORN_OBJECT_STORE_URL") or "").startswith("s3://"):
        return [Path(env["ACORN_DATA_DIR"])]
    return sorted(Path(env["ACORN_DATA_DIR"]).parent.glob("cluster-w*-data"))


class Cluster:
    """W worker processes on one broker and one PostgreSQL instance, sharing an environment with the runs."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.workers: list[Worker] = []
        self._started = 0

    def start(self, count: int, *, timeout: float = 60) -> None:
        """Start `count` more workers and wait until each is ready to take steps."""
        new: list[Worker] = []
        for _ in range(count):
            self._started += 1
            name = f"cluster-w{self._started}"
            log = self.logs / f"{name}.log"
            env = worker_env(self.env, name)
            Path(env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
            process = subprocess.Popen(
                [str(ACORN), "worker", "--name", name],
                env=env,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            new.append(Worker(name, process, log))
        self.workers += new
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(b"ready." in w.log.read_bytes() for w in new if w.process.poll() is None):
                dead = [w.name for w in new if w.process.poll() is not None]
                if dead:
                    raise CouldNotStart(f"worker(s) {', '.join(dead)} exited on start (see {self.logs})")
                return
            time.sleep(0.5)
        raise CouldNotStart(f"the Celery workers were not ready within {timeout:.0f} s (see {self.logs})")

    def kill(self, name: str) -> None:
        worker = next(w for w in self.workers if w.name == name)
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait()

    def stop(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()


def _run_acorn(env: Mapping[str, str], log: Path) -> tuple[int, dict[str, Any], float]:
    started = time.monotonic()
    with log.open("wb") as stderr:
        done = subprocess.run(
            [str(ACORN), "run", "--json"], env=dict(env), stdout=subprocess.PIPE, stderr=stderr, check=False
        )
    seconds = time.monotonic() - started
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        report = {"problems": [f"no JSON report (see {log})"]}
    return done.returncode, report, seconds


def steps_by_worker(postgres_url: str, run_ids: Sequence[str] | None = None) -> dict[str, int]:
    """How many steps each Celery worker executed, from the engine events the workers recorded on the instance
    (of `run_ids`, else of every run)."""
    counts: dict[str, int] = {}
    for placed in _placed_steps(postgres_url, run_ids):
        counts[placed.worker] = counts.get(placed.worker, 0) + 1
    return dict(sorted(counts.items()))


def account_steps_by_worker(postgres_url: str, run_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """For each account of the group runs among `run_ids` (tagged `acorn/accounts`): how many of its group run's
    steps each worker executed."""
    placed_by_account: dict[str, dict[str, int]] = {}
    for placed in _placed_steps(postgres_url, run_ids):
        for account in filter(None, (placed.account or "").split(",")):
            workers = placed_by_account.setdefault(account, {})
            workers[placed.worker] = workers.get(placed.worker, 0) + 1
    return dict(sorted(placed_by_account.items()))


@dataclass(frozen=True)
class PlacedStep:
    run_id: str
    step_key: str
    worker: str
    account: str | None  # the run's `acorn/accounts` tag: the accounts of a group run, comma-separated


def _placed_steps(postgres_url: str, run_ids: Sequence[str] | None) -> list[PlacedStep]:
    """Each step a Celery worker said it executed (its engine event naming the worker), of `run_ids` or all."""
    import psycopg2

    with (
        contextlib.closing(psycopg2.connect(postgres_url, connect_timeout=5)) as connection,
        connection.cursor() as cursor,
    ):
        query = (
            "select e.run_id, e.step_key, e.event, t.value from event_logs e left join run_tags t "
            "on t.run_id = e.run_id and t.key = 'acorn/accounts' "
            "where e.dagster_event_type = 'ENGINE_EVENT' and e.event like %s"
        )
        params: list[Any] = ["%in celery worker%"]
        if run_ids:
            query += " and e.run_id = any(%s)"
            params.append(list(run_ids))
        cursor.execute(query, params)
        rows = cursor.fetchall()
    placed = []
    for run_id, step_key, text, account in rows:
        worker = _celery_worker_of(text)
        if worker:
            placed.append(PlacedStep(run_id, step_key or "", worker, account))
    return placed


def lost_worker_messages(postgres_url: str, run_ids: Sequence[str]) -> list[str]:
    """The messages of `run_ids`' events about a step lost with its worker (orchestration/celery_steps.py)."""
    import psycopg2

    with (
        contextlib.closing(psycopg2.connect(postgres_url, connect_timeout=5)) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "select event from event_logs where run_id = any(%s) and event like %s order by id",
            [list(run_ids), "%was lost%"],
        )
        return [json.loads(text).get("user_message", "") for (text,) in cursor.fetchall()]


def run_spans(postgres_url: str, run_ids: Sequence[str]) -> dict[str, tuple[float, float]]:
    """(start, end) in epoch seconds of each of `run_ids` that started and ended, from the instance's runs."""
    import psycopg2

    with (
        contextlib.closing(psycopg2.connect(postgres_url, connect_timeout=5)) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "select run_id, start_time, end_time from runs where run_id = any(%s) and start_time is not null "
            "and end_time is not null",
            [list(run_ids)],
        )
        return {run_id: (float(start), float(end)) for run_id, start, end in cursor.fetchall()}


def _celery_worker_of(event_json: str) -> str | None:
    """The "Celery worker" metadata entry of a serialised engine event (its hostname, `name@host`)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("label") == "Celery worker":
                entry = value.get("entry_data") or value.get("value") or {}
                text = entry.get("text") if isinstance(entry, dict) else entry
                if isinstance(text, str):
                    found.append(text)
            metadata = value.get("metadata")
            if isinstance(metadata, dict) and isinstance(metadata.get("Celery worker"), dict):
                text = metadata["Celery worker"].get("text")
                if isinstance(text, str):
                    found.append(text)
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(json.loads(event_json))
    return found[0].split("@")[0] if found else None


def running_step_worker(postgres_url: str, step_fragment: str) -> tuple[str, str, str] | None:
    """(worker name, step key, run id) of the first step whose key contains `step_fragment` that a worker has
    started."""
    import psycopg2

    with (
        contextlib.closing(psycopg2.connect(postgres_url, connect_timeout=5)) as connection,
        connection.cursor() as cursor,
    ):
        try:
            cursor.execute(
                "select step_key, event, run_id from event_logs where dagster_event_type = 'ENGINE_EVENT' "
                "and event like %s and step_key like %s order by id",
                ["%in celery worker%", f"%{step_fragment}%"],
            )
        except psycopg2.errors.UndefinedTable:
            return None  # the run has not created the instance's tables yet
        for step_key, text, run_id in cursor.fetchall():
            worker = _celery_worker_of(text)
            if worker:
                return worker, step_key, run_id
    return None


def compare_warehouses(cluster_env: Mapping[str, str], embedded: Path) -> list[str]:
    """Every difference between the DuckLake warehouse `cluster_env` configures (its last published build) and the
    embedded warehouse file: tables only one has, and per table the rows one has more often than the other
    (EXCEPT ALL both ways: a duplicated row is a difference). Empty when identical."""
    from orchestration.warehouse_catalog import ALIAS, configured_warehouse, ducklake_connection

    catalog = configured_warehouse(env=cluster_env)
    if catalog is None:
        return ["the cluster's environment configures no DuckLake warehouse"]
    left = ALIAS
    differences: list[str] = []
    with ducklake_connection(catalog, published=True) as connection:
        connection.execute(f"attach '{embedded}' as r (read_only)")

        def tables(database: str) -> set[str]:
            rows = connection.execute(
                "select table_schema || '.' || table_name from information_schema.tables "
                "where table_catalog = ? and table_schema in ? and table_type = 'BASE TABLE'",
                [database, list(COMPARED_SCHEMAS)],
            ).fetchall()
            return {row[0] for row in rows}

        left_tables, right_tables = tables(left), tables("r")
        differences += [
            f"{name}: only in the cluster's warehouse" for name in sorted(left_tables - right_tables)
        ]
        differences += [
            f"{name}: only in the embedded warehouse" for name in sorted(right_tables - left_tables)
        ]
        for name in sorted(left_tables & right_tables):
            schema, table = name.split(".")
            columns = ", ".join(
                f'"{row[0]}"'
                for row in connection.execute(
                    "select column_name from information_schema.columns where table_catalog = ? "
                    "and table_schema = ? and table_name = ? order by ordinal_position",
                    [left, schema, table],
                ).fetchall()
                if row[0] not in RUN_IDENTITY_COLUMNS
            )
            counts = connection.execute(
                f"select (select count(*) from {left}.{name}), (select count(*) from r.{name}), "
                f"(select count(*) from (select {columns} from {left}.{name} except all "
                f"select {columns} from r.{name})), "
                f"(select count(*) from (select {columns} from r.{name} except all "
                f"select {columns} from {left}.{name}))"
            ).fetchone()
            assert counts is not None
            rows_left, rows_right, only_left, only_right = counts
            if only_left or only_right:
                differences.append(
                    f"{name}: {rows_left} rows in the cluster's warehouse, {rows_right} in the embedded one; "
                    f"{only_left} only in the cluster's, {only_right} only in the embedded one"
                )
        if not left_tables:
            differences.append("the cluster's DuckLake warehouse has no table")
    return differences


def check_object_store(cluster_env: Mapping[str, str]) -> tuple[dict[str, int], list[str]]:
    """The object store's part of the cluster run: how many raw objects, manifest rows and warehouse files it
    holds, and what its copy of the raw archive lacks of the workers' local one (every object hashed)."""
    from transforms.archive import ObjectStoreCopy, RawArchive

    store = ObjectStoreCopy.from_env(cluster_env)
    if store is None:
        return {}, ["the cluster's environment configures no object store"]
    problems: list[str] = []
    local: set[str] = set()
    for data_dir in worker_data_dirs(cluster_env):  # each worker's own archive
        archive = RawArchive(data_dir / "raw", store)
        problems += store.verify(archive)
        local |= {row["sha256"] for row in archive.manifest()}
    if not local:
        problems.append("the workers archived no raw object")
    from pyarrow import fs

    warehouse = store.base.removesuffix("/raw") + "/warehouse"
    infos = store.filesystem.get_file_info(fs.FileSelector(warehouse, recursive=True, allow_not_found=True))
    counts = {
        "raw objects": len(store.object_keys()),
        "manifest rows": len(store.rows()),
        "warehouse files": sum(1 for info in infos if info.type == fs.FileType.File),
    }
    if not counts["warehouse files"]:
        problems.append(f"no warehouse file under s3://{warehouse}/")
    lake_counts, lake_problems = check_lake_on_store(cluster_env)
    counts["worker data dirs"] = len(worker_data_dirs(cluster_env))  # one each: no disk shared
    return {**counts, **lake_counts}, problems + lake_problems


def check_lake_on_store(cluster_env: Mapping[str, str]) -> tuple[dict[str, int], list[str]]:
    """The lake on the object store (lake/store.py): every partition of the workers' local lake is there, its
    pointer naming the same bytes (sha256), and how many objects and partitions it holds."""
    import hashlib

    from lake.layout import published_files
    from lake.store import LakeStore
    from orchestration.warehouse.lake_views import lake_datasets

    store = LakeStore.from_env(cluster_env)
    if store is None:
        return {}, ["the cluster's environment configures no lake on the object store"]
    stored = store.partitions()
    problems = []
    # Each worker's lake is a private cache of the store's (it may be behind: another worker landed a partition
    # after this one last read it), so every partition it holds must be on the store, and the files the
    # store's pointers name must be there with the bytes the pointers say.
    for lake in (data_dir / "lake" for data_dir in worker_data_dirs(cluster_env)):
        for dataset in lake_datasets():
            for path in published_files(lake, dataset):
                if path.parent.name not in stored.get(dataset, ()):
                    problems.append(f"lake partition {dataset}/{path.parent.name} missing on {store.url}")
    for dataset, names in sorted(stored.items()):
        for partition in sorted(names):
            pointer = store.pointer(dataset, partition)
            key = store.data_key(dataset, partition, pointer["sha256"]) if pointer else ""
            if pointer is None or hashlib.sha256(store._read(key)).hexdigest() != pointer["sha256"]:
                problems.append(f"lake partition {dataset}/{partition}: its file does not match its pointer")
    partitions = sum(len(names) for names in stored.values())
    if not partitions:
        problems.append(f"no lake partition under {store.url}")
    return {"lake objects": store.object_count(), "lake partitions": partitions}, problems


def table_rows(warehouse: Path) -> dict[str, int]:
    import duckdb

    with contextlib.closing(duckdb.connect(str(warehouse), read_only=True)) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "select table_schema || '.' || table_name from information_schema.tables "
                "where table_schema = 'marts' and table_type = 'BASE TABLE' order by 1"
            ).fetchall()
        ]
        return {name: int(connection.execute(f"select count(*) from {name}").fetchone()[0]) for name in names}  # type: ignore[index]


def base_env(work: Path, config: Path, day: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ACORN_", "DAGSTER_HOME", "ACORN_CELERY"))
    }
    env.update(
        {
            "ACORN_CONFIG": str(config),
            "ACORN_SIMULATOR_START": day,
            "DAGSTER_DISABLE_TELEMETRY": "1",
            "DO_NOT_TRACK": "1",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "GX_ANALYTICS_ENABLED": "false",
        }
    )
    return env


@dataclass
class ClusterOutcome:
    cluster: ModeResult
    embedded: ModeResult
    differences: list[str]
    rows: dict[str, int]
    interrupted: ModeResult | None = None
    killed: str | None = None
    store_counts: dict[str, int] = field(default_factory=dict)
    store_problems: list[str] = field(default_factory=list)
    # (run id, step key) of the step the killed worker was executing
    killed_step: tuple[str, str] | None = None
    # The workers that said they executed that step in that run (the killed one, then the one it was resubmitted
    # to), and the run's engine messages about the lost worker.
    killed_step_workers: list[str] = field(default_factory=list)
    lost_messages: list[str] = field(default_factory=list)
    # What the one simulator every worker called answered, and the accounts whose buckets were handed over.
    simulator: SimulatorLedger | None = None
    buckets_handed_over: list[str] = field(default_factory=list)

    @property
    def limits_held(self) -> bool:
        """No 429 over an account's limit reached the workers' processes (with the clean profile every 429 is
        one), and no access token went anywhere but the SP-API origins."""
        return self.simulator is not None and not self.simulator.over_limit and not self.simulator.token_leaks

    @property
    def identical(self) -> bool:
        return (
            not self.differences
            and not self.store_problems
            and self.cluster.exit_code == self.embedded.exit_code
        )

    @property
    def exit_code(self) -> int:
        if (
            self.cluster.exit_code == ExitCode.COULD_NOT_RUN
            or self.embedded.exit_code == ExitCode.COULD_NOT_RUN
        ):
            return int(ExitCode.COULD_NOT_RUN)
        return 0 if self.identical and self.limits_held else 1


def secret_leaks(work: Path, secret: str) -> list[str]:
    """Every file under `work` (data dirs, Dagster homes, logs) holding the object store's secret key: it must stay
    in the processes' environments."""
    needle = secret.encode()
    return [
        f"the object store's secret key is written in {path}"
        for path in sorted(work.rglob("*"))
        if path.is_file() and not path.is_symlink() and needle in path.read_bytes()
    ]


def run_cluster_demo(
    *,
    accounts: int,
    workers: int,
    work: Path,
    redis_db: int,
    admin_postgres_url: str = ADMIN_POSTGRES_URL,
    kill_worker_at: str | None = None,
    say: Any = print,
) -> ClusterOutcome:
    """Both modes over the same simulated accounts and day, and the comparison of their warehouses."""
    work.mkdir(parents=True, exist_ok=True)
    config = work / "accounts.toml"
    config.write_text(accounts_config(accounts), encoding="utf-8")
    day = datetime.now(UTC).strftime("%Y-%m-%dT00:00:00Z")  # one simulated day for both modes
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    broker = f"{REDIS_URL}/{redis_db}"
    empty_redis_database(broker)

    with contextlib.ExitStack() as stack:
        try:
            # The secret key is this run's own (moto accepts any): it stays in the processes' environments.
            store = stack.enter_context(loopback_s3(BUCKET, f"sk-{uuid.uuid4().hex}"))
        except LoopbackS3Unavailable as error:
            raise CouldNotStart(str(error)) from None
        instance_url = stack.enter_context(fresh_postgres_database(admin_postgres_url))
        catalog_url = stack.enter_context(fresh_postgres_database(admin_postgres_url))
        # One simulator for every worker (and the `acorn run` process): its limits are Amazon's per account and
        # operation whoever calls, and its log shows every 429. The embedded run below starts its own, as always:
        # both serve each account the history of (seed, day, account), whichever process asks.
        shared = stack.enter_context(
            shared_simulator(base_env(work, config, day), logs, accounts=accounts, day=day)
        )
        cluster_config = work / "cluster-accounts.toml"
        cluster_config.write_text(accounts_config(accounts, shared=shared), encoding="utf-8")
        cluster_env = {
            **base_env(work, cluster_config, day),
            "DAGSTER_HOME": str(work / "cluster-home"),
            "ACORN_DATA_DIR": str(work / "cluster-data"),
            "ACORN_EXECUTOR": "celery",
            "ACORN_CELERY_BROKER_URL": broker,
            "ACORN_DAGSTER_POSTGRES_URL": instance_url,
            "ACORN_WAREHOUSE_CATALOG_URL": catalog_url,
            **store.env(STORE_PREFIX),
        }
        Path(cluster_env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        cluster = Cluster(cluster_env, logs)
        interrupted: ModeResult | None = None
        killed: str | None = None
        killed_step: tuple[str, str] | None = None
        killed_step_workers: list[str] = []
        lost_messages: list[str] = []
        try:
            say(
                f"cluster: starting {workers} Celery workers (broker {broker}, instance and DuckLake catalog on "
                f"PostgreSQL, object store s3://{BUCKET}/{STORE_PREFIX} at {store.endpoint_url})"
            )
            cluster.start(workers)
            cluster_result: ModeResult | None = None
            if kill_worker_at:
                interrupted, killed, killed_step = _run_with_killed_worker(
                    cluster, cluster_env, instance_url, kill_worker_at, logs, say
                )
                killed_step_workers = [
                    placed.worker
                    for placed in _placed_steps(instance_url, [killed_step[0]])
                    if placed.step_key == killed_step[1]
                ]
                lost_messages = lost_worker_messages(instance_url, [killed_step[0]])
                if interrupted.exit_code != ExitCode.COULD_NOT_RUN:  # it completed on the remaining workers
                    cluster_result = _cluster_result(
                        instance_url, interrupted.exit_code, interrupted.seconds, interrupted.report, accounts
                    )
                else:
                    cluster.start(
                        1
                    )  # it ended failed by itself: a replacement of the killed worker, a re-run
            if cluster_result is None:
                say(f"cluster: acorn run for {accounts} accounts on {len(cluster.workers)} workers")
                code, report, seconds = _run_acorn(cluster_env, logs / "cluster-run.log")
                cluster_result = _cluster_result(instance_url, code, seconds, report, accounts)
        finally:
            cluster.stop()
        empty_redis_database(broker)
        buckets_handed_over = handed_over_accounts(instance_url)
        ledger = simulator_ledger(shared, {worker.name: worker.process.pid for worker in cluster.workers})

        say(f"embedded: acorn run for {accounts} accounts in process")
        embedded_env = {
            **base_env(work, config, day),
            "DAGSTER_HOME": str(work / "embedded-home"),
            "ACORN_DATA_DIR": str(work / "embedded-data"),
        }
        Path(embedded_env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        code, report, seconds = _run_acorn(embedded_env, logs / "embedded-run.log")
        embedded_result = ModeResult("in_process", code, seconds, report)

        embedded_warehouse = Path(embedded_env["ACORN_DATA_DIR"]) / "warehouse.duckdb"
        if not embedded_warehouse.exists():
            differences = [f"no warehouse at {embedded_warehouse}"]
        else:
            try:
                differences = compare_warehouses(cluster_env, embedded_warehouse)
            except Exception as error:  # no published build, an unreadable catalog: a difference, shown
                differences = [f"the cluster's DuckLake warehouse cannot be read: {error}"]
        rows = table_rows(embedded_warehouse) if embedded_warehouse.exists() else {}
        store_counts, store_problems = check_object_store(cluster_env)
        store_problems += secret_leaks(work, store.secret_key)
    return ClusterOutcome(
        cluster_result,
        embedded_result,
        differences,
        rows,
        interrupted,
        killed,
        store_counts,
        store_problems,
        killed_step,
        killed_step_workers,
        lost_messages,
        ledger,
        buckets_handed_over,
    )


def handed_over_accounts(postgres_url: str) -> list[str]:
    """The accounts whose client buckets a worker left for the next holder of the account's lock, in the
    instance's database (orchestration/account_locks.py)."""
    import psycopg2

    from orchestration.account_locks import BUCKETS_TABLE

    with (
        contextlib.closing(psycopg2.connect(postgres_url, connect_timeout=5)) as connection,
        connection.cursor() as cursor,
    ):
        try:
            cursor.execute(f"select account_id from {BUCKETS_TABLE} order by 1")
        except psycopg2.errors.UndefinedTable:
            return []
        return [account for (account,) in cursor.fetchall()]


def _cluster_result(
    instance_url: str, code: int, seconds: float, report: dict[str, Any], accounts: int
) -> ModeResult:
    """The Celery run's result with where its steps ran: every run of the command (its report's `runs`: one per
    group of accounts, then the build's, `build_run`, when every account landed)."""
    runs = list(report.get("runs") or ([report["run_id"]] if report.get("run_id") else []))
    result = ModeResult("celery", code, seconds, report, steps_by_worker(instance_url, runs or None))
    if len(runs) > 1:
        build = report.get("build_run")
        groups = [run for run in runs if run != build]
        result.account_steps = account_steps_by_worker(instance_url, groups)
        result.group_runs = len(groups)
        spans = run_spans(instance_url, runs)
        account_spans = [spans[run] for run in groups if run in spans]
        if account_spans:
            result.extraction_seconds = max(end for _, end in account_spans) - min(
                start for start, _ in account_spans
            )
        if build in spans:
            start, end = spans[build]
            result.build_seconds = end - start
    return result


def _run_with_killed_worker(
    cluster: Cluster, env: dict[str, str], postgres_url: str, step: str, logs: Path, say: Any
) -> tuple[ModeResult, str, tuple[str, str]]:
    """Start `acorn run`, SIGKILL the worker executing the first step matching `step` while it runs, and send the
    run nothing: it must notice the lost worker and end by itself (completed on the other workers, or failed)
    within KILLED_RUN_TIMEOUT seconds. The run's result, the killed worker, and (run id, step key) of its step."""
    started = time.monotonic()
    log = logs / "killed-worker-run.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [str(ACORN), "run", "--json"], env=env, stdout=subprocess.PIPE, stderr=stderr
        )
        found = None
        deadline = time.monotonic() + 600
        try:
            while found is None and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.5)
                found = running_step_worker(postgres_url, step)
        finally:
            if found is None:
                process.kill()
                process.wait()
        if found is None:
            raise CouldNotStart(f"no worker started a step matching {step!r} (see {log})")
        worker, step_key, run_id = found
        time.sleep(1.0)  # into the step's work, not its start
        say(f"cluster: SIGKILL {worker} while it executes {step_key}; nothing is sent to acorn run")
        cluster.kill(worker)
        try:
            out, _ = process.communicate(timeout=KILLED_RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise CouldNotStart(
                f"acorn run did not end within {KILLED_RUN_TIMEOUT} s of {worker}'s death (see {log})"
            ) from None
    try:
        report = json.loads(out)
    except json.JSONDecodeError:
        report = {}
    say(f"cluster: the run whose worker was killed ended by itself with exit code {process.returncode}")
    result = ModeResult("celery-killed-worker", process.returncode, time.monotonic() - started, report)
    return result, worker, (run_id, step_key)


def print_outcome(outcome: ClusterOutcome, accounts: int, workers: int) -> None:
    cluster, embedded = outcome.cluster, outcome.embedded
    print(f"accounts: {accounts} simulated sellers (na and eu)")
    if outcome.killed:
        interrupted = outcome.interrupted
        code = interrupted.exit_code if interrupted else "?"
        print(
            f"killed:   {outcome.killed} (SIGKILL mid-step); the run ended by itself with exit code {code}"
            + (
                ", then the job ran again"
                if code == ExitCode.COULD_NOT_RUN
                else ", completed on the other workers"
            )
        )
        for message in outcome.lost_messages:
            print(f"          {message}")
        if outcome.killed_step:
            print(f"          {outcome.killed_step[1]} executed by: {', '.join(outcome.killed_step_workers)}")
    used = (
        ", ".join(f"{name}: {count} steps" for name, count in cluster.steps_by_worker.items()) or "none seen"
    )
    print(
        f"celery:   {cluster.seconds:7.1f} s, exit {cluster.exit_code}, {workers} workers started; used {used}"
    )
    if cluster.extraction_seconds is not None:
        build = f"{cluster.build_seconds:.1f} s" if cluster.build_seconds is not None else "not run"
        spread = sum(len(workers) > 0 for workers in cluster.account_steps.values())
        print(
            f"          {cluster.group_runs} runs of {len(cluster.account_steps)} accounts in "
            f"{cluster.extraction_seconds:.1f} s "
            f"({spread} with steps seen on workers), then the build run in {build}; accounts per worker: "
            + ", ".join(
                f"{worker}: {sum(worker in workers for workers in cluster.account_steps.values())}"
                for worker in cluster.steps_by_worker
            )
        )
    print(f"embedded: {embedded.seconds:7.1f} s, exit {embedded.exit_code}")
    print(
        "marts rows: " + ", ".join(f"{name.split('.')[-1]}={count}" for name, count in outcome.rows.items())
    )
    print(
        "object store: "
        + (", ".join(f"{count} {name}" for name, count in outcome.store_counts.items()) or "nothing read")
    )
    print_simulator_ledger(outcome)
    if outcome.identical:
        print(
            "warehouses: identical (the DuckLake catalog's published build and the embedded file: every staging, "
            "intermediate and marts table, row for row); the raw archive's copy on the object store is complete "
            "(every object hashed)"
        )
    else:
        print("warehouses: DIFFERENT")
        for line in outcome.differences:
            print(f"  - {line}")
        for line in outcome.store_problems:
            print(f"  - object store: {line}")
        if cluster.exit_code != embedded.exit_code:
            print(f"  - exit codes differ: celery {cluster.exit_code}, embedded {embedded.exit_code}")
    for mode in (cluster, embedded):
        for problem in mode.report.get("problems") or []:
            print(f"  {mode.mode}: {problem}")


def print_simulator_ledger(outcome: ClusterOutcome) -> None:
    """Per account: the requests and the 429s the shared simulator answered, and which workers called it."""
    ledger = outcome.simulator
    if ledger is None:
        print("simulator: no shared simulator's log")
        return
    print(
        f"simulator: one process (pid {ledger.pid}) for every worker: {ledger.requests} SP-API requests from "
        f"{', '.join(ledger.workers_seen) or 'no worker'}; the account locks handed the client buckets of "
        f"{len(outcome.buckets_handed_over)} accounts from worker to worker"
    )
    for account, usage in ledger.usage.items():
        callers = sorted({ledger.callers.get(caller, caller) for caller in usage.callers})
        print(
            f"  {account}: {usage.requests} requests, {usage.over_limit} 429 over the limit"
            + (f", {usage.injected_throttles} 429 injected" if usage.injected_throttles else "")
            + f"; from {', '.join(callers)}"
        )
    several = ledger.operations_called_by_several()
    print(
        f"  operations of one account called by two or more workers: {len(several)}"
        + (f" ({', '.join(several[:5])}{', ...' if len(several) > 5 else ''})" if several else "")
    )
    if ledger.token_leaks:
        print(f"limits: {ledger.token_leaks} requests carried an access token to a host other than SP-API")
    if ledger.over_limit:
        print(f"limits: OVERRUN, {ledger.over_limit} requests over an account's limit (429):")
        for line in ledger.overruns():
            print(f"  - {line}")
    elif not ledger.token_leaks:
        print("limits: held (no 429: no two workers together went over an account's limit)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument(
        "--redis-db", type=int, default=11, help="the Redis database the broker uses (emptied)"
    )
    parser.add_argument("--postgres-admin-url", default=ADMIN_POSTGRES_URL)
    parser.add_argument(
        "--work-dir", type=Path, help="keep data dirs and logs here (default: a temporary dir)"
    )
    parser.add_argument("--kill-worker-at", help="SIGKILL the worker executing the first step matching this")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        work = args.work_dir or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="acorn-cluster-"))
        )
        try:
            outcome = run_cluster_demo(
                accounts=args.accounts,
                workers=args.workers,
                work=work,
                redis_db=args.redis_db,
                admin_postgres_url=args.postgres_admin_url,
                kill_worker_at=args.kill_worker_at,
            )
        except CouldNotStart as error:
            print(f"could not run: {error}", file=sys.stderr)
            return int(ExitCode.COULD_NOT_RUN)
        print_outcome(outcome, args.accounts, args.workers)
        return outcome.exit_code


if __name__ == "__main__":
    sys.exit(main())
