"""Content-addressed raw archive: the exact bytes ACORN received, stored once by sha256, never rewritten.

Layout under the root (`<data>/raw`):

- `objects/<sha[:2]>/<sha>`: the bytes. An object is written to a temporary file in the same directory, then
  renamed into place, so a reader never sees half an object and a crash leaves at most a stray `.tmp-*` file,
  which the next `acorn` command removes (transforms/recovery.py). A writer holds the data dir's writers lock
  shared while it has one (`put_file`, `put_bytes`; an import holds it around `stage_file` and `commit`).
- `manifest.jsonl`: one JSON row per distinct object (sha256, size, kind, source, meta, archived_at), appended
  under a lock. Each row is written with a single `write` of a complete line; a torn last line (a crash
  mid-write) is skipped by `manifest()` and repaired by the next append, which starts on a fresh line.
  Re-attributing an object to another account (`record_account`) appends one more row for it, a copy of its
  last row with the new `meta.account_id` (and `previous_account_id`, `reattributed_at`): the manifest is
  never rewritten either, and an object's last row is what describes it now (`describe`).

Settlement reports are kept by Amazon for 90 days only, so this archive can be a seller's only copy: nothing
here deletes or rewrites an object.

Scale-out (README "Scale-out"): when `ACORN_OBJECT_STORE_URL` is an `s3://bucket/prefix` URL, every object is
also kept on that S3-compatible store (`ACORN_S3_ENDPOINT_URL` for one other than AWS's; credentials from the
standard `AWS_*` variables, never logged), by `ObjectStoreCopy`. The local archive stays the source of truth (the
parsers read its files, and its manifest is what `describe` answers); the store holds a verified copy that no
host's disk loss takes away:

- `<prefix>/raw/objects/<sha[:2]>/<sha>`: the bytes, once per sha256 (a key that exists with the right size is
  not written again). An upload goes to `<prefix>/raw/.tmp/<uuid>` first, its size is checked, then it is
  copied server-side to its key and the temporary key deleted: a key under `objects/` is only ever a complete
  object, whatever kills the writer (an exception mid-stream would otherwise complete a partial object).
- `<prefix>/raw/manifest/<sha>/<row>.json`: one small object per manifest row, written once, after the bytes
  (`archived.json` for the row that archived it, `reattributed-<time>.json` for each re-attribution), the same
  way. Keys are never rewritten and no object holds two writers' rows, so any number of writers on any number
  of hosts cannot corrupt the manifest; a row present means its bytes are there too.
- The bytes are sent before anything is parsed from them: `put_bytes` (API pages) before it returns, and
  `stage_file` (settlement files) before the import parses the staged copy. A writer that dies after the local
  commit and before the copy is caught up by the next archiving of the same bytes, or by `copy_missing`.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from lake.layout import writing
from lake.object_store import (
    OBJECT_STORE_URL_VAR,
    ObjectStoreArea,
    object_store_settings,
    s3_base,
    s3_filesystem,
)
from transforms import crash_points
from transforms.jsonl import append_line

CHUNK_SIZE = 1 << 20
# The kernel copies this much while Python hashes the previous step (a few steps in flight, bounded memory).
COPY_STEP = 16 << 20
# Steps read back and hashed that `on_chunk` (the line scan, on its own thread) may be behind by, at most.
STEPS_AHEAD = 1

# One lock per manifest path for writers in this process; `flock` on the manifest covers other processes.
_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@dataclass(frozen=True)
class ArchivedObject:
    sha256: str
    path: Path
    size: int
    is_new: bool


@dataclass(frozen=True)
class StagedObject:
    """A file's bytes copied into the archive directory and hashed, not yet committed (see `stage_file`)."""

    path: Path
    sha256: str
    size: int

    def sync(self) -> None:
        """Flush the copy to disk. `commit` does it; calling it earlier (on a thread) overlaps the disk wait."""
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class RawArchive:
    """The archive under `root`; with `store` (default: the one ACORN_OBJECT_STORE_URL configures, None in the
    embedded mode) every object and manifest row is copied there too."""

    def __init__(self, root: Path, store: ObjectStoreCopy | bool | None = True) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.manifest_path = self.root / "manifest.jsonl"
        self.store: ObjectStoreCopy | None = ObjectStoreCopy.from_env() if store is True else (store or None)

    def path_for(self, sha256: str) -> Path:
        return self.objects / sha256[:2] / sha256

    def put_file(
        self,
        src: Path,
        *,
        kind: str,
        source: str,
        meta: Mapping[str, str] | None = None,
        move: bool = False,
        on_chunk: Callable[[bytes], None] | None = None,
    ) -> ArchivedObject:
        """Archive a file's bytes: `stage_file`, then `commit` (constant memory, any size).

        With `move=True` the source file is removed once its bytes are safely archived."""
        with writing(self.root.parent):
            staged = self.stage_file(src, on_chunk=on_chunk)
            archived = self.commit(staged, kind=kind, source=source, meta=meta)
        if move:
            Path(src).unlink()
        return archived

    def stage_file(self, src: Path, *, on_chunk: Callable[[bytes], None] | None = None) -> StagedObject:
        """Copy a file into the archive's directory and hash the copy; `commit` makes it durable and visible.

        The copy is made by the kernel where it can (copy_file_range: no pass through Python), and what is
        hashed is the copy itself, so the archived bytes are exactly the bytes hashed even if the source changes
        meanwhile. Until it is committed, a staged copy is a private file: a caller may read it (the settlement
        import parses it), nobody else sees it, and a crash leaves only a `.tmp-*` file behind. The source's
        pages are dropped from the page cache once copied. `on_chunk` sees every chunk of the copy, in order."""
        self.objects.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=self.objects)
        tmp = Path(tmp_name)
        try:
            with open(src, "rb") as stream:
                sha, size = _copy_and_hash(stream.fileno(), fd, on_chunk)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        finally:
            os.close(fd)
        if self.store is not None:
            try:
                self.store.put_object(sha, tmp, size)  # before anything is parsed from it
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        return StagedObject(tmp, sha, size)

    def commit(
        self, staged: StagedObject, *, kind: str, source: str, meta: Mapping[str, str] | None = None
    ) -> ArchivedObject:
        """Make a staged copy durable (fsync) and visible under its sha256, with its manifest row; a copy of
        bytes already archived is dropped."""
        if not self.path_for(staged.sha256).exists():
            staged.sync()  # (if the bytes arrive meanwhile, _commit still drops this copy)
        return self._commit(staged.path, staged.sha256, staged.size, kind=kind, source=source, meta=meta)

    def put_bytes(
        self, data: bytes, *, kind: str, source: str, meta: Mapping[str, str] | None = None
    ) -> ArchivedObject:
        sha = hashlib.sha256(data).hexdigest()
        target = self.path_for(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        with writing(self.root.parent):
            fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            return self._commit(Path(tmp_name), sha, len(data), kind=kind, source=source, meta=meta)

    def manifest(self) -> Iterator[dict]:
        """Every archived object's manifest row, oldest first (torn or unreadable lines are skipped)."""
        if not self.manifest_path.exists():
            return
        with open(self.manifest_path, encoding="utf-8") as lines:
            for line in lines:
                if not line.endswith("\n"):
                    continue  # a torn last line from a crash mid-append
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if isinstance(row, dict) and "sha256" in row:
                    yield row

    def describe(self, sha256: str) -> dict | None:
        """The last manifest row of an object (it carries its current account), or None."""
        last = None
        for row in self.manifest():
            if row["sha256"] == sha256:
                last = row
        return last

    def record_account(self, sha256: str, account_id: str) -> bool:
        """Attribute archived bytes to `account_id`: appends a copy of the object's last manifest row with
        `meta.account_id` set (the previous one kept as `meta.previous_account_id`, "" for none). Idempotent:
        nothing is appended when the last row already names that account. Returns whether a row was appended;
        KeyError when the manifest has no row for `sha256`."""
        needle = f'"sha256": "{sha256}"'.encode()
        with self._manifest_lock() as manifest:
            manifest.seek(0)
            last = None
            for raw in manifest:
                if raw.endswith(b"\n") and needle in raw:
                    with contextlib.suppress(ValueError):
                        last = json.loads(raw)
            if last is None:
                raise KeyError(sha256)
            meta = dict(last.get("meta") or {})
            if meta.get("account_id") == account_id:
                return False
            meta["previous_account_id"] = meta.get("account_id") or ""
            meta["account_id"] = account_id
            row = {
                **last,
                "meta": meta,
                "reattributed_at": datetime.now(UTC).isoformat(timespec="microseconds"),
            }
            _append_row(manifest, row)
        if self.store is not None:
            self.store.put_row(row)
        return True

    def copy_missing(self) -> int:
        """Copy to the object store every object and manifest row it lacks (after a writer died between the local
        commit and the copy, or for an archive made before the store was configured); the number of rows copied.
        Idempotent."""
        if self.store is None:
            return 0
        copied = 0
        for row in self.manifest():
            if self.store.keep(self.path_for(row["sha256"]), row):
                copied += 1
        return copied

    def _commit(
        self, tmp: Path, sha: str, size: int, *, kind: str, source: str, meta: Mapping[str, str] | None
    ) -> ArchivedObject:
        target = self.path_for(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        row = {
            "sha256": sha,
            "size": size,
            "kind": kind,
            "source": source,
            "meta": dict(meta or {}),
            "archived_at": datetime.now(UTC).isoformat(timespec="microseconds"),
        }
        # Rename and manifest row under one lock: a new object gets its row without a scan, and an object that
        # already existed is looked up (it may lack a row if a crash came between the rename and the append).
        with self._manifest_lock() as manifest:
            if target.exists():
                tmp.unlink(missing_ok=True)
                first = _first_row(manifest, sha)
                if first is None:
                    _append_row(manifest, row)
                    first = row
                archived = ArchivedObject(sha, target, size, is_new=False)
            else:
                os.replace(tmp, target)
                with contextlib.suppress(OSError):
                    os.chmod(target, 0o444)  # a reminder, not a guarantee: archived bytes are never rewritten
                _append_row(manifest, row)
                first = row
                archived = ArchivedObject(sha, target, size, is_new=True)
        if self.store is not None:
            # Outside the lock: uploads from many writers go side by side; the row after the bytes.
            self.store.keep(target, first)
        return archived

    @contextlib.contextmanager
    def _manifest_lock(self) -> Iterator[IO[bytes]]:
        self.root.mkdir(parents=True, exist_ok=True)
        key = self.manifest_path.resolve()
        with _LOCKS_GUARD:
            lock = _LOCKS.setdefault(key, threading.Lock())
        with lock, open(self.manifest_path, "a+b") as manifest:
            fcntl.flock(manifest.fileno(), fcntl.LOCK_EX)
            try:
                yield manifest
            finally:
                fcntl.flock(manifest.fileno(), fcntl.LOCK_UN)


def _first_row(manifest: IO[bytes], sha: str) -> dict | None:
    """The first complete manifest row of `sha` (the one that archived it), or None."""
    needle = f'"sha256": "{sha}"'.encode()
    manifest.seek(0)
    for raw in manifest:
        if raw.endswith(b"\n") and needle in raw:
            with contextlib.suppress(ValueError):
                row = json.loads(raw)
                if isinstance(row, dict) and row.get("sha256") == sha:
                    return row
    return None


def _append_row(manifest: IO[bytes], row: dict) -> None:
    append_line(manifest, json.dumps(row, sort_keys=True))  # a torn last line is ended first


def _copy_and_hash(src_fd: int, out_fd: int, on_chunk: Callable[[bytes], None] | None) -> tuple[str, int]:
    """Copy src to out up to the end of src, hashing what was written to out; returns (sha256, size).

    Three threads, each mostly outside the GIL: the kernel copies step n+1 (and drops the source's cached pages
    of what it copied: the archive's copy is what gets read from then on, and memory a large file's two copies
    would take is better left to DuckDB), this thread reads step n back from the copy and hashes it (the longest
    part: sha256 is one sequential pass), and `on_chunk` sees every chunk read back, in order, on a third thread
    (at most STEPS_AHEAD steps behind the hash). With a core free the pass takes about as long as the hash
    alone; `on_chunk` sees exactly the bytes hashed, and an error it raises is the copy's."""
    digest = hashlib.sha256()
    offset = 0
    seen: deque[Future[None]] = deque()
    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="acorn-archive-copy") as pool,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="acorn-archive-scan") as scanner,
    ):
        try:
            step = pool.submit(_copy_step, src_fd, out_fd, offset)
            while copied := step.result():
                end = offset + copied
                step = pool.submit(_copy_step, src_fd, out_fd, end)
                chunks: list[bytes] = []
                while offset < end:
                    chunk = os.pread(out_fd, min(CHUNK_SIZE, end - offset), offset)
                    if not chunk:
                        raise OSError(errno.EIO, f"archive copy shorter than written at byte {offset}")
                    digest.update(chunk)
                    if on_chunk is not None:
                        chunks.append(chunk)
                    offset += len(chunk)
                    crash_points.pause_at("archive", copied=offset)  # test hook; nothing in a real run
                if on_chunk is not None:
                    # One worker, a step's chunks at a time: every chunk seen, in order.
                    seen.append(scanner.submit(_each, on_chunk, chunks))
                    while seen and (len(seen) > STEPS_AHEAD or seen[0].done()):
                        seen.popleft().result()  # (raises what on_chunk raised)
            while seen:
                seen.popleft().result()
        finally:
            for pending in seen:
                pending.cancel()  # an error: steps not yet seen are not seen at all
    return digest.hexdigest(), offset


