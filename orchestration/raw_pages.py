"""Every API page's exact bytes go to the raw archive before anything is parsed from them."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from spapi.endpoints import ApiPage
from transforms.archive import RawArchive


def page_source(page: ApiPage, *, account_id: str) -> str:
    """The archive's `source` for a page: account, operation and the query that fetched it (never a secret:
    tokens travel in headers, and a next-page token is only a cursor)."""
    query = urlencode(sorted(page.params.items()))
    return f"spapi:{account_id}:{page.operation}" + (f"?{query}" if query else "")


def archive_page(archive: RawArchive, page: ApiPage, *, account_id: str) -> str:
    """Archive the page's bytes (content-addressed, so an identical page is stored once); its sha256."""
    archive.put_bytes(page.raw, kind=page.operation, source=page_source(page, account_id=account_id))
    return hashlib.sha256(page.raw).hexdigest()
