"""`acorn lake`: upkeep of the lake's copy on the object store (scale-out, an s3:// ACORN_OBJECT_STORE_URL;
lake/store_upkeep.py).

Exit codes: 0 done (verify: the copy is whole); 1 verify found problems; 2 usage; 3 could not run (no s3:// object
store configured, the store or the warehouse's catalog not reachable).
"""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import TYPE_CHECKING, NoReturn

import click

from orchestration.outcomes import ExitCode

if TYPE_CHECKING:
    from lake.store import LakeStore


def _exit(code: ExitCode, message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(int(code))


def _store() -> LakeStore:
    from lake.store import LakeStore

    store = LakeStore.from_env()
    if store is None:
        _exit(
            ExitCode.COULD_NOT_RUN,
            "could not run: the lake has no copy on an object store (ACORN_OBJECT_STORE_URL is not an s3:// URL). "
            "Fix: set ACORN_OBJECT_STORE_URL=s3://bucket/prefix (README, Scale-out).",
        )
    return store


@click.group()
def lake() -> None:
    """The lake's copy on the object store (scale-out): verify it, prune superseded files."""


@lake.command()
def verify() -> None:
    """Check every partition's pointer names a file on the store with its size and sha256 (each file downloaded
    and hashed).

    Exit 0 when the copy is whole, 1 naming each problem, 3 when the store cannot be read."""
    from lake.store import LakeStoreError
    from lake.store_upkeep import listing
    from lake.store_upkeep import verify as verify_copy

    store = _store()
    try:
        objects = listing(store)
        problems = verify_copy(store, objects)
        pointers = len(store.pointer_keys())
    except LakeStoreError as error:
        _exit(ExitCode.COULD_NOT_RUN, f"could not run: {error}")
    if problems:
        click.echo(f"{len(problems)} problem(s) in the lake's copy on {store.url}:", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(int(ExitCode.DATA_PROBLEM))
    click.echo(f"ok: {pointers} partitions on {store.url}, each pointer's file there with its sha256")


@lake.command()
@click.option(
    "--retention-days",
    type=click.FloatRange(min=1),
    default=7,
    show_default=True,
    help="Keep a superseded file until it has not been current for this long (and is this old itself).",
)
@click.option("--yes", is_flag=True, help="Delete (without it: only say what would be deleted).")
@click.option("--verbose", is_flag=True, help="Name every superseded file kept, with why.")
def prune(retention_days: float, yes: bool, verbose: bool) -> None:
    """Delete the lake's superseded files on the object store that no reader can still hold.

    A file is deleted when no pointer names it, the warehouse's lake views (last published build, newest commit)
    do not name it, and it has not been current for --retention-days, nor been uploaded within them (README,
    Scale-out). Without --yes nothing is deleted: it lists what would be. Exit 0, or 3 when the store or the
    warehouse's catalog cannot be read."""
    from lake.store import LakeStoreError
    from lake.store_upkeep import apply_prune, plan_prune
    from orchestration.lake_prune import files_the_warehouse_names
    from orchestration.outcomes import CouldNotRun
    from orchestration.paths import data_paths

    store = _store()
    try:
        keep = files_the_warehouse_names(data_paths().warehouse)
        plan = plan_prune(store, retention=timedelta(days=retention_days), keep_urls=keep)
        if yes:
            apply_prune(store, plan)
    except (LakeStoreError, CouldNotRun) as error:
        _exit(ExitCode.COULD_NOT_RUN, f"could not run: {error}")
    reasons: dict[str, int] = {}
    for key, why in plan.kept:
        reasons[why] = reasons.get(why, 0) + 1
        if verbose:
            click.echo(f"kept s3://{key}: {why}")
    for why, count in sorted(reasons.items()):
        click.echo(f"kept {count} superseded file(s): {why}")
    size = plan.bytes_to_delete
    if yes:
        for key in plan.deleted:
            click.echo(f"deleted s3://{key}")
        click.echo(
            f"deleted {len(plan.deleted)} superseded file(s) from {store.url}; kept {plan.current} current "
            f"and {len(plan.kept)} superseded"
            + (f"; {len(plan.tombstones)} removed partition(s) given a tombstone" if plan.tombstones else "")
        )
        return
    for item in plan.delete:
        click.echo(f"would delete s3://{item.key} ({item.size} bytes)")
    click.echo(
        f"dry run: {len(plan.delete)} superseded file(s), {size} bytes, would be deleted from {store.url}; "
        f"{plan.current} current and {len(plan.kept)} superseded kept. Run again with --yes to delete them."
    )
