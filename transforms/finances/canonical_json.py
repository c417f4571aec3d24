"""Canonical JSON text for payload fragments kept verbatim (catch-all tables): exact numbers, sorted keys."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def canonical_json(value: Any) -> str:
    """JSON text with sorted keys and numbers written exactly as parsed (Decimal stays its literal).

    `json.dumps` cannot write a Decimal as a number, and going through float would change it; so numbers are
    written here and everything else is left to `json.dumps` for correct escaping.
    """
    if isinstance(value, Mapping):
        items = sorted((str(key), item) for key, item in value.items())
        return "{" + ",".join(f"{json.dumps(key)}:{canonical_json(item)}" for key, item in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(canonical_json(item) for item in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool) or value is None or isinstance(value, int | float | str):
        return json.dumps(value)
    return json.dumps(str(value))
