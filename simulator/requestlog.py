"""The request log (`--request-log FILE`): one JSON object per request, appended, never a secret in it.

Fields: origin (lwa | spapi | documents), method, path, query, headers (names only), status; plus
region for the SP-API origins and fault when one was injected. An SP-API request whose caller was known also
names its `account`, `operation` and `caller` (the client's User-Agent: which process asked, when the client says
so), and a 429 the usage plan answered (the caller's bucket was empty: not a fault the hostile profile injected)
has `over_limit: true`, so one log shows every throttle per account and operation (`usage_by_account`).
Query values are kept (they carry filters and next tokens, which are no secret) except the pre-signed URL's
signature, which is a credential for 5 minutes.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

REDACTED_QUERY_PARAMS = frozenset({"x-amz-signature", "x-amz-credential", "x-amz-security-token"})


class RequestLog:
    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def record(
        self,
        *,
        origin: str,
        method: str,
        path: str,
        query_string: str,
        header_names: list[str],
        status: int,
        region: str | None = None,
        fault: str | None = None,
        usage: dict[str, Any] | None = None,
    ) -> None:
        if self._path is None:
            return
        entry: dict[str, Any] = {
            "origin": origin,
            "method": method,
            "path": path,
            "query": redact_query(query_string),
            "headers": sorted({name.lower() for name in header_names}),
            "status": status,
        }
        if region is not None:
            entry["region"] = region
        if fault is not None:
            entry["fault"] = fault
        entry.update(usage or {})
        line = (json.dumps(entry, sort_keys=True) + "\n").encode("utf-8")
        with self._lock, self._path.open("ab+") as handle:
            # A torn last line (a simulator killed mid-write) is ended first, so this entry is not glued to it.
            handle.seek(0, os.SEEK_END)
            if handle.tell() > 0:
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    line = b"\n" + line
                handle.seek(0, os.SEEK_END)
            handle.write(line)


def read_request_log(path: Path) -> list[dict[str, Any]]:
    """The log's entries, oldest first; a torn last line (no newline) and unreadable lines are skipped."""
    entries = []
    with path.open("rb") as lines:
        for raw in lines:
            if not raw.endswith(b"\n"):
                continue
            try:
                entry = json.loads(raw)
            except ValueError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
    return entries


def redact_query(query_string: str) -> dict[str, list[str]]:
    query: dict[str, list[str]] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        query.setdefault(name, []).append("<redacted>" if name.lower() in REDACTED_QUERY_PARAMS else value)
    return query


@dataclass
class AccountUsage:
    """What one account's callers asked of the SP-API origins, from the request log."""

    requests: int = 0
    # 429s the usage plan answered (a bucket found empty: some caller, or callers together, went over the limit)
    over_limit: int = 0
    # 429s the hostile profile injected on purpose (not an overrun)
    injected_throttles: int = 0
    over_limit_by_operation: dict[str, int] = field(default_factory=dict)
    requests_by_operation: dict[str, int] = field(default_factory=dict)
    callers: set[str] = field(default_factory=set)
    callers_by_operation: dict[str, set[str]] = field(default_factory=dict)


def usage_by_account(entries: list[dict[str, Any]]) -> dict[str, AccountUsage]:
    """Per account (the SP-API requests whose token named one): requests, over-limit 429s and injected ones per
    operation, and the distinct callers (User-Agents) that reached the simulator for it."""
    usage: dict[str, AccountUsage] = {}
    for entry in entries:
        account = entry.get("account")
        if entry.get("origin") != "spapi" or not account:
            continue
        seen = usage.setdefault(account, AccountUsage())
        operation = str(entry.get("operation", "?"))
        seen.requests += 1
        seen.requests_by_operation[operation] = seen.requests_by_operation.get(operation, 0) + 1
        if entry.get("caller"):
            seen.callers.add(str(entry["caller"]))
            seen.callers_by_operation.setdefault(operation, set()).add(str(entry["caller"]))
        if entry.get("status") == 429:
            if entry.get("over_limit"):
                seen.over_limit += 1
                seen.over_limit_by_operation[operation] = seen.over_limit_by_operation.get(operation, 0) + 1
            else:
                seen.injected_throttles += 1
    return dict(sorted(usage.items()))
