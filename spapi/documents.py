"""Downloading a report document from its pre-signed URL, verified before anyone sees it.

The documents origin (Amazon serves them from S3/CloudFront) gets no credentials at all: the pre-signed URL is
the authorisation, and an access token sent there would leak to a third host. The bytes are streamed to a temp
file in the destination directory, gunzipped when the document says GZIP (Python's gzip reader checks the
CRC32
and the length in the gzip trailer, and fails on a truncated stream), and only a verified file is renamed into
place. A truncated or corrupt download raises; the caller retries and never archives it.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import re
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import httpx

from spapi.redact import get_logger

log = get_logger()
_CHUNK = 1 << 16
_FORBIDDEN_HEADERS = ("x-amz-access-token", "authorization")


@dataclass(frozen=True)
class DownloadedDocument:
    path: Path
    size: int  # bytes of the (decompressed) document
    sha256: str  # of the (decompressed) document
    content_type: str | None
    charset: str | None


class DocumentUrlExpired(Exception):
    """The pre-signed URL was refused (expired after 5 minutes): ask getReportDocument for a new one."""


class DocumentCorrupt(Exception):
    """Truncated or failed verification: download again."""


class DocumentTransient(Exception):
    """5xx, timeout or reset from the documents origin: download again after a pause."""


class DocumentUnsupported(Exception):
    """A compression algorithm this client does not know."""


def _safe_name(document_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", document_id)[:120] or "document"


def fetch_document(
    http: httpx.Client,
    url: str,
    *,
    document_id: str,
    compression: str | None,
    dest_dir: Path,
    timeout: httpx.Timeout,
    user_agent: str,
) -> DownloadedDocument:
    """Download `url` into `dest_dir` and verify it; see the module docstring. Raises the exceptions above."""
    if compression not in (None, "", "GZIP"):
        raise DocumentUnsupported(f"compressionAlgorithm {compression!r} is not supported")
    dest_dir.mkdir(parents=True, exist_ok=True)
    request = http.build_request("GET", url, headers={"User-Agent": user_agent}, timeout=timeout)
    for name in _FORBIDDEN_HEADERS:  # even if the injected client carries default headers
        if name in request.headers:
            del request.headers[name]
    handle, name = tempfile.mkstemp(dir=dest_dir, prefix=".download-", suffix=".part")
    received_path = Path(name)
    output_path: Path | None = None
    try:
        with os.fdopen(handle, "wb") as received:
            try:
                response = http.send(request, auth=None, stream=True, follow_redirects=True)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as error:
                raise DocumentTransient(type(error).__name__) from None
            try:
                if response.status_code in (400, 403):
                    raise DocumentUrlExpired(f"HTTP {response.status_code}")
                if response.status_code >= 500 or response.status_code == 429:
                    raise DocumentTransient(f"HTTP {response.status_code}")
                if response.status_code != 200:
                    raise DocumentCorrupt(f"unexpected HTTP {response.status_code}")
                count = 0
                try:
                    for chunk in response.iter_bytes(_CHUNK):
                        received.write(chunk)
                        count += len(chunk)
                except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as error:
                    # h11 raises here when the peer closes before Content-Length (or the last chunk) arrived.
                    raise DocumentCorrupt(
                        f"download interrupted after {count} bytes ({type(error).__name__})"
                    ) from None
                except httpx.DecodingError as error:
                    raise DocumentCorrupt(f"content-encoding could not be decoded: {error}") from None
                expected = response.headers.get("content-length")
                if (
                    expected is not None
                    and "content-encoding" not in response.headers
                    and int(expected) != count
                ):
                    raise DocumentCorrupt(f"received {count} of {expected} bytes")
                content_type = response.headers.get("content-type")
                charset = response.charset_encoding
            finally:
                response.close()
        if compression == "GZIP":
            output_handle, output_name = tempfile.mkstemp(dir=dest_dir, prefix=".document-", suffix=".part")
            output_path = Path(output_name)
            digest = hashlib.sha256()
            size = 0
            with os.fdopen(output_handle, "wb") as output:
                try:
                    with gzip.open(received_path, "rb") as compressed:
                        while chunk := compressed.read(_CHUNK):
                            output.write(chunk)
                            digest.update(chunk)
                            size += len(chunk)
                except (OSError, EOFError, zlib.error) as error:
                    raise DocumentCorrupt(f"gzip verification failed: {error}") from None
            received_path.unlink()
            verified = output_path
        else:
            digest = hashlib.sha256()
            with received_path.open("rb") as stored:
                while chunk := stored.read(_CHUNK):
                    digest.update(chunk)
            size = received_path.stat().st_size
            verified = received_path
        sha256 = digest.hexdigest()
        final = dest_dir / f"report-document-{_safe_name(document_id)}-{sha256[:16]}"
        os.replace(verified, final)
        log.info("report document %s downloaded and verified (%d bytes)", document_id, size)
        return DownloadedDocument(
            final, size, sha256, content_type.split(";")[0].strip() if content_type else None, charset
        )
    except BaseException:
        received_path.unlink(missing_ok=True)
        if output_path is not None:
            with contextlib.suppress(FileNotFoundError):
                output_path.unlink()
        raise
