"""Unwrapping SP-API response bodies: v0 and Vendor put the data under `payload`, 2024 APIs at the top."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from transforms.finances.errors import PayloadShapeError


def unwrap_payload(body: Mapping[str, Any], *, operation: str) -> Mapping[str, Any]:
    """The `payload` object of a body (or the body itself when it has none); an error body is refused.

    An empty page (`{"payload": {}}` or `{}`) is valid and yields no rows.
    """
    if not isinstance(body, Mapping):
        raise PayloadShapeError(f"{operation} body is not a JSON object")
    if "payload" not in body and body.get("errors"):
        raise PayloadShapeError(f"{operation} body is an error response, not data")
    payload = body.get("payload", body)
    if payload is None:
        return {}
    if not isinstance(payload, Mapping):
        raise PayloadShapeError(f"{operation} payload is not a JSON object", where="payload")
    return payload
