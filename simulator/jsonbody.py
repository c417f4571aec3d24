"""JSON bodies with exact money: `Decimal` is written exactly as a JSON number, never via float."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from starlette.responses import Response


def dumps(value: Any) -> str:
    """Serialise like `json.dumps(separators=(",", ":"))`, writing each Decimal as its exact JSON number."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot serialise non-finite money {value!r}")
        # 'f' keeps every digit and never produces an exponent (1E+2 → "100"), which some parsers reject.
        out.append(format(value, "f"))
    elif isinstance(value, dict):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            out.append(json.dumps(str(key)))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, float):
        raise TypeError("floats are not allowed in simulator bodies: money must be Decimal")
    else:
        out.append(json.dumps(value))


def money_as_strings(value: Any, keys: frozenset[str] = frozenset({"amount"})) -> Any:
    """Turn Decimal values under `keys` into strings, for models whose money is a string (Vendor `Money`)."""
    if isinstance(value, dict):
        return {
            key: format(item, "f")
            if key in keys and isinstance(item, Decimal)
            else money_as_strings(item, keys)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [money_as_strings(item, keys) for item in value]
    return value


class ExactJSONResponse(Response):
    """A Starlette JSON response serialised with :func:`dumps`."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content).encode("utf-8")
