"""A URL as ACORN shows it: its password, in the user part or as a `password=`/`sslpassword=` parameter, replaced
by ***. Used for every URL that may carry credentials (the Dagster instance's, the DuckLake catalog's, the Celery
broker's), so each is masked by the same rule."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
SECRET_QUERY_KEYS = frozenset({"password", "sslpassword"})


def redacted(url: str, setting: str) -> str:
    """`url` with its passwords replaced by ***; a URL that cannot be parsed is not shown at all (it may be a
    password pasted in the wrong place), only the `setting` it came from."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            user, _, host = netloc.rpartition("@")
            name, has_password, _ = user.partition(":")
            netloc = f"{name}:{MASK}@{host}" if has_password else netloc
        query = urlencode(
            [(k, MASK if k.lower() in SECRET_QUERY_KEYS else v) for k, v in parse_qsl(parts.query)],
            safe="*",
        )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return f"(a URL that cannot be parsed, in {setting})"