def _each(on_chunk: Callable[[bytes], None], chunks: list[bytes]) -> None:
    for chunk in chunks:
        on_chunk(chunk)


def _copy_step(src_fd: int, out_fd: int, offset: int) -> int:
    """Copy up to COPY_STEP bytes at `offset` (same offset in both files), then drop the source's cached pages
    of them; 0 at the end of the source."""
    done = 0
    while done < COPY_STEP:
        copied = _copy_range(src_fd, out_fd, offset + done, COPY_STEP - done)
        if not copied:
            break
        done += copied
    if done:
        _drop_cached(src_fd, offset, done)
    return done


def _copy_range(src_fd: int, out_fd: int, offset: int, count: int) -> int:
    # copy_file_range is Linux-only and refused across some file systems and for pipes; a plain read and write
    # always works.
    # Some file systems report 0 (end of file) where there is more, so 0 is confirmed with a read.
    copy_file_range = getattr(os, "copy_file_range", None)
    if copy_file_range is not None:
        try:
            copied = copy_file_range(src_fd, out_fd, count, offset, offset)
        except OSError as error:
            if error.errno not in (
                errno.EXDEV,
                errno.ENOSYS,
                errno.EOPNOTSUPP,
                errno.EINVAL,
                errno.EPERM,
                errno.ESPIPE,
            ):
                raise
        else:
            if copied:
                return copied
    try:
        data = memoryview(os.pread(src_fd, min(count, COPY_STEP), offset))
    except OSError as error:
        if error.errno != errno.ESPIPE:
            raise
        # A pipe (`acorn import <(...)`): read in order, which is the order the steps run in.
        data = memoryview(os.read(src_fd, min(count, COPY_STEP)))
    written = 0
    while written < len(data):
        written += os.pwrite(out_fd, data[written:], offset + written)
    return written


