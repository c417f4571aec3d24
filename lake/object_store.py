"""Where scale-out keeps its files: the object store's settings, read from the environment in one place for every
user of them (the DuckLake warehouse's data path, the raw archive's copy and the lake's copy, lake/store.py).

- `ACORN_OBJECT_STORE_URL`: `s3://bucket/prefix`, or a local folder;
- `ACORN_S3_ENDPOINT_URL`: the endpoint of a store other than AWS S3 (MinIO, Ceph, moto);
- the standard `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` (or
  `AWS_DEFAULT_REGION`).
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

OBJECT_STORE_URL_VAR = "ACORN_OBJECT_STORE_URL"
# Where an upload goes before its server-side copy to its key (a bucket lifecycle rule expires what is left).
TMP_FOLDER = ".tmp"
HASH_CHUNK = 8 << 20  # bytes read at a time when an object is hashed
S3_ENDPOINT_VAR = "ACORN_S3_ENDPOINT_URL"


@dataclass(frozen=True)
class ObjectStoreSettings:
    url: str  # ACORN_OBJECT_STORE_URL, stripped; "" when unset
    endpoint_url: str | None
    # key_id, secret, session_token, region: only those set (repr hides them).
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def is_s3(self) -> bool:
        return self.url.startswith("s3://")

    @property
    def endpoint(self) -> tuple[str, str] | None:
        """The endpoint's scheme and host (with any path), e.g. ("http", "127.0.0.1:9000"); None for AWS S3."""
        if not self.endpoint_url:
            return None
        parts = urlsplit(self.endpoint_url)
        return parts.scheme or "https", parts.netloc + parts.path.rstrip("/")

    def secrets(self) -> list[str]:
        """The credentials that must never be shown (the region is not one)."""
        return [value for key, value in self.credentials.items() if key != "region"]


def object_store_settings(env: Mapping[str, str]) -> ObjectStoreSettings:
    credentials = {
        "key_id": env.get("AWS_ACCESS_KEY_ID", ""),
        "secret": env.get("AWS_SECRET_ACCESS_KEY", ""),
        "session_token": env.get("AWS_SESSION_TOKEN", ""),
        "region": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "",
    }
    return ObjectStoreSettings(
        url=(env.get(OBJECT_STORE_URL_VAR) or "").strip(),
        endpoint_url=(env.get(S3_ENDPOINT_VAR) or "").strip() or None,
        credentials={key: value for key, value in credentials.items() if value},
    )


def s3_filesystem(settings: ObjectStoreSettings) -> Any:
    """A pyarrow S3 file system for `settings` (an s3:// store): the endpoint's scheme and host with path-style
    addressing for a store other than AWS S3, the key pair when one is set (else pyarrow's default chain:
    instance profile, ~/.aws), the region when one is set."""
    from pyarrow import fs

    options: dict[str, Any] = {}
    if settings.endpoint is not None:
        options["scheme"], options["endpoint_override"] = settings.endpoint
        options["force_virtual_addressing"] = False
    credentials = settings.credentials
    if credentials.get("key_id") and credentials.get("secret"):
        options.update(
            access_key=credentials["key_id"],
            secret_key=credentials["secret"],
            session_token=credentials.get("session_token"),
        )
    if credentials.get("region"):
        options["region"] = credentials["region"]
    return fs.S3FileSystem(**options)


def duckdb_s3_secret_sql(endpoint_url: str | None, credentials: Mapping[str, str], name: str) -> str | None:
    """The CREATE SECRET statement that lets a DuckDB connection (httpfs) read the store: temporary, in that
    process's memory only; None when there is nothing to say (AWS S3 with DuckDB's own credential chain). Never
    log it: it holds the keys."""
    options = {key: value for key, value in credentials.items() if value}
    if endpoint_url:
        endpoint = urlsplit(endpoint_url)
        options["endpoint"] = endpoint.netloc + endpoint.path.rstrip("/")
        options["use_ssl"] = "true" if endpoint.scheme == "https" else "false"
        options["url_style"] = "path"
    if not options:
        return None
    listed = ", ".join(f"{key} '{value.replace(chr(39), chr(39) * 2)}'" for key, value in options.items())
    return f"create or replace secret {name} (type s3, {listed})"


def s3_base(settings: ObjectStoreSettings) -> str:
    """`bucket/prefix` of an s3:// store URL (no scheme, no trailing slash); "" when it names no bucket."""
    parts = urlsplit(settings.url)
    if not parts.netloc:
        return ""
    return (parts.netloc + "/" + parts.path.strip("/")).rstrip("/")


class ObjectStoreArea:
    """One area of an s3:// store (`bucket/prefix/<area>`), written the same way by each of its users (the raw
    archive's copy, transforms/archive.py; the lake's copy, lake/store.py): an object appears under its key
    complete or not at all, and an error names the key, never a credential. `error` is the user's exception and
    `description` what it calls the area in messages."""

    error: ClassVar[type[RuntimeError]] = RuntimeError
    description: ClassVar[str] = "the object store"

    def __init__(self, filesystem: Any, base: str, *, secrets: Iterable[str] = ()) -> None:
        self.filesystem = filesystem
        self.base = base.strip("/")  # bucket/prefix/<area>
        self._secrets = tuple(secret for secret in secrets if len(secret) >= 3)

    @property
    def url(self) -> str:
        return f"s3://{self.base}/"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url})"

    def size_of(self, key: str) -> int | None:
        """The size of the object at `key`, None when there is none."""
        from pyarrow import fs

        info = self._call(self.filesystem.get_file_info, key)
        return info.size if info.type == fs.FileType.File else None

    def sha256_of(self, key: str) -> str:
        """The sha256 of the object at `key`, read in chunks (a verify reads every object it checks whole)."""
        digest = hashlib.sha256()
        with self._call(self.filesystem.open_input_stream, key) as stream:
            while chunk := stream.read(HASH_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def _publish(self, key: str, chunks: Iterable[bytes], size: int) -> None:
        """Upload to a temporary key, check its size, then copy it to `key` server-side and delete the temporary
        one: `key` appears complete (replacing what it held at once) or not at all. Written straight to its key,
        an upload interrupted by an exception would be completed with the bytes sent so far."""
        tmp = f"{self.base}/{TMP_FOLDER}/{uuid.uuid4().hex}"
        try:
            with self._call(self.filesystem.open_output_stream, tmp) as out:
                for chunk in chunks:
                    out.write(chunk)
            uploaded = self.size_of(tmp)
            if uploaded != size:
                raise self.error(f"upload of s3://{key} has {uploaded} bytes, not {size}: not published")
            self._call(self.filesystem.move, tmp, key)
        except BaseException:
            with contextlib.suppress(Exception):
                self.filesystem.delete_file(tmp)
            raise

    def _call(self, function: Callable[..., Any], *args: Any) -> Any:
        try:
            return function(*args)
        except OSError as error:
            text = str(error)
            for secret in self._secrets:
                text = text.replace(secret, "***")
            raise self.error(f"{self.description} on {self.url} failed: {text}") from None
