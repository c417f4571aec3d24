"""A URL as ACORN shows it: its password, in the user part or as a `password=`/`sslpassword=` parameter, replaced
by ***. Used for every URL that may carry credentials (the Dagster instance's, the DuckLake catalog's, the Celery
broker's), so each is masked by the same rule; and the strings of such a URL that an error message must not
show (`url_secrets`, `scrubbed`), for messages written by drivers that quote the URL or its password."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

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


def url_secrets(url: str) -> list[str]:
    """The strings of `url` that must not be shown: the URL itself and its passwords (in the user part or as a
    `password=`/`sslpassword=` parameter), as written, decoded and encoded; longest first, so that a password
    inside the URL is masked with the URL."""
    found = [url]
    with contextlib.suppress(ValueError):
        parts = urlsplit(url)
        user = parts.netloc.rpartition("@")[0]
        if ":" in user:
            found.append(user.partition(":")[2])
        found += [v for k, v in parse_qsl(parts.query) if k.lower() in SECRET_QUERY_KEYS]
    # A password with an unencoded "@" is split elsewhere by the driver: each piece is a secret too.
    found += [piece for secret in found[1:] for piece in secret.split("@") if len(piece) >= 3]
    with contextlib.suppress(Exception):
        from sqlalchemy.engine import make_url

        found.append(make_url(url).password or "")
    variants = {variant for secret in found for variant in (secret, unquote(secret), quote(secret, safe=""))}
    return sorted((v for v in variants if v), key=len, reverse=True)


def scrubbed(text: str, secrets: Iterable[str]) -> str:
    """`text` (an error message) with each of `secrets` replaced by ***, longest first."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text