def _drop_cached(fd: int, offset: int, length: int) -> None:
    fadvise = getattr(os, "posix_fadvise", None)
    if fadvise is not None:
        with contextlib.suppress(OSError):
            fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)


# The first manifest row of an object (the one that archived it); re-attributions follow it, by key order.
ARCHIVED_ROW = "archived"
UPLOAD_CHUNK = 8 << 20


class ArchiveCopyError(RuntimeError):
    """The object store refused or lost an upload; the message names the key, never a credential."""


class StoredObjectMismatch(ArchiveCopyError):
    """An object read back by its sha256 is missing, or its bytes are not those its name promises."""


class ObjectStoreCopy(ObjectStoreArea):
    """The raw archive's copy on S3-compatible object storage (see the module's docstring): objects by sha256 and
    one write-once object per manifest row, under `s3://<bucket>/<prefix>/raw/`."""

    error = ArchiveCopyError
    description = "the raw archive's copy"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ObjectStoreCopy | None:
        """The copy `ACORN_OBJECT_STORE_URL` configures when it is an s3:// URL; None otherwise (embedded, or a
        folder: the local archive is then the only one)."""
        settings = object_store_settings(os.environ if env is None else env)
        if not settings.is_s3:
            return None
        base = s3_base(settings)
        if not base:
            raise ArchiveCopyError(
                f"{OBJECT_STORE_URL_VAR} names no bucket: {settings.url!r} (s3://bucket/prefix)"
            )
        return cls(s3_filesystem(settings), base + "/raw", secrets=tuple(settings.secrets()))

    def object_key(self, sha256: str) -> str:
        return f"{self.base}/objects/{sha256[:2]}/{sha256}"

    def row_key(self, row: Mapping[str, Any]) -> str:
        reattributed = row.get("reattributed_at")
        name = f"reattributed-{reattributed}" if reattributed else ARCHIVED_ROW
        return f"{self.base}/manifest/{row['sha256']}/{name}.json"

    def keep(self, path: Path, row: Mapping[str, Any]) -> bool:
        """Make sure the store has the object at local `path` and its manifest `row`; whether anything was sent.
        The row's presence stands for both (it is written after the bytes), so an object already kept costs one
        metadata request."""
        if self.size_of(self.row_key(row)) is not None:
            return False
        self.put_object(str(row["sha256"]), path, int(row["size"]))
        self.put_row(row)
        return True

    def put_object(self, sha256: str, path: Path, size: int) -> bool:
        """Upload the bytes at `path` under their sha256 unless a complete object is there; whether sent."""
        key = self.object_key(sha256)
        if self.size_of(key) == size:
            return False

        def chunks() -> Iterator[bytes]:
            with open(path, "rb") as stream:
                sent = 0
                while chunk := stream.read(UPLOAD_CHUNK):
                    yield chunk
                    sent += len(chunk)
                    crash_points.pause_at("archive-upload", key=key, sent=sent)  # test hook

        self._publish(key, chunks(), size)
        return True

    def put_row(self, row: Mapping[str, Any]) -> bool:
        """Write one manifest row as its own object (write-once: an existing key is left as it is)."""
        key = self.row_key(row)
        if self.size_of(key) is not None:
            return False
        data = json.dumps(dict(row), sort_keys=True).encode()
        self._publish(key, iter([data]), len(data))
        return True

    def rows(self) -> list[dict]:
        """Every manifest row in the store, by key (per object: the archiving row, then re-attributions)."""
        from pyarrow import fs

        selector = fs.FileSelector(f"{self.base}/manifest", recursive=True, allow_not_found=True)
        infos = self._call(self.filesystem.get_file_info, selector)
        keys = sorted(info.path for info in infos if info.type == fs.FileType.File)
        return [json.loads(self.read(key)) for key in keys]

    def object_keys(self) -> list[str]:
        from pyarrow import fs

        selector = fs.FileSelector(f"{self.base}/objects", recursive=True, allow_not_found=True)
        infos = self._call(self.filesystem.get_file_info, selector)
        return sorted(info.path for info in infos if info.type == fs.FileType.File)

    def read(self, key: str) -> bytes:
        with self._call(self.filesystem.open_input_stream, key) as stream:
            return bytes(stream.read())

    def fetch_object(self, sha256: str, size: int, dest: Path) -> None:
        """Download the object archived under `sha256` into the new file `dest`, checking on the way that it has
        `size` bytes and hashes to its name: `StoredObjectMismatch` (and no `dest`) otherwise, or when the
        store has no such object. How a file imported on one host reaches a Celery worker on another
        (orchestration/settlements/stored_imports.py)."""
        key = self.object_key(sha256)
        if self.size_of(key) is None:
            raise StoredObjectMismatch(
                f"s3://{key} is not on the store (never sent, lost, or this host's {OBJECT_STORE_URL_VAR} names "
                "another store than the sender's)"
            )
        digest = hashlib.sha256()
        received = 0
        try:
            with open(dest, "xb") as out, self._call(self.filesystem.open_input_stream, key) as stream:
                while chunk := self._call(stream.read, UPLOAD_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    received += len(chunk)
                    crash_points.pause_at("archive-download", key=key, received=received)  # test hook
            if received != size or digest.hexdigest() != sha256:
                raise StoredObjectMismatch(
                    f"s3://{key} holds {received} bytes hashing to {digest.hexdigest()}, not the {size} bytes "
                    f"of sha256 {sha256} that were sent"
                )
        except BaseException:
            dest.unlink(missing_ok=True)
            raise

    def verify(self, archive: RawArchive) -> list[str]:
        """What the store's copy lacks of `archive` (empty when complete): every local manifest row has its row
        object in the store, and every object is there with the same size and the same sha256 (downloaded and
        hashed)."""
        problems: list[str] = []
        stored_rows = {self.row_key(row): row for row in self.rows()}
        seen: set[str] = set()
        for row in archive.manifest():
            key = self.row_key(row)
            stored = stored_rows.get(key)
            # Another host may have archived the same bytes first: its row (another source and time) is the
            # store's archiving row, so the row must be there and name the same bytes.
            if stored is None or (stored["sha256"], stored["size"]) != (row["sha256"], row["size"]):
                problems.append(f"manifest row {key} missing or naming other bytes")
            sha = row["sha256"]
            if sha in seen:
                continue
            seen.add(sha)
            object_key = self.object_key(sha)
            if self.size_of(object_key) != row["size"]:
                problems.append(f"object {object_key} missing or of another size")
                continue
            if self.sha256_of(object_key) != sha:
                problems.append(f"object {object_key} does not hash to its name")
        return problems
