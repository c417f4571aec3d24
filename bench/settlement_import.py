"""Settlement import benchmark: ACORN's import versus a bare DuckDB `read_csv` -> typed Parquet copy.

    python -m bench.settlement_import [--lines N] [--runs K] [--keep]

Generates a synthetic V2 settlement file (cached in `.bench/settlement_import/`, git-ignored), then runs K
times, alternating, each in its own subprocess so wall time and peak RSS are that run's alone (`os.wait4`):

1. ACORN: `import_settlement_file` into a fresh data dir (archiving, validation, lake write, summary);
2. the practical limit: DuckDB reading the same file with typed columns and writing one Parquet file.

Each run starts with the file in the page cache (read through before it, outside the timing): ACORN's archive
pass drops the file's cached pages once copied, which would otherwise leave the next run reading from disk.

Goals: ACORN <= 1.5x the bare copy's time, peak RSS < 1 GiB at any size.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

REPO_ROOT = Path(__file__).resolve().parent.parent
WORK_DIR = REPO_ROOT / ".bench" / "settlement_import"
SETTLEMENT_ID = "90000000001"
HEADER = (
    "settlement-id\tsettlement-start-date\tsettlement-end-date\tdeposit-date\ttotal-amount\tcurrency\t"
    "transaction-type\torder-id\tmerchant-order-id\tadjustment-id\tshipment-id\tmarketplace-name\tamount-type\t"
    "amount-description\tamount\tfulfillment-id\tposted-date\tposted-date-time\torder-item-code\t"
    "merchant-order-item-id\tmerchant-adjustment-item-id\tsku\tquantity-purchased\tpromotion-id"
)
GOAL_RATIO = 1.5
GOAL_RSS = 1 << 30


@dataclass(frozen=True)
class Run:
    name: str
    seconds: float
    peak_rss: int

    def lines_per_second(self, lines: int) -> float:
        return lines / self.seconds if self.seconds else float("inf")


def generate(
    path: Path,
    lines: int,
    settlement_id: str = SETTLEMENT_ID,
    start: date = date(2026, 6, 1),
    first_row: int = 0,
) -> None:
    """A V2 file of `lines` lines (plus header and summary row) whose lines sum exactly to its total, for the
    14-day settlement period from `start` (deposited two days after it ends). `first_row` numbers the rows the
    order ids, SKUs and amounts derive from, so consecutive settlements do not repeat one another."""
    body = path.with_suffix(".body")
    rows = f"""
        select
            '{settlement_id}' as sid, '' as a, '' as b, '' as c, '' as d, '' as e,
            (['Order', 'Order', 'Order', 'Refund', 'ServiceFee'])[1 + i % 5] as transaction_type,
            printf('%03d-%07d-%07d', 100 + i % 900, i // 3, (i * 7919) % 10000000) as order_id,
            '' as merchant_order_id, '' as adjustment_id, printf('DS%08d', i // 7) as shipment_id,
            'Amazon.com' as marketplace_name,
            (['ItemPrice', 'ItemFees', 'ItemFees', 'ItemPrice', 'other-transaction'])[1 + i % 5]
                as amount_type,
            (['Principal', 'Commission', 'FBAPerUnitFulfillmentFee', 'Principal', 'Storage Fee'])[1 + i % 5]
                as amount_description,
            cast(((i * 7919) % 100000 - 40000) / 100 as decimal(18, 2)) as amount,
            'AFN' as fulfillment_id,
            strftime(timestamp '{start.isoformat()}' + to_seconds(i % 1209600), '%Y-%m-%d 00:00:00 UTC')
                as posted_date,
            strftime(timestamp '{start.isoformat()}' + to_seconds(i % 1209600), '%Y-%m-%d %H:%M:%S UTC')
                as posted_dt,
            printf('%014d', i) as order_item_code, '' as f, '' as g,
            printf('SKU-%05d', i % 20000) as sku, cast(1 + i % 3 as varchar) as quantity, '' as promotion_id
        from range({first_row}, {first_row + lines}) t(i)
    """
    with duckdb.connect() as connection:
        connection.execute("set enable_progress_bar = false")
        connection.execute(f"create view body as {rows}")
        total = connection.execute("select sum(amount) from body").fetchone()[0]  # type: ignore[index]
        connection.execute(
            f"copy (select * from body) to '{body}' (format csv, delimiter '\t', header false, quote '', "
            "escape '')"
        )
    summary = "\t".join(
        [
            settlement_id,
            f"{start.isoformat()} 00:00:00 UTC",
            f"{(start + timedelta(days=14)).isoformat()} 00:00:00 UTC",
            f"{(start + timedelta(days=16)).isoformat()} 00:00:00 UTC",
            f"{total:.2f}",
            "USD",
        ]
        + [""] * 18
    )
    with open(path, "wb") as out:
        out.write((HEADER + "\n" + summary + "\n").encode())
        with open(body, "rb") as rows_file:
            shutil.copyfileobj(rows_file, out, 1 << 20)
    body.unlink()


ACORN_RUN = """
import sys
from pathlib import Path
from transforms.settlement import import_settlement_file
outcome = import_settlement_file(Path(sys.argv[1]), data_dir=Path(sys.argv[2]))
print(outcome.status, outcome.rows, outcome.message, file=sys.stderr)
sys.exit(0 if outcome.status == "imported" else 1)
"""

BARE_RUN = """
import sys
import duckdb
source, target = sys.argv[1], sys.argv[2]
types = {"amount": "DECIMAL(18,2)", "total-amount": "DECIMAL(18,2)", "quantity-purchased": "INTEGER",
         "posted-date-time": "VARCHAR", "posted-date": "VARCHAR"}
with duckdb.connect() as connection:
    connection.execute("set enable_progress_bar = false")
    connection.execute(
        f"copy (select * from read_csv('{source}', delim = '\\t', header = true, quote = '', escape = '', "
        f"types = {types})) to '{target}' (format parquet, compression zstd)"
    )
"""


def read_through(path: Path) -> None:
    with open(path, "rb") as stream:
        while stream.read(1 << 24):
            pass


def measure(name: str, script: str, *args: str) -> Run:
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), *args], cwd=REPO_ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{name} failed with exit code {process.returncode}")
    return Run(name, seconds, usage.ru_maxrss * 1024)  # ru_maxrss is in KiB on Linux


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.settlement_import",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--lines", type=int, default=5_000_000, help="settlement lines to generate")
    parser.add_argument("--keep", action="store_true", help="keep the outputs in .bench/ for inspection")
    parser.add_argument(
        "--runs", type=int, default=5, help="alternating runs of each (the medians are compared; default 5)"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    WORK_DIR.mkdir(parents=True, exist_ok=True)
    source = WORK_DIR / f"settlement_v2_{args.lines}.txt"
    if not source.exists():
        print(f"generating {args.lines:,} lines -> {source}", flush=True)
        started = time.perf_counter()
        generate(source, args.lines)
        print(f"  generated in {time.perf_counter() - started:.1f} s", flush=True)
    size = source.stat().st_size
    data_dir = WORK_DIR / "data"
    bare_out = WORK_DIR / "bare.parquet"
    bares: list[Run] = []
    acorns: list[Run] = []
    try:
        # Alternate the two, so a machine that speeds up or slows down meanwhile affects both alike.
        for number in range(1, args.runs + 1):
            shutil.rmtree(data_dir, ignore_errors=True)
            bare_out.unlink(missing_ok=True)
            # Each run starts with the file in the page cache (see the module).
            read_through(source)
            bares.append(measure("bare DuckDB copy", BARE_RUN, str(source), str(bare_out)))
            read_through(source)
            acorns.append(measure("ACORN import", ACORN_RUN, str(source), str(data_dir)))
            print(
                f"  run {number}/{args.runs}: ACORN {acorns[-1].seconds:.2f} s, bare {bares[-1].seconds:.2f} s",
                flush=True,
            )
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
            bare_out.unlink(missing_ok=True)

    acorn, bare = _median(acorns), _median(bares)
    print(
        f"\nfile: {args.lines:,} lines, {size / 2**20:,.0f} MiB, {os.cpu_count()} CPUs, {args.runs} run(s) each"
    )
    print(f"{'run (median)':<18}{'seconds':>10}{'lines/s':>14}{'peak RSS MiB':>15}")
    for run in (acorn, bare):
        print(
            f"{run.name:<18}{run.seconds:>10.2f}{run.lines_per_second(args.lines):>14,.0f}"
            f"{run.peak_rss / 2**20:>15,.0f}"
        )
    ratios = sorted(a.seconds / b.seconds for a, b in zip(acorns, bares, strict=True))
    ratio = statistics.median(ratios)
    print(
        f"\nratio ACORN / bare: {ratio:.2f}x median of {len(ratios)} pair(s), range {ratios[0]:.2f}-{ratios[-1]:.2f} "
        f"(goal <= {GOAL_RATIO}x: {'met' if ratio <= GOAL_RATIO else 'NOT met'})"
    )
    peak = max(run.peak_rss for run in acorns)
    rss_ok = peak < GOAL_RSS
    print(f"ACORN peak RSS: {peak / 2**20:,.0f} MiB (goal < 1024 MiB: {'met' if rss_ok else 'NOT met'})")
    return 0


def _median(runs: list[Run]) -> Run:
    """The runs' median time, with the largest peak RSS of all of them."""
    return Run(
        runs[0].name, statistics.median(run.seconds for run in runs), max(run.peak_rss for run in runs)
    )


if __name__ == "__main__":
    sys.exit(main())
