"""Settlement files imported on one host and landed by a Celery worker on another (README "Scale-out").

With ACORN_EXECUTOR=celery and an s3:// ACORN_OBJECT_STORE_URL the workers share no disk with the host where a
file is (`acorn import FILE`, the inbox sensor), so the file travels through the object store:

1. the submitting process copies the file into its data dir's raw archive staging and hashes the copy
   (`RawArchive.stage_file`, the same as a local import's first step), which sends the bytes to the raw
   archive's copy on the store, `raw/objects/<sha[:2]>/<sha256>`, unless an object of that size is already
   there (the same bytes are never sent twice: neither by a second import nor by the worker's own archiving,
   which finds them there); the upload goes through a temporary key, its size checked, as every upload. Then
   the staged copy is dropped: this host only carried the bytes, it archives nothing;
2. the run's config names the file by sha256, size, file name and the path given on the submitting host
   (`stored_files`): no credential, no URL with one;
3. the worker's step downloads the object into its own data dir (`tmp/`, removed by the next clean-up of
   leftovers if the worker is killed meanwhile), checking its size and sha256, and imports that copy exactly
   as a local import would (archive, parse, quarantine, lake, with the outcome naming the file as given).

Why the raw archive's objects area rather than an area of its own: the bytes of every import are archived there
anyway (by the worker), so carrying them in the same place costs no second upload, and the object store keeps
no bytes the archive would not keep. An object sent for a run that never executes stays there without a
manifest row (a row means the bytes were archived by an import or a landing; `ObjectStoreCopy.verify` checks
rows against objects, not the reverse).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lake.layout import writing
from lake.object_store import OBJECT_STORE_URL_VAR, object_store_settings
from orchestration.executor import CELERY, EXECUTOR_VAR
from transforms.archive import ArchiveCopyError, ObjectStoreCopy, RawArchive

# Where the worker puts the downloaded copy: the data dir's scratch folder for downloads, which the clean-up of
# interrupted runs empties (transforms/recovery.py).
SCRATCH = "tmp"


@dataclass(frozen=True)
class StoredFile:
    """A file sent to the object store for a worker: what the run's config says of it."""

    sha256: str
    size: int
    name: str  # the file's name (the archive's manifest row and the outcome name it)
    argument: str  # the path as given on the submitting host, for messages that tell the user what to run

    def to_config(self) -> dict[str, object]:
        return {"sha256": self.sha256, "size": self.size, "name": self.name, "argument": self.argument}


class StoreUnavailable(RuntimeError):
    """The object store could not take (or be asked about) an imported file; the message names the cause and
    the fix, never a credential."""


def files_travel_by_store(env: Mapping[str, str] | None = None) -> bool:
    """Whether an imported file must reach the step through the object store: the steps run on Celery workers
    (ACORN_EXECUTOR=celery) and the store is s3:// (the workers then share no disk; with a folder store they
    share the data dir, and read the file where it is, as before)."""
    env = os.environ if env is None else env
    if (env.get(EXECUTOR_VAR) or "").strip().lower() != CELERY:
        return False
    return object_store_settings(env).is_s3


def send_file(path: Path, *, data_dir: Path, argument: str) -> StoredFile:
    """Send the bytes of `path` to the raw archive's copy on the store (not again if there) and say how a worker
    finds them. OSError when the file cannot be read; StoreUnavailable when the store cannot be used."""
    try:
        store = ObjectStoreCopy.from_env()
    except ArchiveCopyError as error:
        raise StoreUnavailable(_unavailable(error)) from None
    if store is None:
        raise StoreUnavailable(f"{OBJECT_STORE_URL_VAR} is no s3:// store: nothing to send the file to")
    archive = RawArchive(Path(data_dir) / "raw", store=store)
    with writing(data_dir):  # the clean-up of leftovers leaves the staged copy alone meanwhile
        try:
            staged = archive.stage_file(path)  # hashed copy, sent to the store before it returns
        except ArchiveCopyError as error:
            raise StoreUnavailable(_unavailable(error)) from None
        staged.path.unlink(missing_ok=True)  # this host only carries the bytes: the worker archives them
    return StoredFile(staged.sha256, staged.size, Path(path).name, argument)


def _unavailable(error: ArchiveCopyError) -> str:
    return (
        f"{error}. Fix: check {OBJECT_STORE_URL_VAR}, ACORN_S3_ENDPOINT_URL and the AWS_* credentials, and that "
        "the store answers from this host; or import in this process, which needs no worker: "
        "`ACORN_EXECUTOR=in_process acorn import ...`"
    )


def fetch_file(stored: StoredFile, *, data_dir: Path) -> Path:
    """Download a stored file into a folder of its own under the data dir's scratch folder, under its own name,
    its size and sha256 checked (StoredObjectMismatch otherwise, and nothing left). The caller removes the
    folder (`discard`) once imported; a worker killed meanwhile leaves it to the clean-up of leftovers."""
    store = ObjectStoreCopy.from_env()
    if store is None:
        raise StoreUnavailable(
            f"the file {stored.name} was sent to an s3:// object store, and this worker has no s3:// "
            f"{OBJECT_STORE_URL_VAR}: give every worker the same ACORN_* variables"
        )
    folder = Path(data_dir) / SCRATCH / f"import-{uuid.uuid4().hex}"
    folder.mkdir(parents=True)
    target = folder / _safe_name(stored.name)
    try:
        store.fetch_object(stored.sha256, stored.size, target)
    except BaseException:
        discard(target)
        raise
    return target


def discard(fetched: Path) -> None:
    shutil.rmtree(fetched.parent, ignore_errors=True)


def _safe_name(name: str) -> str:
    """The file's own name, as a single path component (a config names it; it must not point elsewhere)."""
    base = Path(name).name
    return base if base not in ("", ".", "..") else "imported-file"
