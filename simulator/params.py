"""Reading and validating query parameters the way SP-API does (400 InvalidInput on anything malformed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from starlette.datastructures import QueryParams

from simulator.errors import InvalidInput


def parse_datetime(name: str, raw: str) -> datetime:
    text = raw.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        try:
            value = datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
        except ValueError:
            raise InvalidInput(f"{name} is not a valid ISO 8601 date-time: {raw!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_date(name: str, raw: str) -> datetime:
    """A `format: date` parameter (also accepts a full date-time) as the UTC midnight that starts it."""
    try:
        return datetime.combine(date.fromisoformat(raw.strip()), time(0), tzinfo=UTC)
    except ValueError:
        return parse_datetime(name, raw)


def optional_datetime(query: QueryParams, name: str) -> datetime | None:
    raw = query.get(name)
    return parse_datetime(name, raw) if raw else None


def optional_date(query: QueryParams, name: str) -> datetime | None:
    raw = query.get(name)
    return parse_date(name, raw) if raw else None


def integer(query: QueryParams, name: str, *, default: int, minimum: int, maximum: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be an integer") from None
    if not minimum <= value <= maximum:
        raise InvalidInput(f"{name} must be between {minimum} and {maximum}")
    return value


def string_list(query: QueryParams, name: str, *, max_items: int | None = None) -> list[str]:
    """SP-API arrays in a query string: comma-separated, or the parameter repeated."""
    values = [part.strip() for raw in query.getlist(name) for part in raw.split(",") if part.strip()]
    if max_items is not None and len(values) > max_items:
        raise InvalidInput(f"{name} accepts at most {max_items} values")
    return values


def enum(query: QueryParams, name: str, allowed: tuple[str, ...]) -> str | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if raw not in allowed:
        raise InvalidInput(f"{name} must be one of {', '.join(allowed)}")
    return raw


def boolean(query: QueryParams, name: str, *, default: bool) -> bool:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() not in ("true", "false"):
        raise InvalidInput(f"{name} must be true or false")
    return raw.lower() == "true"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
