"""Content-addressed raw archive: the exact bytes ACORN received, stored once by sha256, never rewritten.

Layout under the root (`<data>/raw`):

- `objects/<sha[:2]>/<sha>`: the bytes. An object is written to a temporary file in the same directory, then
  renamed into place, so a reader never sees half an object and a crash leaves at most a stray `.tmp-*` file.
- `manifest.jsonl`: one JSON row per distinct object (sha256, size, kind, source, meta, archived_at), appended
  under a lock. Each row is written with a single `write` of a complete line; a torn last line (a crash
  mid-write) is skipped by `manifest()` and repaired by the next append, which starts on a fresh line.

Settlement reports are kept by Amazon for 90 days only, so this archive can be a seller's only copy: nothing
here deletes or rewrites an object.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

CHUNK_SIZE = 1 << 20

# One lock per manifest path for writers in this process; `flock` on the manifest covers other processes.
_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@dataclass(frozen=True)
class ArchivedObject:
    sha256: str
    path: Path
    size: int
    is_new: bool


class RawArchive:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.manifest_path = self.root / "manifest.jsonl"

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
        """Archive a file's bytes, hashing while copying (one pass, constant memory).

        `on_chunk` sees every chunk in order, so a caller can compute something else in the same pass.
        With `move=True` the source file is removed once its bytes are safely archived.
        """
        src = Path(src)
        with open(src, "rb") as stream:
            archived = self._put_stream(stream, kind=kind, source=source, meta=meta, on_chunk=on_chunk)
        if move:
            src.unlink()
        return archived

    def put_bytes(
        self, data: bytes, *, kind: str, source: str, meta: Mapping[str, str] | None = None
    ) -> ArchivedObject:
        sha = hashlib.sha256(data).hexdigest()
        target = self.path_for(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
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

    def _put_stream(
        self,
        stream: IO[bytes],
        *,
        kind: str,
        source: str,
        meta: Mapping[str, str] | None,
        on_chunk: Callable[[bytes], None] | None,
    ) -> ArchivedObject:
        self.objects.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=self.objects)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK_SIZE):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                    if on_chunk is not None:
                        on_chunk(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return self._commit(tmp, digest.hexdigest(), size, kind=kind, source=source, meta=meta)

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
                if not _manifest_has(manifest, sha):
                    _append_row(manifest, row)
                return ArchivedObject(sha, target, size, is_new=False)
            os.replace(tmp, target)
            with contextlib.suppress(OSError):
                os.chmod(target, 0o444)  # a reminder, not a guarantee: archived bytes are never rewritten
            _append_row(manifest, row)
        return ArchivedObject(sha, target, size, is_new=True)

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


def _manifest_has(manifest: IO[bytes], sha: str) -> bool:
    needle = f'"sha256": "{sha}"'.encode()
    manifest.seek(0)
    return any(raw.endswith(b"\n") and needle in raw for raw in manifest)


def _append_row(manifest: IO[bytes], row: dict) -> None:
    manifest.seek(0, os.SEEK_END)
    prefix = b""
    if manifest.tell() > 0:
        manifest.seek(-1, os.SEEK_END)
        if manifest.read(1) != b"\n":
            prefix = b"\n"  # finish a torn line so this row starts on its own line
        manifest.seek(0, os.SEEK_END)
    manifest.write(prefix + (json.dumps(row, sort_keys=True) + "\n").encode("utf-8"))
    manifest.flush()
    os.fsync(manifest.fileno())
